/* legacy-camfeed: seed 002's camera clients.
 *
 * A client sends frames: u8 camera id, u32 body size (big-endian), body =
 * a gzip-compressed image (BMP in the seed; JPEG and PNG too). Each id is
 * published as the camera "<prefix>-<id>" (,prefix=, default "feed"),
 * watchable like any other; it is removed when the client goes. Inflating,
 * decoding and JPEG-encoding run on the work queue, one frame per client
 * at a time (the socket waits meanwhile); unwatched frames are inflated
 * and their header checked, not decoded.
 * The protocol has no replies: a bad frame is logged and ends the
 * connection. See pixd-legacy(7), "LEGACY-CAMFEED". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../camera/hub.h"
#include "../image/image.h"
#include "../imghdr.h"
#include "../jobs.h"
#include "../auth/keys.h"
#include "../log.h"
#include "../server.h"
#include "gunzip.h"
#include "../inbuf.h"

#define HEAD_LEN 5
#define BODY_MAX PIXD_FRAME_MAX     /* gzip bytes of one frame */
#define INFLATED_MAX (64u << 20)    /* an inflated frame: a 4096 x 4096 32-bit BMP */

typedef struct cf_state cf_state;

/* One camera of one client: the hub's source state. */
typedef struct cf_feed {
    cf_state *st;      /* NULL once the client has gone */
    pixd_camera *cam;
    uint8_t id;
} cf_feed;

typedef struct cf_job {
    pixd_job job;
    pixd_conn *conn;   /* NULL once the client has gone */
    uint8_t id;
    uint8_t *in;
    size_t in_len;
    pixd_resize_params p;
    pixd_resize_result res;
    uint64_t ts_us;
    int decode;        /* someone watches: decode and encode, not just check */
    uint32_t width, height; /* from the image header */
    char type[8];      /* "bmp", "jpeg", "png" */
    int err;
    char msg[200];
} cf_job;

enum cf_stage { CF_HEAD, CF_BODY, CF_DONE };

struct cf_state {
    enum cf_stage stage;
    uint8_t head[HEAD_LEN];
    size_t head_len;
    pixd_inbuf body;
    cf_job *job;
    pixd_stash stash;
    char prefix[48];
    unsigned max_clients, quality;
    cf_feed *feeds[256];
};

static const char *const known[] = {"prefix", "max-clients", "quality", NULL};

static int cf_parse(const pixd_params *p, cf_state *st, char *err, size_t errlen) {
    const char *prefix = pixd_params_get(p, "prefix");
    int r;
    if ((r = pixd_params_check_known(p, known, "legacy-camfeed", err, errlen)) < 0 ||
        (r = pixd_params_uint(p, "max-clients", 1, 4096, 8, &st->max_clients, err,
                              errlen)) < 0 ||
        (r = pixd_params_uint(p, "quality", 1, 100, 0, &st->quality, err, errlen)) < 0)
        return r;
    if (!prefix)
        prefix = "feed";
    if (strlen(prefix) >= sizeof st->prefix || strspn(prefix, "abcdefghijklmnopqrstuvwxyz"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(prefix) || prefix[0] == '.') {
        snprintf(err, errlen, "prefix=%.40s: camera names take letters, digits, '-', '_' and "
                 "'.' (not first), at most 47 bytes", prefix);
        return -EINVAL;
    }
    strcpy(st->prefix, prefix);
    return 0;
}

static int cf_check_params(const pixd_params *p, char *err, size_t errlen) {
    cf_state *st = calloc(1, sizeof *st);
    int r = st ? cf_parse(p, st, err, errlen) : -ENOMEM;
    free(st);
    return r;
}

static void cf_job_free(cf_job *j) {
    free(j->in);
    free(j->res.data);
    free(j);
}

static void fail(pixd_conn *c, const char *why) {
    cf_state *s = c->state;
    pixd_notice("legacy-camfeed %s: %s; disconnecting", c->peer, why);
    s->stage = CF_DONE;
    pixd_conn_end(c);
}

/* ---- the cameras ---- */

/* The hub removes the camera: the client went (cf_close), or pixd stops. */
static void feed_src_close(pixd_camera *cam, void *src) {
    cf_feed *f = src;
    if (f->st)
        f->st->feeds[f->id] = NULL;
    free(f);
    pixd_camera_closed(cam);
}

static const pixd_source_ops feed_ops = {.close = feed_src_close};

static int feed_open(pixd_conn *c, uint8_t id) {
    cf_state *s = c->state;
    char name[64], source[96], why[160];
    cf_feed *f;
    int r;

    if (s->feeds[id])
        return 0;
    if (!(f = calloc(1, sizeof *f))) {
        fail(c, "out of memory");
        return -ENOMEM;
    }
    f->st = s;
    f->id = id;
    snprintf(name, sizeof name, "%s-%u", s->prefix, id);
    snprintf(source, sizeof source, "legacy-camfeed:%s", c->peer);
    if ((r = pixd_hub_add(c->srv->hub, name, source, &feed_ops, f, &f->cam)) < 0) {
        free(f);
        snprintf(why, sizeof why, "camera %s %s", name,
                 r == -EEXIST ? "already exists (another client feeds it?)" : "cannot be added");
        fail(c, why);
        return r;
    }
    s->feeds[id] = f;
    pixd_info("camera %s: fed from %s", name, c->peer);
    return 0;
}

/* ---- frames ---- */

static void feed(pixd_conn *c, const uint8_t *d, size_t n);

/* Unwatched frames are only checked (inflate, image header), so that a
 * client hears the same refusals whether or not anyone watches. */
static int check_header(cf_job *j, const uint8_t *img, size_t len) {
    pixd_imghdr h;
    if (pixd_imghdr_probe(img, len, &h) < 0 || (strcmp(h.type, "bmp") && strcmp(h.type, "jpeg")
                                                 && strcmp(h.type, "png"))) {
        snprintf(j->msg, sizeof j->msg, "inflated body is not a BMP, JPEG or PNG image");
        return -ENOTSUP;
    }
    if (j->p.max_pixels && (uint64_t)h.width * h.height > j->p.max_pixels) {
        snprintf(j->msg, sizeof j->msg, "image is %ux%u, over --max-pixels", h.width, h.height);
        return -EFBIG;
    }
    j->width = h.width;
    j->height = h.height;
    snprintf(j->type, sizeof j->type, "%s", h.type);
    return 0;
}

static void frame_work(pixd_job *pj) {
    cf_job *j = (cf_job *)pj;
    uint8_t *img = NULL;
    size_t len = 0;

    j->err = pixd_gunzip(j->in, j->in_len, INFLATED_MAX, &img, &len, j->msg, sizeof j->msg);
    free(j->in);
    j->in = NULL;
    if (j->err == 0)
        j->err = check_header(j, img, len);
    if (j->err == 0 && j->decode)
        j->err = pixd_image_resize(img, len, &j->p, &j->res, j->msg, sizeof j->msg);
    free(img);
}

static void frame_done(pixd_job *pj, int status) {
    cf_job *j = (cf_job *)pj;
    pixd_conn *c = j->conn;
    cf_state *s;
    cf_feed *f;
    pixd_frame *fr;
    pixd_stash more;
    char why[240];

    if (!c) {
        cf_job_free(j);
        return;
    }
    s = c->state;
    s->job = NULL;
    pixd_conn_hold(c, 0);
    if (c->cstate != PIXD_CONN_OPEN) {
        cf_job_free(j);
        return;
    }
    if (status < 0 || j->err) {
        snprintf(why, sizeof why, "frame for camera id %u: %s", j->id,
                 status < 0 ? "pixd is shutting down" : j->msg);
        cf_job_free(j);
        fail(c, why);
        return;
    }
    f = s->feeds[j->id];
    if (f && f->cam) {
        /* Listings show the camera's size and format before anyone watches. */
        char fmt[8];
        for (unsigned i = 0; i < sizeof fmt; i++)
            fmt[i] = (char)(j->type[i] >= 'a' && j->type[i] <= 'z' ? j->type[i] - 32 : j->type[i]);
        pixd_camera_set_format(f->cam, 0, 0, 0, j->width, j->height, 0, fmt);
        pixd_camera_set_state(f->cam, PIXD_CAM_ONLINE, NULL);
    }
    if (!j->decode) {
        /* Checked only: nobody watched when it arrived. */
    } else if (f && f->cam && j->res.len <= PIXD_FRAME_MAX &&
               (fr = pixd_frame_new(j->res.len))) {
        memcpy(fr->data, j->res.data, j->res.len);
        fr->len = j->res.len;
        fr->width = j->res.out_width;
        fr->height = j->res.out_height;
        fr->ts_us = j->ts_us;
        pixd_camera_publish(f->cam, fr);
    } else if (f && f->cam) {
        pixd_camera_count_dropped(f->cam, 1);
    }
    cf_job_free(j);
    more = pixd_stash_take(&s->stash);
    feed(c, more.data, more.len);
    free(more.data);
}

static void frame_complete(pixd_conn *c) {
    cf_state *s = c->state;
    uint8_t id = s->head[0];
    pixd_camera *cam = s->feeds[id] ? s->feeds[id]->cam : NULL;
    cf_job *j;
    int r;

    s->stage = CF_HEAD;
    if (!(j = calloc(1, sizeof *j))) {
        fail(c, "out of memory");
        return;
    }
    j->conn = c;
    j->id = id;
    j->ts_us = pixd_now_us();
    /* Nobody watches: only check the frame (sources skip encoding too). */
    j->decode = cam && pixd_camera_wanted(cam);
    j->in = pixd_inbuf_take(&s->body, &j->in_len);
    pixd_resize_params_default(&j->p); /* 0 x 0: the frame's own size */
    j->p.quality = (int)(s->quality ? s->quality : c->srv->opt->jpeg_quality);
    j->p.max_pixels = c->srv->opt->max_pixels;
    j->job.work = frame_work;
    j->job.done = frame_done;
    if ((r = pixd_jobs_submit(&c->srv->jobs, &j->job)) < 0) {
        /* A camera drops frames it cannot encode in time; so does this. */
        cf_job_free(j);
        if (cam)
            pixd_camera_count_dropped(cam, 1);
        return;
    }
    s->job = j;
    pixd_conn_hold(c, 1);
}

static void header_complete(pixd_conn *c) {
    cf_state *s = c->state;
    uint32_t size = pixd_be32(s->head + 1);
    size_t max = BODY_MAX;
    char why[160];

    s->head_len = 0;
    if (c->srv->opt->max_upload && c->srv->opt->max_upload < max)
        max = (size_t)c->srv->opt->max_upload;
    if (size == 0 || size > max) {
        snprintf(why, sizeof why, "frame body of %u bytes for camera id %u: must be 1 to %zu "
                 "bytes", size, s->head[0], max);
        fail(c, why);
        return;
    }
    if (feed_open(c, s->head[0]) < 0)
        return;
    if (pixd_inbuf_begin(&s->body, size) < 0) {
        fail(c, "out of memory");
        return;
    }
    s->stage = CF_BODY;
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n) {
    cf_state *s = c->state;
    while (n && c->cstate == PIXD_CONN_OPEN && s->stage != CF_DONE) {
        size_t used;
        if (s->job) {
            /* A frame is being encoded; the socket is held, so at most the
             * rest of this read waits here. */
            if (pixd_stash_add(&s->stash, d, n) < 0)
                fail(c, "out of memory");
            return;
        }
        if (s->stage == CF_HEAD) {
            used = HEAD_LEN - s->head_len < n ? HEAD_LEN - s->head_len : n;
            memcpy(s->head + s->head_len, d, used);
            s->head_len += used;
            if (s->head_len == HEAD_LEN)
                header_complete(c);
        } else {
            if (pixd_inbuf_feed(&s->body, d, n, &used) < 0) {
                fail(c, "out of memory");
                return;
            }
            if (pixd_inbuf_full(&s->body))
                frame_complete(c);
        }
        d += used;
        n -= used;
    }
}

static void cf_read(pixd_conn *c, const uint8_t *data, size_t len) { feed(c, data, len); }

static int cf_open(pixd_conn *c) {
    cf_state *s = c->state;
    char err[200];
    unsigned n = 0;

    if (cf_parse(&c->listener->params, s, err, sizeof err) < 0)
        return -EINVAL;
    for (pixd_conn *o = c->srv->conns; o; o = o->next)
        if (o != c && o->listener == c->listener && o->opened && o->cstate == PIXD_CONN_OPEN)
            n++;
    if (n >= s->max_clients) {
        pixd_notice("refusing %s: legacy-camfeed on %s has %u feeding clients "
                    "(max-clients=%u)", c->peer, c->listener->addr, n, s->max_clients);
        return -EUSERS;
    }
    /* A camera client may pause; its streams stay until it disconnects
     * or --idle-timeout passes without a byte. */
    return 0;
}

static void cf_close(pixd_conn *c) {
    cf_state *s = c->state;
    if (s->job) {
        s->job->conn = NULL;
        pixd_jobs_cancel(s->job->job.q, &s->job->job);
        s->job = NULL;
    }
    for (unsigned i = 0; i < 256; i++) {
        cf_feed *f = s->feeds[i];
        if (!f)
            continue;
        f->st = NULL;
        s->feeds[i] = NULL;
        pixd_info("camera %s: feeding client left", pixd_camera_name(f->cam));
        pixd_hub_remove(c->srv->hub, f->cam);
    }
    pixd_inbuf_free(&s->body);
    pixd_stash_free(&s->stash);
}

const pixd_handler pixd_legacy_camfeed_handler = {
    .name = "legacy-camfeed",
    .default_listen = NULL,
    .summary = "seed 002's camera clients (id, size, gzip'd BMP/JPEG/PNG frames)",
    .state_size = sizeof(cf_state),
    .open = cf_open,
    .read = cf_read,
    .close = cf_close,
    .perm = PIXD_PERM_WRITE, /* with --keys: as=NAME or loopback */
    .check_params = cf_check_params,
};
