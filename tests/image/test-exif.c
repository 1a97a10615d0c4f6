/* EXIF orientation: valid little- and big-endian blocks, every value, and
 * hostile ones (cut short, offsets out of bounds, counts past the data,
 * IFDs pointing at themselves), plus the PNG and WebP containers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exif.h"

typedef struct {
    uint8_t b[512];
    size_t n;
    int be;
} buf;

static void put8(buf *m, unsigned v) {
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = (uint8_t)v;
}
static void put(buf *m, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        put8(m, ((const uint8_t *)p)[i]);
}
static void u16(buf *m, unsigned v) {
    if (m->be) {
        put8(m, v >> 8);
        put8(m, v);
    } else {
        put8(m, v);
        put8(m, v >> 8);
    }
}
static void u32(buf *m, uint32_t v) {
    if (m->be) {
        u16(m, v >> 16);
        u16(m, v & 0xffff);
    } else {
        u16(m, v & 0xffff);
        u16(m, v >> 16);
    }
}
static void entry(buf *m, unsigned tag, unsigned type, uint32_t count, uint32_t value) {
    u16(m, tag);
    u16(m, type);
    u32(m, count);
    if (type == 3) {
        u16(m, value);
        u16(m, 0);
    } else {
        u32(m, value);
    }
}

/* "Exif\0\0", a TIFF header, IFD0 at 8 with a Make entry, then the
 * orientation (when tag is 0x0112), then a next-IFD offset. */
static buf block(int be, int prefix, unsigned tag, unsigned type, uint32_t value) {
    buf m = {.be = be};
    if (prefix)
        put(&m, "Exif\0\0", 6);
    put(&m, be ? "MM\0*" : "II*\0", 4);
    u32(&m, 8);
    u16(&m, 2);
    entry(&m, 0x010f, 2, 4, 0x41424300); /* Make "ABC" */
    entry(&m, tag, type, 1, value);
    u32(&m, 0);
    return m;
}

/* Parse an exact-size heap copy, so ASan sees any read past the end. */
static int parse(const uint8_t *p, size_t n) {
    uint8_t *c = malloc(n ? n : 1);
    int r;
    assert_non_null(c);
    memcpy(c, p, n);
    r = pixd_exif_orientation(c, n);
    free(c);
    return r;
}

static void exif_little_endian(void **state) {
    buf m = block(0, 1, 0x0112, 3, 6);
    (void)state;
    assert_int_equal(parse(m.b, m.n), 6);
}

static void exif_big_endian(void **state) {
    buf m = block(1, 1, 0x0112, 3, 8);
    (void)state;
    assert_int_equal(parse(m.b, m.n), 8);
}

static void exif_bare_tiff(void **state) {
    buf m = block(1, 0, 0x0112, 3, 3);
    (void)state;
    assert_int_equal(parse(m.b, m.n), 3);
}

static void exif_every_value(void **state) {
    (void)state;
    for (uint32_t v = 0; v <= 10; v++) {
        buf m = block(v & 1, 1, 0x0112, 3, v);
        assert_int_equal(parse(m.b, m.n), v >= 1 && v <= 8 ? (int)v : 0);
    }
    /* A LONG is accepted too; other types and counts are not. */
    buf m = block(0, 1, 0x0112, 4, 5);
    assert_int_equal(parse(m.b, m.n), 5);
    m = block(0, 1, 0x0112, 2, 5);
    assert_int_equal(parse(m.b, m.n), 0);
    m = block(0, 1, 0x0112, 3, 5);
    m.b[6 + 8 + 2 + 12 + 4] = 2; /* count 2 */
    assert_int_equal(parse(m.b, m.n), 0);
}

static void exif_no_orientation(void **state) {
    buf m = block(0, 1, 0x0110, 3, 6); /* Model, not orientation */
    (void)state;
    assert_int_equal(parse(m.b, m.n), 0);
}

static void exif_truncated(void **state) {
    buf m = block(0, 1, 0x0112, 3, 6);
    /* The orientation entry ends 4 bytes before the next-IFD offset. */
    size_t entry_end = m.n - 4;
    (void)state;
    for (size_t k = 0; k < m.n; k++)
        assert_int_equal(parse(m.b, k), k >= entry_end ? 6 : 0);
}

static void exif_offset_out_of_bounds(void **state) {
    static const uint32_t offsets[] = {0, 4, 7, 36, 37, 38, 0x7fffffff, 0xfffffff8, 0xffffffff};
    (void)state;
    for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
        buf m = block(0, 1, 0x0112, 3, 6);
        m.b[10] = (uint8_t)offsets[i];
        m.b[11] = (uint8_t)(offsets[i] >> 8);
        m.b[12] = (uint8_t)(offsets[i] >> 16);
        m.b[13] = (uint8_t)(offsets[i] >> 24);
        assert_int_equal(parse(m.b, m.n), 0);
    }
}

static void exif_huge_count(void **state) {
    buf m = block(1, 1, 0x0112, 3, 7);
    (void)state;
    /* 65535 entries declared, two there: the two are still read, and
     * nothing past the data. */
    m.b[14] = 0xff;
    m.b[15] = 0xff;
    assert_int_equal(parse(m.b, m.n), 7);
    m = block(1, 1, 0x0110, 3, 7);
    m.b[14] = 0xff;
    m.b[15] = 0xff;
    assert_int_equal(parse(m.b, m.n), 0);
}

static void exif_loops(void **state) {
    /* IFD0's next-IFD offset points back at IFD0, and a second header
     * claims IFD0 lies inside the TIFF header: neither is followed. */
    buf m = block(0, 1, 0x0110, 3, 1);
    (void)state;
    m.b[m.n - 4] = 8;
    assert_int_equal(parse(m.b, m.n), 0);
    m = block(0, 0, 0x0112, 3, 2);
    m.b[m.n - 4] = 8;
    assert_int_equal(parse(m.b, m.n), 2);
}

static void exif_not_exif(void **state) {
    (void)state;
    assert_int_equal(pixd_exif_orientation(NULL, 0), 0);
    assert_int_equal(parse((const uint8_t *)"Exif\0\0", 6), 0);
    assert_int_equal(parse((const uint8_t *)"Exif\0\0XX*\0\x08\0\0\0\0\0", 16), 0);
    assert_int_equal(parse((const uint8_t *)"http://ns.adobe.com/xap/1.0/", 29), 0);
}

static void be32(buf *m, uint32_t v) {
    int be = m->be;
    m->be = 1;
    u32(m, v);
    m->be = be;
}

static void exif_png_chunk(void **state) {
    buf t = block(1, 0, 0x0112, 3, 6), m = {0};
    (void)state;
    put(&m, "\x89PNG\r\n\x1a\n", 8);
    be32(&m, 13);
    put(&m, "IHDR", 4);
    for (int i = 0; i < 13 + 4; i++)
        put8(&m, 0);
    be32(&m, (uint32_t)t.n);
    put(&m, "eXIf", 4);
    put(&m, t.b, t.n);
    be32(&m, 0); /* CRC, not checked */
    assert_int_equal(pixd_exif_orientation_png(m.b, m.n), 6);
    /* Found once the chunk's data is all there, CRC or not. */
    for (size_t k = 0; k <= m.n; k++) {
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, m.b, k);
        assert_int_equal(pixd_exif_orientation_png(c, k), k >= m.n - 4 ? 6 : 0);
        free(c);
    }
    m.b[33] = 0xff; /* the eXIf length now runs past the file */
    assert_int_equal(pixd_exif_orientation_png(m.b, m.n), 0);
}

static void exif_webp_chunk(void **state) {
    buf t = block(0, 1, 0x0112, 3, 8), m = {0};
    (void)state;
    put(&m, "RIFF\0\0\0\0WEBP", 12);
    put(&m, "VP8X", 4);
    put(&m, "\x0b\0\0\0", 4);
    for (int i = 0; i < 11 + 1; i++) /* odd length, padded */
        put8(&m, 0);
    put(&m, "EXIF", 4);
    u32(&m, (uint32_t)t.n);
    put(&m, t.b, t.n);
    assert_int_equal(pixd_exif_orientation_webp(m.b, m.n), 8);
    m.b[16] = 0xfe; /* VP8X's size past the file */
    assert_int_equal(pixd_exif_orientation_webp(m.b, m.n), 0);
    assert_int_equal(pixd_exif_orientation_webp(m.b, 11), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exif_little_endian),
        cmocka_unit_test(exif_big_endian),
        cmocka_unit_test(exif_bare_tiff),
        cmocka_unit_test(exif_every_value),
        cmocka_unit_test(exif_no_orientation),
        cmocka_unit_test(exif_truncated),
        cmocka_unit_test(exif_offset_out_of_bounds),
        cmocka_unit_test(exif_huge_count),
        cmocka_unit_test(exif_loops),
        cmocka_unit_test(exif_not_exif),
        cmocka_unit_test(exif_png_chunk),
        cmocka_unit_test(exif_webp_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
