/* Hot small files, served from memory on the loop thread.
 *
 * A GET of a small stored file used to cost a trip through the work queue
 * (open, stat, the .meta record, read). The download path fills this cache
 * with whole small files it has just read and described; later GETs of the
 * same name are answered from memory without touching the disk or the pool.
 *
 * Bounds: files up to max_file bytes, max_total bytes in all (data plus a
 * fixed overhead per entry), least recently used evicted first. An entry
 * held by a write in flight (a reference) outlives its eviction until that
 * write completes, as a download's own buffer would.
 *
 * Correctness: pixd owns the store, so every change it makes goes through
 * pixd_store_cache_forget() (uploads as their rename is submitted and again
 * when it completes, deletes likewise). forget() also bumps a generation:
 * a fill whose read started before a forget (ticket from
 * pixd_store_cache_ticket()) is dropped, so a download that read the old
 * file cannot put it back after the new one landed. Files changed behind
 * pixd's back (another process writing into --store) are not seen at
 * once: an entry is trusted for ttl_ms after it was filled, then the next
 * GET goes to the disk again and refills it. The pixd(8) page says so.
 *
 * Loop thread only; no I/O here, which keeps it unit-testable. */
#ifndef PIXD_STORE_CACHE_H
#define PIXD_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "pixproto.h"

typedef struct pixd_store_cache pixd_store_cache;

/* One cached file: its description and its bytes, reference counted. */
typedef struct pixd_hot {
    pixproto_entry e;
    size_t len;
    /* Internal. */
    unsigned refs;
    uint64_t filled_ms;
    struct pixd_hot *hnext;        /* hash chain */
    struct pixd_hot *lprev, *lnext; /* LRU list, most recent first */
    uint8_t data[];
} pixd_hot;

/* Bytes an entry is charged beyond its data. */
#define PIXD_STORE_CACHE_OVERHEAD (sizeof(pixd_hot) + 32)

pixd_store_cache *pixd_store_cache_new(size_t max_file, size_t max_total, uint64_t ttl_ms);
void pixd_store_cache_free(pixd_store_cache *c); /* accepts NULL; held entries stay valid */

/* The entry for name if cached and filled less than ttl_ms before now_ms,
 * with a reference taken (pixd_hot_unref when done); else NULL. An
 * expired entry is dropped. */
pixd_hot *pixd_store_cache_get(pixd_store_cache *c, const char *name, uint64_t now_ms);
void pixd_hot_unref(void *hot); /* accepts NULL; a pixd_release_cb */

/* Taken when a read of the disk starts; passed to put() with what it read. */
uint64_t pixd_store_cache_ticket(const pixd_store_cache *c);
/* Cache a copy of data (len == e->size) for e->name, unless it is too
 * large, a forget() came after ticket, or memory is short. Replaces an
 * older entry of that name. Returns 1 if cached, else 0. */
int pixd_store_cache_put(pixd_store_cache *c, uint64_t ticket, const pixproto_entry *e,
                         const uint8_t *data, size_t len, uint64_t now_ms);
/* name changed or went away (pixd renamed or deleted it). */
void pixd_store_cache_forget(pixd_store_cache *c, const char *name);

/* For tests and /metrics. */
size_t pixd_store_cache_bytes(const pixd_store_cache *c);
size_t pixd_store_cache_count(const pixd_store_cache *c);

#endif
