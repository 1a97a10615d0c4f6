/* Cameras over HTTP: the list, one-frame snapshots and MJPEG streams.
 *
 * The HTTP twin of native_camera.c: a snapshot or a stream is a hub
 * subscriber like a native WATCH, so it shares one capture with every
 * other viewer, skips frames when its socket is backed up, and writes each
 * frame straight from the shared, reference-counted JPEG (no copy). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../camera/hub.h"
#include "../server.h"
#include "json.h"
#include "routes.h"

/* A camera that yields no frame in this time is treated as offline. */
#define SNAPSHOT_TIMEOUT_MS 5000
#define BOUNDARY "pixdframe"
#define MAX_FPS 1000
#define MAX_WIDTH 16384

static const char *const state_names[] = {"starting", "online", "offline"};

/* ---- helpers ---- */

/* 1 if the query string names key at all (with or without a value). */
static int query_has(const char *q, const char *key) {
    size_t kl = strlen(key);
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n >= kl && strncmp(q, key, kl) == 0 && (n == kl || q[kl] == '='))
            return 1;
        q += n + (q[n] == '&');
    }
    return 0;
}

/* Query parameter key as a whole number in [0, max]: 0 and *out set,
 * 1 absent (*out untouched), -1 malformed or out of range. */
static int query_uint(const pixd_http_req *r, const char *key, unsigned max, unsigned *out) {
    char buf[32], *end;
    unsigned long v;
    if (!pixd_http_query(r, key, buf, sizeof buf))
        return query_has(r->query, key) ? -1 : 1;
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    errno = 0;
    v = strtoul(buf, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Reads ?fps= and ?width=; answers 400 itself and returns -1 when bad. */
static int stream_params(pixd_http_req *r, int want_fps, unsigned *fps, unsigned *width) {
    *fps = 0;
    *width = 0;
    if (want_fps && query_uint(r, "fps", MAX_FPS, fps) < 0) {
        pixd_http_error(r, 400, "fps must be a whole number of frames per second, 0 to 1000 "
                        "(0: the camera's rate)");
        return -1;
    }
    if (query_uint(r, "width", MAX_WIDTH, width) < 0) {
        pixd_http_error(r, 400, "width must be a whole number of pixels, 0 to 16384 "
                        "(0: the camera's size)");
        return -1;
    }
    return 0;
}

static void not_found(pixd_http_req *r) {
    char msg[160];
    snprintf(msg, sizeof msg, "no camera named \"%s\" (see /api/v1/cameras)", r->param);
    pixd_http_error(r, 404, msg);
}

/* ---- GET /api/v1/cameras ---- */

static int cameras_begin(pixd_http_req *r) {
    pixd_hub *hub = r->conn->srv->hub;
    pixd_cam_info *info = NULL;
    pixd_buf b = {0};
    size_t n = hub ? pixd_hub_list(hub, NULL, 0) : 0;

    if (n && !(info = calloc(n, sizeof *info)))
        return 500;
    if (n) {
        size_t m = pixd_hub_list(hub, info, n);
        n = m < n ? m : n;
    }
    pixd_json_arr_open(&b);
    for (size_t i = 0; i < n; i++) {
        const pixd_cam_info *c = &info[i];
        pixd_json_obj_open(&b);
        pixd_json_kstr(&b, "name", c->name);
        pixd_json_kstr(&b, "source", c->source);
        pixd_json_kstr(&b, "state", state_names[c->state]);
        pixd_json_ku64(&b, "width", c->width);
        pixd_json_ku64(&b, "height", c->height);
        pixd_json_key(&b, "fps");
        pixd_json_double(&b, c->fps_milli / 1000.0);
        pixd_json_ku64(&b, "subscribers", c->subscribers);
        pixd_json_ku64(&b, "frames", c->frames);
        pixd_json_ku64(&b, "delivered", c->delivered);
        pixd_json_ku64(&b, "dropped", c->dropped);
        pixd_json_ku64(&b, "broken", c->broken);
        if (c->format[0])
            pixd_json_kstr(&b, "format", c->format);
        if (c->asked_width) {
            /* Drivers coerce what they are asked: both are shown. */
            pixd_json_ku64(&b, "asked_width", c->asked_width);
            pixd_json_ku64(&b, "asked_height", c->asked_height);
            pixd_json_ku64(&b, "asked_fps", c->asked_fps);
            pixd_json_key(&b, "driver_fps");
            pixd_json_double(&b, c->got_fps_milli / 1000.0);
        }
        pixd_json_obj_close(&b);
    }
    pixd_json_arr_close(&b);
    pixd_buf_puts(&b, "\n");
    free(info);
    if (b.err) {
        pixd_buf_free(&b);
        return 500;
    }
    pixd_http_respond(r, 200, "application/json", b.data, b.len, "Cache-Control: no-store\r\n");
    pixd_buf_free(&b);
    return 0;
}

/* The request has no body to wait for; the response runs on its own. */
static int no_body_end(pixd_http_req *r) {
    (void)r;
    return 0;
}

/* ---- frames out, zero-copy ---- */

typedef struct frame_out {
    pixd_frame *frame;
    char head[256]; /* multipart part header; unused by snapshots */
} frame_out;

static void frame_out_release(void *ctx) {
    frame_out *o = ctx;
    pixd_frame_unref(o->frame);
    free(o);
}

/* ---- GET /api/v1/cameras/NAME/snapshot ---- */

typedef struct snap_state {
    pixd_http_req *r;   /* NULL once answered or aborted */
    pixd_sub *sub;      /* NULL once the subscription is over */
    pixd_frame *frame;  /* the frame to send, from frame() until gone() */
    uv_timer_t timer;   /* the state is freed in its close callback */
} snap_state;

static void snap_closed(uv_handle_t *h) {
    snap_state *st = h->data;
    pixd_frame_unref(st->frame);
    free(st);
}

static void snap_free(snap_state *st) {
    if (st->sub)
        pixd_sub_unsubscribe(st->sub);
    st->sub = NULL;
    uv_close((uv_handle_t *)&st->timer, snap_closed);
}

/* Answer with the frame if one came, else 503; then release everything. */
static void snap_reply(snap_state *st, const char *why) {
    pixd_http_req *r = st->r;
    pixd_frame *f = st->frame;
    st->r = NULL;
    st->frame = NULL;
    if (!r) {
        pixd_frame_unref(f);
        return;
    }
    r->state = NULL;
    snap_free(st);
    if (!f) {
        pixd_http_error(r, 503, why);
        return;
    }
    {
        frame_out *o = malloc(sizeof *o);
        char extra[160];
        uv_buf_t b;
        if (!o) {
            pixd_frame_unref(f);
            pixd_http_error(r, 500, "out of memory");
            return;
        }
        o->frame = f;
        snprintf(extra, sizeof extra, "Cache-Control: no-store\r\nX-Timestamp: %llu.%06llu\r\n",
                 (unsigned long long)(f->ts_us / 1000000), (unsigned long long)(f->ts_us % 1000000));
        b = uv_buf_init((char *)f->data, (unsigned)f->len);
        if (pixd_http_start(r, 200, "image/jpeg", (int64_t)f->len, extra) == 0)
            pixd_http_write(r, &b, 1, frame_out_release, o);
        else
            frame_out_release(o);
        pixd_http_finish(r);
    }
}

static void snap_frame(void *ctx, pixd_frame *f) {
    snap_state *st = ctx;
    pixd_frame_unref(st->frame);
    st->frame = pixd_frame_ref(f);
}

static int snap_ready(void *ctx) {
    snap_state *st = ctx;
    return st->r && !pixd_http_congested(st->r);
}

/* After the one frame (count = 1), or when the camera is removed. */
static void snap_gone(void *ctx) {
    snap_state *st = ctx;
    st->sub = NULL;
    snap_reply(st, "the camera went away before it sent a frame");
}

static const pixd_sub_ops snap_ops = {.frame = snap_frame, .ready = snap_ready,
                                      .gone = snap_gone};

static void snap_timeout(uv_timer_t *t) {
    snap_state *st = t->data;
    char msg[160];
    if (!st->r)
        return;
    snprintf(msg, sizeof msg, "camera \"%s\" sent no frame within %d s: it is offline",
             st->r->param, SNAPSHOT_TIMEOUT_MS / 1000);
    snap_reply(st, msg);
}

static int snapshot_begin(pixd_http_req *r) {
    pixd_hub *hub = r->conn->srv->hub;
    unsigned fps, width;
    snap_state *st;
    int rc;

    if (stream_params(r, 0, &fps, &width) < 0)
        return 0;
    if (!hub || !pixd_hub_find(hub, r->param)) {
        not_found(r);
        return 0;
    }
    if (!(st = calloc(1, sizeof *st)))
        return 500;
    st->r = r;
    r->state = st;
    uv_timer_init(r->conn->srv->loop, &st->timer);
    st->timer.data = st;
    rc = pixd_hub_subscribe(hub, r->param, 0, width, 1, &snap_ops, st, &st->sub);
    if (rc < 0) {
        r->state = NULL;
        st->r = NULL;
        snap_free(st);
        if (rc == -ENOENT)
            not_found(r);
        else
            pixd_http_error(r, 500, "out of memory");
        return 0;
    }
    /* A source may deliver during subscribe; st lives until its timer closes. */
    if (st->r)
        uv_timer_start(&st->timer, snap_timeout, SNAPSHOT_TIMEOUT_MS, 0);
    return 0;
}

static void snapshot_abort(pixd_http_req *r) {
    snap_state *st = r->state;
    if (!st)
        return;
    r->state = NULL;
    st->r = NULL;
    pixd_frame_unref(st->frame);
    st->frame = NULL;
    snap_free(st);
}

/* ---- GET /api/v1/cameras/NAME/stream ---- */

typedef struct stream_state {
    pixd_http_req *r;
    pixd_sub *sub;
} stream_state;

/* One part of the multipart body: its header, the shared JPEG, then at once
 * the boundary line that ends it. Chromium draws a part only when it sees
 * the boundary after it: written with the next frame, every picture would
 * show one frame late (µStreamer does the same). The write is the last
 * thing done: a peer far behind may be disconnected inside it, which aborts
 * the request and frees the state. */
static void stream_frame(void *ctx, pixd_frame *f) {
    stream_state *st = ctx;
    frame_out *o = malloc(sizeof *o);
    uv_buf_t b[3];
    int n;

    if (!o)
        return;
    o->frame = pixd_frame_ref(f);
    n = snprintf(o->head, sizeof o->head,
                 "Content-Type: image/jpeg\r\nContent-Length: %zu\r\n"
                 "X-Timestamp: %llu.%06llu\r\nX-Frame-Seq: %llu\r\n\r\n",
                 f->len, (unsigned long long)(f->ts_us / 1000000),
                 (unsigned long long)(f->ts_us % 1000000), (unsigned long long)f->seq);
    b[0] = uv_buf_init(o->head, (unsigned)n);
    b[1] = uv_buf_init((char *)f->data, (unsigned)f->len);
    b[2] = uv_buf_init((char *)"\r\n--" BOUNDARY "\r\n", (unsigned)sizeof "\r\n--" BOUNDARY "\r\n" - 1);
    pixd_http_write(st->r, b, 3, frame_out_release, o);
}

static int stream_ready(void *ctx) {
    stream_state *st = ctx;
    return !pixd_http_congested(st->r);
}

/* The camera was removed: close the multipart body and end the response. */
static void stream_gone(void *ctx) {
    stream_state *st = ctx;
    pixd_http_req *r = st->r;
    /* A boundary line is already out: an empty part, then the close. */
    static const char last[] = "\r\n\r\n--" BOUNDARY "--\r\n";
    r->state = NULL;
    free(st);
    pixd_http_write_copy(r, last, sizeof last - 1);
    pixd_http_finish(r);
}

static const pixd_sub_ops stream_ops = {.frame = stream_frame, .ready = stream_ready,
                                        .gone = stream_gone};

static int stream_begin(pixd_http_req *r) {
    static const char ctype[] = "multipart/x-mixed-replace; boundary=" BOUNDARY;
    /* X-Accel-Buffering: a reverse proxy (nginx) must pass frames on as
     * they come, not buffer the endless body. */
    static const char extra[] = "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n";
    pixd_hub *hub = r->conn->srv->hub;
    unsigned fps, width;
    stream_state *st;
    int rc;

    if (stream_params(r, 1, &fps, &width) < 0)
        return 0;
    if (!hub || !pixd_hub_find(hub, r->param)) {
        not_found(r);
        return 0;
    }
    if (r->method == PIXD_HEAD) {
        pixd_http_start(r, 200, ctype, -1, extra);
        pixd_http_finish(r);
        return 0;
    }
    if (!(st = calloc(1, sizeof *st)))
        return 500;
    st->r = r;
    r->state = st;
    /* Headers and the first boundary line first: frames may come as soon
     * as we subscribe, and each ends with the next boundary line. */
    pixd_http_start(r, 200, ctype, -1, extra);
    pixd_http_write_copy(r, "--" BOUNDARY "\r\n", sizeof "--" BOUNDARY "\r\n" - 1);
    rc = pixd_hub_subscribe(hub, r->param, fps, width, 0, &stream_ops, st, &st->sub);
    if (rc < 0) {
        /* The headers are out: all that is left is to end the body. */
        r->state = NULL;
        free(st);
        pixd_http_finish(r);
        return 0;
    }
    pixd_http_streaming(r);
    return 0;
}

static void stream_abort(pixd_http_req *r) {
    stream_state *st = r->state;
    if (!st)
        return;
    r->state = NULL;
    if (st->sub)
        pixd_sub_unsubscribe(st->sub);
    free(st);
}

static void stream_resume(pixd_http_req *r) {
    stream_state *st = r->state;
    if (st && st->sub)
        pixd_sub_ready(st->sub);
}

static void snapshot_resume(pixd_http_req *r) {
    snap_state *st = r->state;
    if (st && st->sub)
        pixd_sub_ready(st->sub);
}

/* ---- aliases for dashboards made for other streamers ---- */

/* The camera an alias means: ?camera=NAME, else the first --camera. Puts
 * it in r->param for the routes above; answers 404 itself and returns -1
 * when there is none. */
static int alias_camera(pixd_http_req *r) {
    pixd_hub *hub = r->conn->srv->hub;
    const char *first = hub ? pixd_hub_first(hub) : NULL;
    if (query_has(r->query, "camera")) {
        if (!pixd_http_query(r, "camera", r->param, sizeof r->param)) {
            pixd_http_error(r, 400, "camera= needs a camera name (see /api/v1/cameras)");
            return -1;
        }
        return 0;
    }
    if (!first) {
        pixd_http_error(r, 404, "pixd has no camera");
        return -1;
    }
    snprintf(r->param, sizeof r->param, "%s", first);
    return 0;
}

/* /stream and /snapshot (µStreamer) */
static int ustream_begin(pixd_http_req *r) {
    return alias_camera(r) < 0 ? 0 : stream_begin(r);
}

static int usnapshot_begin(pixd_http_req *r) {
    return alias_camera(r) < 0 ? 0 : snapshot_begin(r);
}

/* /?action=stream and /?action=snapshot (mjpg-streamer, as OctoPrint and
 * others use it): "/" is the web page's route, which asks here first. The
 * request then belongs to the stream or snapshot route (its abort, resume
 * and counters). */
int pixd_http_camera_action(pixd_http_req *r) {
    char action[16];
    if (!pixd_http_query(r, "action", action, sizeof action))
        return -1;
    if (strcmp(action, "stream") == 0)
        r->route = &pixd_route_ustream;
    else if (strcmp(action, "snapshot") == 0)
        r->route = &pixd_route_usnapshot;
    else
        return -1;
    return r->route->begin(r);
}

const pixd_http_route pixd_route_cameras = {
    .pattern = "/api/v1/cameras", .methods = PIXD_GET, .name = "cameras",
    .begin = cameras_begin, .end = no_body_end};
const pixd_http_route pixd_route_snapshot = {
    .pattern = "/api/v1/cameras/*/snapshot", .methods = PIXD_GET, .name = "snapshot",
    .begin = snapshot_begin, .end = no_body_end, .abort = snapshot_abort,
    .resume = snapshot_resume};
const pixd_http_route pixd_route_stream = {
    .pattern = "/api/v1/cameras/*/stream", .methods = PIXD_GET, .name = "stream",
    .begin = stream_begin, .end = no_body_end, .abort = stream_abort,
    .resume = stream_resume};
const pixd_http_route pixd_route_ustream = {
    .pattern = "/stream", .methods = PIXD_GET, .name = "stream-alias",
    .begin = ustream_begin, .end = no_body_end, .abort = stream_abort,
    .resume = stream_resume};
const pixd_http_route pixd_route_usnapshot = {
    .pattern = "/snapshot", .methods = PIXD_GET, .name = "snapshot-alias",
    .begin = usnapshot_begin, .end = no_body_end, .abort = snapshot_abort,
    .resume = snapshot_resume};
