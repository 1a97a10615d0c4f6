/* Image headers: one valid header per format (and per variant), built by
 * hand from the format specifications, and one case per malformed one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imghdr.h"

/* A byte buffer that headers are written into piece by piece. */
typedef struct {
    uint8_t b[4096];
    size_t n;
} img;

static void put(img *m, const void *p, size_t n) {
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void put8(img *m, unsigned v) {
    uint8_t b = (uint8_t)v;
    put(m, &b, 1);
}
static void be16(img *m, unsigned v) { put8(m, v >> 8); put8(m, v); }
static void le16(img *m, unsigned v) { put8(m, v); put8(m, v >> 8); }
static void be32(img *m, uint32_t v) { be16(m, v >> 16); be16(m, v & 0xffff); }
static void le32(img *m, uint32_t v) { le16(m, v & 0xffff); le16(m, v >> 16); }
static void le24(img *m, uint32_t v) { le16(m, v & 0xffff); put8(m, v >> 16); }

static pixd_imghdr probe_ok(const img *m, const char *type, uint32_t w, uint32_t h) {
    pixd_imghdr hdr;
    assert_int_equal(pixd_imghdr_probe(m->b, m->n, &hdr), 0);
    assert_string_equal(hdr.type, type);
    assert_int_equal(hdr.width, w);
    assert_int_equal(hdr.height, h);
    return hdr;
}

static void probe_bad(const img *m, const char *type) {
    pixd_imghdr hdr;
    assert_int_equal(pixd_imghdr_probe(m->b, m->n, &hdr), -EINVAL);
    assert_string_equal(hdr.type, type);
    assert_int_equal(hdr.width, 0);
    assert_int_equal(hdr.height, 0);
}

/* Every prefix of a good header is recognised with dimensions 0 or the
 * right ones, or (shorter than the signature) not at all; never an error. */
static void prefixes_ok(const img *m, const char *type, uint32_t w, uint32_t h,
                        size_t sig) {
    for (size_t k = 0; k < m->n; k++) {
        pixd_imghdr hdr;
        /* A copy of exactly k bytes, so ASan sees any read past them. */
        uint8_t *c = malloc(k ? k : 1);
        int r;
        assert_non_null(c);
        memcpy(c, m->b, k);
        r = pixd_imghdr_probe(c, k, &hdr);
        free(c);
        if (k < sig) {
            assert_int_equal(r, -ENOENT);
            continue;
        }
        assert_int_equal(r, 0);
        assert_string_equal(hdr.type, type);
        assert_true((hdr.width == 0 && hdr.height == 0) ||
                    (hdr.width == w && hdr.height == h));
    }
}

/* ---- JPEG ---- */

static void jpeg_segment(img *m, unsigned marker, size_t len) {
    put8(m, 0xff);
    put8(m, marker);
    be16(m, (unsigned)len + 2);
    for (size_t i = 0; i < len; i++)
        put8(m, (unsigned)i);
}

static void jpeg_sof(img *m, unsigned marker, unsigned w, unsigned h) {
    put8(m, 0xff);
    put8(m, marker);
    be16(m, 8 + 3 * 3);
    put8(m, 8);
    be16(m, h);
    be16(m, w);
    put8(m, 3);
    for (unsigned c = 1; c <= 3; c++) {
        put8(m, c);
        put8(m, 0x11);
        put8(m, 0);
    }
}

static void jpeg_start(img *m) {
    put8(m, 0xff);
    put8(m, 0xd8);
}

static void imghdr_jpeg_baseline(void **state) {
    img m = {0};
    jpeg_start(&m);
    jpeg_segment(&m, 0xe0, 14); /* APP0 JFIF */
    jpeg_segment(&m, 0xdb, 65); /* DQT */
    jpeg_sof(&m, 0xc0, 640, 480);
    jpeg_segment(&m, 0xc4, 30); /* DHT */
    probe_ok(&m, "jpeg", 640, 480);
    prefixes_ok(&m, "jpeg", 640, 480, 3);
}

static void imghdr_jpeg_progressive_after_tables(void **state) {
    /* DHT (C4), JPG (C8) and DAC (CC) sit among the SOF codes but are
     * ordinary segments; the walk must skip them. */
    img m = {0};
    jpeg_start(&m);
    jpeg_segment(&m, 0xc4, 20);
    jpeg_segment(&m, 0xc8, 3);
    jpeg_segment(&m, 0xcc, 2);
    jpeg_segment(&m, 0xfe, 5); /* COM */
    jpeg_segment(&m, 0xdd, 2); /* DRI */
    jpeg_sof(&m, 0xc2, 65535, 1);
    probe_ok(&m, "jpeg", 65535, 1);
}

static void imghdr_jpeg_every_sof(void **state) {
    for (unsigned code = 0xc0; code <= 0xcf; code++) {
        img m = {0};
        if (code == 0xc4 || code == 0xc8 || code == 0xcc)
            continue;
        jpeg_start(&m);
        jpeg_sof(&m, code, 3, 2);
        probe_ok(&m, "jpeg", 3, 2);
    }
}

static void imghdr_jpeg_fill_and_standalone_markers(void **state) {
    img m = {0};
    jpeg_start(&m);
    put(&m, "\xff\xff\xff", 3); /* fill bytes before a marker */
    put8(&m, 0xe1);
    be16(&m, 4);
    be16(&m, 0);
    put(&m, "\xff\x01", 2);     /* TEM */
    put(&m, "\xff\xd0\xff\xd7", 4); /* RST0, RST7 */
    put(&m, "\xff\xff", 2);
    jpeg_sof(&m, 0xc1, 100, 200);
    probe_ok(&m, "jpeg", 100, 200);
    prefixes_ok(&m, "jpeg", 100, 200, 3);
}

static void imghdr_jpeg_large_exif(void **state) {
    /* A 64 KiB APP1 segment, as EXIF with a thumbnail makes. */
    static uint8_t buf[3 * 65536];
    size_t n = 0;
    pixd_imghdr hdr;
    buf[n++] = 0xff, buf[n++] = 0xd8;
    for (int s = 0; s < 2; s++) {
        buf[n++] = 0xff, buf[n++] = 0xe1, buf[n++] = 0xff, buf[n++] = 0xff;
        n += 0xffff - 2;
    }
    memcpy(buf + n, "\xff\xc0\x00\x11\x08\x0b\xb8\x0f\xa0\x03", 10);
    n += 10 + 9;
    assert_int_equal(pixd_imghdr_probe(buf, n, &hdr), 0);
    assert_string_equal(hdr.type, "jpeg");
    assert_int_equal(hdr.width, 4000);
    assert_int_equal(hdr.height, 3000);
    /* Cut inside the second segment: recognised, size not known yet. */
    assert_int_equal(pixd_imghdr_probe(buf, 70000, &hdr), 0);
    assert_string_equal(hdr.type, "jpeg");
    assert_int_equal(hdr.width, 0);
}

static void imghdr_jpeg_short_segment_length(void **state) {
    img m = {0};
    jpeg_start(&m);
    put(&m, "\xff\xe0\x00\x01", 4); /* a length that cannot count itself */
    jpeg_sof(&m, 0xc0, 1, 1);
    probe_bad(&m, "jpeg");
    m.n = 0;
    jpeg_start(&m);
    put(&m, "\xff\xe0\x00\x00", 4);
    probe_bad(&m, "jpeg");
}

static void imghdr_jpeg_bad_sof(void **state) {
    img m = {0};
    jpeg_start(&m);
    jpeg_sof(&m, 0xc0, 0, 10); /* width 0 */
    probe_bad(&m, "jpeg");
    m.n = 0;
    jpeg_start(&m);
    jpeg_sof(&m, 0xc0, 10, 0); /* height 0: DNL, which decoders refuse */
    probe_bad(&m, "jpeg");
    m.n = 0;
    jpeg_start(&m);
    put(&m, "\xff\xc0\x00\x07\x08\x00\x01\x00\x01\x01", 10); /* length < 8 */
    probe_bad(&m, "jpeg");
    m.n = 0;
    jpeg_start(&m);
    put(&m, "\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x03", 10); /* 3 comps, room for 1 */
    put(&m, "\x01\x11\x00", 3);
    probe_bad(&m, "jpeg");
    m.n = 0;
    jpeg_start(&m);
    put(&m, "\xff\xc0\x00\x08\x08\x00\x01\x00\x01\x00", 10); /* no components */
    probe_bad(&m, "jpeg");
}

static void imghdr_jpeg_marker_rules(void **state) {
    static const uint8_t *cases[] = {
        (const uint8_t *)"\xff\xd8\xff\xda\x00\x08",     /* SOS before SOF */
        (const uint8_t *)"\xff\xd8\xff\xd9",             /* EOI before SOF */
        (const uint8_t *)"\xff\xd8\xff\xd8\x00\x08",     /* second SOI */
        (const uint8_t *)"\xff\xd8\xff\x00\x00\x08",     /* stuffed byte */
        (const uint8_t *)"\xff\xd8\xff\xfe\x00\x02\x12", /* junk between segments */
    };
    static const size_t lens[] = {6, 4, 6, 6, 7};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pixd_imghdr hdr;
        assert_int_equal(pixd_imghdr_probe(cases[i], lens[i], &hdr), -EINVAL);
        assert_string_equal(hdr.type, "jpeg");
    }
}

static void imghdr_jpeg_only_soi(void **state) {
    pixd_imghdr hdr;
    /* FF D8 alone is not enough to call it JPEG; FF D8 FF is. */
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"\xff\xd8", 2, &hdr), -ENOENT);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"\xff\xd8\xff", 3, &hdr), 0);
    assert_string_equal(hdr.type, "jpeg");
    assert_int_equal(hdr.width, 0);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"\xff\xd8\xff\xff\xff", 5, &hdr), 0);
}

/* ---- PNG ---- */

static void png_ihdr(img *m, uint32_t len, const char *type, uint32_t w, uint32_t h,
                     unsigned depth, unsigned color) {
    put(m, "\x89PNG\r\n\x1a\n", 8);
    be32(m, len);
    put(m, type, 4);
    be32(m, w);
    be32(m, h);
    put8(m, depth);
    put8(m, color);
    put8(m, 0);
    put8(m, 0);
    put8(m, 0);
    be32(m, 0x12345678); /* CRC, not checked */
}

static void imghdr_png(void **state) {
    img m = {0};
    png_ihdr(&m, 13, "IHDR", 1920, 1080, 8, 6);
    probe_ok(&m, "png", 1920, 1080);
    prefixes_ok(&m, "png", 1920, 1080, 8);
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 16, 16, 4, 3); /* palette */
    probe_ok(&m, "png", 16, 16);
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 16, 16, 16, 0); /* grey */
    probe_ok(&m, "png", 16, 16);
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 16, 16, 16, 4); /* grey + alpha */
    m.b[28] = 1; /* Adam7 */
    probe_ok(&m, "png", 16, 16);
}

static void imghdr_png_largest(void **state) {
    img m = {0};
    png_ihdr(&m, 13, "IHDR", 0x7fffffff, 0x7fffffff, 1, 0);
    probe_ok(&m, "png", 0x7fffffff, 0x7fffffff);
}

static void imghdr_png_first_chunk_not_ihdr(void **state) {
    img m = {0};
    png_ihdr(&m, 13, "CgBI", 10, 10, 8, 6);
    probe_bad(&m, "png");
}

static void imghdr_png_ihdr_wrong_length(void **state) {
    img m = {0};
    png_ihdr(&m, 12, "IHDR", 10, 10, 8, 6);
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 0xffffffff, "IHDR", 10, 10, 8, 6);
    probe_bad(&m, "png");
}

static void imghdr_png_zero_or_huge_size(void **state) {
    img m = {0};
    png_ihdr(&m, 13, "IHDR", 0, 10, 8, 6);
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 10, 0, 8, 6);
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 0x80000000u, 10, 8, 6);
    probe_bad(&m, "png");
}

static void imghdr_png_bad_depth_or_method(void **state) {
    img m = {0};
    png_ihdr(&m, 13, "IHDR", 10, 10, 4, 2); /* RGB has no depth 4 */
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 10, 10, 8, 5); /* no colour type 5 */
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 10, 10, 16, 3); /* palettes go up to 8 bits */
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 10, 10, 3, 0); /* no depth 3 */
    probe_bad(&m, "png");
    m.n = 0;
    png_ihdr(&m, 13, "IHDR", 10, 10, 8, 6);
    m.b[26] = 1; /* compression method */
    probe_bad(&m, "png");
    m.b[26] = 0;
    m.b[28] = 2; /* interlace method */
    probe_bad(&m, "png");
}

/* ---- WebP ---- */

static void webp_start(img *m, const char *fourcc, uint32_t size) {
    put(m, "RIFF", 4);
    le32(m, 4 + 8 + size);
    put(m, "WEBP", 4);
    put(m, fourcc, 4);
    le32(m, size);
}

static void vp8(img *m, unsigned tag0, const char *start, unsigned w, unsigned h) {
    webp_start(m, "VP8 ", 30);
    put8(m, tag0);
    put8(m, 0);
    put8(m, 0);
    put(m, start, 3);
    le16(m, w);
    le16(m, h);
    for (int i = 0; i < 20; i++)
        put8(m, 0);
}

static void imghdr_webp_lossy(void **state) {
    img m = {0};
    /* Scale bits (the top two) are not part of the size. */
    vp8(&m, 0x10, "\x9d\x01\x2a", 0x4000 | 800, 0xc000 | 600);
    probe_ok(&m, "webp", 800, 600);
    prefixes_ok(&m, "webp", 800, 600, 12);
}

static void imghdr_webp_lossless(void **state) {
    img m = {0};
    uint32_t bits = (uint32_t)(1024 - 1) | (uint32_t)(768 - 1) << 14 | 1u << 28;
    webp_start(&m, "VP8L", 5);
    put8(&m, 0x2f);
    le32(&m, bits);
    probe_ok(&m, "webp", 1024, 768);
    prefixes_ok(&m, "webp", 1024, 768, 12);
    m.n = 0;
    webp_start(&m, "VP8L", 5);
    put8(&m, 0x2f);
    le32(&m, 0x3fff | 0x3fffu << 14);
    probe_ok(&m, "webp", 16384, 16384);
}

static void imghdr_webp_extended(void **state) {
    img m = {0};
    webp_start(&m, "VP8X", 10);
    put8(&m, 0x10);
    put(&m, "\0\0\0", 3);
    le24(&m, 0xffffff);
    le24(&m, 299);
    probe_ok(&m, "webp", 16777216, 300);
    prefixes_ok(&m, "webp", 16777216, 300, 12);
}

static void imghdr_webp_bad_first_chunk(void **state) {
    img m = {0};
    webp_start(&m, "ALPH", 10);
    for (int i = 0; i < 10; i++)
        put8(&m, 0);
    probe_bad(&m, "webp");
}

static void imghdr_webp_lossy_not_key_frame(void **state) {
    img m = {0};
    vp8(&m, 0x11, "\x9d\x01\x2a", 10, 10);
    probe_bad(&m, "webp");
}

static void imghdr_webp_lossy_bad_start_code(void **state) {
    img m = {0};
    vp8(&m, 0x10, "\x9d\x01\x2b", 10, 10);
    probe_bad(&m, "webp");
}

static void imghdr_webp_lossy_zero_size(void **state) {
    img m = {0};
    vp8(&m, 0x10, "\x9d\x01\x2a", 0xc000, 10);
    probe_bad(&m, "webp");
}

static void imghdr_webp_lossless_bad_signature_or_version(void **state) {
    img m = {0};
    webp_start(&m, "VP8L", 5);
    put8(&m, 0x2e);
    le32(&m, 0);
    probe_bad(&m, "webp");
    m.n = 0;
    webp_start(&m, "VP8L", 5);
    put8(&m, 0x2f);
    le32(&m, 1u << 29);
    probe_bad(&m, "webp");
}

static void imghdr_webp_chunk_too_small(void **state) {
    img m = {0};
    webp_start(&m, "VP8X", 9);
    for (int i = 0; i < 10; i++)
        put8(&m, 0);
    probe_bad(&m, "webp");
    m.n = 0;
    webp_start(&m, "VP8L", 4);
    probe_bad(&m, "webp");
    m.n = 0;
    webp_start(&m, "VP8 ", 9);
    probe_bad(&m, "webp");
}

static void imghdr_riff_not_webp(void **state) {
    img m = {0};
    pixd_imghdr hdr;
    put(&m, "RIFF\x24\0\0\0WAVEfmt ", 16);
    assert_int_equal(pixd_imghdr_probe(m.b, m.n, &hdr), -ENOENT);
    assert_string_equal(hdr.type, "");
}

/* ---- GIF ---- */

static void imghdr_gif(void **state) {
    img m = {0};
    put(&m, "GIF89a", 6);
    le16(&m, 320);
    le16(&m, 200);
    put(&m, "\xf7\x00\x00", 3);
    probe_ok(&m, "gif", 320, 200);
    prefixes_ok(&m, "gif", 320, 200, 6);
    memcpy(m.b, "GIF87a", 6);
    probe_ok(&m, "gif", 320, 200);
    memcpy(m.b, "GIF88a", 6);
    m.n = 10;
    {
        pixd_imghdr hdr;
        assert_int_equal(pixd_imghdr_probe(m.b, m.n, &hdr), -ENOENT);
    }
}

static void imghdr_gif_zero_screen(void **state) {
    /* Reported as not known, not refused: browsers show such files. */
    img m = {0};
    put(&m, "GIF89a\0\0\0\0", 10);
    probe_ok(&m, "gif", 0, 0);
}

/* ---- BMP ---- */

static void bmp_start(img *m, uint32_t info_size) {
    put(m, "BM", 2);
    le32(m, 1000);
    le32(m, 0);
    le32(m, 14 + info_size);
    le32(m, info_size);
}

static void bmp_info(img *m, uint32_t size, uint32_t w, uint32_t h) {
    bmp_start(m, size);
    le32(m, w);
    le32(m, h);
    le16(m, 1);
    le16(m, 24);
    for (uint32_t i = 16; i < size; i++)
        put8(m, 0);
}

static void imghdr_bmp_info_header(void **state) {
    static const uint32_t sizes[] = {16, 40, 52, 56, 64, 108, 124};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        img m = {0};
        bmp_info(&m, sizes[i], 640, 480);
        probe_ok(&m, "bmp", 640, 480);
        prefixes_ok(&m, "bmp", 640, 480, 18);
    }
}

static void imghdr_bmp_top_down(void **state) {
    img m = {0};
    bmp_info(&m, 40, 640, (uint32_t)-480);
    probe_ok(&m, "bmp", 640, 480);
    m.n = 0;
    bmp_info(&m, 40, 0x7fffffff, 0x80000001u); /* -INT32_MAX */
    probe_ok(&m, "bmp", 0x7fffffff, 0x7fffffff);
}

static void imghdr_bmp_core_header(void **state) {
    img m = {0};
    bmp_start(&m, 12);
    le16(&m, 65535);
    le16(&m, 2);
    le16(&m, 1);
    le16(&m, 24);
    probe_ok(&m, "bmp", 65535, 2);
    prefixes_ok(&m, "bmp", 65535, 2, 18);
}

static void imghdr_bmp_height_int32_min(void **state) {
    img m = {0};
    bmp_info(&m, 40, 10, 0x80000000u);
    probe_bad(&m, "bmp");
}

static void imghdr_bmp_zero_or_negative_width(void **state) {
    img m = {0};
    bmp_info(&m, 40, 0, 10);
    probe_bad(&m, "bmp");
    m.n = 0;
    bmp_info(&m, 40, (uint32_t)-10, 10);
    probe_bad(&m, "bmp");
    m.n = 0;
    bmp_info(&m, 40, 10, 0);
    probe_bad(&m, "bmp");
    m.n = 0;
    bmp_start(&m, 12);
    le16(&m, 0);
    le16(&m, 10);
    probe_bad(&m, "bmp");
}

static void imghdr_bmp_unknown_header_size(void **state) {
    /* "BM" with an info header size no BMP has is not taken for one. */
    img m = {0};
    pixd_imghdr hdr;
    bmp_info(&m, 41, 10, 10);
    assert_int_equal(pixd_imghdr_probe(m.b, m.n, &hdr), -ENOENT);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"BMW owners' club\n\n\n", 19, &hdr),
                     -ENOENT);
    assert_string_equal(hdr.type, "");
}

/* ---- Other ---- */

static void imghdr_unknown_and_empty(void **state) {
    pixd_imghdr hdr;
    memset(&hdr, 0x55, sizeof hdr);
    assert_int_equal(pixd_imghdr_probe(NULL, 0, &hdr), -ENOENT);
    assert_string_equal(hdr.type, "");
    assert_int_equal(hdr.width, 0);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"%PDF-1.7\n", 9, &hdr), -ENOENT);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"\x89PNG\r\n\x1a", 7, &hdr), -ENOENT);
    assert_int_equal(pixd_imghdr_probe((const uint8_t *)"GIF89", 5, &hdr), -ENOENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imghdr_jpeg_baseline),
        cmocka_unit_test(imghdr_jpeg_progressive_after_tables),
        cmocka_unit_test(imghdr_jpeg_every_sof),
        cmocka_unit_test(imghdr_jpeg_fill_and_standalone_markers),
        cmocka_unit_test(imghdr_jpeg_large_exif),
        cmocka_unit_test(imghdr_jpeg_short_segment_length),
        cmocka_unit_test(imghdr_jpeg_bad_sof),
        cmocka_unit_test(imghdr_jpeg_marker_rules),
        cmocka_unit_test(imghdr_jpeg_only_soi),
        cmocka_unit_test(imghdr_png),
        cmocka_unit_test(imghdr_png_largest),
        cmocka_unit_test(imghdr_png_first_chunk_not_ihdr),
        cmocka_unit_test(imghdr_png_ihdr_wrong_length),
        cmocka_unit_test(imghdr_png_zero_or_huge_size),
        cmocka_unit_test(imghdr_png_bad_depth_or_method),
        cmocka_unit_test(imghdr_webp_lossy),
        cmocka_unit_test(imghdr_webp_lossless),
        cmocka_unit_test(imghdr_webp_extended),
        cmocka_unit_test(imghdr_webp_bad_first_chunk),
        cmocka_unit_test(imghdr_webp_lossy_not_key_frame),
        cmocka_unit_test(imghdr_webp_lossy_bad_start_code),
        cmocka_unit_test(imghdr_webp_lossy_zero_size),
        cmocka_unit_test(imghdr_webp_lossless_bad_signature_or_version),
        cmocka_unit_test(imghdr_webp_chunk_too_small),
        cmocka_unit_test(imghdr_riff_not_webp),
        cmocka_unit_test(imghdr_gif),
        cmocka_unit_test(imghdr_gif_zero_screen),
        cmocka_unit_test(imghdr_bmp_info_header),
        cmocka_unit_test(imghdr_bmp_top_down),
        cmocka_unit_test(imghdr_bmp_core_header),
        cmocka_unit_test(imghdr_bmp_height_int32_min),
        cmocka_unit_test(imghdr_bmp_zero_or_negative_width),
        cmocka_unit_test(imghdr_bmp_unknown_header_size),
        cmocka_unit_test(imghdr_unknown_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
