/* Whole resize jobs on JPEG input: parameters, limits and hostile files,
 * then real round trips checked against a full-size reference. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image.h"
#include "imgutil.h"
#include "internal.h"

static pixd_resize_params params(uint32_t w, uint32_t h) {
    pixd_resize_params p;
    pixd_resize_params_default(&p);
    p.width = w;
    p.height = h;
    return p;
}

/* Resize, expecting success, and decode the JPEG output. */
static uint8_t *resize_ok(const uint8_t *in, size_t n, const pixd_resize_params *p,
                          pixd_resize_result *r, uint32_t *w, uint32_t *h, int *ch) {
    char err[256];
    int rc = pixd_image_resize(in, n, p, r, err, sizeof err);
    uint8_t *px;
    if (rc != 0)
        fail_msg("pixd_image_resize: %d %s", rc, err);
    assert_non_null(r->data);
    px = tu_unjpeg(r->data, r->len, w, h, ch);
    assert_int_equal(*w, r->out_width);
    assert_int_equal(*h, r->out_height);
    return px;
}

static int resize_fails(const uint8_t *in, size_t n, const pixd_resize_params *p,
                        char *err, size_t errlen) {
    pixd_resize_result r;
    int rc = pixd_image_resize(in, n, p, &r, err, errlen);
    assert_true(rc < 0);
    assert_null(r.data);
    assert_true(err[0] != '\0');
    return rc;
}

static void image_defaults(void **state) {
    pixd_resize_params p;
    (void)state;
    memset(&p, 0x5a, sizeof p);
    pixd_resize_params_default(&p);
    assert_int_equal(p.mode, PIXD_MODE_FIT);
    assert_int_equal(p.quality, 85);
    assert_int_equal(p.format, PIXD_FMT_JPEG);
    assert_int_equal(p.fast, 1);
    assert_int_equal(p.enlarge, 0);
    assert_int_equal(p.sharpen, 0);
    assert_true(p.sharpen_radius == 2.0f && p.sharpen_amount == 1.5f);
    assert_int_equal(p.sharpen_threshold, 3);
    assert_true(p.max_pixels == 50000000);
}

static void image_bad_params(void **state) {
    uint8_t jpg[] = {0xff, 0xd8, 0xff};
    char err[256];
    pixd_resize_params p = params(10, 10);
    (void)state;
    p.quality = 0;
    assert_int_equal(resize_fails(jpg, 3, &p, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "quality"));
    p = params(70000, 10);
    assert_int_equal(resize_fails(jpg, 3, &p, err, sizeof err), -EINVAL);
    p = params(10, 10);
    p.mode = (pixd_resize_mode)9;
    assert_int_equal(resize_fails(jpg, 3, &p, err, sizeof err), -EINVAL);
    p = params(10, 10);
    p.sharpen = 1;
    p.sharpen_radius = -1;
    assert_int_equal(resize_fails(jpg, 3, &p, err, sizeof err), -EINVAL);
}

/* SOI, DQT, SOF0 declaring 64000x64000, SOS, a little data: 5 KB with a
 * comment, decodable for all libjpeg knows until it needs pixels. */
static uint8_t *bomb(size_t *n) {
    static const uint8_t head[] = {
        0xff, 0xd8,
        0xff, 0xc0, 0, 17, 8, 0xfa, 0x00, 0xfa, 0x00, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0,
    };
    static const uint8_t sos[] = {0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0};
    uint8_t *p = calloc(1, 5000);
    size_t pos = 0;
    assert_non_null(p);
    memcpy(p, head, 2);
    pos = 2;
    p[pos++] = 0xff; /* DQT, table 0, all ones */
    p[pos++] = 0xdb;
    p[pos++] = 0;
    p[pos++] = 67;
    p[pos++] = 0;
    memset(p + pos, 1, 64);
    pos += 64;
    p[pos++] = 0xff; /* COM, padding to 5 KB */
    p[pos++] = 0xfe;
    p[pos++] = 4000 >> 8;
    p[pos++] = 4000 & 0xff;
    memset(p + pos, 'x', 3998);
    pos += 3998;
    memcpy(p + pos, head + 2, sizeof head - 2);
    pos += sizeof head - 2;
    memcpy(p + pos, sos, sizeof sos);
    pos += sizeof sos;
    memset(p + pos, 0x55, 100);
    pos += 100;
    p[pos++] = 0xff;
    p[pos++] = 0xd9;
    *n = pos;
    return p;
}

static void image_jpeg_bomb_refused(void **state) {
    size_t n;
    uint8_t *b = bomb(&n);
    pixd_resize_params p = params(800, 600);
    char err[256];
    (void)state;
    /* -EFBIG, not the -EBADMSG decoding the 100 bytes of "data" would
     * give: refused from the header, before any pixel buffer. */
    assert_int_equal(resize_fails(b, n, &p, err, sizeof err), -EFBIG);
    assert_string_equal(err, "image is 64000x64000 (4096.0 MP), over --max-pixels 50.0 MP");
    free(b);
}

static void image_jpeg_truncated(void **state) {
    size_t n;
    uint8_t *px = tu_pattern(512, 512, 3, 20, 1);
    uint8_t *jpg = tu_jpeg(px, 512, 512, 3, 90, &n);
    pixd_resize_params p = params(100, 100);
    char err[256];
    (void)state;
    assert_int_equal(resize_fails(jpg, n / 2, &p, err, sizeof err), -EBADMSG);
    assert_non_null(strstr(err, "truncated"));
    /* An EOI in the middle of the scan: corrupt, not silently grey. */
    jpg[n / 2] = 0xff;
    jpg[n / 2 + 1] = 0xd9;
    assert_int_equal(resize_fails(jpg, n, &p, err, sizeof err), -EBADMSG);
    assert_non_null(strstr(err, "corrupt JPEG"));
    /* Only a header. */
    assert_int_equal(resize_fails(jpg, 200, &p, err, sizeof err), -EBADMSG);
    free(px);
    free(jpg);
}

static void image_not_an_image(void **state) {
    uint8_t *junk = tu_random(10000, 7);
    pixd_resize_params p = params(100, 100);
    char err[256];
    (void)state;
    junk[0] = 'x';
    assert_int_equal(resize_fails(junk, 10000, &p, err, sizeof err), -ENOTSUP);
    assert_non_null(strstr(err, "not an image"));
    assert_int_equal(resize_fails((const uint8_t *)"", 0, &p, err, sizeof err), -ENOTSUP);
    assert_int_equal(resize_fails((const uint8_t *)"GIF89a\x10\0\x10\0\0\0\0", 13, &p, err,
                                  sizeof err), -ENOTSUP);
    free(junk);
}

/* The reference: a full-size decode by TurboJPEG, then INTER_AREA. */
static uint8_t *reference(const uint8_t *jpg, size_t n, uint32_t ow, uint32_t oh) {
    uint32_t w, h;
    int ch;
    uint8_t *full = tu_unjpeg(jpg, n, &w, &h, &ch);
    pixd__pixels src = {full, w, h, (size_t)w * ch, ch};
    pixd__pixels dst = {malloc((size_t)ow * oh * ch), ow, oh, (size_t)ow * ch, ch};
    assert_non_null(dst.data);
    assert_int_equal(pixd__cv_resize(&src, &dst), 0);
    free(full);
    return dst.data;
}

static uint8_t *photo_jpg;
static size_t photo_len;

static int make_photo(void **state) {
    uint8_t *px = tu_pattern(4000, 3000, 3, 12, 42);
    (void)state;
    photo_jpg = tu_jpeg(px, 4000, 3000, 3, 90, &photo_len);
    free(px);
    return 0;
}

static int free_photo(void **state) {
    (void)state;
    free(photo_jpg);
    pixd_image_thread_release();
    return 0;
}

static void check_photo(int fast, int denom) {
    pixd_resize_params p = params(800, 600);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    uint8_t *out, *ref;
    double psnr;

    p.fast = fast;
    out = resize_ok(photo_jpg, photo_len, &p, &r, &w, &h, &ch);
    assert_int_equal(w, 800);
    assert_int_equal(h, 600);
    assert_int_equal(ch, 3);
    assert_int_equal(r.in_width, 4000);
    assert_int_equal(r.in_height, 3000);
    assert_int_equal(r.scale_num, 1);
    assert_int_equal(r.scale_denom, denom);
    assert_string_equal(r.in_type, "jpeg");
    assert_int_equal(r.orientation, 1);
    ref = reference(photo_jpg, photo_len, 800, 600);
    psnr = tu_psnr(out, ref, (size_t)800 * 600 * 3);
    print_message("fast=%d: 1/%d, %.1f dB, %zu bytes, %.1f + %.1f + %.1f ms\n", fast, denom,
                  psnr, r.len, r.decode_ms, r.resize_ms, r.encode_ms);
    assert_true(psnr > 30.0);
    free(out);
    free(ref);
    free(r.data);
}

static void image_jpeg_fast_quarter(void **state) {
    (void)state;
    check_photo(1, 4);
}

static void image_jpeg_quality_half(void **state) {
    (void)state;
    check_photo(0, 2);
}

static void image_jpeg_modes(void **state) {
    struct {
        uint32_t bw, bh;
        pixd_resize_mode mode;
        int enlarge;
        uint32_t w, h;
        int denom;
    } cases[] = {
        {500, 375, PIXD_MODE_FIT, 0, 500, 375, 8},
        {300, 300, PIXD_MODE_FILL, 0, 300, 300, 8},
        {800, 800, PIXD_MODE_STRETCH, 0, 800, 800, 2},
        {0, 100, PIXD_MODE_FIT, 0, 133, 100, 8},
        {8000, 8000, PIXD_MODE_FIT, 0, 4000, 3000, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pixd_resize_params p = params(cases[i].bw, cases[i].bh);
        pixd_resize_result r;
        uint32_t w, h;
        int ch;
        uint8_t *out;
        p.mode = cases[i].mode;
        p.enlarge = cases[i].enlarge;
        out = resize_ok(photo_jpg, photo_len, &p, &r, &w, &h, &ch);
        assert_int_equal(w, cases[i].w);
        assert_int_equal(h, cases[i].h);
        assert_int_equal(r.scale_denom, cases[i].denom);
        free(out);
        free(r.data);
    }
}

static void image_jpeg_output_clean(void **state) {
    size_t n, in_n;
    uint8_t *px = tu_pattern(640, 480, 3, 4, 3), *jpg = tu_jpeg(px, 640, 480, 3, 90, &n);
    uint8_t *in = tu_with_exif(jpg, n, 1, &in_n), *out;
    pixd_resize_params p = params(320, 0);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    (void)state;
    assert_true(tu_jpeg_has_marker(in, in_n, 0xe1));
    p.progressive = 1;
    out = resize_ok(in, in_n, &p, &r, &w, &h, &ch);
    assert_int_equal(w, 320);
    assert_int_equal(h, 240);
    /* Metadata stripped; progressive as asked. */
    assert_false(tu_jpeg_has_marker(r.data, r.len, 0xe1));
    assert_true(tu_jpeg_has_marker(r.data, r.len, 0xc2));
    free(out);
    free(in);
    /* A progressive input decodes too. */
    in = r.data;
    in_n = r.len;
    p = params(160, 0);
    out = resize_ok(in, in_n, &p, &r, &w, &h, &ch);
    assert_int_equal(w, 160);
    assert_int_equal(h, 120);
    assert_false(tu_jpeg_has_marker(r.data, r.len, 0xc2));
    free(out);
    free(r.data);
    free(in);
    free(px);
    free(jpg);
}

static void image_jpeg_gray_stays_gray(void **state) {
    size_t n;
    uint8_t *px = tu_pattern(400, 300, 1, 4, 5), *jpg = tu_jpeg(px, 400, 300, 1, 90, &n);
    pixd_resize_params p = params(200, 200);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    uint8_t *out;
    (void)state;
    out = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    assert_int_equal(ch, 1);
    assert_int_equal(w, 200);
    assert_int_equal(h, 150);
    free(out);
    free(r.data);
    free(px);
    free(jpg);
}

static void image_jpeg_crop_only(void **state) {
    /* Covering 300x300 from 400x300 needs no scaling, only the centre: the
     * red stripe (columns 0..49) goes, the green one (50..99) is the left
     * edge of the output. */
    static const uint8_t red[3] = {0, 0, 255}, green[3] = {0, 255, 0}, grey[3] = {128, 128, 128};
    uint8_t *px = tu_solid(400, 300, 3, grey), *jpg, *out;
    size_t n;
    pixd_resize_params p = params(300, 300);
    pixd_resize_result r;
    uint32_t w, h;
    int ch;
    (void)state;
    tu_fill_rect(px, 400, 3, 0, 0, 48, 300, red);
    tu_fill_rect(px, 400, 3, 48, 0, 112, 300, green);
    jpg = tu_jpeg(px, 400, 300, 3, 95, &n);
    p.mode = PIXD_MODE_FILL;
    out = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    assert_int_equal(w, 300);
    assert_int_equal(h, 300);
    assert_int_equal(r.scale_denom, 1);
    assert_true(out[(150 * 300 + 4) * 3 + 1] > 200 && out[(150 * 300 + 4) * 3 + 2] < 60);
    free(out);
    free(r.data);
    free(jpg);
    /* A crop starting at the origin (65 rows, 64 kept from row 0). */
    jpg = tu_jpeg(px, 64, 65, 3, 95, &n);
    p = params(64, 64);
    p.mode = PIXD_MODE_FILL;
    out = resize_ok(jpg, n, &p, &r, &w, &h, &ch);
    assert_int_equal(w, 64);
    assert_int_equal(h, 64);
    free(out);
    free(r.data);
    free(jpg);
    free(px);
}

/* Where the stored image's top-left corner ends up, for each orientation
 * (0: top-left, 1: top-right, 2: bottom-right, 3: bottom-left). */
static const int corner_of[9] = {0, 0, 1, 2, 3, 0, 1, 2, 3};

static void image_jpeg_every_orientation(void **state) {
    static const uint8_t red[3] = {0, 0, 255};
    uint8_t blue[3] = {255, 0, 0};
    uint8_t *px = tu_solid(64, 32, 3, blue);
    size_t n;
    uint8_t *jpg;
    (void)state;
    tu_fill_rect(px, 64, 3, 0, 0, 16, 16, red);
    jpg = tu_jpeg(px, 64, 32, 3, 95, &n);
    for (int o = 1; o <= 8; o++) {
        size_t in_n;
        uint8_t *in = tu_with_exif(jpg, n, o, &in_n), *out;
        pixd_resize_params p = params(0, 0);
        pixd_resize_result r;
        uint32_t w, h, cx, cy;
        int ch, turned = o >= 5;
        out = resize_ok(in, in_n, &p, &r, &w, &h, &ch);
        assert_int_equal(r.orientation, o);
        assert_int_equal(w, turned ? 32 : 64);
        assert_int_equal(h, turned ? 64 : 32);
        cx = corner_of[o] == 1 || corner_of[o] == 2 ? w - 4 : 4;
        cy = corner_of[o] >= 2 ? h - 4 : 4;
        /* Red there, blue in the opposite corner. */
        assert_true(out[((size_t)cy * w + cx) * 3 + 2] > 200);
        assert_true(out[((size_t)(h - 1 - cy) * w + (w - 1 - cx)) * 3 + 0] > 200);
        free(out);
        free(r.data);
        /* With a box: it applies to the picture as seen. */
        p = params(16, 16);
        out = resize_ok(in, in_n, &p, &r, &w, &h, &ch);
        assert_int_equal(w, turned ? 8 : 16);
        assert_int_equal(h, turned ? 16 : 8);
        free(out);
        free(r.data);
        free(in);
    }
    free(px);
    free(jpg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(image_defaults),
        cmocka_unit_test(image_bad_params),
        cmocka_unit_test(image_jpeg_bomb_refused),
        cmocka_unit_test(image_jpeg_truncated),
        cmocka_unit_test(image_not_an_image),
        cmocka_unit_test(image_jpeg_fast_quarter),
        cmocka_unit_test(image_jpeg_quality_half),
        cmocka_unit_test(image_jpeg_modes),
        cmocka_unit_test(image_jpeg_output_clean),
        cmocka_unit_test(image_jpeg_gray_stays_gray),
        cmocka_unit_test(image_jpeg_crop_only),
        cmocka_unit_test(image_jpeg_every_orientation),
    };
    return cmocka_run_group_tests(tests, make_photo, free_photo);
}
