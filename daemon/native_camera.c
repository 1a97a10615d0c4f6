/* Cameras over the native protocol: CAMS, WATCH and SNAP (frames out,
 * shared zero-copy from the hub), and PUSH (frames in from a remote
 * camera client, published as a camera). See pixd-protocol(7), "CAMERAS". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/hub.h"
#include "imghdr.h"
#include "log.h"
#include "native.h"
#include "server.h"

#define FRAME_HEAD_MAX 96 /* a FRAME frame: header + five u64 fields */

static const char *const state_names[] = {"starting", "online", "offline"};

/* ---- CAMS ---- */

int pixd__native_cams(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixd_cam_info info[64];
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    size_t n = pixd_hub_list(c->srv->hub, info, 64);
    long len;

    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        pixproto_buf e = {0};
        pixproto_put_str(&e, PIXPROTO_TAG_NAME, info[i].name);
        pixproto_put_str(&e, PIXPROTO_TAG_SOURCE, info[i].source);
        pixproto_put_str(&e, PIXPROTO_TAG_STATE, state_names[info[i].state]);
        pixproto_put_u64(&e, PIXPROTO_TAG_WIDTH, info[i].width);
        pixproto_put_u64(&e, PIXPROTO_TAG_HEIGHT, info[i].height);
        pixproto_put_u64(&e, PIXPROTO_TAG_FPS_MILLI, info[i].fps_milli);
        pixproto_put_u64(&e, PIXPROTO_TAG_SUBSCRIBERS, info[i].subscribers);
        pixproto_put_u64(&e, PIXPROTO_TAG_FRAMES, info[i].frames);
        pixproto_put_u64(&e, PIXPROTO_TAG_DELIVERED, info[i].delivered);
        pixproto_put_u64(&e, PIXPROTO_TAG_DROPPED, info[i].dropped);
        pixproto_put_u64(&e, PIXPROTO_TAG_BROKEN, info[i].broken);
        if (info[i].asked_width) {
            pixproto_put_u64(&e, PIXPROTO_TAG_ASKED_WIDTH, info[i].asked_width);
            pixproto_put_u64(&e, PIXPROTO_TAG_ASKED_HEIGHT, info[i].asked_height);
            pixproto_put_u64(&e, PIXPROTO_TAG_ASKED_FPS, info[i].asked_fps);
        }
        if (info[i].format[0])
            pixproto_put_str(&e, PIXPROTO_TAG_FORMAT, info[i].format);
        if (!e.err)
            pixproto_put_bytes(&b, PIXPROTO_TAG_CAMERA, e.data, e.len);
        pixproto_buf_free(&e);
    }
    len = b.err ? b.err
                : pixproto_frame_encode(PIXPROTO_T_CAMS_REPLY, 0, f->id, b.data, b.len, &buf);
    pixproto_buf_free(&b);
    pixd__native_send(c, len, buf);
    return 0;
}

/* ---- WATCH / SNAP: frames out ---- */

typedef struct out_block {
    pixd_frame *frame;
    uint8_t heads[]; /* FRAME frame, then one 12-byte header per DATA frame */
} out_block;

static void out_release(void *ctx) {
    out_block *o = ctx;
    pixd_frame_unref(o->frame);
    free(o);
}

/* One video frame = FRAME (MORE) + DATA chunks (MORE on all but the last),
 * written with one uv_write whose buffers point into the shared frame. */
static void send_video_frame(native_req *req, pixd_frame *fr) {
    size_t nchunks = fr->len ? (fr->len + PIXPROTO_CHUNK - 1) / PIXPROTO_CHUNK : 1;
    out_block *o = malloc(sizeof *o + FRAME_HEAD_MAX + nchunks * PIXPROTO_HEADER_SIZE);
    uv_buf_t bufs[2 + 2 * (PIXD_FRAME_MAX / PIXPROTO_CHUNK + 1)];
    pixproto_buf b = {0};
    unsigned nb = 0;
    size_t off = 0;

    if (!o)
        return;
    o->frame = pixd_frame_ref(fr);
    pixproto_put_u64(&b, PIXPROTO_TAG_SEQ, fr->seq);
    pixproto_put_u64(&b, PIXPROTO_TAG_TS_US, fr->ts_us);
    pixproto_put_u64(&b, PIXPROTO_TAG_WIDTH, fr->width);
    pixproto_put_u64(&b, PIXPROTO_TAG_HEIGHT, fr->height);
    pixproto_put_u64(&b, PIXPROTO_TAG_SIZE, fr->len);
    if (b.err || PIXPROTO_HEADER_SIZE + b.len > FRAME_HEAD_MAX) {
        pixproto_buf_free(&b);
        out_release(o);
        return;
    }
    pixproto_header_encode(o->heads, PIXPROTO_T_FRAME, PIXPROTO_F_MORE, req->id, b.len);
    memcpy(o->heads + PIXPROTO_HEADER_SIZE, b.data, b.len);
    bufs[nb++] = uv_buf_init((char *)o->heads, (unsigned)(PIXPROTO_HEADER_SIZE + b.len));
    pixproto_buf_free(&b);
    for (size_t i = 0; i < nchunks; i++) {
        uint8_t *h = o->heads + FRAME_HEAD_MAX + i * PIXPROTO_HEADER_SIZE;
        size_t n = fr->len - off < PIXPROTO_CHUNK ? fr->len - off : PIXPROTO_CHUNK;
        pixproto_header_encode(h, PIXPROTO_T_DATA, i + 1 < nchunks ? PIXPROTO_F_MORE : 0,
                               req->id, n);
        bufs[nb++] = uv_buf_init((char *)h, PIXPROTO_HEADER_SIZE);
        if (n)
            bufs[nb++] = uv_buf_init((char *)fr->data + off, (unsigned)n);
        off += n;
    }
    pixd_conn_write(req->conn, bufs, nb, out_release, o);
}

static void sub_frame(void *ctx, pixd_frame *fr) { send_video_frame(ctx, fr); }

static int sub_ready(void *ctx) {
    native_req *req = ctx;
    return !pixd_conn_congested(req->conn);
}

static void sub_gone(void *ctx) {
    native_req *req = ctx;
    uint8_t *buf = NULL;
    long n;
    req->job = NULL; /* the subscription is over */
    n = pixproto_frame_encode(PIXPROTO_T_END, 0, req->id, NULL, 0, &buf);
    pixd__native_send(req->conn, n, buf);
    pixd__native_req_done(req);
}

/* CAM_STATE on the watch's id: a watcher learns its camera is offline
 * (and why) at once, and when frames resume. A snapshot just waits. */
static void sub_state(void *ctx, const char *state, const char *why) {
    native_req *req = ctx;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    long n;
    if (req->type != PIXPROTO_T_WATCH)
        return;
    pixproto_put_str(&b, PIXPROTO_TAG_STATE, state);
    if (why)
        pixproto_put_str(&b, PIXPROTO_TAG_MESSAGE, why);
    if (!b.err) {
        n = pixproto_frame_encode(PIXPROTO_T_CAM_STATE, 0, req->id, b.data, b.len, &buf);
        pixd__native_send(req->conn, n, buf);
    }
    pixproto_buf_free(&b);
}

static const pixd_sub_ops watch_ops = {
    .frame = sub_frame, .ready = sub_ready, .gone = sub_gone, .state = sub_state};

static void watch_cancel(native_req *req) {
    if (req->job)
        pixd_sub_unsubscribe(req->job);
    free(req);
}

static void watch_resume(native_req *req) {
    if (req->job)
        pixd_sub_ready(req->job);
}

static int subscribe(pixd_conn *c, native_state *st, const pixproto_frame *f, int snap) {
    char name[64] = "";
    uint64_t fps = 0, width = 0, frames = snap ? 1 : 0;
    pixproto_reader r;
    pixproto_field fl;
    native_req *req;
    pixd_sub *sub;
    int rc;

    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        int bad = 0;
        if (fl.tag == PIXPROTO_TAG_NAME)
            bad = pixproto_field_str(&fl, name, sizeof name) < 0;
        else if (fl.tag == PIXPROTO_TAG_FPS)
            bad = pixproto_field_u64(&fl, &fps) < 0 || fps > 1000;
        else if (fl.tag == PIXPROTO_TAG_WIDTH)
            bad = pixproto_field_u64(&fl, &width) < 0 || width > 16384;
        else if (fl.tag == PIXPROTO_TAG_FRAMES && !snap)
            bad = pixproto_field_u64(&fl, &frames) < 0 || frames > UINT32_MAX;
        if (bad)
            return PIXPROTO_EBADBODY;
    }
    if (!name[0])
        return PIXPROTO_EBADBODY;
    if (pixd__native_req_find(st, f->id))
        return PIXPROTO_EDUPID;
    if (!(req = pixd__native_req_new(c, st, f->id, f->type)))
        return PIXPROTO_ENOMEM;
    req->cancel = watch_cancel;
    req->resume = watch_resume;
    rc = pixd_hub_subscribe(c->srv->hub, name, (unsigned)fps, (unsigned)width,
                            (unsigned)frames, &watch_ops, req, &sub);
    if (rc < 0) {
        char msg[128];
        pixd__native_req_done(req);
        snprintf(msg, sizeof msg, "no camera named \"%s\" (see `pixctl cams`)", name);
        pixd__native_error(c, f->id, rc == -ENOENT ? PIXPROTO_ENOTFOUND : PIXPROTO_ENOMEM,
                           rc == -ENOENT ? msg : NULL);
        return 0;
    }
    req->job = sub;
    /* A watcher may be silent for hours: frames flow one way. */
    if (!snap)
        pixd_conn_set_streaming(c, 1);
    return 0;
}

int pixd__native_watch(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    return subscribe(c, st, f, 0);
}

int pixd__native_snap(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    return subscribe(c, st, f, 1);
}

/* ---- PUSH: frames in ---- */

typedef struct push_state {
    pixd_camera *cam;
    pixd_frame *frame;   /* being assembled */
    size_t want;         /* its announced SIZE */
    uint64_t ts_us;
} push_state;

/* The hub removes the camera (pixd is stopping, or push_cancel asked). */
static void push_src_close(pixd_camera *cam, void *src) {
    push_state *ps = src;
    ps->cam = NULL;
    pixd_camera_closed(cam);
}

static const pixd_source_ops push_ops = {.close = push_src_close};

static void push_cancel(native_req *req) {
    push_state *ps = req->job;
    if (ps) {
        pixd_frame_unref(ps->frame);
        if (ps->cam)
            pixd_hub_remove(pixd_camera_hub(ps->cam), ps->cam);
        free(ps);
    }
    free(req);
}

int pixd__native_push(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    char name[64] = "", source[128], msg[160];
    pixproto_reader r;
    pixproto_field fl;
    native_req *req;
    push_state *ps;
    uint8_t *buf = NULL;
    long n;
    int rc;

    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1)
        if (fl.tag == PIXPROTO_TAG_NAME && pixproto_field_str(&fl, name, sizeof name) < 0)
            return PIXPROTO_EBADBODY;
    if (!name[0] || strchr(name, '/') || name[0] == '.') {
        pixd__native_error(c, f->id, PIXPROTO_EINVALID, "PUSH needs a camera NAME without "
                           "'/' or a leading '.'");
        return 0;
    }
    if (pixd__native_req_find(st, f->id))
        return PIXPROTO_EDUPID;
    if (!(ps = calloc(1, sizeof *ps)) || !(req = pixd__native_req_new(c, st, f->id, f->type))) {
        free(ps);
        return PIXPROTO_ENOMEM;
    }
    req->job = ps;
    req->cancel = push_cancel;
    snprintf(source, sizeof source, "push:%s", c->peer);
    rc = pixd_hub_add(c->srv->hub, name, source, &push_ops, ps, &ps->cam);
    if (rc < 0) {
        ps->cam = NULL;
        snprintf(msg, sizeof msg, "a camera named \"%s\" already exists; pick another --name", name);
        pixd__native_req_detach(req);
        pixd__native_error(c, f->id, rc == -EEXIST ? PIXPROTO_EEXISTS : PIXPROTO_ENOMEM, msg);
        return 0;
    }
    pixd_info("camera %s: pushed from %s", name, c->peer);
    n = pixproto_frame_encode(PIXPROTO_T_PUSHING, 0, f->id, NULL, 0, &buf);
    pixd__native_send(c, n, buf);
    return 0;
}

/* A pushed FRAME starts a picture; its DATA frames (routed here by
 * native_store.c's DATA handler) complete it. */
int pixd__native_push_frame(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    native_req *req = pixd__native_req_find(st, f->id);
    push_state *ps;
    pixproto_reader r;
    pixproto_field fl;
    uint64_t size = 0, ts = 0;

    if (!req || req->type != PIXPROTO_T_PUSH)
        return 0;
    ps = req->job;
    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        if (fl.tag == PIXPROTO_TAG_SIZE && pixproto_field_u64(&fl, &size) < 0)
            return PIXPROTO_EBADBODY;
        if (fl.tag == PIXPROTO_TAG_TS_US && pixproto_field_u64(&fl, &ts) < 0)
            return PIXPROTO_EBADBODY;
    }
    if (size == 0 || size > PIXD_FRAME_MAX) {
        pixd__native_error(c, f->id, PIXPROTO_ETOOBIG, "a pushed frame must be a JPEG of "
                           "1 byte to 16 MiB (SIZE)");
        pixd__native_req_detach(req);
        return 0;
    }
    pixd_frame_unref(ps->frame);
    ps->frame = pixd_frame_new((size_t)size);
    ps->want = (size_t)size;
    ps->ts_us = ts;
    return ps->frame ? 0 : PIXPROTO_ENOMEM;
}

int pixd__native_push_data(native_req *req, const pixproto_frame *f) {
    push_state *ps = req->job;
    pixd_frame *fr = ps->frame;
    pixd_imghdr h;
    pixd_conn *c = req->conn;

    if (!fr)
        return 0; /* data of a frame we refused */
    if (f->len > ps->want - fr->len) {
        pixd__native_error(c, req->id, PIXPROTO_EINVALID, "frame data longer than its SIZE");
        pixd__native_req_detach(req);
        return 0;
    }
    memcpy(fr->data + fr->len, f->body, f->len);
    fr->len += f->len;
    if (f->flags & PIXPROTO_F_MORE)
        return 0;
    ps->frame = NULL;
    if (fr->len != ps->want || pixd_imghdr_probe(fr->data, fr->len, &h) < 0 ||
        strcmp(h.type, "jpeg") != 0 || !h.width ||
        (uint64_t)h.width * h.height > c->srv->opt->max_pixels) {
        pixd_frame_unref(fr);
        pixd__native_error(c, req->id, PIXPROTO_EINVALID, "pushed frames must be complete "
                           "JPEG images within --max-pixels");
        pixd__native_req_detach(req);
        return 0;
    }
    fr->width = h.width;
    fr->height = h.height;
    fr->ts_us = ps->ts_us;
    if (ps->cam)
        pixd_camera_publish(ps->cam, fr);
    else
        pixd_frame_unref(fr);
    return 0;
}
