/* The image store: named files under one directory.
 *
 * Protocol-neutral: the native handler (and later HTTP) call these and
 * translate results. All file I/O runs on the uv work queue; callbacks
 * run on the loop thread. Errors are negative errno values:
 *   -EINVAL  bad name (err text says why)      -ENOENT  no such file
 *   -EFBIG   over --max-upload                 -ENOSPC  over --max-store or disk full
 *   -EBADMSG size or SHA-256 mismatch          -EIO     anything else on disk
 *
 * Layout: ROOT/NAME holds the data; ROOT/.meta/NAME its size, mtime,
 * SHA-256, type and dimensions (recomputed when stale or missing);
 * ROOT/.tmp/ uploads in progress, emptied at start. Names never start
 * with '.', so users cannot reach the two directories. */
#ifndef PIXD_STORE_H
#define PIXD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "pixproto.h"

typedef struct pixd_store pixd_store;

/* Create ROOT (and its .tmp, .meta) if needed, remove leftovers of
 * interrupted uploads, and add up the size of the files. Runs at start,
 * before the loop serves anyone, so it may block. */
int pixd_store_open(pixd_store **out, uv_loop_t *loop, const char *root,
                    uint64_t max_upload, uint64_t max_store, char *err, size_t errlen);
void pixd_store_free(pixd_store *st); /* accepts NULL; no jobs may be running */
uint64_t pixd_store_bytes(const pixd_store *st);
const char *pixd_store_root(const pixd_store *st);
/* --verify-images: refuse uploads whose header is not a known image. */
void pixd_store_set_verify_images(pixd_store *st, int on);
/* Jobs still on the work queue (uploads finishing, aborts cleaning up). */
unsigned pixd_store_jobs(const pixd_store *st);

/* ---- one-shot operations: cb runs once on the loop thread ---- */
typedef void (*pixd_entry_cb)(void *ctx, int err, const pixproto_entry *e);
typedef void (*pixd_list_cb)(void *ctx, int err, const pixproto_entry *entries, size_t n);

int pixd_store_stat(pixd_store *st, const char *name, pixd_entry_cb cb, void *ctx);
int pixd_store_delete(pixd_store *st, const char *name, pixd_entry_cb cb, void *ctx);
int pixd_store_list(pixd_store *st, pixd_list_cb cb, void *ctx);

/* Read a whole stored file into memory (for image jobs), refusing files
 * over max bytes with -EFBIG. cb owns data (free()) when err is 0. */
typedef void (*pixd_read_cb)(void *ctx, int err, uint8_t *data, size_t len);
int pixd_store_read(pixd_store *st, const char *name, size_t max, pixd_read_cb cb, void *ctx);

/* ---- uploads ---- */
typedef struct pixd_upload pixd_upload;
typedef struct pixd_upload_ops {
    /* The upload finished: stored (err 0, e set) or failed. Called once,
     * unless pixd_upload_abort() came first. */
    void (*done)(void *ctx, int err, const char *msg, const pixproto_entry *e);
    /* Stop (hold = 1) or resume (0) reading from the sender: more data
     * is waiting for the disk than the store buffers per upload. */
    void (*hold)(void *ctx, int hold);
} pixd_upload_ops;

/* Start an upload of size bytes to name (normalised: spaces -> '_').
 * sha256 may be NULL if it comes with pixd_upload_end. On error returns
 * a negative errno with a reason in err, and nothing was started. */
int pixd_upload_begin(pixd_store *st, const char *name, uint64_t size,
                      const uint8_t *sha256, const pixd_upload_ops *ops, void *ctx,
                      pixd_upload **out, char *err, size_t errlen);
/* Queue n bytes (copied). -EFBIG past the announced size, -EPIPE once
 * failed: the caller then answers its client and aborts. */
int pixd_upload_data(pixd_upload *u, const void *p, size_t n);
/* As pixd_upload_data, without the copy: the n bytes at p lie inside
 * block (malloc'd), which the upload now owns and frees, also on error. */
int pixd_upload_data_owned(pixd_upload *u, void *block, const void *p, size_t n);
/* No more data; sha256 may be NULL if begin had it. */
int pixd_upload_end(pixd_upload *u, const uint8_t *sha256);
/* Give up: the temporary file is removed, no callback follows. */
void pixd_upload_abort(pixd_upload *u);

/* ---- hot small files ----
 * Downloads of whole files up to PIXD_STORE_HOT_FILE_MAX bytes leave a copy
 * in memory (at most PIXD_STORE_HOT_TOTAL_MAX in all), trusted for
 * PIXD_STORE_HOT_TTL_MS unless pixd itself replaces or deletes the file
 * first (store_cache.h has the rules). */
#define PIXD_STORE_HOT_FILE_MAX (64u << 10)
#define PIXD_STORE_HOT_TOTAL_MAX (8u << 20)
#define PIXD_STORE_HOT_TTL_MS 1000u
typedef struct pixd_hot pixd_hot;
/* The cached file of that (normalised) name, with a reference the caller
 * drops with pixd_hot_unref(); NULL when not cached: use a download. */
pixd_hot *pixd_store_hot(pixd_store *st, const char *name);

/* ---- downloads ---- */
#define PIXD_STORE_HEADROOM 16 /* free bytes before each chunk, for a frame header */
typedef struct pixd_download pixd_download;
typedef struct pixd_download_ops {
    /* The file is open: e describes it (err 0), or it could not be (err < 0,
     * and the download is over). */
    void (*begin)(void *ctx, int err, const pixproto_entry *e);
    /* n bytes at block + PIXD_STORE_HEADROOM. The callee owns block and
     * frees it with free(). */
    void (*chunk)(void *ctx, uint8_t *block, size_t n);
    /* 1 if the receiver can take another chunk now; else the download
     * waits for pixd_download_resume(). */
    int (*ready)(void *ctx);
    /* Every byte was delivered (err 0), or reading failed midway. */
    void (*end)(void *ctx, int err);
    /* Optional, for zero-copy: send the n bytes at off of the open file fd
     * without reading them (sendfile). fd stays open until release(rctx),
     * which the callee calls once done with it (at once on error). Return
     * 0, or -ENOTSUP (release not called) and the download reads the bytes
     * and calls chunk() instead; another negative errno ends it. */
    int (*file)(void *ctx, int fd, uint64_t off, size_t n, void (*release)(void *),
                void *rctx);
} pixd_download_ops;

int pixd_download_begin(pixd_store *st, const char *name, const pixd_download_ops *ops,
                        void *ctx, pixd_download **out);
/* Call only from ops->begin (err 0): deliver the length bytes at offset
 * (offset + length <= e->size) instead of the whole file; end() follows
 * the last of them. For HTTP Range requests. */
void pixd_download_set_range(pixd_download *d, uint64_t offset, uint64_t length);
void pixd_download_resume(pixd_download *d);
/* Stop: no callbacks follow. */
void pixd_download_abort(pixd_download *d);

#endif
