/* The planar path of JPEG to JPEG (yuv.c): every subsampling, odd sizes,
 * every mode and orientation checked against a full-size BGR reference,
 * and the cases that must go the BGR way instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <turbojpeg.h>

#include "image.h"
#include "imgutil.h"
#include "internal.h"

static pixd_resize_params params(uint32_t w, uint32_t h, pixd_resize_mode mode) {
    pixd_resize_params p;
    pixd_resize_params_default(&p);
    p.width = w;
    p.height = h;
    p.mode = mode;
    return p;
}

static uint8_t *resize_ok(const uint8_t *in, size_t n, const pixd_resize_params *p,
                          pixd_resize_result *r, uint32_t *w, uint32_t *h, int *ch) {
    char err[256];
    int rc = pixd_image_resize(in, n, p, r, err, sizeof err);
    uint8_t *px;
    if (rc != 0)
        fail_msg("pixd_image_resize: %d %s", rc, err);
    px = tu_unjpeg(r->data, r->len, w, h, ch);
    assert_int_equal(*w, r->out_width);
    assert_int_equal(*h, r->out_height);
    return px;
}

/* What the job should look like: the JPEG decoded whole by TurboJPEG, the
 * geometry's crop resampled with INTER_AREA, then turned upright. */
static uint8_t *reference(const uint8_t *jpg, size_t n, int orientation,
                          const pixd_resize_params *p, uint32_t *ow, uint32_t *oh) {
    uint32_t w, h;
    int ch;
    uint8_t *full = tu_unjpeg(jpg, n, &w, &h, &ch);
    pixd_image_geometry g;
    pixd__pixels src, mid, out;

    assert_int_equal(pixd_image_geometry_compute(w, h, orientation, p->width, p->height,
                                                 p->mode, p->enlarge, &g), 0);
    src = (pixd__pixels){full + ((size_t)g.crop.y * w + g.crop.x) * (size_t)ch,
                         g.crop.width, g.crop.height, (size_t)w * ch, ch};
    mid = (pixd__pixels){malloc((size_t)g.resample_width * g.resample_height * ch),
                         g.resample_width, g.resample_height,
                         (size_t)g.resample_width * ch, ch};
    out = (pixd__pixels){malloc((size_t)g.out_width * g.out_height * ch), g.out_width,
                         g.out_height, (size_t)g.out_width * ch, ch};
    assert_non_null(mid.data);
    assert_non_null(out.data);
    assert_int_equal(pixd__cv_resize(&src, &mid), 0);
    if (orientation == 1)
        memcpy(out.data, mid.data, (size_t)g.out_width * g.out_height * ch);
    else
        assert_int_equal(pixd__cv_orient(&mid, orientation, &out), 0);
    free(full);
    free(mid.data);
    *ow = g.out_width;
    *oh = g.out_height;
    return out.data;
}

/* One planar job on jpg (with the orientation in EXIF when not 1): right
 * size, right picture. */
static void check(const uint8_t *jpg, size_t n, int channels, int orientation,
                  const pixd_resize_params *p, const char *what) {
    size_t in_n = n;
    uint8_t *in = orientation == 1 ? (uint8_t *)jpg : tu_with_exif(jpg, n, orientation, &in_n);
    pixd_resize_result r;
    uint32_t w, h, rw, rh;
    int ch;
    uint8_t *out = resize_ok(in, in_n, p, &r, &w, &h, &ch);
    uint8_t *ref = reference(jpg, n, orientation, p, &rw, &rh);
    double psnr;

    if (!r.planar)
        fail_msg("%s, orientation %d, mode %d: not planar", what, orientation, (int)p->mode);
    assert_int_equal(r.orientation, orientation);
    assert_int_equal(ch, channels);
    assert_int_equal(w, rw);
    assert_int_equal(h, rh);
    psnr = tu_psnr(out, ref, (size_t)w * h * (size_t)ch);
    if (psnr < 30.0)
        fail_msg("%s, orientation %d, mode %d, %ux%u: %.1f dB against the reference", what,
                 orientation, (int)p->mode, w, h, psnr);
    free(out);
    free(ref);
    free(r.data);
    if (in != jpg)
        free(in);
}

static const pixd_resize_mode modes[] = {PIXD_MODE_FIT, PIXD_MODE_FILL, PIXD_MODE_STRETCH};

static void yuv_every_subsampling(void **state) {
    static const struct {
        int sub;
        const char *name;
    } subs[] = {{TJSAMP_444, "4:4:4"}, {TJSAMP_422, "4:2:2"}, {TJSAMP_420, "4:2:0"},
                {TJSAMP_440, "4:4:0"}, {TJSAMP_GRAY, "gray"}};
    (void)state;
    for (size_t s = 0; s < sizeof subs / sizeof *subs; s++) {
        int ch = subs[s].sub == TJSAMP_GRAY ? 1 : 3;
        /* Odd sides everywhere: the image, the box, the chroma planes. */
        uint8_t *px = tu_pattern(643, 481, ch, 4, 7);
        size_t n;
        uint8_t *jpg = tu_jpeg_sub(px, 643, 481, ch, 92, subs[s].sub, 0, &n);
        for (size_t m = 0; m < 3; m++) {
            pixd_resize_params p = params(211, 157, modes[m]);
            check(jpg, n, ch, 1, &p, subs[s].name);
            check(jpg, n, ch, 6, &p, subs[s].name);
            p = params(0, 101, modes[m]); /* one side: keep the aspect */
            check(jpg, n, ch, 1, &p, subs[s].name);
        }
        free(jpg);
        free(px);
    }
}

static void yuv_every_orientation(void **state) {
    uint8_t *px = tu_pattern(517, 389, 3, 4, 11);
    size_t n;
    uint8_t *jpg = tu_jpeg_sub(px, 517, 389, 3, 92, TJSAMP_420, 0, &n);
    (void)state;
    for (int o = 1; o <= 8; o++) {
        for (size_t m = 0; m < 3; m++) {
            pixd_resize_params p = params(199, 77, modes[m]);
            check(jpg, n, 3, o, &p, "4:2:0");
        }
        /* No resampling at all: crop and turn only. */
        pixd_resize_params p = params(301, 301, PIXD_MODE_FILL);
        check(jpg, n, 3, o, &p, "4:2:0 crop");
    }
    free(jpg);
    free(px);
}

static void yuv_scales_and_enlarges(void **state) {
    uint8_t *px = tu_pattern(1601, 1203, 3, 4, 13);
    size_t n;
    uint8_t *jpg = tu_jpeg_sub(px, 1601, 1203, 3, 90, TJSAMP_420, 0, &n);
    uint8_t *small_px = tu_pattern(64, 48, 3, 0, 1), *small;
    size_t small_n;
    pixd_resize_params p = params(150, 0, PIXD_MODE_FIT);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    uint8_t *out;
    (void)state;
    /* 1/8, 1/4, 1/2 and 1/1. */
    check(jpg, n, 3, 1, &p, "1/8");
    p.width = 301;
    check(jpg, n, 3, 1, &p, "1/4");
    p.width = 601;
    check(jpg, n, 3, 1, &p, "1/2");
    p.width = 1201;
    check(jpg, n, 3, 1, &p, "1/1");
    /* Enlarging, when asked. */
    small = tu_jpeg_sub(small_px, 64, 48, 3, 95, TJSAMP_420, 0, &small_n);
    p = params(201, 0, PIXD_MODE_FIT);
    p.enlarge = 1;
    check(small, small_n, 3, 1, &p, "enlarged");
    p.enlarge = 0;
    out = resize_ok(small, small_n, &p, &r, &w, &h, &ch);
    assert_true(r.planar);
    assert_int_equal(w, 64);
    assert_int_equal(h, 48);
    free(out);
    free(r.data);
    free(small);
    free(small_px);
    free(jpg);
    free(px);
}

/* Sharpening works on luma: the edge gets steeper, flat colour stays. */
static void yuv_sharpen_luma(void **state) {
    static const uint8_t dark[3] = {40, 60, 150}, light[3] = {200, 190, 170};
    uint8_t *px = tu_solid(256, 128, 3, dark), *jpg, *plain, *sharp;
    size_t n;
    pixd_resize_params p = params(128, 64, PIXD_MODE_FIT);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    (void)state;
    tu_fill_rect(px, 256, 3, 128, 0, 256, 128, light);
    jpg = tu_jpeg_sub(px, 256, 128, 3, 95, TJSAMP_420, 0, &n);
    plain = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    free(r.data);
    p.sharpen = 1;
    p.sharpen_threshold = 0;
    sharp = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    assert_true(r.planar);
    free(r.data);
    /* Beside the edge (column 64): overshoot on both sides. */
    for (int c = 0; c < 3; c++) {
        assert_true(sharp[(32 * 128 + 66) * 3 + c] >= plain[(32 * 128 + 66) * 3 + c]);
        assert_true(sharp[(32 * 128 + 61) * 3 + c] <= plain[(32 * 128 + 61) * 3 + c]);
    }
    assert_true(sharp[(32 * 128 + 66) * 3 + 1] > plain[(32 * 128 + 66) * 3 + 1] + 3);
    /* Far from it: the same colour. */
    for (int c = 0; c < 3; c++) {
        assert_true(abs(sharp[(32 * 128 + 10) * 3 + c] - plain[(32 * 128 + 10) * 3 + c]) <= 2);
        assert_true(abs(sharp[(32 * 128 + 118) * 3 + c] - plain[(32 * 128 + 118) * 3 + c]) <= 2);
    }
    free(plain);
    free(sharp);
    free(jpg);
    free(px);
}

/* Progressive input, PNG output and a JPEG TurboJPEG warns about go the
 * BGR way, and still come out right. */
static void yuv_falls_back(void **state) {
    uint8_t *px = tu_pattern(320, 240, 3, 4, 17), *jpg, *odd, *out;
    size_t n, odd_n;
    pixd_resize_params p = params(160, 0, PIXD_MODE_FIT);
    pixd_resize_result r;
    char err[256];
    uint32_t w, h;
    int ch;
    (void)state;
    jpg = tu_jpeg_sub(px, 320, 240, 3, 90, TJSAMP_420, 1, &n);
    out = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    assert_false(r.planar);
    assert_int_equal(w, 160);
    free(out);
    free(r.data);
    free(jpg);

    jpg = tu_jpeg_sub(px, 320, 240, 3, 90, TJSAMP_420, 0, &n);
    p.format = PIXD_FMT_PNG;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
    assert_false(r.planar);
    free(r.data);
    p.format = PIXD_FMT_JPEG;

    /* Stray bytes after the JFIF segment (SOI, APP0 of 2 + 16 bytes):
     * libjpeg warns ("extraneous bytes before marker"), which is harmless
     * but stops TurboJPEG. */
    assert_true(jpg[2] == 0xff && jpg[3] == 0xe0 && jpg[5] == 16 && jpg[20] == 0xff);
    odd = malloc(n + 3);
    assert_non_null(odd);
    memcpy(odd, jpg, 20);
    memcpy(odd + 20, "\x01\x02\x03", 3);
    memcpy(odd + 23, jpg + 20, n - 20);
    odd_n = n + 3;
    out = resize_ok(odd, odd_n, &p, &r, &w, &h, &ch);
    assert_false(r.planar);
    assert_int_equal(w, 160);
    free(out);
    free(r.data);

    /* Cut short: the BGR path's decoder words the error. */
    assert_true(pixd_image_resize(jpg, n / 2, &p, &r, err, sizeof err) < 0);
    assert_null(r.data);
    assert_non_null(strstr(err, "truncated"));
    free(odd);
    free(jpg);
    free(px);
}

static uint8_t *dup(const uint8_t *p, size_t n) {
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

/* pixd_image_resize_owned frees its input on every path (the sanitizers
 * see a leak, a double free or a read after the free) and gives the same
 * output as pixd_image_resize. */
static void yuv_owned_input(void **state) {
    uint8_t *px = tu_pattern(320, 240, 3, 4, 19);
    size_t n[3];
    uint8_t *in[3] = {tu_jpeg_sub(px, 320, 240, 3, 90, TJSAMP_420, 0, &n[0]),
                      tu_jpeg_sub(px, 320, 240, 3, 90, TJSAMP_420, 1, &n[1]),
                      tu_png(px, 320, 240, 3, 8, 0, &n[2])};
    pixd_resize_params p = params(100, 0, PIXD_MODE_FIT);
    pixd_resize_result a, b;
    char err[256];
    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pixd_image_resize(in[i], n[i], &p, &a, err, sizeof err), 0);
        assert_int_equal(pixd_image_resize_owned(dup(in[i], n[i]), n[i], &p, &b, err,
                                                 sizeof err), 0);
        assert_int_equal(a.planar, i == 0);
        assert_int_equal(b.planar, i == 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        free(a.data);
        free(b.data);
        /* Failing before, while and after decoding. */
        p.quality = 0;
        assert_true(pixd_image_resize_owned(dup(in[i], n[i]), n[i], &p, &b, err,
                                            sizeof err) < 0);
        p.quality = 85;
        assert_true(pixd_image_resize_owned(dup(in[i], n[i] / 2), n[i] / 2, &p, &b, err,
                                            sizeof err) < 0);
        p.width = 20000;
        p.enlarge = 1;
        p.max_pixels = 1000000;
        assert_true(pixd_image_resize_owned(dup(in[i], n[i]), n[i], &p, &b, err,
                                            sizeof err) < 0);
        p = params(100, 0, PIXD_MODE_FIT);
        free(in[i]);
    }
    assert_true(pixd_image_resize_owned(NULL, 0, &p, &b, err, sizeof err) < 0);
    free(px);
}

static int teardown(void **state) {
    (void)state;
    pixd_image_thread_release();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yuv_every_subsampling),
        cmocka_unit_test(yuv_every_orientation),
        cmocka_unit_test(yuv_scales_and_enlarges),
        cmocka_unit_test(yuv_sharpen_luma),
        cmocka_unit_test(yuv_falls_back),
        cmocka_unit_test(yuv_owned_input),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
