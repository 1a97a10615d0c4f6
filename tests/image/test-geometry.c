/* Resize geometry: each mode, one side 0, never enlarging, rounding, the
 * fill crop, every EXIF orientation, and the DCT scale choice at its exact
 * boundaries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geometry.h"

static pixd_image_geometry geo(uint32_t w, uint32_t h, int o, uint32_t bw, uint32_t bh,
                               pixd_resize_mode mode, int enlarge) {
    pixd_image_geometry g;
    assert_int_equal(pixd_image_geometry_compute(w, h, o, bw, bh, mode, enlarge, &g), 0);
    return g;
}

static void out_is(const pixd_image_geometry *g, uint32_t w, uint32_t h) {
    assert_int_equal(g->out_width, w);
    assert_int_equal(g->out_height, h);
}

static void crop_is(const pixd_image_geometry *g, uint32_t x, uint32_t y, uint32_t w,
                    uint32_t h) {
    assert_int_equal(g->crop.x, x);
    assert_int_equal(g->crop.y, y);
    assert_int_equal(g->crop.width, w);
    assert_int_equal(g->crop.height, h);
}

static void geometry_fit_inside_box(void **state) {
    pixd_image_geometry g = geo(4000, 3000, 1, 800, 600, PIXD_MODE_FIT, 0);
    (void)state;
    out_is(&g, 800, 600);
    crop_is(&g, 0, 0, 4000, 3000);
    assert_int_equal(g.resample_width, 800);
    assert_int_equal(g.resample_height, 600);
    g = geo(4000, 3000, 1, 800, 800, PIXD_MODE_FIT, 0);
    out_is(&g, 800, 600);
    g = geo(4000, 3000, 1, 1000, 600, PIXD_MODE_FIT, 0);
    out_is(&g, 800, 600);
    g = geo(3000, 4000, 1, 800, 600, PIXD_MODE_FIT, 0);
    out_is(&g, 450, 600);
}

static void geometry_fit_one_side(void **state) {
    pixd_image_geometry g = geo(4000, 3000, 1, 800, 0, PIXD_MODE_FIT, 0);
    (void)state;
    out_is(&g, 800, 600);
    g = geo(4000, 3000, 1, 0, 300, PIXD_MODE_FIT, 0);
    out_is(&g, 400, 300);
    /* 1001 * 3000 / 4000 = 750.75 rounds to 751. */
    g = geo(4000, 3000, 1, 1001, 0, PIXD_MODE_FIT, 0);
    out_is(&g, 1001, 751);
}

static void geometry_keep_size(void **state) {
    pixd_resize_mode modes[] = {PIXD_MODE_FIT, PIXD_MODE_FILL, PIXD_MODE_STRETCH};
    (void)state;
    for (int m = 0; m < 3; m++) {
        pixd_image_geometry g = geo(4000, 3000, 1, 0, 0, modes[m], 0);
        out_is(&g, 4000, 3000);
        crop_is(&g, 0, 0, 4000, 3000);
    }
}

static void geometry_never_enlarges(void **state) {
    pixd_image_geometry g = geo(640, 480, 1, 800, 800, PIXD_MODE_FIT, 0);
    (void)state;
    out_is(&g, 640, 480);
    g = geo(640, 480, 1, 1280, 0, PIXD_MODE_FIT, 0);
    out_is(&g, 640, 480);
    g = geo(640, 480, 1, 800, 800, PIXD_MODE_FIT, 1);
    out_is(&g, 800, 600);
    /* Exactly the input's width is not enlarging. */
    g = geo(640, 480, 1, 640, 0, PIXD_MODE_FIT, 0);
    out_is(&g, 640, 480);
    /* Stretch clamps each side to the input unless asked. */
    g = geo(640, 480, 1, 800, 400, PIXD_MODE_STRETCH, 0);
    out_is(&g, 640, 400);
    g = geo(640, 480, 1, 800, 400, PIXD_MODE_STRETCH, 1);
    out_is(&g, 800, 400);
}

static void geometry_never_zero(void **state) {
    pixd_image_geometry g = geo(10000, 1, 1, 100, 100, PIXD_MODE_FIT, 0);
    (void)state;
    out_is(&g, 100, 1);
    g = geo(1, 10000, 1, 100, 100, PIXD_MODE_FIT, 0);
    out_is(&g, 1, 100);
    g = geo(65000, 3, 1, 0, 1, PIXD_MODE_FIT, 0);
    out_is(&g, 21667, 1);
    g = geo(3, 65000, 1, 1, 1, PIXD_MODE_FIT, 0);
    out_is(&g, 1, 1);
}

static void geometry_fill_crops_centre(void **state) {
    pixd_image_geometry g = geo(4000, 3000, 1, 600, 600, PIXD_MODE_FILL, 0);
    (void)state;
    out_is(&g, 600, 600);
    crop_is(&g, 500, 0, 3000, 3000);
    assert_int_equal(g.resample_width, 600);
    g = geo(3000, 4000, 1, 800, 200, PIXD_MODE_FILL, 0);
    out_is(&g, 800, 200);
    crop_is(&g, 0, 1625, 3000, 750);
    /* One side 0: nothing to crop, as fit. */
    g = geo(4000, 3000, 1, 800, 0, PIXD_MODE_FILL, 0);
    out_is(&g, 800, 600);
    crop_is(&g, 0, 0, 4000, 3000);
}

static void geometry_fill_no_enlarge(void **state) {
    /* Covering 300x300 needs no enlarging: a centre crop at scale 1. */
    pixd_image_geometry g = geo(400, 300, 1, 300, 300, PIXD_MODE_FILL, 0);
    (void)state;
    out_is(&g, 300, 300);
    crop_is(&g, 50, 0, 300, 300);
    /* A box larger than the image: the image, uncropped. */
    g = geo(400, 300, 1, 800, 800, PIXD_MODE_FILL, 0);
    out_is(&g, 400, 300);
    crop_is(&g, 0, 0, 400, 300);
    /* Larger on one side only: cropped to the box on the other. */
    g = geo(400, 300, 1, 800, 100, PIXD_MODE_FILL, 0);
    out_is(&g, 400, 100);
    crop_is(&g, 0, 100, 400, 100);
    g = geo(400, 300, 1, 800, 800, PIXD_MODE_FILL, 1);
    out_is(&g, 800, 800);
    crop_is(&g, 50, 0, 300, 300);
}

static void geometry_stretch_exact(void **state) {
    pixd_image_geometry g = geo(4000, 3000, 1, 800, 800, PIXD_MODE_STRETCH, 0);
    (void)state;
    out_is(&g, 800, 800);
    crop_is(&g, 0, 0, 4000, 3000);
    g = geo(4000, 3000, 1, 0, 300, PIXD_MODE_STRETCH, 0);
    out_is(&g, 400, 300);
}

/* The box applies to the picture as seen: orientations 5..8 turn it. */
static void geometry_every_orientation(void **state) {
    (void)state;
    for (int o = 0; o <= 9; o++) {
        pixd_image_geometry g = geo(4000, 3000, o, 600, 800, PIXD_MODE_FIT, 0);
        int turned = o >= 5 && o <= 8;
        assert_int_equal(pixd_image_orientation_swaps(o), turned);
        if (turned) {
            out_is(&g, 600, 800);
            assert_int_equal(g.resample_width, 800);
            assert_int_equal(g.resample_height, 600);
        } else {
            out_is(&g, 600, 450);
            assert_int_equal(g.resample_width, 600);
            assert_int_equal(g.resample_height, 450);
        }
        crop_is(&g, 0, 0, 4000, 3000);
    }
}

static void geometry_orientation_fill_crop(void **state) {
    /* Seen as 3000x4000; covering 600x300 keeps 3000x1500 of it, which is
     * 1500x3000 of the stored image. */
    pixd_image_geometry g = geo(4000, 3000, 6, 600, 300, PIXD_MODE_FILL, 0);
    (void)state;
    out_is(&g, 600, 300);
    crop_is(&g, 1250, 0, 1500, 3000);
    assert_int_equal(g.resample_width, 300);
    assert_int_equal(g.resample_height, 600);
}

static void geometry_bad_input(void **state) {
    pixd_image_geometry g;
    (void)state;
    assert_int_equal(pixd_image_geometry_compute(0, 10, 1, 1, 1, PIXD_MODE_FIT, 0, &g),
                     -EINVAL);
    assert_int_equal(pixd_image_geometry_compute(10, 10, 1, 1, 1, (pixd_resize_mode)7, 0, &g),
                     -EINVAL);
}

static int scale(uint32_t w, uint32_t h, uint32_t bw, uint32_t bh, pixd_resize_mode mode,
                 int fast) {
    pixd_image_geometry g = geo(w, h, 1, bw, bh, mode, 0);
    return pixd_image_dct_scale(w, h, &g, fast);
}

static void geometry_scale_fast(void **state) {
    (void)state;
    assert_int_equal(scale(4000, 3000, 800, 600, PIXD_MODE_FIT, 1), 4);
    assert_int_equal(scale(4000, 3000, 500, 375, PIXD_MODE_FIT, 1), 8);
    assert_int_equal(scale(4000, 3000, 501, 0, PIXD_MODE_FIT, 1), 4);
    assert_int_equal(scale(4000, 3000, 1000, 750, PIXD_MODE_FIT, 1), 4);
    assert_int_equal(scale(4000, 3000, 1001, 0, PIXD_MODE_FIT, 1), 2);
    assert_int_equal(scale(4000, 3000, 2000, 1500, PIXD_MODE_FIT, 1), 2);
    assert_int_equal(scale(4000, 3000, 2001, 0, PIXD_MODE_FIT, 1), 1);
    assert_int_equal(scale(4000, 3000, 0, 0, PIXD_MODE_FIT, 1), 1);
    /* libjpeg rounds scaled sides up: 4001 / 8 decodes 501 wide. */
    assert_int_equal(scale(4001, 3001, 501, 0, PIXD_MODE_FIT, 1), 8);
    assert_int_equal(scale(4000, 3000, 64, 64, PIXD_MODE_FIT, 1), 8);
    /* Stretch: each side on its own. */
    assert_int_equal(scale(4000, 3000, 400, 751, PIXD_MODE_STRETCH, 1), 2);
}

static void geometry_scale_quality(void **state) {
    (void)state;
    /* Twice the target: 500x375 needs 1000x750, exactly 1/4. 250 wide is
     * 187.5 rounded up to 188 high, so 1/8 (375 high) is a row short. */
    assert_int_equal(scale(4000, 3000, 500, 375, PIXD_MODE_FIT, 0), 4);
    assert_int_equal(scale(4000, 3000, 501, 0, PIXD_MODE_FIT, 0), 2);
    assert_int_equal(scale(4000, 3000, 250, 0, PIXD_MODE_FIT, 0), 4);
    assert_int_equal(scale(4000, 3000, 248, 186, PIXD_MODE_FIT, 0), 8);
    assert_int_equal(scale(4000, 3000, 800, 600, PIXD_MODE_FIT, 0), 2);
    assert_int_equal(scale(4000, 3000, 1000, 750, PIXD_MODE_FIT, 0), 2);
    assert_int_equal(scale(4000, 3000, 1001, 0, PIXD_MODE_FIT, 0), 1);
}

static void geometry_scale_fill(void **state) {
    /* The 3000x3000 crop at 1/8 is 375 wide: exactly enough for 375. */
    pixd_image_geometry g = geo(4000, 3000, 1, 375, 375, PIXD_MODE_FILL, 0);
    pixd_image_rect r;
    (void)state;
    assert_int_equal(pixd_image_dct_scale(4000, 3000, &g, 1), 8);
    r = pixd_image_scale_crop(&g, 4000, 3000, 500, 375);
    assert_int_equal(r.x, 63);
    assert_int_equal(r.y, 0);
    assert_int_equal(r.width, 375);
    assert_int_equal(r.height, 375);
    assert_int_equal(scale(4000, 3000, 376, 376, PIXD_MODE_FILL, 1), 4);
}

static void geometry_scale_crop_bounds(void **state) {
    pixd_image_geometry g = geo(4000, 3000, 1, 600, 600, PIXD_MODE_FILL, 0);
    pixd_image_rect r;
    (void)state;
    /* Full image: unchanged. */
    g.crop = (pixd_image_rect){0, 0, 4000, 3000};
    r = pixd_image_scale_crop(&g, 4000, 3000, 1000, 750);
    assert_int_equal(r.width, 1000);
    assert_int_equal(r.height, 750);
    /* A 1-pixel crop at the far edge stays 1 pixel, inside. */
    g.crop = (pixd_image_rect){3999, 2999, 1, 1};
    r = pixd_image_scale_crop(&g, 4000, 3000, 500, 375);
    assert_int_equal(r.width, 1);
    assert_int_equal(r.height, 1);
    assert_int_equal(r.x, 499);
    assert_int_equal(r.y, 374);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(geometry_fit_inside_box),
        cmocka_unit_test(geometry_fit_one_side),
        cmocka_unit_test(geometry_keep_size),
        cmocka_unit_test(geometry_never_enlarges),
        cmocka_unit_test(geometry_never_zero),
        cmocka_unit_test(geometry_fill_crops_centre),
        cmocka_unit_test(geometry_fill_no_enlarge),
        cmocka_unit_test(geometry_stretch_exact),
        cmocka_unit_test(geometry_every_orientation),
        cmocka_unit_test(geometry_orientation_fill_crop),
        cmocka_unit_test(geometry_bad_input),
        cmocka_unit_test(geometry_scale_fast),
        cmocka_unit_test(geometry_scale_quality),
        cmocka_unit_test(geometry_scale_fill),
        cmocka_unit_test(geometry_scale_crop_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
