/* The scripted fake V4L2 device and the rig around it (see v4l2-fake.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/videodev2.h>
#include <turbojpeg.h>

#include "v4l2-fake.h"

/* ---- the fake device ---- */

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

void fake_push(fake *f, int kind, int err, const uint8_t *data, size_t len) {
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

unsigned fake_queued(const fake *f) {
    unsigned n = 0;
    for (unsigned i = 0; i < f->nbufs; i++)
        n += f->bufs[i].queued != 0;
    return n;
}

/* ---- a loop, a hub and a subscriber ---- */

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
static void sub_state(void *ctx, const char *state, const char *why) {
    rig *r = ctx;
    size_t n = strlen(r->states);
    snprintf(r->states + n, sizeof r->states - n, "%s,", state);
}
static const pixd_sub_ops sub_ops = {sub_frame, sub_ready, sub_gone, sub_state};

void rig_init(rig *r, uint32_t fmt0, uint32_t fmt1) {
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

int rig_open(rig *r) {
    return pixd__source_v4l2_open_with(r->hub, &r->spec, &r->opts, r->err, sizeof r->err);
}

void rig_subscribe(rig *r, unsigned count) {
    r->gone = 0;
    assert_int_equal(pixd_hub_subscribe(r->hub, "cam", 0, 0, count, &sub_ops, r, &r->sub), 0);
}

static void deadline_cb(uv_timer_t *t) { *(int *)t->data = 1; }

/* Run the loop until pred holds, ms at most; whether it holds. */
int run_until(rig *r, int (*pred)(rig *), unsigned ms) {
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

void run_for(rig *r, unsigned ms) {
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

enum pixd_cam_state cam_state(rig *r) {
    pixd_cam_info info;
    assert_int_equal(pixd_hub_list(r->hub, &info, 1), 1);
    return info.state;
}

unsigned want_frames;
int got_frames(rig *r) { return r->frames >= want_frames; }
int is_offline(rig *r) { return cam_state(r) == PIXD_CAM_OFFLINE; }
int is_streaming(rig *r) { return cam_state(r) == PIXD_CAM_ONLINE && r->dev.streaming; }
int stopped(rig *r) { return !r->dev.streaming; }

static void hub_done(void *ctx) { *(int *)ctx = 1; }

void rig_close(rig *r) {
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
uint8_t *make_jpeg(unsigned w, unsigned h, unsigned seed, size_t *len) {
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

void jpeg_size(const pixd_frame *f, int *w, int *h) {
    tjhandle tj = tjInitDecompress();
    int ss, cs;
    assert_int_equal(tjDecompressHeader3(tj, f->data, f->len, w, h, &ss, &cs), 0);
    tjDestroy(tj);
}
