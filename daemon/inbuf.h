/* A request body of announced size gathered from reads (every handler that
 * takes an image: legacy, native RESIZE/CLASSIFY, the HTTP resize and
 * classify routes), and bytes put aside while a request is being served.
 *
 * The announced size is untrusted: the first allocation is at most 1 MiB
 * and grows by doubling as bytes really arrive, so a header that lies
 * costs nothing until the bytes come. */
#ifndef PIXD_INBUF_H
#define PIXD_INBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pixd_inbuf {
    uint8_t *data; /* malloc'd; pixd_inbuf_take() hands it over */
    size_t len, cap, want;
} pixd_inbuf;

/* Start a body of want bytes (0 is an empty body, full at once). 0 or -ENOMEM. */
int pixd_inbuf_begin(pixd_inbuf *b, size_t want);
/* Take up to what is missing from d; *used says how much. 0 or -ENOMEM.
 * For streams where the next message follows the body. */
int pixd_inbuf_feed(pixd_inbuf *b, const uint8_t *d, size_t n, size_t *used);
/* Take all of d, or nothing: -EMSGSIZE when n is more than is missing (the
 * peer sends more than it announced), -ENOMEM. For bodies that are framed
 * on their own (native DATA frames, an HTTP body). */
int pixd_inbuf_add(pixd_inbuf *b, const uint8_t *d, size_t n);
/* 1 once len == want. */
int pixd_inbuf_full(const pixd_inbuf *b);
/* The whole body, now the caller's to free, with its length in *len; the
 * buffer is empty again. NULL while bytes are missing (nothing changes). */
uint8_t *pixd_inbuf_take(pixd_inbuf *b, size_t *len);
void pixd_inbuf_free(pixd_inbuf *b);

/* Bytes that arrived behind a request (pipelined) while it is served. */
typedef struct pixd_stash {
    uint8_t *data;
    size_t len;
} pixd_stash;

/* Append a copy of d. 0 or -ENOMEM. */
int pixd_stash_add(pixd_stash *s, const uint8_t *d, size_t n);
/* Hand over the bytes (caller frees data); the stash is empty again. */
pixd_stash pixd_stash_take(pixd_stash *s);
void pixd_stash_free(pixd_stash *s);

static inline uint32_t pixd_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pixd_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
