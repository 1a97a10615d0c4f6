/* V4L2 cameras (/dev/videoN): memory-mapped buffers, the device fd watched
 * by the loop with uv_poll, no capture thread.
 *
 * MJPEG frames are copied out of the driver's buffer and published as they
 * are (no decode, no re-encode); the buffer goes back to the driver at once.
 * YUYV frames are JPEG-encoded on the work queue, one at a time per camera:
 * the driver's buffer is lent to the worker and queued again in after_work,
 * because every ioctl happens on the loop thread.
 *
 * The device stays open while the camera exists but streams only while
 * pixd_camera_wanted(): an idle camera leaves the USB bus and CPU quiet.
 * Some drivers' poll (v4l2loopback's) never wakes an epoll that was
 * registered while a frame was pending; a quiet spell makes us look for
 * frames ourselves and, if the poll missed one, register the fd afresh.
 * A device error (unplug, EIO, a stream that stalls) releases the device
 * and reopens it with back-off; the camera is OFFLINE meanwhile. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "../log.h"
#include "mjpeg.h"
#include "source.h"
#include "v4l2_io.h"
#include "yuyv.h"

typedef struct v4l2_src {
    pixd_camera *cam;
    uv_loop_t *loop;
    pixd__v4l2_opts opts;
    pixd_camera_spec spec;

    pixd__v4l2_dev dev;  /* dev.fd < 0: no device */
    uv_poll_t *poll;     /* one per fd; freed in its close callback */
    int streaming;
    int release_pending; /* release the device once the encoder is done */

    /* The one YUYV encode in flight: the worker reads the inputs, writes
     * out and status; the loop thread leaves them alone until after_work. */
    struct {
        uv_work_t req;
        int busy;
        unsigned index;
        const uint8_t *src;
        size_t stride;
        unsigned w, h;
        int quality;
        uint64_t ts_us;
        pixd_frame *out;
        int status;
    } job;
    pixd_yuyv_enc enc;

    uv_timer_t retry, stall, nudge;
    unsigned backoff_ms;
    uint64_t dequeued;
    int closing;
    unsigned handles; /* libuv handles not yet through their close callback */

    uint64_t frames, broken, dropped;
    int dht_noted;
} v4l2_src;

static void dev_fail(v4l2_src *s, int err, const char *what);
static void maybe_finish(v4l2_src *s);
static void poll_cb(uv_poll_t *h, int status, int events);
static void nudge_cb(uv_timer_t *t);
static void retry_cb(uv_timer_t *t);
static void encode_work(uv_work_t *req);
static void encode_done(uv_work_t *req, int status);

/* ---- the device's life ---- */

static void poll_closed(uv_handle_t *h) {
    v4l2_src *s = h->data;
    free(h);
    s->handles--;
    maybe_finish(s);
}

/* Only when no worker holds a buffer: the mappings go with the fd. */
static void dev_release(v4l2_src *s) {
    if (s->poll) {
        /* uv_close takes the fd out of epoll at once, so closing the fd
         * right after is safe; the handle's memory goes in poll_closed. */
        uv_close((uv_handle_t *)s->poll, poll_closed);
        s->poll = NULL;
    }
    pixd__v4l2_dev_close(&s->dev);
    s->streaming = 0;
    s->release_pending = 0;
}

static int dev_open(v4l2_src *s, char *err, size_t errlen) {
    int r = pixd__v4l2_dev_open(&s->dev, s->opts.io, &s->spec, err, errlen);
    if (r == 0 && s->dev.fourcc == V4L2_PIX_FMT_YUYV && !s->enc.tj &&
        pixd_yuyv_enc_init(&s->enc) < 0) {
        pixd__v4l2_dev_close(&s->dev);
        snprintf(err, errlen, "TurboJPEG: out of memory");
        r = -ENOMEM;
    }
    return r;
}

/* Give the open device its poll handle on the loop. */
static int dev_watch(v4l2_src *s, char *err, size_t errlen) {
    int r;
    if (!(s->poll = malloc(sizeof *s->poll))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if ((r = uv_poll_init(s->loop, s->poll, s->dev.fd)) < 0) {
        free(s->poll);
        s->poll = NULL;
        snprintf(err, errlen, "uv_poll_init: %s", uv_strerror(r));
        return r;
    }
    s->poll->data = s;
    s->handles++;
    return 0;
}

static void dev_online(v4l2_src *s) {
    char why[64], cc[5];
    snprintf(why, sizeof why, "%s %ux%u", pixd__v4l2_fourcc(s->dev.fourcc, cc), s->dev.width,
             s->dev.height);
    pixd_camera_set_state(s->cam, PIXD_CAM_ONLINE, why);
    /* Drivers coerce size and rate: report what was asked beside what came
     * (the defaults mirror pixd__v4l2_dev_open's). */
    pixd_camera_set_format(s->cam, s->spec.width ? s->spec.width : 640,
                           s->spec.height ? s->spec.height : 480, s->spec.fps ? s->spec.fps : 30,
                           s->dev.width, s->dev.height, s->dev.fps * 1000u, cc);
}

/* Try opening again in backoff_ms, and wait twice as long after that
 * (up to retry_max_ms) unless a frame comes first. */
static void schedule_retry(v4l2_src *s) {
    uv_timer_start(&s->retry, retry_cb, s->backoff_ms, 0);
    s->backoff_ms = s->backoff_ms < s->opts.retry_max_ms / 2 ? s->backoff_ms * 2
                                                             : s->opts.retry_max_ms;
}

/* After the device is released: reopen later, or finish closing. */
static void dev_gone(v4l2_src *s) {
    if (s->closing)
        maybe_finish(s);
    else
        schedule_retry(s);
}

/* ---- streaming ---- */

static void stall_cb(uv_timer_t *t) {
    dev_fail(t->data, -ETIMEDOUT, "no frame");
}

/* Three frame times, at least 100 ms: long enough that a working poll
 * always comes first. */
static unsigned nudge_ms(const v4l2_src *s) {
    unsigned fps = s->dev.fps ? s->dev.fps : s->spec.fps ? s->spec.fps : 30;
    return 3000 / fps > 100 ? 3000 / fps : 100;
}

static void stream_start(v4l2_src *s) {
    const char *what;
    int r;
    if (s->dev.fd < 0 || s->release_pending || s->streaming || s->closing)
        return;
    if ((r = pixd__v4l2_stream_on(&s->dev, s->job.busy ? (int)s->job.index : -1, &what)) < 0) {
        dev_fail(s, r, what);
        return;
    }
    if ((r = uv_poll_start(s->poll, UV_READABLE, poll_cb)) < 0) {
        dev_fail(s, r, "uv_poll_start");
        return;
    }
    s->streaming = 1;
    if (s->opts.stall_ms)
        uv_timer_start(&s->stall, stall_cb, s->opts.stall_ms, 0);
    uv_timer_start(&s->nudge, nudge_cb, nudge_ms(s), nudge_ms(s));
    pixd_debug("camera %s: capturing", s->spec.name);
}

static void stream_stop(v4l2_src *s) {
    if (!s->streaming)
        return;
    s->streaming = 0;
    if (s->poll)
        uv_poll_stop(s->poll);
    uv_timer_stop(&s->stall);
    uv_timer_stop(&s->nudge);
    pixd__v4l2_stream_off(&s->dev);
}

/* The device failed: offline (the hub logs it), release the device once
 * no worker holds a buffer, then reopen with back-off. */
static void dev_fail(v4l2_src *s, int err, const char *what) {
    char why[160];
    if (err == -ETIMEDOUT)
        snprintf(why, sizeof why, "no frame for %u ms", s->opts.stall_ms);
    else
        snprintf(why, sizeof why, "%s: %s", what,
                 err == UV_EBADF ? "device error" : strerror(-err));
    pixd_camera_set_state(s->cam, PIXD_CAM_OFFLINE, why);
    pixd_info("camera %s: %s; reopening %s in %u ms", s->spec.name, why, s->spec.source,
              s->backoff_ms);
    stream_stop(s);
    if (s->job.busy) {
        s->release_pending = 1;
        return;
    }
    dev_release(s);
    dev_gone(s);
}

static void retry_cb(uv_timer_t *t) {
    v4l2_src *s = t->data;
    char err[192];
    int r;

    if ((r = dev_open(s, err, sizeof err)) < 0 || (r = dev_watch(s, err, sizeof err)) < 0) {
        dev_release(s);
        pixd_debug("camera %s: reopening %s: %s; next try in %u ms", s->spec.name,
                   s->spec.source, err, s->backoff_ms);
        pixd_camera_set_state(s->cam, PIXD_CAM_OFFLINE, err);
        schedule_retry(s);
        return;
    }
    pixd_notice("camera %s: %s is back", s->spec.name, s->spec.source);
    dev_online(s);
    if (pixd_camera_wanted(s->cam))
        stream_start(s);
}

/* A good frame came: the device works, so the next failure starts the
 * back-off from the bottom again. */
static void frame_seen(v4l2_src *s) {
    s->frames++;
    s->backoff_ms = s->opts.retry_min_ms;
    if (s->opts.stall_ms)
        uv_timer_start(&s->stall, stall_cb, s->opts.stall_ms, 0);
}

/* Bad frames and frames we could not keep, counted here for the log and in
 * the hub for CAMS, /api/v1/cameras and /metrics. */
static void note_broken(v4l2_src *s) {
    s->broken++;
    pixd_camera_count_broken(s->cam, 1);
}

static void note_dropped(v4l2_src *s) {
    s->dropped++;
    pixd_camera_count_dropped(s->cam, 1);
}

/* Queue buffer i again; on failure the device is failed: -1. */
static int requeue(v4l2_src *s, unsigned i) {
    int r = pixd__v4l2_qbuf(&s->dev, i);
    if (r < 0)
        dev_fail(s, r, "VIDIOC_QBUF");
    return r;
}

static int on_mjpeg(v4l2_src *s, const struct v4l2_buffer *b, const uint8_t *mem,
                    size_t used) {
    pixd_mjpeg_scan js;
    size_t len;
    pixd_frame *f;
    if (pixd_mjpeg_check(mem, used, &js) < 0) {
        note_broken(s);
        pixd_debug("camera %s: broken JPEG frame (%zu bytes) dropped, %" PRIu64 " so far",
                   s->spec.name, used, s->broken);
        return requeue(s, b->index);
    }
    if (js.needs_dht && !s->dht_noted) {
        /* Said once: every frame of such a camera lacks them. */
        s->dht_noted = 1;
        pixd_notice("camera %s: its JPEG frames carry no Huffman tables; inserting the "
                    "standard ones", s->spec.name);
    }
    len = pixd_mjpeg_fixed_len(&js);
    if (!(f = pixd_frame_new(len))) {
        note_dropped(s);
        return requeue(s, b->index);
    }
    pixd_mjpeg_fix(mem, &js, f->data);
    if (pixd__v4l2_overwritten(&s->dev, b)) {
        pixd_frame_unref(f);
        note_broken(s);
        pixd_debug("camera %s: the driver reused a buffer while it was copied; dropped",
                   s->spec.name);
        return requeue(s, b->index);
    }
    f->len = len;
    f->width = s->dev.width;
    f->height = s->dev.height;
    f->ts_us = pixd__v4l2_buffer_time(b);
    frame_seen(s);
    if (requeue(s, b->index) < 0) {
        pixd_frame_unref(f);
        return -1;
    }
    pixd_camera_publish(s->cam, f);
    return 0;
}

static int on_yuyv(v4l2_src *s, const struct v4l2_buffer *b, const uint8_t *mem,
                   size_t used) {
    if (used < s->dev.stride * s->dev.height) {
        note_broken(s);
        pixd_debug("camera %s: short YUYV frame (%zu bytes) dropped", s->spec.name, used);
        return requeue(s, b->index);
    }
    frame_seen(s);
    if (s->job.busy) {
        /* The encoder is behind: drop this frame rather than queue work. */
        note_dropped(s);
        return requeue(s, b->index);
    }
    s->job.index = b->index;
    s->job.src = mem;
    s->job.stride = s->dev.stride;
    s->job.w = s->dev.width;
    s->job.h = s->dev.height;
    s->job.quality = s->spec.quality ? s->spec.quality : 80;
    s->job.ts_us = pixd__v4l2_buffer_time(b);
    s->job.out = NULL;
    s->job.req.data = s;
    if (uv_queue_work(s->loop, &s->job.req, encode_work, encode_done) < 0) {
        note_dropped(s);
        return requeue(s, b->index);
    }
    s->job.busy = 1;
    return 0;
}

/* Take what is ready, at most one round of the buffers, so a burst after
 * a busy moment cannot hold the loop here. */
static void drain(v4l2_src *s) {
    for (unsigned n = 0; n < s->dev.nbufs && s->streaming; n++) {
        struct v4l2_buffer b;
        const uint8_t *mem;
        size_t used;
        int r;
        if (!pixd_camera_wanted(s->cam)) {
            pixd_debug("camera %s: nobody watches; capture stopped (%" PRIu64 " frames, %" PRIu64
                      " broken, %" PRIu64 " dropped so far)", s->spec.name, s->frames,
                      s->broken, s->dropped);
            stream_stop(s);
            return;
        }
        r = pixd__v4l2_dqbuf(&s->dev, &b);
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            dev_fail(s, r, "VIDIOC_DQBUF");
            return;
        }
        s->dequeued++;
        uv_timer_again(&s->nudge);
        if (b.flags & V4L2_BUF_FLAG_ERROR) {
            note_broken(s);
            pixd_debug("camera %s: buffer marked bad by the driver, skipped", s->spec.name);
            if (requeue(s, b.index) < 0)
                return;
            continue;
        }
        mem = s->dev.bufs[b.index].mem;
        used = b.bytesused < s->dev.bufs[b.index].len ? b.bytesused : s->dev.bufs[b.index].len;
        r = pixd__v4l2_is_mjpeg(s->dev.fourcc) ? on_mjpeg(s, &b, mem, used)
                                               : on_yuyv(s, &b, mem, used);
        if (r < 0)
            return;
    }
}

static void poll_cb(uv_poll_t *h, int status, int events) {
    v4l2_src *s = h->data;
    if (status < 0)
        dev_fail(s, status, "poll");
    else
        drain(s);
}

static void nudge_cb(uv_timer_t *t) {
    v4l2_src *s = t->data;
    uint64_t before = s->dequeued;
    char err[96];
    int r;

    drain(s);
    if (!s->streaming || s->dequeued == before)
        return;
    /* The poll slept through a frame: register the fd again, now that
     * the driver has nothing pending. */
    pixd_debug("camera %s: the driver's poll missed a frame; watching the fd afresh",
               s->spec.name);
    uv_close((uv_handle_t *)s->poll, poll_closed);
    s->poll = NULL;
    if ((r = dev_watch(s, err, sizeof err)) < 0 ||
        (r = uv_poll_start(s->poll, UV_READABLE, poll_cb)) < 0)
        dev_fail(s, r, "uv_poll_start");
}

/* ---- YUYV encoding on the work queue ---- */

static void encode_work(uv_work_t *req) {
    v4l2_src *s = req->data;
    s->job.status = pixd_yuyv_encode(&s->enc, s->job.src, s->job.stride, s->job.w, s->job.h,
                                     s->job.quality, &s->job.out);
}

static void encode_done(uv_work_t *req, int status) {
    v4l2_src *s = req->data;
    pixd_frame *f = s->job.out;

    s->job.busy = 0;
    s->job.out = NULL;
    if (status == 0 && s->job.status < 0) {
        note_dropped(s);
        pixd_debug("camera %s: JPEG encoding: %s", s->spec.name, strerror(-s->job.status));
    }
    if (s->release_pending) {
        /* The device failed or the camera is closing: the frame is stale. */
        pixd_frame_unref(f);
        dev_release(s);
        dev_gone(s);
        return;
    }
    if (s->streaming && requeue(s, s->job.index) < 0) {
        pixd_frame_unref(f);
        return;
    }
    if (f) {
        f->ts_us = s->job.ts_us;
        pixd_camera_publish(s->cam, f);
    }
}

/* ---- the hub's calls ---- */

static void src_wake(pixd_camera *cam, void *src) {
    stream_start(src);
}

static void timer_closed(uv_handle_t *h) {
    v4l2_src *s = h->data;
    s->handles--;
    maybe_finish(s);
}

static void src_close(pixd_camera *cam, void *src) {
    v4l2_src *s = src;
    s->closing = 1;
    uv_close((uv_handle_t *)&s->retry, timer_closed);
    uv_close((uv_handle_t *)&s->stall, timer_closed);
    uv_close((uv_handle_t *)&s->nudge, timer_closed);
    stream_stop(s);
    if (s->job.busy) {
        /* If it has not started it never will (after_work gets
         * UV_ECANCELED); either way after_work releases the device. */
        uv_cancel((uv_req_t *)&s->job.req);
        s->release_pending = 1;
    } else {
        dev_release(s);
    }
}

/* Closing is over when no handle, job or device is left. */
static void maybe_finish(v4l2_src *s) {
    pixd_camera *cam = s->cam;
    if (!s->closing || s->handles || s->job.busy || s->dev.fd >= 0)
        return;
    pixd_yuyv_enc_free(&s->enc);
    free(s);
    pixd_camera_closed(cam);
}

static const pixd_source_ops v4l2_ops = {.wake = src_wake, .close = src_close};

const pixd__v4l2_opts pixd__v4l2_default_opts = {
    .io = &pixd_v4l2_io_real,
    .retry_min_ms = 1000,
    .retry_max_ms = 30000,
    .stall_ms = 2000,
};

/* Errors a later attempt may not meet: the camera is unplugged, busy or
 * flaky. Others (not a camera, no usable format, no permission) are
 * configuration errors, reported at once. */
static int transient(int err) {
    return err == -ENOENT || err == -ENODEV || err == -ENXIO || err == -EBUSY ||
           err == -EIO || err == -EAGAIN || err == -ETIMEDOUT || err == -EPROTO;
}

int pixd__source_v4l2_open_with(pixd_hub *hub, const pixd_camera_spec *spec,
                                const pixd__v4l2_opts *opts, char *err, size_t errlen) {
    v4l2_src *s;
    char why[192];
    int r, opened;

    if (!(s = calloc(1, sizeof *s))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->spec = *spec;
    s->opts = *opts;
    if (spec->timeout_ms) /* ,timeout=SEC overrides the built-in stall timeout */
        s->opts.stall_ms = spec->timeout_ms;
    s->dev.fd = -1;
    s->backoff_ms = opts->retry_min_ms;
    r = dev_open(s, why, sizeof why);
    if (r < 0 && !transient(r)) {
        snprintf(err, errlen, "%s: %s", spec->source, why);
        pixd_yuyv_enc_free(&s->enc);
        free(s);
        return r;
    }
    opened = r == 0;
    if ((r = pixd_hub_add(hub, spec->name, spec->source, &v4l2_ops, s, &s->cam)) < 0) {
        snprintf(err, errlen, "%s", r == -EEXIST ? "the name is used twice" : strerror(-r));
        pixd__v4l2_dev_close(&s->dev);
        pixd_yuyv_enc_free(&s->enc);
        free(s);
        return r;
    }
    s->loop = pixd_camera_loop(s->cam);
    uv_timer_init(s->loop, &s->retry);
    uv_timer_init(s->loop, &s->stall);
    uv_timer_init(s->loop, &s->nudge);
    s->retry.data = s->stall.data = s->nudge.data = s;
    s->handles = 3;
    if (opened && dev_watch(s, why, sizeof why) < 0) {
        dev_release(s);
        opened = 0;
    }
    if (!opened) {
        /* Not plugged in yet, or busy: pixd starts anyway and keeps trying. */
        pixd_camera_set_state(s->cam, PIXD_CAM_OFFLINE, why);
        schedule_retry(s);
        return 0;
    }
    dev_online(s);
    if (pixd_camera_wanted(s->cam))
        stream_start(s);
    return 0;
}

int pixd_source_v4l2_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err,
                          size_t errlen) {
    return pixd__source_v4l2_open_with(hub, spec, &pixd__v4l2_default_opts, err, errlen);
}
