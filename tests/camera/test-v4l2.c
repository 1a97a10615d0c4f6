/* The V4L2 source against a scripted fake device: format choice, what the
 * driver coerces, buffer counts, broken MJPEG frames, unplug and reopen,
 * stalls, capture only while watched; and the YUYV conversion. Every loop
 * test ends with all handles closed and uv_loop_close() == 0. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/videodev2.h>
#include <turbojpeg.h>

#include "jobs.h"
#include "camera/hub.h"
#include "camera/source.h"
#include "camera/v4l2_io.h"
#include "camera/yuyv.h"

/* ---- the fake device ---- */

#define FAKE_BUFS 8
#define FAKE_BUFLEN 65536

/* EV_REUSED: the driver writes another frame into the buffer after it was
 * dequeued, as v4l2loopback does to a slow reader. */
enum { EV_FRAME, EV_BADFLAG, EV_REUSED, EV_ERROR };

typedef struct fevent {
    int kind;
    int err;                /* EV_ERROR: what DQBUF says */
    const uint8_t *data;    /* EV_FRAME: the bytes the "camera" sends */
    size_t len;
} fevent;

typedef struct fake {
    /* the script */
    int present;            /* 0: unplugged, open() says ENOENT */
    uint32_t formats[8];
    unsigned nformats;
    unsigned max_w, max_h;  /* S_FMT clamps to these (0: no limit) */
    unsigned max_fps;       /* 0: the driver cannot set the rate */
    unsigned give_bufs;     /* REQBUFS answers this count */
    unsigned streamon_fails; /* STREAMON says EIO this many times */
    int stamp_age_us;       /* > 0: stamp buffers, monotonic, this long ago */
    int deaf;               /* poll never says readable (v4l2loopback, at times) */
    int node;               /* 0 capture, 1 output only (a loopback before its
                               producer writes), 2 metadata only */
    /* the device's state */
    int fd, gone, signalled, streaming;
    uint32_t fourcc;
    unsigned w, h, fps;
    unsigned nbufs, asked_bufs;
    struct {
        uint8_t *mem;
        int queued;
        uint32_t sequence;  /* of the last frame written into it */
    } bufs[FAKE_BUFS];
    uint32_t sequence;
    fevent q[64];
    unsigned qh, qt;
    /* counters */
    unsigned opens, closes, streamons, streamoffs, maps, unmaps;
} fake;

static void fake_sync(fake *f) {
    int want = 0;
    if (f->fd >= 0 && f->streaming && f->qh != f->qt && !f->deaf) {
        want = f->q[f->qh].kind == EV_ERROR;
        for (unsigned i = 0; i < f->nbufs && !want; i++)
            want = f->bufs[i].queued;
    }
    if (want && !f->signalled)
        assert_int_equal(eventfd_write(f->fd, 1), 0);
    else if (!want && f->signalled) {
        eventfd_t v;
        assert_int_equal(eventfd_read(f->fd, &v), 0);
    }
    f->signalled = want;
}

static void fake_push(fake *f, int kind, int err, const uint8_t *data, size_t len) {
    assert_true(f->qt - f->qh < 64);
    f->q[f->qt++ % 64] = (fevent){kind, err, data, len};
    fake_sync(f);
}

static int fake_open(void *ctx, const char *path) {
    fake *f = ctx;
    if (!f->present)
        return -ENOENT;
    assert_int_equal(f->fd, -1); /* one open at a time */
    f->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->gone = f->signalled = f->streaming = 0;
    f->opens++;
    return f->fd;
}

static int fake_close(void *ctx, int fd) {
    fake *f = ctx;
    assert_int_equal(fd, f->fd);
    close(fd);
    f->fd = -1;
    f->streaming = 0;
    f->closes++;
    for (unsigned i = 0; i < f->nbufs; i++) {
        free(f->bufs[i].mem);
        f->bufs[i].mem = NULL;
        f->bufs[i].queued = 0;
    }
    f->nbufs = 0;
    return 0;
}

static int has_format(const fake *f, uint32_t fourcc) {
    for (unsigned i = 0; i < f->nformats; i++)
        if (f->formats[i] == fourcc)
            return 1;
    return 0;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg) {
    fake *f = ctx;
    assert_int_equal(fd, f->fd);
    if (f->gone)
        return -ENODEV;
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        c->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS;
        c->device_caps = (f->node == 0   ? V4L2_CAP_VIDEO_CAPTURE
                          : f->node == 1 ? V4L2_CAP_VIDEO_OUTPUT
                                         : V4L2_CAP_META_CAPTURE) | V4L2_CAP_STREAMING;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *d = arg;
        if (d->index >= f->nformats)
            return -EINVAL;
        d->pixelformat = f->formats[d->index];
        return 0;
    }
    case VIDIOC_S_FMT:
    case VIDIOC_G_FMT: {
        struct v4l2_pix_format *p = &((struct v4l2_format *)arg)->fmt.pix;
        if (req == VIDIOC_S_FMT) {
            f->fourcc = has_format(f, p->pixelformat) ? p->pixelformat : f->formats[0];
            f->w = f->max_w && p->width > f->max_w ? f->max_w : p->width;
            f->h = f->max_h && p->height > f->max_h ? f->max_h : p->height;
        }
        p->pixelformat = f->fourcc;
        p->width = f->w;
        p->height = f->h;
        p->bytesperline = f->fourcc == V4L2_PIX_FMT_YUYV ? f->w * 2 : 0;
        p->sizeimage = f->w * f->h * 2;
        return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *p = arg;
        if (!f->max_fps)
            return req == VIDIOC_G_PARM ? 0 : -ENOTTY;
        if (req == VIDIOC_S_PARM) {
            unsigned want = p->parm.capture.timeperframe.denominator;
            f->fps = want > f->max_fps ? f->max_fps : want;
        }
        p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        p->parm.capture.timeperframe = (struct v4l2_fract){1, f->fps ? f->fps : 5};
        return 0;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *r = arg;
        f->asked_bufs = r->count;
        r->count = f->give_bufs;
        f->nbufs = f->give_bufs < FAKE_BUFS ? f->give_bufs : FAKE_BUFS;
        for (unsigned i = 0; i < f->nbufs; i++)
            f->bufs[i].mem = calloc(1, FAKE_BUFLEN);
        return 0;
    }
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= f->nbufs)
            return -EINVAL;
        b->length = FAKE_BUFLEN;
        b->m.offset = b->index * FAKE_BUFLEN;
        b->sequence = f->bufs[b->index].sequence;
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= f->nbufs || f->bufs[b->index].queued)
            return -EINVAL;
        f->bufs[b->index].queued = 1;
        fake_sync(f);
        return 0;
    }
    case VIDIOC_DQBUF: {
        struct v4l2_buffer *b = arg;
        fevent *e = &f->q[f->qh % 64];
        if (!f->streaming)
            return -EINVAL;
        if (f->qh == f->qt)
            return -EAGAIN;
        if (e->kind == EV_ERROR) {
            f->qh++;
            if (e->err == -ENODEV) {
                f->gone = 1; /* unplugged: every later call fails too */
                f->present = 0;
            }
            fake_sync(f);
            return e->err;
        }
        for (unsigned i = 0; i < f->nbufs; i++) {
            if (!f->bufs[i].queued)
                continue;
            f->qh++;
            f->bufs[i].queued = 0;
            b->index = i;
            b->bytesused = (uint32_t)e->len;
            b->flags = e->kind == EV_BADFLAG ? V4L2_BUF_FLAG_ERROR : 0;
            b->sequence = f->sequence++;
            f->bufs[i].sequence = b->sequence + (e->kind == EV_REUSED);
            if (f->stamp_age_us > 0) {
                struct timespec ts;
                uint64_t us;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u -
                     (uint64_t)f->stamp_age_us;
                b->flags |= V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
                b->timestamp.tv_sec = (time_t)(us / 1000000u);
                b->timestamp.tv_usec = (suseconds_t)(us % 1000000u);
            }
            if (e->len)
                memcpy(f->bufs[i].mem, e->data, e->len);
            fake_sync(f);
            return 0;
        }
        return -EAGAIN;
    }
    case VIDIOC_STREAMON:
        if (f->streamon_fails) {
            f->streamon_fails--;
            return -EIO;
        }
        f->streaming = 1;
        f->streamons++;
        fake_sync(f);
        return 0;
    case VIDIOC_STREAMOFF:
        f->streaming = 0;
        f->streamoffs++;
        for (unsigned i = 0; i < f->nbufs; i++)
            f->bufs[i].queued = 0;
        fake_sync(f);
        return 0;
    }
    return -ENOTTY;
}

static int fake_mmap(void *ctx, int fd, size_t len, off_t off, void **out) {
    fake *f = ctx;
    unsigned i = (unsigned)(off / FAKE_BUFLEN);
    assert_true(i < f->nbufs && len == FAKE_BUFLEN);
    *out = f->bufs[i].mem;
    f->maps++;
    return 0;
}

static int fake_munmap(void *ctx, void *addr, size_t len) {
    ((fake *)ctx)->unmaps++;
    return 0;
}

static void fake_init(fake *f, uint32_t fmt0, uint32_t fmt1) {
    memset(f, 0, sizeof *f);
    f->present = 1;
    f->fd = -1;
    f->formats[f->nformats++] = fmt0;
    if (fmt1)
        f->formats[f->nformats++] = fmt1;
    f->max_fps = 30;
    f->give_bufs = 4;
}

static unsigned fake_queued(const fake *f) {
    unsigned n = 0;
    for (unsigned i = 0; i < f->nbufs; i++)
        n += f->bufs[i].queued != 0;
    return n;
}

/* ---- a loop, a hub and a subscriber ---- */

typedef struct rig {
    uv_loop_t loop;
    pixd_jobs jobs;
    pixd_hub *hub;
    fake dev;
    pixd_v4l2_io io;
    pixd__v4l2_opts opts;
    pixd_camera_spec spec;
    pixd_sub *sub;
    unsigned frames;
    int gone;
    pixd_frame *last;
    char err[256];
} rig;

static void sub_frame(void *ctx, pixd_frame *f) {
    rig *r = ctx;
    r->frames++;
    pixd_frame_unref(r->last);
    r->last = pixd_frame_ref(f);
}
static int sub_ready(void *ctx) { return 1; }
static void sub_gone(void *ctx) {
    rig *r = ctx;
    r->gone = 1;
    r->sub = NULL;
}
static const pixd_sub_ops sub_ops = {sub_frame, sub_ready, sub_gone};

static void rig_init(rig *r, uint32_t fmt0, uint32_t fmt1) {
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    pixd_jobs_init(&r->jobs, &r->loop, 1, 4);
    assert_non_null(r->hub = pixd_hub_new(&r->loop, &r->jobs));
    fake_init(&r->dev, fmt0, fmt1);
    r->io = (pixd_v4l2_io){fake_open, fake_close, fake_ioctl, fake_mmap, fake_munmap, &r->dev};
    r->opts = (pixd__v4l2_opts){&r->io, 10, 40, 0};
    strcpy(r->spec.name, "cam");
    strcpy(r->spec.source, "/dev/video0");
    r->spec.width = 64;
    r->spec.height = 48;
}

static int rig_open(rig *r) {
    return pixd__source_v4l2_open_with(r->hub, &r->spec, &r->opts, r->err, sizeof r->err);
}

static void rig_subscribe(rig *r, unsigned count) {
    r->gone = 0;
    assert_int_equal(pixd_hub_subscribe(r->hub, "cam", 0, 0, count, &sub_ops, r, &r->sub), 0);
}

static void deadline_cb(uv_timer_t *t) { *(int *)t->data = 1; }

/* Run the loop until pred holds, ms at most; whether it holds. */
static int run_until(rig *r, int (*pred)(rig *), unsigned ms) {
    uv_timer_t t;
    int late = 0;
    uv_timer_init(&r->loop, &t);
    t.data = &late;
    uv_timer_start(&t, deadline_cb, ms, 0);
    while (!pred(r) && !late)
        uv_run(&r->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&r->loop, UV_RUN_NOWAIT);
    return pred(r);
}

static void run_for(rig *r, unsigned ms) {
    uv_timer_t t;
    int late = 0;
    uv_timer_init(&r->loop, &t);
    t.data = &late;
    uv_timer_start(&t, deadline_cb, ms, 0);
    while (!late)
        uv_run(&r->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&r->loop, UV_RUN_NOWAIT);
}

static enum pixd_cam_state cam_state(rig *r) {
    pixd_cam_info info;
    assert_int_equal(pixd_hub_list(r->hub, &info, 1), 1);
    return info.state;
}

static unsigned want_frames;
static int got_frames(rig *r) { return r->frames >= want_frames; }
static int is_offline(rig *r) { return cam_state(r) == PIXD_CAM_OFFLINE; }
static int is_streaming(rig *r) { return cam_state(r) == PIXD_CAM_ONLINE && r->dev.streaming; }
static int stopped(rig *r) { return !r->dev.streaming; }

static void hub_done(void *ctx) { *(int *)ctx = 1; }

static void rig_close(rig *r) {
    int done = 0;
    if (r->sub)
        pixd_sub_unsubscribe(r->sub);
    pixd_frame_unref(r->last);
    pixd_hub_close(r->hub, hub_done, &done);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_true(done);
    pixd_hub_free(r->hub);
    /* Everything given back: no fd, no mapping, no buffer left over. */
    assert_int_equal(r->dev.fd, -1);
    assert_int_equal(r->dev.opens, r->dev.closes);
    assert_int_equal(r->dev.maps, r->dev.unmaps);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

/* ---- frames to send ---- */

/* A w x h JPEG as a camera would send it (tjFree it). */
static uint8_t *make_jpeg(unsigned w, unsigned h, unsigned seed, size_t *len) {
    tjhandle tj = tjInitCompress();
    uint8_t *px = malloc((size_t)w * h), *out = NULL;
    unsigned long n = 0;
    for (size_t i = 0; i < (size_t)w * h; i++)
        px[i] = (uint8_t)(i * 7 + seed * 31);
    assert_int_equal(tjCompress2(tj, px, (int)w, 0, (int)h, TJPF_GRAY, &out, &n, TJSAMP_GRAY,
                                 80, 0), 0);
    free(px);
    tjDestroy(tj);
    *len = n;
    return out;
}

static void jpeg_size(const pixd_frame *f, int *w, int *h) {
    tjhandle tj = tjInitDecompress();
    int ss, cs;
    assert_int_equal(tjDecompressHeader3(tj, f->data, f->len, w, h, &ss, &cs), 0);
    tjDestroy(tj);
}

/* ---- format choice and negotiation ---- */

static void v4l2_prefers_mjpeg(void **state) {
    rig r;
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 1, &len);

    rig_init(&r, V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_MJPEG);
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.fourcc, V4L2_PIX_FMT_MJPEG);
    assert_int_equal(r.dev.streaming, 0); /* nobody watches yet */
    rig_subscribe(&r, 0);
    assert_int_equal(r.dev.streaming, 1);
    for (int i = 0; i < 3; i++)
        fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 3;
    assert_true(run_until(&r, got_frames, 2000));
    /* Passed through: the very bytes the camera sent. */
    assert_int_equal(r.last->len, len);
    assert_memory_equal(r.last->data, jpg, len);
    assert_int_equal(r.last->width, 64);
    assert_int_equal(r.last->height, 48);
    assert_int_equal(r.last->seq, 3);
    assert_true(r.last->ts_us > 0);
    assert_int_equal(fake_queued(&r.dev), 4); /* every buffer back with the driver */
    /* The driver's monotonic stamp becomes wall-clock capture time. */
    r.dev.stamp_age_us = 300000;
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 4;
    assert_true(run_until(&r, got_frames, 2000));
    assert_true(r.last->ts_us <= pixd_now_us() - 300000);
    assert_true(r.last->ts_us > pixd_now_us() - 1300000);
    rig_close(&r);
    tjFree(jpg);
}

static void v4l2_yuyv_when_no_mjpeg(void **state) {
    rig r;
    uint8_t yuyv[64 * 48 * 2];
    int w, h;

    for (size_t i = 0; i < sizeof yuyv; i++)
        yuyv[i] = (uint8_t)(i % 4 == 1 || i % 4 == 3 ? 128 : i);
    rig_init(&r, V4L2_PIX_FMT_YUYV, 0);
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.fourcc, V4L2_PIX_FMT_YUYV);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv / 2); /* short: dropped */
    fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv);
    want_frames = 1;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(r.last->seq, 1);
    jpeg_size(r.last, &w, &h);
    assert_int_equal(w, 64);
    assert_int_equal(h, 48);
    assert_int_equal(r.last->width, 64);
    /* The encoder gave its buffer back after the job. */
    assert_int_equal(fake_queued(&r.dev), 4);

    /* A burst: one encode at a time, the rest dropped and requeued. */
    for (int i = 0; i < 4; i++)
        fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv);
    want_frames = 2;
    assert_true(run_until(&r, got_frames, 2000));
    run_for(&r, 50);
    assert_true(r.frames >= 2 && r.frames <= 5);
    assert_int_equal(fake_queued(&r.dev), 4);
    rig_close(&r);
}

static void v4l2_format_option_honoured(void **state) {
    rig r;

    rig_init(&r, V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV);
    strcpy(r.spec.format, "yuyv");
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.fourcc, V4L2_PIX_FMT_YUYV);
    rig_close(&r);

    rig_init(&r, V4L2_PIX_FMT_YUYV, 0);
    strcpy(r.spec.format, "mjpeg"); /* not offered: YUYV, said in the log */
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.fourcc, V4L2_PIX_FMT_YUYV);
    rig_close(&r);

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    strcpy(r.spec.format, "yuyv");
    assert_int_equal(rig_open(&r), -EINVAL);
    assert_non_null(strstr(r.err, "MJPG"));
    assert_int_equal(pixd_hub_list(r.hub, NULL, 0), 0);
    rig_close(&r);
}

static void v4l2_no_usable_format_names_offered(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_RGB24);
    assert_int_equal(rig_open(&r), -EINVAL);
    assert_non_null(strstr(r.err, "NV12"));
    assert_non_null(strstr(r.err, "RGB3"));
    assert_int_equal(r.dev.opens, r.dev.closes);
    rig_close(&r);
}

static void v4l2_coerced_size_and_rate(void **state) {
    rig r;
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 2, &len);

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.spec.width = 1920;
    r.spec.height = 1080;
    r.spec.fps = 60;
    r.dev.max_w = 1280;
    r.dev.max_h = 720;
    r.dev.max_fps = 25;
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.fps, 25);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 1;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(r.last->width, 1280); /* what the driver gave */
    assert_int_equal(r.last->height, 720);
    {
        /* Asked and given, both reported. */
        pixd_cam_info info;
        assert_int_equal(pixd_hub_list(r.hub, &info, 1), 1);
        assert_int_equal(info.asked_width, 1920);
        assert_int_equal(info.asked_height, 1080);
        assert_int_equal(info.asked_fps, 60);
        assert_int_equal(info.width, 1280);
        assert_int_equal(info.height, 720);
        assert_int_equal(info.got_fps_milli, 25000);
    }
    rig_close(&r);

    /* Defaults, and a driver that sets its own rate. */
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.spec.width = r.spec.height = 0;
    r.dev.max_fps = 0;
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.w, 640);
    assert_int_equal(r.dev.h, 480);
    rig_close(&r);
    tjFree(jpg);
}

static void v4l2_buffer_counts(void **state) {
    static const unsigned given[] = {2, 8, 1, 0};
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 3, &len);

    for (size_t k = 0; k < sizeof given / sizeof given[0]; k++) {
        rig r;
        rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
        r.dev.give_bufs = given[k];
        if (given[k] < 2) {
            assert_true(rig_open(&r) < 0);
            assert_non_null(strstr(r.err, "buffer"));
            rig_close(&r);
            continue;
        }
        assert_int_equal(rig_open(&r), 0);
        assert_int_equal(r.dev.asked_bufs, 4);
        rig_subscribe(&r, 0);
        assert_int_equal(fake_queued(&r.dev), given[k]);
        for (int i = 0; i < 10; i++)
            fake_push(&r.dev, EV_FRAME, 0, jpg, len);
        want_frames = 10;
        assert_true(run_until(&r, got_frames, 2000));
        rig_close(&r);
    }
    tjFree(jpg);
}

/* ---- frames cameras get wrong ---- */

static void v4l2_broken_mjpeg_dropped(void **state) {
    rig r;
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 4, &len);
    static uint8_t padded[FAKE_BUFLEN], stale[FAKE_BUFLEN], garbage[400];

    memcpy(padded, jpg, len);
    memset(padded + len, 0, 300);
    /* What a reused buffer holds: this frame, then the end of a longer one. */
    memcpy(stale, jpg, len);
    memcpy(stale + len, jpg + 100, len - 100);
    memset(garbage, 0xAB, sizeof garbage);
    garbage[0] = 0xFF;
    garbage[1] = 0xD8;
    garbage[sizeof garbage - 2] = 0xFF;
    garbage[sizeof garbage - 1] = 0xD9;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, jpg, len - 40);       /* truncated: no EOI */
    fake_push(&r.dev, EV_FRAME, 0, garbage, 40);           /* tiny */
    fake_push(&r.dev, EV_FRAME, 0, garbage, sizeof garbage); /* SOI, junk, EOI */
    fake_push(&r.dev, EV_REUSED, 0, jpg, len);
    fake_push(&r.dev, EV_FRAME, 0, jpg, 0);              /* bytesused 0 */
    fake_push(&r.dev, EV_FRAME, 0, jpg + 2, len - 2);    /* no SOI */
    fake_push(&r.dev, EV_BADFLAG, 0, jpg, len);          /* V4L2_BUF_FLAG_ERROR */
    fake_push(&r.dev, EV_FRAME, 0, padded, len + 300);   /* zero padding after EOI */
    fake_push(&r.dev, EV_FRAME, 0, stale, 2 * len - 100); /* stale bytes after EOI */
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 3;
    assert_true(run_until(&r, got_frames, 2000));
    run_for(&r, 30);
    assert_int_equal(r.frames, 3); /* each byte-identical to what was sent */
    assert_int_equal(r.last->len, len);
    assert_memory_equal(r.last->data, jpg, len);
    assert_int_equal(cam_state(&r), PIXD_CAM_ONLINE);
    assert_int_equal(fake_queued(&r.dev), 4);
    {
        /* Each bad one counted for CAMS and /api/v1/cameras. */
        pixd_cam_info info;
        assert_int_equal(pixd_hub_list(r.hub, &info, 1), 1);
        assert_int_equal(info.broken, 7);
        assert_string_equal(info.format, "MJPG");
    }
    rig_close(&r);
    tjFree(jpg);
}

/* Cameras that leave out the Huffman tables: the standard ones go in right
 * before SOS, and the frame decodes (TurboJPEG would, browsers would not). */
static void v4l2_mjpeg_without_dht_mended(void **state) {
    rig r;
    size_t len, pos = 2, blen = 2;
    uint8_t *jpg = make_jpeg(64, 48, 5, &len);
    static uint8_t bare[FAKE_BUFLEN];
    int w, h;

    /* Copy it without its DHT segments (libjpeg writes one per table). */
    memcpy(bare, jpg, 2);
    while (pos + 4 <= len && jpg[pos + 1] != 0xDA) {
        size_t l = (size_t)jpg[pos + 2] << 8 | jpg[pos + 3];
        if (jpg[pos + 1] != 0xC4) {
            memcpy(bare + blen, jpg + pos, 2 + l);
            blen += 2 + l;
        }
        pos += 2 + l;
    }
    assert_true(len - pos + blen < len);
    memcpy(bare + blen, jpg + pos, len - pos);
    blen += len - pos;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, bare, blen);
    want_frames = 1;
    assert_true(run_until(&r, got_frames, 2000));
    assert_true(r.last->len > blen);
    jpeg_size(r.last, &w, &h);
    assert_int_equal(w, 64);
    assert_int_equal(h, 48);
    {
        tjhandle tj = tjInitDecompress();
        uint8_t a[64 * 48], b[64 * 48];
        assert_int_equal(tjDecompress2(tj, jpg, len, a, 64, 0, 48, TJPF_GRAY, 0), 0);
        assert_int_equal(tjDecompress2(tj, r.last->data, r.last->len, b, 64, 0, 48,
                                       TJPF_GRAY, 0), 0);
        assert_memory_equal(a, b, sizeof a);
        tjDestroy(tj);
    }
    rig_close(&r);
    tjFree(jpg);
}

/* ---- faults and recovery ---- */

static void v4l2_deaf_poll_still_captures(void **state) {
    rig r;
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 7, &len);

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.dev.deaf = 1;
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    for (int i = 0; i < 2; i++)
        fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 2;
    assert_true(run_until(&r, got_frames, 2000)); /* found by the nudge */
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 3;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(cam_state(&r), PIXD_CAM_ONLINE);
    rig_close(&r);
    tjFree(jpg);
}

static void v4l2_unplug_offline_then_back(void **state) {
    rig r;
    size_t len;
    unsigned opens;
    uint8_t *jpg = make_jpeg(64, 48, 5, &len);

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    fake_push(&r.dev, EV_ERROR, -ENODEV, NULL, 0);
    assert_true(run_until(&r, is_offline, 2000));
    assert_int_equal(r.frames, 1);
    assert_int_equal(r.dev.fd, -1); /* released at once */
    assert_int_equal(r.dev.maps, r.dev.unmaps);
    opens = r.dev.opens;
    run_for(&r, 100); /* retries at 10, 20, 40, 40 ms find nothing */
    assert_int_equal(r.dev.opens, opens);
    assert_int_equal(cam_state(&r), PIXD_CAM_OFFLINE);
    assert_int_equal(r.gone, 0); /* the subscriber stays through it */
    r.dev.present = 1;
    assert_true(run_until(&r, is_streaming, 2000));
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 2;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(r.last->seq, 2);
    rig_close(&r);
    tjFree(jpg);
}

static void v4l2_unplug_while_encoding(void **state) {
    rig r;
    static uint8_t yuyv[64 * 48 * 2];
    rig_init(&r, V4L2_PIX_FMT_YUYV, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    /* One poll round: the frame goes to the encoder, then the device dies
     * while the worker still reads its buffer. */
    fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv);
    fake_push(&r.dev, EV_ERROR, -ENODEV, NULL, 0);
    assert_true(run_until(&r, is_offline, 2000));
    r.dev.present = 1;
    assert_true(run_until(&r, is_streaming, 2000));
    assert_int_equal(r.dev.opens, 2);
    fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv);
    want_frames = 1;
    assert_true(run_until(&r, got_frames, 2000));
    rig_close(&r);
}

static void v4l2_name_taken(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    r.dev.present = 0; /* the second one waits for the device... */
    assert_int_equal(rig_open(&r), -EEXIST);
    assert_non_null(strstr(r.err, "twice"));
    r.dev.present = 1;
    rig_close(&r);
}

static void v4l2_absent_at_start_retries(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.dev.present = 0;
    assert_int_equal(rig_open(&r), 0); /* pixd starts; the camera waits offline */
    assert_int_equal(cam_state(&r), PIXD_CAM_OFFLINE);
    r.dev.present = 1;
    rig_subscribe(&r, 0);
    assert_true(run_until(&r, is_streaming, 2000));
    rig_close(&r);
}

static void v4l2_loopback_waits_for_producer(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.dev.node = 1;
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(cam_state(&r), PIXD_CAM_OFFLINE);
    rig_subscribe(&r, 0);
    run_for(&r, 30);
    assert_int_equal(r.dev.streamons, 0);
    r.dev.node = 0; /* the producer started */
    assert_true(run_until(&r, is_streaming, 2000));
    rig_close(&r);

    /* A metadata node: a configuration error, at once. */
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.dev.node = 2;
    assert_int_equal(rig_open(&r), -EINVAL);
    assert_non_null(strstr(r.err, "not a video capture device"));
    rig_close(&r);
}

static void v4l2_dqbuf_error_reopens(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_ERROR, -EIO, NULL, 0);
    assert_true(run_until(&r, is_offline, 2000));
    assert_true(run_until(&r, is_streaming, 2000));
    assert_int_equal(r.dev.opens, 2);
    rig_close(&r);
}

static void v4l2_streamon_error_retried(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.dev.streamon_fails = 2;
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    assert_int_equal(cam_state(&r), PIXD_CAM_OFFLINE);
    assert_true(run_until(&r, is_streaming, 2000));
    assert_int_equal(r.dev.opens, 3);
    rig_close(&r);
}

static void v4l2_stall_reopens(void **state) {
    rig r;
    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.opts.stall_ms = 30;
    assert_int_equal(rig_open(&r), 0);
    run_for(&r, 80); /* not streaming: no frames expected, no stall */
    assert_int_equal(cam_state(&r), PIXD_CAM_ONLINE);
    rig_subscribe(&r, 0);
    assert_true(run_until(&r, is_offline, 2000));
    assert_true(run_until(&r, is_streaming, 2000));
    assert_true(r.dev.opens >= 2);
    rig_close(&r);
}

/* ,timeout=SEC: the stall timeout is the camera's own, not the built-in. */
static void v4l2_timeout_option(void **state) {
    rig r;
    char err[128];
    uint64_t t0;

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    r.opts.stall_ms = 60000; /* the built-in would never fire in this test */
    assert_int_equal(pixd_camera_spec_parse("cam=/dev/video0,timeout=0.05", &r.spec, err,
                                            sizeof err), 0);
    assert_int_equal(r.spec.timeout_ms, 50);
    r.spec.width = 64;
    r.spec.height = 48;
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    t0 = uv_now(&r.loop);
    assert_true(run_until(&r, is_offline, 2000));
    assert_true(uv_now(&r.loop) - t0 < 1000);
    assert_true(run_until(&r, is_streaming, 2000));
    assert_true(r.dev.opens >= 2);
    rig_close(&r);
    /* Bad values are refused with the reason. */
    assert_int_equal(pixd_camera_spec_parse("cam=/dev/video0,timeout=0", &r.spec, err,
                                            sizeof err), -EINVAL);
    assert_non_null(strstr(err, "timeout"));
    assert_int_equal(pixd_camera_spec_parse("cam=/dev/video0,timeout=x", &r.spec, err,
                                            sizeof err), -EINVAL);
    assert_int_equal(pixd_camera_spec_parse("cam=/dev/video0", &r.spec, err, sizeof err), 0);
    assert_int_equal(r.spec.timeout_ms, 0); /* 0: the built-in 2 s */
    assert_int_equal(pixd__v4l2_default_opts.stall_ms, 2000);
}

/* ---- capture only while watched ---- */

static void v4l2_streamoff_when_unwatched(void **state) {
    rig r;
    size_t len;
    uint8_t *jpg = make_jpeg(64, 48, 6, &len);

    rig_init(&r, V4L2_PIX_FMT_MJPEG, 0);
    assert_int_equal(rig_open(&r), 0);
    assert_int_equal(r.dev.streamons, 0);
    rig_subscribe(&r, 2); /* ends by itself after two frames */
    assert_int_equal(r.dev.streamons, 1);
    for (int i = 0; i < 3; i++)
        fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    assert_true(run_until(&r, stopped, 2000));
    assert_int_equal(r.frames, 2);
    assert_true(r.gone);
    assert_int_equal(r.dev.streamoffs, 1);
    assert_true(r.dev.fd >= 0); /* the device stays open */
    assert_int_equal(cam_state(&r), PIXD_CAM_ONLINE);
    /* Watched again: streaming again, same device. */
    rig_subscribe(&r, 0);
    assert_int_equal(r.dev.streamons, 2);
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 3;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(r.dev.opens, 1);
    rig_close(&r);
    tjFree(jpg);
}

static void v4l2_close_while_encoding(void **state) {
    rig r;
    static uint8_t yuyv[64 * 48 * 2];
    rig_init(&r, V4L2_PIX_FMT_YUYV, 0);
    assert_int_equal(rig_open(&r), 0);
    rig_subscribe(&r, 0);
    fake_push(&r.dev, EV_FRAME, 0, yuyv, sizeof yuyv);
    /* Until the fd is read, then close with the encode likely in flight. */
    while (r.dev.qh != r.dev.qt)
        uv_run(&r.loop, UV_RUN_ONCE);
    rig_close(&r);
}

/* ---- finding devices ---- */

static int find_open(void *ctx, const char *path) {
    const char *name = strrchr(path, '/') + 1;
    if (!strcmp(name, "video3"))
        return -EACCES;
    return eventfd(0, EFD_CLOEXEC) | (atoi(name + 5) << 16);
}
static int find_close(void *ctx, int fd) { return close(fd & 0xffff); }
static int find_ioctl(void *ctx, int fd, unsigned long req, void *arg) {
    int node = fd >> 16;
    if (req == VIDIOC_QUERYCAP) {
        struct v4l2_capability *c = arg;
        c->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_META_CAPTURE |
                          V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS;
        /* video1: the metadata node of a UVC camera */
        c->device_caps = node == 1 ? V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING
                                   : V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        return 0;
    }
    if (req == VIDIOC_ENUM_FMT) {
        struct v4l2_fmtdesc *d = arg;
        uint32_t f = node == 2 ? V4L2_PIX_FMT_NV12 : node == 10 ? V4L2_PIX_FMT_MJPEG
                                                                : V4L2_PIX_FMT_YUYV;
        if (d->index > 0)
            return -EINVAL;
        d->pixelformat = f;
        return 0;
    }
    return -ENOTTY;
}

static void v4l2_find_devices(void **state) {
    char dir[] = "/tmp/pixd-v4l2-XXXXXX", path[64], found[8][32], want[32];
    static const char *const names[] = {"video10", "video0", "video1", "video2", "video3",
                                        "video", "videox", "media0"};
    pixd_v4l2_io io = {find_open, find_close, find_ioctl, NULL, NULL, NULL};
    size_t n;

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_non_null(f = fopen(path, "w"));
        fclose(f);
    }
    n = pixd__v4l2_find_devices_in(&io, dir, found, 8);
    assert_int_equal(n, 2);
    snprintf(want, sizeof want, "%s/video0", dir);
    assert_string_equal(found[0], want);
    snprintf(want, sizeof want, "%s/video10", dir);
    assert_string_equal(found[1], want);
    assert_int_equal(pixd__v4l2_find_devices_in(&io, dir, found, 1), 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    assert_int_equal(pixd__v4l2_find_devices_in(&io, "/nonexistent", found, 8), 0);
}

/* ---- JPEG ends ---- */

static void jpeg_length_walks_segments(void **state) {
    size_t len;
    uint8_t *jpg = make_jpeg(32, 16, 8, &len);
    uint8_t buf[8192];
    /* An APP1 holding a whole thumbnail JPEG (EOI inside) does not end it. */
    static const uint8_t app1[] = {0xFF, 0xE1, 0x00, 0x0A, 0xFF, 0xD8, 0x00, 0x00, 0xFF, 0xD9,
                                   0x00, 0x00};

    assert_true(len + sizeof app1 + 64 < sizeof buf);
    assert_int_equal(pixd__jpeg_length(jpg, len), len);
    memcpy(buf, jpg, 2);
    memcpy(buf + 2, app1, sizeof app1);
    memcpy(buf + 2 + sizeof app1, jpg + 2, len - 2);
    assert_int_equal(pixd__jpeg_length(buf, len + sizeof app1), len + sizeof app1);
    memset(buf + len + sizeof app1, 0xD9, 64); /* junk after EOI */
    assert_int_equal(pixd__jpeg_length(buf, len + sizeof app1 + 64), len + sizeof app1);
    for (size_t cut = 0; cut < len; cut += len / 13 + 1)  /* cut short anywhere */
        assert_int_equal(pixd__jpeg_length(jpg, cut), 0);
    assert_int_equal(pixd__jpeg_length(jpg + 1, len - 1), 0);
    tjFree(jpg);
}

/* ---- YUYV ---- */

static void yuyv_to_planar_tiny(void **state) {
    /* 4x2 pixels, rows 10 bytes apart (2 bytes of padding). */
    static const uint8_t src[] = {
        1, 100, 2, 200, 3, 101, 4, 201, 0xEE, 0xEE,
        5, 102, 6, 202, 7, 103, 8, 203, 0xEE, 0xEE,
    };
    uint8_t y[8], u[4], v[4];
    static const uint8_t ey[] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t eu[] = {100, 101, 102, 103}, ev[] = {200, 201, 202, 203};
    pixd_yuyv_to_planar(src, 10, 4, 2, y, u, v);
    assert_memory_equal(y, ey, 8);
    assert_memory_equal(u, eu, 4);
    assert_memory_equal(v, ev, 4);
}

static void yuyv_encode_gray(void **state) {
    pixd_yuyv_enc e;
    uint8_t src[16 * 8 * 2], rgb[16 * 8 * 3];
    pixd_frame *f;
    tjhandle tj;
    int w, h, ss, cs;

    for (size_t i = 0; i < sizeof src; i += 2) {
        src[i] = 180;      /* Y */
        src[i + 1] = 128;  /* U or V: no colour */
    }
    assert_int_equal(pixd_yuyv_enc_init(&e), 0);
    assert_int_equal(pixd_yuyv_encode(&e, src, 32, 16, 8, 90, &f), 0);
    assert_int_equal(f->width, 16);
    assert_int_equal(f->height, 8);
    assert_int_equal(f->refs, 1);
    tj = tjInitDecompress();
    assert_int_equal(tjDecompressHeader3(tj, f->data, f->len, &w, &h, &ss, &cs), 0);
    assert_int_equal(w, 16);
    assert_int_equal(h, 8);
    assert_int_equal(ss, TJSAMP_422);
    assert_int_equal(tjDecompress2(tj, f->data, f->len, rgb, 16, 0, 8, TJPF_RGB, 0), 0);
    for (size_t i = 0; i < sizeof rgb; i++)
        assert_true(rgb[i] >= 176 && rgb[i] <= 184); /* Y 180, full range */
    tjDestroy(tj);
    pixd_frame_unref(f);
    /* Odd width and too small a stride are refused. */
    assert_int_equal(pixd_yuyv_encode(&e, src, 32, 15, 8, 90, &f), -EINVAL);
    assert_int_equal(pixd_yuyv_encode(&e, src, 16, 16, 8, 90, &f), -EINVAL);
    pixd_yuyv_enc_free(&e);
    pixd_yuyv_enc_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v4l2_prefers_mjpeg),
        cmocka_unit_test(v4l2_yuyv_when_no_mjpeg),
        cmocka_unit_test(v4l2_format_option_honoured),
        cmocka_unit_test(v4l2_no_usable_format_names_offered),
        cmocka_unit_test(v4l2_coerced_size_and_rate),
        cmocka_unit_test(v4l2_buffer_counts),
        cmocka_unit_test(v4l2_broken_mjpeg_dropped),
        cmocka_unit_test(v4l2_deaf_poll_still_captures),
        cmocka_unit_test(v4l2_unplug_offline_then_back),
        cmocka_unit_test(v4l2_unplug_while_encoding),
        cmocka_unit_test(v4l2_name_taken),
        cmocka_unit_test(v4l2_absent_at_start_retries),
        cmocka_unit_test(v4l2_loopback_waits_for_producer),
        cmocka_unit_test(v4l2_dqbuf_error_reopens),
        cmocka_unit_test(v4l2_streamon_error_retried),
        cmocka_unit_test(v4l2_stall_reopens),
        cmocka_unit_test(v4l2_timeout_option),
        cmocka_unit_test(v4l2_mjpeg_without_dht_mended),
        cmocka_unit_test(v4l2_streamoff_when_unwatched),
        cmocka_unit_test(v4l2_close_while_encoding),
        cmocka_unit_test(v4l2_find_devices),
        cmocka_unit_test(jpeg_length_walks_segments),
        cmocka_unit_test(yuyv_to_planar_tiny),
        cmocka_unit_test(yuyv_encode_gray),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
