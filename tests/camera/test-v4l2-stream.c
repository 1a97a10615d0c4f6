/* The V4L2 source captures only while watched: it streams off when the
 * last subscriber leaves, and closes cleanly with an encode in flight. */
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v4l2_streamoff_when_unwatched),
        cmocka_unit_test(v4l2_close_while_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
