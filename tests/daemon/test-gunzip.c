/* legacy/gunzip.c: gzip bodies inflated under a hard cap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "legacy/gunzip.h"

/* gzip-compress n bytes of in into a malloc'd buffer. */
static uint8_t *gz(const uint8_t *in, size_t n, size_t *outlen) {
    z_stream z = {0};
    size_t cap = compressBound((uLong)n) + 64;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                     Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *outlen = z.total_out;
    deflateEnd(&z);
    return out;
}

static void gunzip_round_trip(void **state) {
    uint8_t in[10000], *g, *out;
    size_t glen, olen;
    char err[100];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + i / 100);
    g = gz(in, sizeof in, &glen);
    assert_int_equal(pixd_gunzip(g, glen, 1 << 20, &out, &olen, err, sizeof err), 0);
    assert_int_equal(olen, sizeof in);
    assert_memory_equal(out, in, sizeof in);
    free(out);
    free(g);
}

static void gunzip_exactly_cap_passes_one_more_fails(void **state) {
    uint8_t *in = calloc(1, 100000), *g, *out;
    size_t glen, olen;
    char err[100];
    g = gz(in, 100000, &glen);
    assert_int_equal(pixd_gunzip(g, glen, 100000, &out, &olen, err, sizeof err), 0);
    assert_int_equal(olen, 100000);
    free(out);
    assert_int_equal(pixd_gunzip(g, glen, 99999, &out, &olen, err, sizeof err), -EFBIG);
    assert_null(out);
    assert_non_null(strstr(err, "cap"));
    free(g);
    free(in);
}

static void gunzip_bomb_refused(void **state) {
    /* 64 MiB of zeros gzip to ~64 KiB; the cap refuses it at 1 MiB. */
    size_t n = 64u << 20, glen, olen;
    uint8_t *in = calloc(1, n), *g, *out;
    char err[100];
    g = gz(in, n, &glen);
    free(in);
    assert_true(glen < 200000);
    assert_int_equal(pixd_gunzip(g, glen, 1 << 20, &out, &olen, err, sizeof err), -EFBIG);
    assert_null(out);
    free(g);
}

static void gunzip_concatenated_members(void **state) {
    uint8_t a[] = "hello, ", b[] = "world", *ga, *gb, *both, *out;
    size_t la, lb, olen;
    char err[100];
    ga = gz(a, 7, &la);
    gb = gz(b, 5, &lb);
    both = malloc(la + lb);
    memcpy(both, ga, la);
    memcpy(both + la, gb, lb);
    assert_int_equal(pixd_gunzip(both, la + lb, 100, &out, &olen, err, sizeof err), 0);
    assert_int_equal(olen, 12);
    assert_memory_equal(out, "hello, world", 12);
    free(out);
    free(ga);
    free(gb);
    free(both);
}

static void gunzip_not_gzip(void **state) {
    uint8_t junk[64], *out;
    size_t olen;
    char err[100];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(pixd_gunzip(junk, sizeof junk, 100, &out, &olen, err, sizeof err),
                     -EBADMSG);
    assert_non_null(strstr(err, "not gzip"));
    assert_int_equal(pixd_gunzip(junk, 0, 100, &out, &olen, err, sizeof err), -EBADMSG);
    assert_null(out);
}

static void gunzip_truncated_or_corrupt(void **state) {
    uint8_t in[5000], *g, *out;
    size_t glen, olen;
    char err[100];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 31);
    g = gz(in, sizeof in, &glen);
    assert_int_equal(pixd_gunzip(g, glen - 5, 1 << 20, &out, &olen, err, sizeof err),
                     -EBADMSG);
    assert_null(out);
    g[glen - 6] ^= 0xff; /* the CRC-32 */
    assert_int_equal(pixd_gunzip(g, glen, 1 << 20, &out, &olen, err, sizeof err), -EBADMSG);
    free(g);
}

static void gunzip_trailing_garbage(void **state) {
    uint8_t in[100] = {1, 2, 3}, *g, *out;
    size_t glen, olen;
    char err[100];
    g = gz(in, sizeof in, &glen);
    g = realloc(g, glen + 30);
    memset(g + glen, 'z', 30);
    assert_int_equal(pixd_gunzip(g, glen + 30, 1 << 20, &out, &olen, err, sizeof err),
                     -EBADMSG);
    assert_non_null(strstr(err, "after"));
    free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gunzip_round_trip),
        cmocka_unit_test(gunzip_exactly_cap_passes_one_more_fails),
        cmocka_unit_test(gunzip_bomb_refused),
        cmocka_unit_test(gunzip_concatenated_members),
        cmocka_unit_test(gunzip_not_gzip),
        cmocka_unit_test(gunzip_truncated_or_corrupt),
        cmocka_unit_test(gunzip_trailing_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
