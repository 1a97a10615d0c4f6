/* MJPEG frame checks and Huffman-table insertion (daemon/camera/mjpeg.c):
 * real JPEGs from TurboJPEG, cut, padded, garbled and stripped of their DHT
 * as cheap cameras send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <turbojpeg.h>

#include "camera/mjpeg.h"

/* A w x h colour JPEG (4:2:0, so all four tables are used) with libjpeg's
 * default, i.e. the standard, Huffman tables. tjFree it. */
static uint8_t *make_jpeg(int w, int h, size_t *len) {
    tjhandle tj = tjInitCompress();
    uint8_t *px = malloc((size_t)w * h * 3), *out = NULL;
    unsigned long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 3 + y);
            p[1] = (uint8_t)(y * 5 ^ x);
            p[2] = (uint8_t)((x * y) >> 3);
        }
    assert_int_equal(tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out, &n, TJSAMP_420, 85, 0), 0);
    free(px);
    tjDestroy(tj);
    *len = n;
    return out;
}

/* Copy src without its DHT segments (and collect their table bytes in
 * tables, each table's class/id, BITS and HUFFVAL, in file order). */
static size_t strip_dht(const uint8_t *src, size_t n, uint8_t *dst, uint8_t *tables,
                        size_t *tlen) {
    size_t pos = 2, out = 2;
    *tlen = 0;
    memcpy(dst, src, 2);
    while (pos + 4 <= n) {
        size_t len = (size_t)src[pos + 2] << 8 | src[pos + 3];
        assert_int_equal(src[pos], 0xFF);
        if (src[pos + 1] == 0xDA)
            break;
        if (src[pos + 1] == 0xC4) {
            memcpy(tables + *tlen, src + pos + 4, len - 2);
            *tlen += len - 2;
        } else {
            memcpy(dst + out, src + pos, 2 + len);
            out += 2 + len;
        }
        pos += 2 + len;
    }
    memcpy(dst + out, src + pos, n - pos);
    return out + n - pos;
}

/* One table out of a run of tables: its start for class/id tcid, and length. */
static const uint8_t *find_table(const uint8_t *t, size_t n, uint8_t tcid, size_t *len) {
    size_t pos = 0;
    while (pos + 17 <= n) {
        size_t count = 0;
        for (int i = 1; i <= 16; i++)
            count += t[pos + i];
        if (t[pos] == tcid) {
            *len = 17 + count;
            return t + pos;
        }
        pos += 17 + count;
    }
    return NULL;
}

static uint8_t *decode(const uint8_t *jpg, size_t len, int w, int h) {
    tjhandle tj = tjInitDecompress();
    uint8_t *px = malloc((size_t)w * h * 3);
    assert_int_equal(tjDecompress2(tj, jpg, len, px, w, 0, h, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    return px;
}

static void mjpeg_whole_frame_kept(void **state) {
    size_t len, n;
    uint8_t *jpg = make_jpeg(96, 64, &len), *buf = calloc(1, len + 500);
    pixd_mjpeg_scan s;

    assert_int_equal(pixd_mjpeg_check(jpg, len, &s), 0);
    assert_int_equal(s.len, len);
    assert_false(s.needs_dht);
    assert_int_equal(pixd_mjpeg_fixed_len(&s), len);
    pixd_mjpeg_fix(jpg, &s, buf);
    assert_memory_equal(buf, jpg, len); /* untouched: byte for byte */
    /* Padding after EOI, as drivers leave in the buffer, is left out. */
    memcpy(buf, jpg, len);
    assert_int_equal(pixd_mjpeg_check(buf, len + 500, &s), 0);
    assert_int_equal(s.len, len);
    /* Cut anywhere: broken. */
    for (n = 0; n < len; n += n < 300 ? 1 : 37)
        assert_int_equal(pixd_mjpeg_check(jpg, n, &s), -1);
    assert_int_equal(pixd_mjpeg_check(jpg, len - 1, &s), -1);
    free(buf);
    tjFree(jpg);
}

static void mjpeg_garbage_broken(void **state) {
    uint8_t g[400];
    pixd_mjpeg_scan s;

    memset(g, 0xAB, sizeof g);
    assert_int_equal(pixd_mjpeg_check(g, sizeof g, &s), -1); /* no SOI */
    g[0] = 0xFF, g[1] = 0xD8;
    g[sizeof g - 2] = 0xFF, g[sizeof g - 1] = 0xD9;
    assert_int_equal(pixd_mjpeg_check(g, sizeof g, &s), -1); /* SOI, junk, EOI */
    /* SOI then EOI: well formed, but no picture. */
    memset(g, 0, sizeof g);
    g[0] = 0xFF, g[1] = 0xD8, g[2] = 0xFF, g[3] = 0xD9;
    assert_int_equal(pixd_mjpeg_check(g, sizeof g, &s), -1);
    /* A segment whose length runs past the end. */
    g[2] = 0xFF, g[3] = 0xE0, g[4] = 0xFF, g[5] = 0xFF;
    assert_int_equal(pixd_mjpeg_check(g, sizeof g, &s), -1);
    /* Tiny: under PIXD_MJPEG_MIN_BYTES even when it starts right. */
    g[3] = 0xD9;
    assert_int_equal(pixd_mjpeg_check(g, PIXD_MJPEG_MIN_BYTES - 1, &s), -1);
}

/* The four tables inserted are the ones libjpeg encodes with by default
 * (T.81 K.3), and the mended frame decodes to the very same pixels. */
static void mjpeg_dht_inserted(void **state) {
    size_t len, slen, tlen, fixed_len;
    uint8_t *jpg = make_jpeg(96, 64, &len);
    uint8_t *stripped = malloc(len), *fixed, tables[1024];
    uint8_t *want, *got;
    pixd_mjpeg_scan s;
    static const uint8_t ids[] = {0x00, 0x01, 0x10, 0x11};

    slen = strip_dht(jpg, len, stripped, tables, &tlen);
    assert_true(slen < len);
    assert_int_equal(pixd_mjpeg_check(stripped, slen, &s), 0);
    assert_true(s.needs_dht);
    assert_int_equal(s.len, slen);
    fixed_len = pixd_mjpeg_fixed_len(&s);
    assert_int_equal(fixed_len, slen + pixd_mjpeg_std_dht_len);
    fixed = malloc(fixed_len);
    pixd_mjpeg_fix(stripped, &s, fixed);
    /* Right before SOS, everything else as it was. */
    assert_memory_equal(fixed, stripped, s.sos);
    assert_memory_equal(fixed + s.sos, pixd_mjpeg_std_dht, pixd_mjpeg_std_dht_len);
    assert_int_equal(fixed[s.sos + pixd_mjpeg_std_dht_len + 1], 0xDA);
    assert_memory_equal(fixed + s.sos + pixd_mjpeg_std_dht_len, stripped + s.sos,
                        slen - s.sos);
    /* Table for table, what libjpeg wrote. */
    assert_int_equal(pixd_mjpeg_std_dht_len, 4 + tlen);
    for (size_t i = 0; i < 4; i++) {
        size_t a, b;
        const uint8_t *ta = find_table(tables, tlen, ids[i], &a);
        const uint8_t *tb = find_table(pixd_mjpeg_std_dht + 4, pixd_mjpeg_std_dht_len - 4,
                                       ids[i], &b);
        assert_non_null(ta);
        assert_non_null(tb);
        assert_int_equal(a, b);
        assert_memory_equal(ta, tb, a);
    }
    /* Now whole again: no second insertion. */
    assert_int_equal(pixd_mjpeg_check(fixed, fixed_len, &s), 0);
    assert_false(s.needs_dht);
    want = decode(jpg, len, 96, 64);
    got = decode(fixed, fixed_len, 96, 64);
    assert_memory_equal(want, got, 96 * 64 * 3);
    free(want);
    free(got);
    free(fixed);
    free(stripped);
    tjFree(jpg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mjpeg_whole_frame_kept),
        cmocka_unit_test(mjpeg_garbage_broken),
        cmocka_unit_test(mjpeg_dht_inserted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
