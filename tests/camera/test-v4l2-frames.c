/* Frames the V4L2 source gets wrong or must mend (broken MJPEG, missing
 * Huffman tables), where a JPEG ends, and the YUYV conversion. */
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
#include "camera/yuyv.h"

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
        cmocka_unit_test(v4l2_broken_mjpeg_dropped),
        cmocka_unit_test(v4l2_mjpeg_without_dht_mended),
        cmocka_unit_test(yuyv_to_planar_tiny),
        cmocka_unit_test(yuyv_encode_gray),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
