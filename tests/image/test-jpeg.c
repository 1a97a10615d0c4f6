/* The JPEG path beyond plain round trips: progressive scan limits, CMYK,
 * sharpening, output limits, and jobs on several threads at once. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "image.h"
#include "imgutil.h"

static pixd_resize_params params(uint32_t w, uint32_t h) {
    pixd_resize_params p;
    pixd_resize_params_default(&p);
    p.width = w;
    p.height = h;
    return p;
}

/* A 64x64 progressive JPEG of `scans` scans: all DC first, then one AC
 * coefficient per scan and component (legal, if odd). color: the CMYK
 * variant (sequential) instead, from 4-channel pixels. */
static uint8_t *encode_jpeglib(const uint8_t *px, int channels, int scans, size_t *len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    jpeg_scan_info script[1 + 3 * 63];
    unsigned char *buf = NULL;
    unsigned long n = 0;
    uint8_t *out;

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &n);
    c.image_width = 64;
    c.image_height = 64;
    c.input_components = channels;
    c.in_color_space = channels == 4 ? JCS_CMYK : JCS_EXT_BGR;
    jpeg_set_defaults(&c);
    if (scans) {
        int k = 1;
        assert_true(scans <= 1 + 3 * 63);
        script[0] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, 0, 0};
        for (int comp = 0; comp < 3 && k < scans; comp++)
            for (int s = 1; s <= 63 && k < scans; s++)
                script[k++] = (jpeg_scan_info){1, {comp, 0, 0, 0}, s, s, 0, 0};
        c.scan_info = script;
        c.num_scans = k;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < 64) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * 64 * channels);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    out = malloc(n);
    assert_non_null(out);
    memcpy(out, buf, n);
    free(buf);
    *len = n;
    return out;
}

static void jpeg_scan_limit(void **state) {
    uint8_t *px = tu_pattern(64, 64, 3, 30, 9);
    pixd_resize_params p = params(32, 32);
    char err[256];
    (void)state;
    /* 100 scans decode; 101 and a full 190 are refused. */
    static const int counts[] = {100, 101, 190};
    for (size_t i = 0; i < 3; i++) {
        size_t n;
        uint8_t *jpg = encode_jpeglib(px, 3, counts[i], &n);
        pixd_resize_result r;
        int rc = pixd_image_resize(jpg, n, &p, &r, err, sizeof err);
        if (counts[i] <= 100) {
            assert_int_equal(rc, 0);
            assert_int_equal(r.out_width, 32);
            free(r.data);
        } else {
            assert_int_equal(rc, -EBADMSG);
            assert_non_null(strstr(err, "scans"));
        }
        free(jpg);
    }
    free(px);
}

static void jpeg_cmyk(void **state) {
    /* Adobe CMYK is stored inverted: 255 is no ink. Left white, right
     * black (full K), a cyan band in the middle. */
    static const uint8_t white[4] = {255, 255, 255, 255}, black[4] = {255, 255, 255, 0},
                         cyan[4] = {0, 255, 255, 255};
    uint8_t *px = tu_solid(64, 64, 4, white);
    size_t n;
    uint8_t *jpg, *out;
    pixd_resize_params p = params(0, 0);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    char err[256];
    (void)state;
    tu_fill_rect(px, 64, 4, 48, 0, 64, 64, black);
    tu_fill_rect(px, 64, 4, 24, 0, 40, 64, cyan);
    jpg = encode_jpeglib(px, 4, 0, &n);
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
    out = tu_unjpeg(r.data, r.len, &w, &h, &ch);
    assert_int_equal(ch, 3);
    assert_true(out[(32 * 64 + 4) * 3 + 0] > 240 && out[(32 * 64 + 4) * 3 + 2] > 240);
    assert_true(out[(32 * 64 + 60) * 3 + 0] < 15 && out[(32 * 64 + 60) * 3 + 2] < 15);
    /* Cyan: no red, full green and blue (BGR order). */
    assert_true(out[(32 * 64 + 32) * 3 + 2] < 20 && out[(32 * 64 + 32) * 3 + 0] > 235);
    free(out);
    free(r.data);
    free(jpg);
    free(px);
}

static void jpeg_sharpen_overshoots(void **state) {
    static const uint8_t dark[3] = {64, 64, 64}, light[3] = {192, 192, 192};
    uint8_t *px = tu_solid(128, 64, 3, dark);
    size_t n;
    uint8_t *jpg;
    pixd_resize_params p = params(0, 0);
    (void)state;
    tu_fill_rect(px, 128, 3, 64, 0, 128, 64, light);
    jpg = tu_jpeg(px, 128, 64, 3, 100, &n);
    p.quality = 100;
    for (int sharpen = 0; sharpen <= 1; sharpen++) {
        pixd_resize_result r;
        uint32_t w, h;
        int ch, lo = 255, hi = 0;
        char err[256];
        uint8_t *out;
        p.sharpen = sharpen;
        assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
        out = tu_unjpeg(r.data, r.len, &w, &h, &ch);
        for (uint32_t x = 0; x < w; x++) {
            int v = out[(32 * w + x) * 3 + 1];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (sharpen)
            assert_true(lo < 44 && hi > 212);
        else
            assert_true(lo > 54 && hi < 202);
        free(out);
        free(r.data);
    }
    free(jpg);
    free(px);
}

static void jpeg_output_limits(void **state) {
    uint8_t *px = tu_pattern(64, 48, 3, 0, 1);
    size_t n;
    uint8_t *jpg = tu_jpeg(px, 64, 48, 3, 90, &n);
    pixd_resize_params p = params(60000, 60000);
    pixd_resize_result r;
    char err[256];
    (void)state;
    p.mode = PIXD_MODE_STRETCH;
    p.enlarge = 1;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "too large"));
    /* No limit at all is allowed, and enlarging when asked. */
    p = params(128, 0);
    p.max_pixels = 0;
    p.enlarge = 1;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
    assert_int_equal(r.out_width, 128);
    assert_int_equal(r.out_height, 96);
    free(r.data);
    /* The input limit is inclusive. */
    p = params(32, 0);
    p.max_pixels = 64 * 48;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
    free(r.data);
    p.max_pixels = 64 * 48 - 1;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), -EFBIG);
    free(jpg);
    free(px);
}

/* Jobs on two threads at once, each with its own parameters, must give
 * the same bytes as the same job alone. */
typedef struct {
    const uint8_t *in;
    size_t n;
    pixd_resize_params p;
    const uint8_t *expect;
    size_t expect_len;
    int mismatches;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 6; i++) {
        pixd_resize_result r;
        char err[256];
        if (pixd_image_resize(w->in, w->n, &w->p, &r, err, sizeof err) != 0 ||
            r.len != w->expect_len || memcmp(r.data, w->expect, r.len) != 0)
            w->mismatches++;
        free(r.data);
    }
    pixd_image_thread_release();
    return NULL;
}

static void jpeg_threads(void **state) {
    uint8_t *px = tu_pattern(1000, 750, 3, 10, 4);
    size_t n;
    uint8_t *jpg = tu_jpeg(px, 1000, 750, 3, 90, &n);
    worker w[2];
    pthread_t t[2];
    pixd_resize_result ref[2];
    char err[256];
    (void)state;
    for (int i = 0; i < 2; i++) {
        w[i] = (worker){.in = jpg, .n = n, .p = params(250 + 100 * i, 250)};
        w[i].p.mode = i ? PIXD_MODE_FILL : PIXD_MODE_FIT;
        w[i].p.sharpen = i;
        assert_int_equal(pixd_image_resize(jpg, n, &w[i].p, &ref[i], err, sizeof err), 0);
        w[i].expect = ref[i].data;
        w[i].expect_len = ref[i].len;
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].mismatches, 0);
        free(ref[i].data);
    }
    free(jpg);
    free(px);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jpeg_scan_limit),
        cmocka_unit_test(jpeg_cmyk),
        cmocka_unit_test(jpeg_sharpen_overshoots),
        cmocka_unit_test(jpeg_output_limits),
        cmocka_unit_test(jpeg_threads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pixd_image_thread_release();
    return rc;
}
