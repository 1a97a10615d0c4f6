/* The V4L2 source against the scripted fake device: deaf poll, unplug and
 * reopen, devices absent or not yet producing, driver errors, stalls and
 * the timeout option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/videodev2.h>
#include <turbojpeg.h>

#include "v4l2-fake.h"

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
    assert_string_equal(r.states, "offline,"); /* and was told */
    r.dev.present = 1;
    assert_true(run_until(&r, is_streaming, 2000));
    fake_push(&r.dev, EV_FRAME, 0, jpg, len);
    want_frames = 2;
    assert_true(run_until(&r, got_frames, 2000));
    assert_int_equal(r.last->seq, 2);
    assert_string_equal(r.states, "offline,online,");
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

int main(void) {
    const struct CMUnitTest tests[] = {
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
