/* Downloads: open a stored file on the work queue (reading the first
 * chunk with it), then either hand the rest to the receiver as file ranges
 * it sends with sendfile (ops->file: no copy through pixd's memory) or
 * read it in chunks with uv_fs_read, one read ahead of the socket; both
 * pause whenever the receiver says it is full (ready() == 0) until it is
 * resumed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"
#include "store_name.h"

#define CHUNK PIXPROTO_CHUNK
#define FILE_PIECE PIXPROTO_MAX_BODY /* a native DATA frame's body at most */

struct pixd_download {
    store_job job;               /* the open step */
    const pixd_download_ops *ops; /* NULL once aborted or ended */
    void *ctx;
    char name[PIXPROTO_NAME_MAX + 1];
    int fd;
    int err;
    int busy;                    /* open job or read in flight */
    uint64_t size, offset;
    pixproto_entry e;
    uv_fs_t fsreq;
    uint8_t *block;
    uint8_t *pre;                /* the first chunk, read by the open step */
    size_t pre_n;
    uint64_t ticket;             /* the hot cache's, when the open was asked */
    unsigned refs;               /* file ranges the receiver still holds */
    int finished;                /* finish() came; the last range frees */
    int no_file;                 /* the receiver cannot take file ranges */
};

static void destroy(pixd_download *d) {
    free(d->block);
    free(d->pre);
    free(d);
}

static void closed(uv_fs_t *req) {
    pixd_download *d = req->data;
    uv_fs_req_cleanup(req);
    destroy(d);
}

/* Close the file without blocking the loop, then free; after the last
 * file range the receiver holds, if any. */
static void finish(pixd_download *d) {
    d->finished = 1;
    if (d->refs)
        return;
    if (d->fd >= 0) {
        d->fsreq.data = d;
        if (uv_fs_close(d->job.st->loop, &d->fsreq, d->fd, closed) == 0)
            return;
        close(d->fd);
    }
    destroy(d);
}

static void read_next(pixd_download *d);

static void file_release(void *p) {
    pixd_download *d = p;
    if (--d->refs == 0 && d->finished)
        finish(d);
}

/* Hand ranges to the receiver while it takes them. 1 if the download is
 * over or waits for resume(); 0 to read the rest instead. */
static int send_ranges(pixd_download *d) {
    while (d->ops && d->offset < d->size) {
        size_t n = d->size - d->offset < FILE_PIECE ? (size_t)(d->size - d->offset) : FILE_PIECE;
        int r;
        if (!d->ops->ready(d->ctx))
            return 1;
        d->refs++;
        d->busy = 1; /* an abort from inside file() must not free d */
        r = d->ops->file(d->ctx, d->fd, d->offset, n, file_release, d);
        d->busy = 0;
        if (r == -ENOTSUP) {
            d->refs--;
            d->no_file = 1;
            return 0;
        }
        if (r < 0) {
            const pixd_download_ops *ops = d->ops;
            d->ops = NULL;
            if (ops)
                ops->end(d->ctx, r);
            finish(d);
            return 1;
        }
        d->offset += n;
    }
    if (!d->ops) {
        finish(d);
        return 1;
    }
    return 0; /* all handed over: read_next() ends it */
}

static void on_read(uv_fs_t *req) {
    pixd_download *d = req->data;
    ssize_t n = req->result;
    const pixd_download_ops *ops = d->ops;
    uint8_t *block = d->block;

    uv_fs_req_cleanup(req);
    d->busy = 0;
    d->block = NULL;
    if (!ops) {
        free(block);
        finish(d);
        return;
    }
    if (n <= 0) {
        /* The file shrank under us (someone truncated it in place). */
        free(block);
        d->ops = NULL;
        ops->end(d->ctx, n < 0 ? (int)n : -EIO);
        finish(d);
        return;
    }
    d->offset += (uint64_t)n;
    /* busy keeps an abort from inside chunk() from freeing d under us. */
    d->busy = 1;
    ops->chunk(d->ctx, block, (size_t)n);
    d->busy = 0;
    if (!d->ops) {
        finish(d);
        return;
    }
    read_next(d);
}

static void read_next(pixd_download *d) {
    uint64_t left = d->size - d->offset;
    uv_buf_t b;

    if (d->busy || !d->ops)
        return;
    if (left == 0) {
        const pixd_download_ops *ops = d->ops;
        d->ops = NULL;
        ops->end(d->ctx, 0);
        finish(d);
        return;
    }
    if (d->ops->file && !d->no_file && d->fd >= 0) {
        if (!send_ranges(d))
            read_next(d); /* the end, or reading instead (no_file) */
        return;
    }
    if (!d->ops->ready(d->ctx))
        return;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    d->block = malloc(PIXD_STORE_HEADROOM + n);
    if (!d->block) {
        const pixd_download_ops *ops = d->ops;
        d->ops = NULL;
        ops->end(d->ctx, -ENOMEM);
        finish(d);
        return;
    }
    b = uv_buf_init((char *)d->block + PIXD_STORE_HEADROOM, (unsigned)n);
    d->fsreq.data = d;
    d->busy = 1;
    if (uv_fs_read(d->job.st->loop, &d->fsreq, d->fd, &b, 1, (int64_t)d->offset, on_read) < 0) {
        const pixd_download_ops *ops = d->ops;
        d->busy = 0;
        d->ops = NULL;
        ops->end(d->ctx, -EIO);
        finish(d);
    }
}

static void open_work(store_job *j) {
    pixd_download *d = (pixd_download *)j;
    struct stat st;

    d->fd = openat(j->st->rootfd, d->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (d->fd < 0 || fstat(d->fd, &st) < 0) {
        d->err = -errno;
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        d->err = -ENOENT;
        return;
    }
    /* Describe what this descriptor reads: if the name was replaced since
     * the .meta record was written, hash the file we actually hold. */
    if (pixd__store_describe(j->st, d->name, &d->e) < 0 || d->e.size != (uint64_t)st.st_size ||
        d->e.mtime_ms != pixd__store_mtime_ms(&st)) {
        memset(&d->e, 0, sizeof d->e);
        d->err = pixd__store_scan_fd(d->fd, &d->e);
        snprintf(d->e.name, sizeof d->e.name, "%s", d->name);
        d->e.mtime_ms = pixd__store_mtime_ms(&st);
    }
    d->size = d->e.size;
    /* The first chunk comes with the open: a small file is then whole and
     * closed without another trip through the work queue. */
    if (!d->err && d->size) {
        size_t n = d->size < CHUNK ? (size_t)d->size : CHUNK;
        ssize_t got;
        if (!(d->pre = malloc(PIXD_STORE_HEADROOM + n)))
            return;
        got = pread(d->fd, d->pre + PIXD_STORE_HEADROOM, n, 0);
        if (got != (ssize_t)n) {
            free(d->pre);
            d->pre = NULL;
            return;
        }
        d->pre_n = n;
        if (n == d->size) {
            close(d->fd);
            d->fd = -1;
        }
    }
}

static void open_after(store_job *j, int status) {
    pixd_download *d = (pixd_download *)j;
    const pixd_download_ops *ops = d->ops;

    if (status < 0 && !d->err)
        d->err = -ECANCELED;
    if (ops && d->err) {
        d->ops = NULL;
        ops->begin(d->ctx, d->err, NULL);
    } else if (ops) {
        ops->begin(d->ctx, 0, &d->e); /* may abort: d->busy holds d alive */
    }
    d->busy = 0;
    if (!d->ops) {
        finish(d);
        return;
    }
    if (d->pre && d->pre_n == d->e.size)
        pixd_store_cache_put(j->st->cache, d->ticket, &d->e, d->pre + PIXD_STORE_HEADROOM,
                             d->pre_n, uv_now(j->st->loop));
    if (d->pre) {
        /* begin() may have chosen a range: send what the first chunk holds of it. */
        uint8_t *pre = d->pre;
        d->pre = NULL;
        if (d->offset < d->pre_n && d->offset < d->size) {
            size_t n = d->pre_n - (size_t)d->offset;
            if (n > d->size - d->offset)
                n = (size_t)(d->size - d->offset);
            if (d->offset)
                memmove(pre + PIXD_STORE_HEADROOM, pre + PIXD_STORE_HEADROOM + d->offset, n);
            d->offset += n;
            d->busy = 1;
            d->ops->chunk(d->ctx, pre, n);
            d->busy = 0;
            if (!d->ops) {
                finish(d);
                return;
            }
        } else {
            free(pre);
        }
    }
    read_next(d);
}

int pixd_download_begin(pixd_store *st, const char *name, const pixd_download_ops *ops,
                        void *ctx, pixd_download **out) {
    char norm[PIXPROTO_NAME_MAX + 1], why[128];
    pixd_download *d;
    int r;

    *out = NULL;
    if (pixd_store_name_check(name, norm, sizeof norm, why, sizeof why) < 0)
        return -EINVAL;
    if (!(d = calloc(1, sizeof *d)))
        return -ENOMEM;
    d->ops = ops;
    d->ctx = ctx;
    d->fd = -1;
    snprintf(d->name, sizeof d->name, "%s", norm);
    d->job.work = open_work;
    d->job.after = open_after;
    d->ticket = pixd_store_cache_ticket(st->cache);
    d->busy = 1;
    if ((r = pixd__store_submit(st, &d->job)) < 0) {
        free(d);
        return r;
    }
    *out = d;
    return 0;
}

void pixd_download_set_range(pixd_download *d, uint64_t offset, uint64_t length) {
    /* read_next() reads [offset, size): begin runs before the first read. */
    if (offset > d->e.size || length > d->e.size - offset)
        return;
    d->offset = offset;
    d->size = offset + length;
}

void pixd_download_resume(pixd_download *d) { read_next(d); }

void pixd_download_abort(pixd_download *d) {
    if (!d->ops)
        return;
    d->ops = NULL;
    if (!d->busy)
        finish(d);
}
