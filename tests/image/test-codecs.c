/* Formats other than JPEG, through the codecs module: PNG (with alpha,
 * 16-bit, EXIF orientation), WebP, BMP in; PNG and WebP out; limits
 * checked before the module decodes. Run with "missing" as argument (and
 * PIXD_MODULE_DIR pointing nowhere), it checks the error when the module
 * is not installed instead. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <webp/encode.h>

#include "codecs.h"
#include "image.h"
#include "imghdr.h"
#include "imgutil.h"

static const uint8_t blue[4] = {255, 0, 0, 255}, clear[4] = {0, 0, 0, 0};

static pixd_resize_params params(uint32_t w, uint32_t h, pixd_format f) {
    pixd_resize_params p;
    pixd_resize_params_default(&p);
    p.width = w;
    p.height = h;
    p.format = f;
    return p;
}

static pixd_resize_result resize_ok(const uint8_t *in, size_t n, const pixd_resize_params *p) {
    pixd_resize_result r;
    char err[256];
    int rc = pixd_image_resize(in, n, p, &r, err, sizeof err);
    if (rc != 0)
        fail_msg("pixd_image_resize: %d %s", rc, err);
    return r;
}

/* Decode an output through the module itself (it is what reads PNG and
 * WebP here); the caller releases *handle. */
static pixd__pixels decode(const pixd_resize_result *r, void **handle) {
    const pixd_codecs *c;
    pixd__pixels px;
    char err[256];
    assert_int_equal(pixd__codecs_get(&c, err, sizeof err), 0);
    assert_int_equal(c->decode(r->data, r->len, &px, handle, err, sizeof err), 0);
    assert_int_equal(px.width, r->out_width);
    assert_int_equal(px.height, r->out_height);
    return px;
}

static void release(void *handle) {
    const pixd_codecs *c;
    char err[256];
    assert_int_equal(pixd__codecs_get(&c, err, sizeof err), 0);
    c->release(handle);
}

static const uint8_t *at(const pixd__pixels *px, uint32_t x, uint32_t y) {
    return px->data + y * px->stride + (size_t)x * px->channels;
}

static void codecs_png_to_jpeg(void **state) {
    uint8_t *px = tu_pattern(300, 200, 3, 0, 1);
    size_t n;
    uint8_t *png = tu_png(px, 300, 200, 3, 8, 0, &n), *out;
    pixd_resize_params p = params(150, 150, PIXD_FMT_JPEG);
    pixd_resize_result r = resize_ok(png, n, &p);
    uint32_t w, h;
    int ch;
    (void)state;
    assert_string_equal(r.in_type, "png");
    assert_int_equal(r.scale_num, 1);
    assert_int_equal(r.scale_denom, 1);
    out = tu_unjpeg(r.data, r.len, &w, &h, &ch);
    assert_int_equal(w, 150);
    assert_int_equal(h, 100);
    /* The gradient's right edge: blue high (BGR order). */
    assert_true(out[(50 * 150 + 149) * 3 + 0] > 230);
    free(out);
    free(r.data);
    free(png);
    free(px);
}

/* Left half fully transparent black, right half opaque blue, meeting
 * between columns 100 and 101. */
static uint8_t *half_clear_png(size_t *n) {
    uint8_t *px = tu_solid(200, 100, 4, clear), *png;
    tu_fill_rect(px, 200, 4, 101, 0, 200, 100, blue);
    png = tu_png(px, 200, 100, 4, 8, 0, n);
    free(px);
    return png;
}

static void codecs_alpha_on_white(void **state) {
    size_t n;
    uint8_t *png = half_clear_png(&n), *out;
    pixd_resize_params p = params(100, 0, PIXD_FMT_JPEG);
    pixd_resize_result r = resize_ok(png, n, &p);
    uint32_t w, h;
    int ch;
    (void)state;
    out = tu_unjpeg(r.data, r.len, &w, &h, &ch);
    assert_int_equal(w, 100);
    assert_int_equal(h, 50);
    assert_true(out[(25 * 100 + 10) * 3 + 1] > 240); /* white: green high */
    assert_true(out[(25 * 100 + 90) * 3 + 1] < 15);  /* blue: green low */
    free(out);
    free(r.data);
    free(png);
}

static void codecs_png_keeps_alpha(void **state) {
    size_t n;
    uint8_t *png = half_clear_png(&n);
    pixd_resize_params p = params(50, 0, PIXD_FMT_PNG);
    pixd_resize_result r = resize_ok(png, n, &p);
    void *handle;
    pixd__pixels px;
    (void)state;
    assert_int_equal(memcmp(r.data, "\x89PNG", 4), 0);
    px = decode(&r, &handle);
    assert_int_equal(px.channels, 4);
    assert_int_equal(at(&px, 2, 12)[3], 0);
    assert_int_equal(at(&px, 47, 12)[3], 255);
    assert_int_equal(at(&px, 47, 12)[0], 255);
    /* Where they meet (source columns 100..103: one clear, three blue),
     * partly transparent blue: the clear pixel's black does not bleed in,
     * as it would without premultiplied alpha. */
    assert_in_range(at(&px, 25, 12)[3], 185, 197);
    assert_true(at(&px, 25, 12)[0] >= 250);
    release(handle);
    free(r.data);
    free(png);
}

static void codecs_png_gray16(void **state) {
    uint8_t *px = tu_pattern(64, 64, 1, 0, 1);
    size_t n;
    uint8_t *png = tu_png(px, 64, 64, 1, 16, 0, &n);
    pixd_resize_params p = params(32, 32, PIXD_FMT_PNG);
    pixd_resize_result r = resize_ok(png, n, &p);
    void *handle;
    pixd__pixels out;
    (void)state;
    out = decode(&r, &handle);
    assert_int_equal(out.channels, 1);
    assert_int_equal(out.width, 32);
    release(handle);
    free(r.data);
    free(png);
    free(px);
}

static void codecs_png_orientation(void **state) {
    uint8_t *px = tu_pattern(80, 40, 3, 0, 1);
    size_t n;
    uint8_t *png = tu_png(px, 80, 40, 3, 8, 6, &n);
    pixd_resize_params p = params(0, 0, PIXD_FMT_PNG);
    pixd_resize_result r = resize_ok(png, n, &p);
    (void)state;
    assert_int_equal(r.orientation, 6);
    assert_int_equal(r.out_width, 40);
    assert_int_equal(r.out_height, 80);
    free(r.data);
    free(png);
    free(px);
}

static void codecs_bmp(void **state) {
    uint8_t *px = tu_pattern(120, 90, 3, 0, 1);
    size_t n;
    uint8_t *bmp = tu_bmp(px, 120, 90, &n);
    pixd_resize_params p = params(60, 60, PIXD_FMT_WEBP);
    pixd_resize_result r = resize_ok(bmp, n, &p);
    pixd_imghdr hdr;
    (void)state;
    assert_string_equal(r.in_type, "bmp");
    assert_int_equal(pixd_imghdr_probe(r.data, r.len, &hdr), 0);
    assert_string_equal(hdr.type, "webp");
    assert_int_equal(hdr.width, 60);
    assert_int_equal(hdr.height, 45);
    free(r.data);
    free(bmp);
    free(px);
}

static void codecs_webp(void **state) {
    uint8_t *px = tu_pattern(160, 120, 3, 0, 1), *webp = NULL, *out;
    size_t n = WebPEncodeBGR(px, 160, 120, 160 * 3, 90, &webp);
    pixd_resize_params p = params(80, 80, PIXD_FMT_JPEG);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    (void)state;
    assert_true(n > 0);
    r = resize_ok(webp, n, &p);
    assert_string_equal(r.in_type, "webp");
    out = tu_unjpeg(r.data, r.len, &w, &h, &ch);
    assert_int_equal(w, 80);
    assert_int_equal(h, 60);
    free(out);
    free(r.data);
    WebPFree(webp);
    free(px);

    /* Lossless with alpha, out as PNG: the alpha survives. */
    px = tu_solid(64, 32, 4, clear);
    tu_fill_rect(px, 64, 4, 32, 0, 64, 32, blue);
    n = WebPEncodeLosslessBGRA(px, 64, 32, 64 * 4, &webp);
    assert_true(n > 0);
    p = params(32, 0, PIXD_FMT_PNG);
    r = resize_ok(webp, n, &p);
    {
        void *handle;
        pixd__pixels d = decode(&r, &handle);
        assert_int_equal(d.channels, 4);
        assert_int_equal(at(&d, 2, 8)[3], 0);
        assert_int_equal(at(&d, 30, 8)[3], 255);
        release(handle);
    }
    free(r.data);
    /* Cut to its first 30 bytes: the header's size is there, the rest
     * is not. */
    {
        char err[256];
        assert_int_equal(pixd_image_resize(webp, 30, &p, &r, err, sizeof err), -EBADMSG);
    }
    WebPFree(webp);
    free(px);
}

static void codecs_limits_before_decoding(void **state) {
    uint8_t *px = tu_pattern(16, 16, 3, 0, 1);
    size_t n;
    uint8_t *png = tu_png(px, 16, 16, 3, 8, 0, &n);
    pixd_resize_params p = params(8, 8, PIXD_FMT_JPEG);
    pixd_resize_result r;
    char err[256];
    (void)state;
    /* Declares 64000x64000 in IHDR; the IDAT holds 16x16. */
    png[16] = png[20] = 0;
    png[17] = png[21] = 0;
    png[18] = png[22] = 0xfa;
    png[19] = png[23] = 0x00;
    assert_int_equal(pixd_image_resize(png, n, &p, &r, err, sizeof err), -EFBIG);
    assert_string_equal(err, "image is 64000x64000 (4096.0 MP), over --max-pixels 50.0 MP");
    free(png);
    /* Truncated: the header is there, the pixels are not. */
    png = tu_png(px, 16, 16, 3, 8, 0, &n);
    assert_int_equal(pixd_image_resize(png, n - 20, &p, &r, err, sizeof err), -EBADMSG);
    assert_int_equal(pixd_image_resize(png, 20, &p, &r, err, sizeof err), -EBADMSG);
    assert_non_null(strstr(err, "truncated"));
    free(png);
    free(px);
}

static void codecs_missing_module(void **state) {
    uint8_t *px = tu_pattern(16, 16, 3, 0, 1);
    size_t n;
    uint8_t *png = tu_png(px, 16, 16, 3, 8, 0, &n), *jpg;
    pixd_resize_params p = params(8, 8, PIXD_FMT_JPEG);
    pixd_resize_result r;
    char err[256];
    (void)state;
    assert_int_equal(pixd_image_resize(png, n, &p, &r, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "image codecs module not found in /nonexistent"));
    assert_non_null(strstr(err, "PIXD_MODULE_DIR"));
    /* JPEG to JPEG never needs it. */
    jpg = tu_jpeg(px, 16, 16, 3, 90, &n);
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), 0);
    free(r.data);
    p.format = PIXD_FMT_PNG;
    assert_int_equal(pixd_image_resize(jpg, n, &p, &r, err, sizeof err), -ENOENT);
    free(jpg);
    free(png);
    free(px);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codecs_png_to_jpeg),
        cmocka_unit_test(codecs_alpha_on_white),
        cmocka_unit_test(codecs_png_keeps_alpha),
        cmocka_unit_test(codecs_png_gray16),
        cmocka_unit_test(codecs_png_orientation),
        cmocka_unit_test(codecs_bmp),
        cmocka_unit_test(codecs_webp),
        cmocka_unit_test(codecs_limits_before_decoding),
    };
    const struct CMUnitTest missing[] = {
        cmocka_unit_test(codecs_missing_module),
    };
    int rc;
    if (argc > 1 && strcmp(argv[1], "missing") == 0)
        rc = cmocka_run_group_tests(missing, NULL, NULL);
    else
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    pixd_image_thread_release();
    return rc;
}
