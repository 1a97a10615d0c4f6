/* pixd_image_decode, the decoding half of a classification job: DCT
 * scale chosen for the network's input, orientation, limits, formats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image.h"
#include "imgutil.h"

static uint8_t *jpeg_of(uint32_t w, uint32_t h, size_t *len) {
    uint8_t *px = tu_pattern(w, h, 3, 0, 1), *j = tu_jpeg(px, w, h, 3, 90, len);
    free(px);
    return j;
}

static void decoded(const uint8_t *in, size_t n, uint32_t min_w, uint32_t min_h,
                    pixd_image_pixels *out) {
    char err[256] = "";
    int rc = pixd_image_decode(in, n, min_w, min_h, 0, out, err, sizeof err);
    if (rc != 0)
        fail_msg("pixd_image_decode: %d %s", rc, err);
    assert_non_null(out->data);
    assert_true(out->stride >= (size_t)out->width * (size_t)out->channels);
}

static void decode_jpeg_smallest_dct_scale_that_keeps_the_input(void **state) {
    size_t n;
    uint8_t *j = jpeg_of(1280, 720, &n);
    pixd_image_pixels px;
    (void)state;
    decoded(j, n, 32, 32, &px); /* 1/8 */
    assert_int_equal(px.width, 160);
    assert_int_equal(px.height, 90);
    assert_int_equal(px.channels, 3);
    assert_int_equal(px.in_width, 1280);
    assert_int_equal(px.in_height, 720);
    assert_string_equal(px.in_type, "jpeg");
    decoded(j, n, 224, 224, &px); /* 720/4 = 180 < 224: 1/2 */
    assert_int_equal(px.width, 640);
    assert_int_equal(px.height, 360);
    decoded(j, n, 300, 100, &px); /* 1/4 */
    assert_int_equal(px.width, 320);
    decoded(j, n, 4000, 4000, &px); /* larger than the image: full size */
    assert_int_equal(px.width, 1280);
    assert_int_equal(px.height, 720);
    free(j);
}

static void decode_jpeg_turned_upright(void **state) {
    size_t n, m;
    uint8_t *j = jpeg_of(640, 480, &n), *rot = tu_with_exif(j, n, 6, &m);
    pixd_image_pixels px;
    (void)state;
    /* Lying on its side: the upright image is 480 wide, 640 high. */
    decoded(rot, m, 100, 150, &px);
    assert_int_equal(px.width, 120);
    assert_int_equal(px.height, 160);
    assert_int_equal(px.in_width, 640);
    assert_int_equal(px.in_height, 480);
    free(j);
    free(rot);
}

static void decode_keeps_colours(void **state) {
    const uint8_t red[3] = {40, 30, 220}; /* BGR */
    uint8_t *px0 = tu_solid(256, 256, 3, red), *j, *png;
    size_t n, m;
    pixd_image_pixels px;
    (void)state;
    j = tu_jpeg(px0, 256, 256, 3, 95, &n);
    png = tu_png(px0, 256, 256, 3, 8, 0, &m);
    decoded(j, n, 16, 16, &px);
    assert_int_equal(px.channels, 3);
    for (int c = 0; c < 3; c++)
        assert_true(abs((int)px.data[c] - (int)red[c]) <= 6);
    decoded(png, m, 16, 16, &px);
    assert_string_equal(px.in_type, "png");
    assert_int_equal(px.width, 256); /* no DCT scale outside JPEG */
    for (int c = 0; c < 3; c++)
        assert_int_equal(px.data[c], red[c]);
    free(px0);
    free(j);
    free(png);
}

static void decode_refuses_over_max_pixels_from_the_header(void **state) {
    size_t n;
    uint8_t *j = jpeg_of(640, 480, &n);
    pixd_image_pixels px;
    char err[256] = "";
    (void)state;
    assert_int_equal(pixd_image_decode(j, n, 32, 32, 640 * 480 - 1, &px, err, sizeof err),
                     -EFBIG);
    assert_non_null(strstr(err, "over --max-pixels"));
    assert_int_equal(pixd_image_decode(j, n, 32, 32, 640 * 480, &px, err, sizeof err), 0);
    free(j);
}

static void decode_refuses_what_is_not_an_image(void **state) {
    size_t n;
    uint8_t *j = jpeg_of(320, 240, &n), *noise = tu_random(4096, 3);
    pixd_image_pixels px;
    char err[256] = "";
    (void)state;
    assert_int_equal(pixd_image_decode((const uint8_t *)"hello", 5, 32, 32, 0, &px, err,
                                       sizeof err), -ENOTSUP);
    assert_non_null(strstr(err, "not an image"));
    err[0] = '\0';
    assert_true(pixd_image_decode(j, 200, 32, 32, 0, &px, err, sizeof err) < 0);
    assert_true(err[0] != '\0');
    noise[0] = 0xff, noise[1] = 0xd8, noise[2] = 0xff;
    err[0] = '\0';
    assert_true(pixd_image_decode(noise, 4096, 32, 32, 0, &px, err, sizeof err) < 0);
    assert_true(err[0] != '\0');
    free(j);
    free(noise);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_jpeg_smallest_dct_scale_that_keeps_the_input),
        cmocka_unit_test(decode_jpeg_turned_upright),
        cmocka_unit_test(decode_keeps_colours),
        cmocka_unit_test(decode_refuses_over_max_pixels_from_the_header),
        cmocka_unit_test(decode_refuses_what_is_not_an_image),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pixd_image_thread_release();
    return rc;
}
