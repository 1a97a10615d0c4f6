#include "inbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FIRST_MAX (1u << 20)

/* Faults in the pages of buf[from, to) in one call. A body of 1 MiB or
 * more is a fresh mapping each time (glibc maps such blocks, and unmaps
 * them when the job frees the input, which keeps pixd's peak RSS down);
 * page by page, as frames are copied in, the faults of a 2.35 MB image
 * cost the loop ~1.2 ms, in one call per piece less. Only the pages the
 * piece being copied fills are faulted in: never room that a size a
 * client announced but did not send would pin. Best effort: kernels
 * before 5.14 do not know MADV_POPULATE_WRITE. */
static void prefault(uint8_t *buf, size_t from, size_t to) {
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)buf + from,
              b = (uintptr_t)buf + to;
    a = (a + page - 1) & ~(page - 1);
    b &= ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)buf;
    (void)from;
    (void)to;
#endif
}

int pixd_inbuf_begin(pixd_inbuf *b, size_t want) {
    pixd_inbuf_free(b);
    b->cap = want < FIRST_MAX ? want : FIRST_MAX;
    b->want = want;
    b->data = malloc(b->cap ? b->cap : 1);
    return b->data ? 0 : -ENOMEM;
}

int pixd_inbuf_feed(pixd_inbuf *b, const uint8_t *d, size_t n, size_t *used) {
    size_t take = b->want - b->len < n ? b->want - b->len : n;
    *used = 0;
    if (b->len + take > b->cap) {
        size_t cap = b->cap * 2 > b->len + take ? b->cap * 2 : b->len + take;
        uint8_t *p;
        if (cap > b->want)
            cap = b->want;
        if (!(p = realloc(b->data, cap)))
            return -ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    prefault(b->data, b->len, b->len + take);
    memcpy(b->data + b->len, d, take);
    b->len += take;
    *used = take;
    return 0;
}

int pixd_inbuf_add(pixd_inbuf *b, const uint8_t *d, size_t n) {
    size_t used;
    if (n > b->want - b->len)
        return -EMSGSIZE;
    return pixd_inbuf_feed(b, d, n, &used);
}

int pixd_inbuf_full(const pixd_inbuf *b) { return b->data && b->len == b->want; }

uint8_t *pixd_inbuf_take(pixd_inbuf *b, size_t *len) {
    uint8_t *d = b->data;
    if (!pixd_inbuf_full(b))
        return NULL;
    *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

void pixd_inbuf_free(pixd_inbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

int pixd_stash_add(pixd_stash *s, const uint8_t *d, size_t n) {
    uint8_t *p;
    if (!n)
        return 0;
    if (!(p = realloc(s->data, s->len + n)))
        return -ENOMEM;
    memcpy(p + s->len, d, n);
    s->data = p;
    s->len += n;
    return 0;
}

pixd_stash pixd_stash_take(pixd_stash *s) {
    pixd_stash out = *s;
    s->data = NULL;
    s->len = 0;
    return out;
}

void pixd_stash_free(pixd_stash *s) {
    free(s->data);
    s->data = NULL;
    s->len = 0;
}
