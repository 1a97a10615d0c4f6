/* Shared by store*.c only. */
#ifndef PIXD_STORE_INTERNAL_H
#define PIXD_STORE_INTERNAL_H

#include <sys/stat.h>

#include "store.h"
#include "store_cache.h"

struct pixd_store {
    uv_loop_t *loop;
    char root[4096];
    int rootfd, tmpfd, metafd; /* O_DIRECTORY descriptors; names are
                                  opened relative to them, never as paths */
    uint64_t max_upload, max_store;
    int verify_images;
    uint64_t used;      /* bytes in published files */
    uint64_t reserved;  /* bytes promised to uploads in progress */
    unsigned jobs;
    uint64_t tmp_seq;
    pixd_store_cache *cache; /* hot small files (store_cache.h) */
};

/* A unit of work for the uv work queue: work() runs on a worker thread and
 * touches only the job's own memory and the store's immutable fields;
 * after() runs on the loop with status 0 or UV_ECANCELED. */
typedef struct store_job store_job;
struct store_job {
    uv_work_t req;
    pixd_store *st;
    void (*work)(store_job *j);
    void (*after)(store_job *j, int status);
};
int pixd__store_submit(pixd_store *st, store_job *j);

/* Worker side. Fill e for name: stat, then the .meta record, or compute
 * SHA-256 and the image header when the record is missing or stale (and
 * save it). Returns 0 or a negative errno (-ENOENT if not a regular file). */
int pixd__store_describe(pixd_store *st, const char *name, pixproto_entry *e);
/* Hash and probe an open file from its start; fills size-independent parts. */
int pixd__store_scan_fd(int fd, pixproto_entry *e);
/* Save e as name's .meta record for the file with stat st. */
void pixd__store_meta_save(pixd_store *s, const char *name, const pixproto_entry *e,
                           const struct stat *st);
/* Probe type and dimensions from the first bytes of a file. */
void pixd__store_probe(const uint8_t *p, size_t n, pixproto_entry *e);
uint64_t pixd__store_mtime_ms(const struct stat *st);

#endif
