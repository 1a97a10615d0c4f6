/* Uploads: bytes from a client land in ROOT/.tmp/, are hashed, and become
 * ROOT/NAME only when complete, verified, fsync'd and renamed (and the
 * directory fsync'd). Two jobs per upload may be on the work queue at a
 * time: one writing a batch of chunks, one hashing the batch written
 * before it (hashing is as costly as writing, so they run side by side);
 * each kind runs one at a time, so both see the bytes in order. The loop
 * keeps receiving meanwhile, up to BUFFER_HIGH, then asks the sender to
 * wait. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_internal.h"
#include "store_name.h"

/* At most this much waits to be written before the sender is asked to
 * wait; a batch is what waited, plus the read that crossed the line. A new
 * batch is written only once the one written before it is being hashed, so
 * an upload holds at most four: waiting, being written, waiting for
 * hashing, being hashed. */
#define BUFFER_HIGH (2u << 20)
#define PROBE_BYTES (256u << 10)
#define WRITE_BEHIND (8u << 20)

/* Bytes waiting for the disk: a copy in the chunk's own block, or a block
 * the caller handed over (pixd_upload_data_owned), freed with the chunk. */
typedef struct chunk {
    struct chunk *next;
    size_t n;
    const uint8_t *data;
    void *owned;
    uint8_t copy[];
} chunk;

enum step { STEP_WRITE, STEP_FINISH, STEP_ABORT };

struct pixd_upload {
    store_job job;  /* write, finish or abort */
    store_job hjob; /* hashing what has been written */
    enum step step;
    /* Loop side. */
    const pixd_upload_ops *ops; /* NULL once the owner is gone or told */
    void *ctx;
    uint64_t size, received;
    uint8_t want[32];
    int have_want, ended, running, hrunning, holding, reserved;
    chunk *head, *tail;   /* received, to be written */
    size_t queued;
    chunk *hhead, *htail; /* written, to be hashed */
    /* Handed to the running jobs. */
    chunk *batch, *hbatch;
    /* Worker side (only the running job touches these). */
    char name[PIXPROTO_NAME_MAX + 1];
    char tmp[64];
    int fd;
    EVP_MD_CTX *md;
    uint64_t written, flushed, old_size;
    int err;
    const char *why;
    pixproto_entry result;
};

static void free_chunks(chunk *c) {
    while (c) {
        chunk *n = c->next;
        free(c->owned);
        free(c);
        c = n;
    }
}

static int create_tmp(pixd_upload *u) {
    pixd_store *st = u->job.st;
    u->fd = openat(st->tmpfd, u->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    return u->fd < 0 ? -errno : 0;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Starts writeback of each WRITE_BEHIND bytes once written, so the disk
 * works while the rest arrives and the fsync at the end has little left to
 * wait for (it would otherwise write the whole file then). It only starts
 * the writes: errors and waiting stay with fsync. No-op on tmpfs. */
static void write_behind(pixd_upload *u) {
    if (u->written - u->flushed < WRITE_BEHIND)
        return;
    (void)sync_file_range(u->fd, (off_t)u->flushed, (off_t)(u->written - u->flushed), SYNC_FILE_RANGE_WRITE);
    u->flushed = u->written;
}

/* The batch stays: the loop hands it on to hashing (or frees it). */
static void work_write(pixd_upload *u) {
    if (u->fd < 0 && (u->err = create_tmp(u)) < 0)
        return;
    for (chunk *c = u->batch; c; c = c->next) {
        if ((u->err = write_all(u->fd, c->data, c->n)) < 0)
            return;
        u->written += c->n;
    }
    write_behind(u);
}

static void hash_work(store_job *j) {
    pixd_upload *u = (pixd_upload *)((char *)j - offsetof(pixd_upload, hjob));
    for (chunk *c = u->hbatch; c; c = c->next)
        EVP_DigestUpdate(u->md, c->data, c->n);
    free_chunks(u->hbatch);
    u->hbatch = NULL;
}

static void remove_tmp(pixd_upload *u) {
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    unlinkat(u->job.st->tmpfd, u->tmp, 0);
}

static void work_finish(pixd_upload *u) {
    pixd_store *st = u->job.st;
    pixproto_entry *e = &u->result;
    uint8_t digest[32], *head = NULL;
    struct stat s, old;
    ssize_t n;

    if (u->fd < 0 && (u->err = create_tmp(u)) < 0)
        goto fail;
    if (u->written != u->size) {
        u->err = -EBADMSG;
        u->why = "received fewer bytes than the upload announced";
        goto fail;
    }
    EVP_DigestFinal_ex(u->md, digest, NULL);
    if (memcmp(digest, u->want, 32) != 0) {
        u->err = -EBADMSG;
        u->why = "SHA-256 of the received data does not match the client's";
        goto fail;
    }
    if (fsync(u->fd) < 0 || fstat(u->fd, &s) < 0) {
        u->err = -errno;
        goto fail;
    }
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", u->name);
    e->size = u->size;
    memcpy(e->sha256, digest, 32);
    e->has_sha256 = 1;
    e->mtime_ms = pixd__store_mtime_ms(&s);
    head = malloc(PROBE_BYTES);
    n = head ? pread(u->fd, head, PROBE_BYTES, 0) : 0;
    pixd__store_probe(head, n > 0 ? (size_t)n : 0, e);
    free(head);
    if (st->verify_images && (!strcmp(e->type, "data") || !e->width || !e->height)) {
        u->err = -EINVAL;
        u->why = "not an image pixd can read (JPEG, PNG, WebP, GIF or BMP with a valid "
                 "header); this server stores images only (--verify-images)";
        goto fail;
    }
    u->old_size = 0;
    if (fstatat(st->rootfd, u->name, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode))
        u->old_size = (uint64_t)old.st_size;
    /* The rename is the moment the file appears, whole; two uploads of one
     * name each rename a complete file, so the last one wins intact. */
    if (renameat(st->tmpfd, u->tmp, st->rootfd, u->name) < 0) {
        u->err = -errno;
        goto fail;
    }
    fsync(st->rootfd);
    pixd__store_meta_save(st, u->name, e, &s);
    close(u->fd);
    u->fd = -1;
    return;
fail:
    remove_tmp(u);
}

static void upload_work(store_job *j) {
    pixd_upload *u = (pixd_upload *)j;
    switch (u->step) {
    case STEP_WRITE:
        work_write(u);
        break;
    case STEP_FINISH:
        work_finish(u);
        break;
    case STEP_ABORT:
        free_chunks(u->batch);
        u->batch = NULL;
        remove_tmp(u);
        break;
    }
}

static void release(pixd_upload *u) {
    pixd_store *st = u->job.st;
    if (u->reserved) {
        st->reserved -= u->size;
        u->reserved = 0;
    }
}

static void destroy(pixd_upload *u) {
    free_chunks(u->head);
    free_chunks(u->hhead);
    EVP_MD_CTX_free(u->md);
    free(u);
}

static void after(store_job *j, int status);
static void kick(pixd_upload *u);

static int busy(const pixd_upload *u) {
    return u->running || u->hrunning;
}

static void submit(pixd_upload *u, enum step step) {
    /* The rename may land any moment from now: no cached copy of the old
     * file is served past it (and none read before it is cached). */
    if (step == STEP_FINISH)
        pixd_store_cache_forget(u->job.st->cache, u->name);
    u->step = step;
    u->running = 1;
    if (pixd__store_submit(u->job.st, &u->job) < 0) {
        /* libuv refuses work only without a work callback: not seen. Free
         * the upload unless the hash job still runs (its end does). */
        u->running = 0;
        u->ops = NULL;
        if (!u->hrunning) {
            remove_tmp(u);
            destroy(u);
        }
    }
}

/* Tell the owner once, then clean up in the background. */
static void fail(pixd_upload *u, int err, const char *why) {
    const pixd_upload_ops *ops = u->ops;
    u->ops = NULL;
    release(u);
    if (ops) {
        if (u->holding)
            ops->hold(u->ctx, 0);
        ops->done(u->ctx, err, why, NULL);
    }
    if (!busy(u))
        submit(u, STEP_ABORT);
}

static void hash_after(store_job *j, int status) {
    pixd_upload *u = (pixd_upload *)((char *)j - offsetof(pixd_upload, hjob));

    u->hrunning = 0;
    free_chunks(u->hbatch); /* NULL unless the job was cancelled before it ran */
    u->hbatch = NULL;
    if (!u->ops) { /* the owner left while the job ran */
        if (!busy(u))
            submit(u, STEP_ABORT);
        return;
    }
    if (status == UV_ECANCELED) {
        fail(u, -ECANCELED, "the server is shutting down");
        return;
    }
    kick(u);
}

/* Starts what can start: hashing of what has been written, writing of
 * what has arrived (unless the last written batch still waits for hashing:
 * that bounds the memory held), or the finish once everything is written
 * and hashed. */
static void kick(pixd_upload *u) {
    if (!u->ops)
        return;
    if (!u->hrunning && u->hhead) {
        u->hbatch = u->hhead;
        u->hhead = u->htail = NULL;
        u->hrunning = 1;
        if (pixd__store_submit(u->job.st, &u->hjob) < 0) {
            /* The queue refuses only when the loop is closing. */
            u->hrunning = 0;
            free_chunks(u->hbatch);
            u->hbatch = NULL;
            fail(u, -ECANCELED, "the server is shutting down");
            return;
        }
    }
    if (u->running)
        return;
    if (u->head && !u->hhead) {
        u->batch = u->head;
        u->head = u->tail = NULL;
        u->queued = 0;
        if (u->holding && u->ops) {
            u->holding = 0;
            u->ops->hold(u->ctx, 0);
        }
        submit(u, STEP_WRITE);
    } else if (!u->head && u->ended && !u->hrunning && !u->hhead) {
        submit(u, STEP_FINISH);
    }
}

/* A written batch goes on to hashing; after a failure it is dropped. */
static void pass_to_hashing(pixd_upload *u) {
    chunk *b = u->batch, *last = b;
    u->batch = NULL;
    if (!b)
        return;
    if (u->err < 0 || !u->ops) {
        free_chunks(b);
        return;
    }
    while (last->next)
        last = last->next;
    if (u->htail)
        u->htail->next = b;
    else
        u->hhead = b;
    u->htail = last;
}

static void after(store_job *j, int status) {
    pixd_upload *u = (pixd_upload *)j;
    pixd_store *st = j->st;
    enum step step = u->step;

    u->running = 0;
    if (step == STEP_FINISH)
        pixd_store_cache_forget(st->cache, u->name);
    if (status == UV_ECANCELED && step != STEP_ABORT)
        u->err = -ECANCELED;
    if (step == STEP_ABORT) {
        destroy(u);
        return;
    }
    if (step == STEP_WRITE)
        pass_to_hashing(u);
    if (!u->ops) { /* the owner left while the job ran */
        if (!busy(u))
            submit(u, STEP_ABORT);
        return;
    }
    if (u->err < 0) {
        if (u->err != -EBADMSG)
            pixd_warn("store: upload of %s failed: %s", u->name, strerror(-u->err));
        fail(u, u->err, u->why);
        return;
    }
    if (step == STEP_FINISH) {
        const pixd_upload_ops *ops = u->ops;
        release(u);
        st->used = st->used - (u->old_size < st->used ? u->old_size : st->used) + u->size;
        u->ops = NULL;
        pixd_info("store: stored %s (%llu bytes)", u->name, (unsigned long long)u->size);
        ops->done(u->ctx, 0, NULL, &u->result);
        destroy(u);
        return;
    }
    kick(u);
}

int pixd_upload_begin(pixd_store *st, const char *name, uint64_t size,
                      const uint8_t *sha256, const pixd_upload_ops *ops, void *ctx,
                      pixd_upload **out, char *err, size_t errlen) {
    pixd_upload *u;
    char norm[PIXPROTO_NAME_MAX + 1];

    *out = NULL;
    if (pixd_store_name_check(name, norm, sizeof norm, err, errlen) < 0)
        return -EINVAL;
    if (st->max_upload && size > st->max_upload) {
        snprintf(err, errlen, "file of %llu bytes is over this server's --max-upload "
                 "of %llu bytes", (unsigned long long)size, (unsigned long long)st->max_upload);
        return -EFBIG;
    }
    if (st->max_store && st->used + st->reserved + size > st->max_store) {
        snprintf(err, errlen, "store is full: %llu of %llu bytes used (--max-store); "
                 "delete files first", (unsigned long long)(st->used + st->reserved),
                 (unsigned long long)st->max_store);
        return -ENOSPC;
    }
    if (!(u = calloc(1, sizeof *u)))
        return -ENOMEM;
    u->md = EVP_MD_CTX_new();
    if (!u->md || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(u->md);
        free(u);
        return -ENOMEM;
    }
    u->job.st = st;
    u->job.work = upload_work;
    u->job.after = after;
    u->hjob.st = st;
    u->hjob.work = hash_work;
    u->hjob.after = hash_after;
    u->ops = ops;
    u->ctx = ctx;
    u->size = size;
    u->fd = -1;
    snprintf(u->name, sizeof u->name, "%s", norm);
    snprintf(u->tmp, sizeof u->tmp, "up-%ld-%llu", (long)getpid(),
             (unsigned long long)++st->tmp_seq);
    if (sha256) {
        memcpy(u->want, sha256, 32);
        u->have_want = 1;
    }
    st->reserved += size;
    u->reserved = 1;
    *out = u;
    return 0;
}

/* 0 if n more bytes are welcome; else -EPIPE (the owner has been told). */
static int accept_bytes(pixd_upload *u, size_t n) {
    if (!u->ops)
        return -EPIPE;
    if (u->ended || n > u->size - u->received) {
        fail(u, -EBADMSG, "received more bytes than the upload announced");
        return -EPIPE;
    }
    return 0;
}

static void queue_chunk(pixd_upload *u, chunk *c) {
    c->next = NULL;
    if (u->tail)
        u->tail->next = c;
    else
        u->head = c;
    u->tail = c;
    u->queued += c->n;
    u->received += c->n;
    kick(u);
    if (u->ops && u->queued > BUFFER_HIGH && !u->holding) {
        u->holding = 1;
        u->ops->hold(u->ctx, 1);
    }
}

int pixd_upload_data(pixd_upload *u, const void *p, size_t n) {
    chunk *c;
    if (accept_bytes(u, n) < 0)
        return -EPIPE;
    if (n == 0)
        return 0;
    if (!(c = malloc(sizeof *c + n))) {
        fail(u, -ENOMEM, "out of memory");
        return -EPIPE;
    }
    memcpy(c->copy, p, n);
    c->data = c->copy;
    c->owned = NULL;
    c->n = n;
    queue_chunk(u, c);
    return 0;
}

int pixd_upload_data_owned(pixd_upload *u, void *block, const void *p, size_t n) {
    chunk *c;
    if (accept_bytes(u, n) < 0 || n == 0) {
        free(block);
        return n == 0 && u->ops ? 0 : -EPIPE;
    }
    if (!(c = malloc(sizeof *c))) {
        free(block);
        fail(u, -ENOMEM, "out of memory");
        return -EPIPE;
    }
    c->data = p;
    c->owned = block;
    c->n = n;
    queue_chunk(u, c);
    return 0;
}

int pixd_upload_end(pixd_upload *u, const uint8_t *sha256) {
    if (!u->ops)
        return -EPIPE;
    if (sha256 && u->have_want && memcmp(sha256, u->want, 32) != 0) {
        fail(u, -EBADMSG, "the two SHA-256 values the client sent differ");
        return -EPIPE;
    }
    if (sha256) {
        memcpy(u->want, sha256, 32);
        u->have_want = 1;
    }
    if (!u->have_want) {
        fail(u, -EINVAL, "upload ended without a SHA-256 (send it in PUT or END)");
        return -EPIPE;
    }
    u->ended = 1;
    kick(u);
    return 0;
}

void pixd_upload_abort(pixd_upload *u) {
    if (!u->ops)
        return;
    if (u->holding) {
        u->holding = 0;
        u->ops->hold(u->ctx, 0);
    }
    u->ops = NULL;
    release(u);
    if (!busy(u))
        submit(u, STEP_ABORT);
}
