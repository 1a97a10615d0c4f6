/* Hot small files: a hash of names over reference-counted blocks, with an
 * LRU list under a byte bound. See store_cache.h for the rules. */
#include <stdlib.h>
#include <string.h>

#include "store_cache.h"

#define BUCKETS 1024u     /* power of two */
#define MAX_ENTRIES 4096u /* keeps the chains short whatever the sizes */

struct pixd_store_cache {
    size_t max_file, max_total;
    uint64_t ttl_ms;
    size_t bytes, count;
    uint64_t gen;
    pixd_hot *head, *tail; /* LRU: head is the most recently used */
    pixd_hot *bucket[BUCKETS];
};

static unsigned hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h & (BUCKETS - 1);
}

static size_t charge(const pixd_hot *h) { return h->len + PIXD_STORE_CACHE_OVERHEAD; }

pixd_store_cache *pixd_store_cache_new(size_t max_file, size_t max_total, uint64_t ttl_ms) {
    pixd_store_cache *c = calloc(1, sizeof *c);
    if (c) {
        c->max_file = max_file;
        c->max_total = max_total;
        c->ttl_ms = ttl_ms;
    }
    return c;
}

void pixd_hot_unref(void *hot) {
    pixd_hot *h = hot;
    if (h && --h->refs == 0)
        free(h);
}

/* Take h out of the table and the list; drop the cache's reference. */
static void unlink_hot(pixd_store_cache *c, pixd_hot *h) {
    pixd_hot **pp = &c->bucket[hash(h->e.name)];
    while (*pp != h)
        pp = &(*pp)->hnext;
    *pp = h->hnext;
    if (h->lprev)
        h->lprev->lnext = h->lnext;
    else
        c->head = h->lnext;
    if (h->lnext)
        h->lnext->lprev = h->lprev;
    else
        c->tail = h->lprev;
    c->bytes -= charge(h);
    c->count--;
    pixd_hot_unref(h);
}

void pixd_store_cache_free(pixd_store_cache *c) {
    if (!c)
        return;
    while (c->head)
        unlink_hot(c, c->head);
    free(c);
}

static pixd_hot *find(pixd_store_cache *c, const char *name) {
    for (pixd_hot *h = c->bucket[hash(name)]; h; h = h->hnext)
        if (!strcmp(h->e.name, name))
            return h;
    return NULL;
}

static void to_front(pixd_store_cache *c, pixd_hot *h) {
    if (c->head == h)
        return;
    h->lprev->lnext = h->lnext; /* h is not head, so it has a prev */
    if (h->lnext)
        h->lnext->lprev = h->lprev;
    else
        c->tail = h->lprev;
    h->lprev = NULL;
    h->lnext = c->head;
    c->head->lprev = h;
    c->head = h;
}

pixd_hot *pixd_store_cache_get(pixd_store_cache *c, const char *name, uint64_t now_ms) {
    pixd_hot *h;
    if (!c || !(h = find(c, name)))
        return NULL;
    if (now_ms - h->filled_ms >= c->ttl_ms) {
        unlink_hot(c, h);
        return NULL;
    }
    to_front(c, h);
    h->refs++;
    return h;
}

uint64_t pixd_store_cache_ticket(const pixd_store_cache *c) { return c ? c->gen : 0; }

int pixd_store_cache_put(pixd_store_cache *c, uint64_t ticket, const pixproto_entry *e,
                         const uint8_t *data, size_t len, uint64_t now_ms) {
    pixd_hot *h, *old;
    if (!c || ticket != c->gen || len != e->size || len > c->max_file ||
        len + PIXD_STORE_CACHE_OVERHEAD > c->max_total)
        return 0;
    if (!(h = malloc(sizeof *h + (len ? len : 1))))
        return 0;
    memset(h, 0, sizeof *h);
    h->e = *e;
    h->len = len;
    h->refs = 1;
    h->filled_ms = now_ms;
    if (len)
        memcpy(h->data, data, len);
    if ((old = find(c, e->name)))
        unlink_hot(c, old);
    while (c->tail && (c->bytes + charge(h) > c->max_total || c->count >= MAX_ENTRIES))
        unlink_hot(c, c->tail);
    h->hnext = c->bucket[hash(e->name)];
    c->bucket[hash(e->name)] = h;
    h->lnext = c->head;
    if (c->head)
        c->head->lprev = h;
    else
        c->tail = h;
    c->head = h;
    c->bytes += charge(h);
    c->count++;
    return 1;
}

void pixd_store_cache_forget(pixd_store_cache *c, const char *name) {
    pixd_hot *h;
    if (!c)
        return;
    c->gen++;
    if ((h = find(c, name)))
        unlink_hot(c, h);
}

size_t pixd_store_cache_bytes(const pixd_store_cache *c) { return c ? c->bytes : 0; }
size_t pixd_store_cache_count(const pixd_store_cache *c) { return c ? c->count : 0; }
