/* legacy-resize: seed 004's resize-and-compress service.
 *
 * Request: u32 image size, u32 width, u32 height (big-endian), then the
 * image. Reply: u32 size, then a JPEG of exactly width x height (stretch)
 * at --jpeg-quality. Requests repeat on one connection; a bad or refused
 * one is answered with size 0 and the connection closes. See
 * pixd-legacy(7), "LEGACY-RESIZE". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "../jobs.h"
#include "../auth/keys.h"
#include "../log.h"
#include "../server.h"
#include "../inbuf.h"

#define HEAD_LEN 12
#define INPUT_DEFAULT_MAX (256u << 20) /* without --max-upload */

typedef struct rz_job {
    pixd_job job;
    pixd_conn *conn;           /* NULL once the client has gone */
    pixd_resize_params p;
    uint8_t *in;
    size_t in_len;
    pixd_resize_result res;
    int err;
    char msg[200];
    uint8_t size_be[4];        /* the reply's header, alive until written */
} rz_job;

enum rz_stage { RZ_HEAD, RZ_BODY, RZ_JOB, RZ_DONE };

typedef struct rz_state {
    enum rz_stage stage;
    uint8_t head[HEAD_LEN];
    size_t head_len;
    uint32_t width, height;
    pixd_inbuf body;
    rz_job *job;
    pixd_stash stash;
    int reserved; /* the body arriving holds a place in the job line */
} rz_state;

static const uint8_t zero_size[4];

static void rz_job_free(void *ctx) {
    rz_job *j = ctx;
    free(j->in);
    free(j->res.data);
    free(j);
}

static size_t input_max(const pixd_server *srv) {
    unsigned long long m = srv->opt->max_upload;
    return m && m < INPUT_DEFAULT_MAX ? (size_t)m : INPUT_DEFAULT_MAX;
}

/* Size 0 is the protocol's only way to say no; the reason goes to the log. */
static void refuse(pixd_conn *c, const char *why) {
    rz_state *s = c->state;
    pixd_notice("legacy-resize %s: %s; replying size 0 and closing", c->peer, why);
    s->stage = RZ_DONE;
    pixd_conn_write(c, &(uv_buf_t){.base = (char *)zero_size, .len = 4}, 1, NULL, NULL);
    pixd_conn_end(c);
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n);

static void resize_work(pixd_job *pj) {
    rz_job *j = (rz_job *)pj;
    /* The input is freed once decoded, before the output exists. */
    j->err = pixd_image_resize_owned(j->in, j->in_len, &j->p, &j->res, j->msg, sizeof j->msg);
    j->in = NULL;
}

static void resize_done(pixd_job *pj, int status) {
    rz_job *j = (rz_job *)pj;
    pixd_conn *c = j->conn;
    rz_state *s;
    pixd_stash more;
    uv_buf_t bufs[2];

    if (!c) {
        rz_job_free(j);
        return;
    }
    s = c->state;
    if (c->cstate != PIXD_CONN_OPEN) { /* said goodbye meanwhile */
        s->job = NULL;
        rz_job_free(j);
        return;
    }
    s->job = NULL;
    pixd_conn_hold(c, 0);
    if (status < 0 || j->err) {
        refuse(c, status < 0 ? "pixd is shutting down" : j->msg);
        rz_job_free(j);
        return;
    }
    if (j->res.len > UINT32_MAX) {
        refuse(c, "result is larger than 4 GiB");
        rz_job_free(j);
        return;
    }
    pixd_debug("legacy-resize %s: %zu bytes -> %ux%u, %zu bytes in %.1f ms", c->peer,
               j->in_len, j->res.out_width, j->res.out_height, j->res.len,
               (double)(j->job.finished_ns - j->job.started_ns) / 1e6);
    pixd_put_be32(j->size_be, (uint32_t)j->res.len);
    bufs[0] = uv_buf_init((char *)j->size_be, 4);
    bufs[1] = uv_buf_init((char *)j->res.data, (unsigned)j->res.len);
    s->stage = RZ_HEAD;
    if (pixd_conn_write(c, bufs, 2, rz_job_free, j) < 0)
        return;
    /* Requests the client sent behind this one. */
    more = pixd_stash_take(&s->stash);
    feed(c, more.data, more.len);
    free(more.data);
}

static void unreserve(pixd_conn *c) {
    rz_state *s = c->state;
    if (s->reserved) {
        pixd_jobs_unreserve(&c->srv->jobs);
        s->reserved = 0;
    }
}

static void start_job(pixd_conn *c) {
    rz_state *s = c->state;
    rz_job *j = calloc(1, sizeof *j);
    int r;

    unreserve(c); /* the job takes its place from here */
    if (!j) {
        refuse(c, "out of memory");
        return;
    }
    j->conn = c;
    j->in = pixd_inbuf_take(&s->body, &j->in_len);
    pixd_resize_params_default(&j->p);
    j->p.width = s->width;
    j->p.height = s->height;
    j->p.mode = PIXD_MODE_STRETCH;
    j->p.enlarge = 1; /* exactly width x height, as Pillow's resize() */
    j->p.quality = (int)c->srv->opt->jpeg_quality;
    j->p.max_pixels = c->srv->opt->max_pixels;
    j->job.work = resize_work;
    j->job.done = resize_done;
    if ((r = pixd_jobs_submit(&c->srv->jobs, &j->job)) < 0) {
        rz_job_free(j);
        refuse(c, r == -EBUSY ? "every worker is busy and the queue is full" : "cannot queue");
        return;
    }
    s->job = j;
    s->stage = RZ_JOB;
    /* One request at a time: what follows waits in the socket. */
    pixd_conn_hold(c, 1);
}

static void start_body(pixd_conn *c) {
    rz_state *s = c->state;
    const pixd_options *o = c->srv->opt;
    uint32_t size = pixd_be32(s->head);
    char why[160];

    s->width = pixd_be32(s->head + 4);
    s->height = pixd_be32(s->head + 8);
    s->head_len = 0;
    if (size == 0) {
        refuse(c, "image size is 0");
        return;
    }
    if (size > input_max(c->srv)) {
        snprintf(why, sizeof why, "image of %u bytes is over the limit of %zu bytes "
                 "(--max-upload)", size, input_max(c->srv));
        refuse(c, why);
        return;
    }
    if (!s->width || !s->height || s->width > PIXD_IMAGE_MAX_SIDE ||
        s->height > PIXD_IMAGE_MAX_SIDE) {
        snprintf(why, sizeof why, "target %ux%u: width and height must be 1 to %u",
                 s->width, s->height, PIXD_IMAGE_MAX_SIDE);
        refuse(c, why);
        return;
    }
    if (o->max_pixels && (uint64_t)s->width * s->height > o->max_pixels) {
        snprintf(why, sizeof why, "target %ux%u is over --max-pixels %llu", s->width,
                 s->height, o->max_pixels);
        refuse(c, why);
        return;
    }
    /* Say no before the client sends its image, not after; while it
     * arrives it holds a place in the line, so slow senders cannot pin
     * more memory than the line allows (see jobs.h). */
    if (pixd_jobs_reserve(&c->srv->jobs) < 0) {
        refuse(c, "every worker is busy and the queue is full");
        return;
    }
    s->reserved = 1;
    if (pixd_inbuf_begin(&s->body, size) < 0) {
        unreserve(c);
        refuse(c, "out of memory");
        return;
    }
    s->stage = RZ_BODY;
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n) {
    rz_state *s = c->state;
    while (n && c->cstate == PIXD_CONN_OPEN) {
        size_t used;
        switch (s->stage) {
        case RZ_HEAD:
            used = HEAD_LEN - s->head_len < n ? HEAD_LEN - s->head_len : n;
            memcpy(s->head + s->head_len, d, used);
            s->head_len += used;
            if (s->head_len == HEAD_LEN)
                start_body(c);
            break;
        case RZ_BODY:
            if (pixd_inbuf_feed(&s->body, d, n, &used) < 0) {
                refuse(c, "out of memory");
                return;
            }
            if (pixd_inbuf_full(&s->body))
                start_job(c);
            break;
        case RZ_JOB:
            if (pixd_stash_add(&s->stash, d, n) < 0)
                refuse(c, "out of memory");
            return;
        case RZ_DONE:
            return;
        }
        d += used;
        n -= used;
    }
}

static void rz_read(pixd_conn *c, const uint8_t *data, size_t len) { feed(c, data, len); }

/* Every goodbye (limit, idle, shutdown) reads as a refused request. */
static void rz_goodbye(pixd_conn *c, enum pixd_goodbye why) {
    (void)why;
    pixd_conn_write(c, &(uv_buf_t){.base = (char *)zero_size, .len = 4}, 1, NULL, NULL);
}

static void rz_close(pixd_conn *c) {
    rz_state *s = c->state;
    unreserve(c);
    if (s->job) {
        s->job->conn = NULL;
        /* Not started: done(-ECANCELED) frees it now; running: when it ends. */
        pixd_jobs_cancel(s->job->job.q, &s->job->job);
        s->job = NULL;
    }
    pixd_inbuf_free(&s->body);
    pixd_stash_free(&s->stash);
}

const pixd_handler pixd_legacy_resize_handler = {
    .name = "legacy-resize",
    .default_listen = NULL,
    .summary = "seed 004's resize service (12-byte header, size-prefixed JPEG reply)",
    .state_size = sizeof(rz_state),
    .read = rz_read,
    .goodbye = rz_goodbye,
    .close = rz_close,
    .perm = PIXD_PERM_WRITE, /* with --keys: as=NAME or loopback */
};
