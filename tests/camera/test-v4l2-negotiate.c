/* The V4L2 source against the scripted fake device: which format it
 * chooses, what the driver coerces (size, rate, buffer counts), and which
 * device nodes it finds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/videodev2.h>
#include <turbojpeg.h>

#include "v4l2-fake.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v4l2_prefers_mjpeg),
        cmocka_unit_test(v4l2_yuyv_when_no_mjpeg),
        cmocka_unit_test(v4l2_format_option_honoured),
        cmocka_unit_test(v4l2_no_usable_format_names_offered),
        cmocka_unit_test(v4l2_coerced_size_and_rate),
        cmocka_unit_test(v4l2_buffer_counts),
        cmocka_unit_test(v4l2_find_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
