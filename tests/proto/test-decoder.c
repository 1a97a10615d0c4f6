/* Incremental decoder: splits, header rules, limits, zlib bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "pixproto.h"

#include "decoder-util.h"

static void decoder_round_trip(void **state)
{
    struct stream s;
    struct copy f[MAX_FRAMES];
    pixproto_decoder *d = pixproto_decoder_new(0);

    make_stream(&s);
    assert_int_equal(feed(d, s.bytes, s.len, 0, f), 2);
    check_stream(&s, f);
    assert_int_equal(pixproto_decoder_pending(d), 0);
    pixproto_decoder_free(d);
}

static void decoder_one_byte_at_a_time(void **state)
{
    struct stream s;
    struct copy f[MAX_FRAMES];
    pixproto_decoder *d = pixproto_decoder_new(0);

    make_stream(&s);
    assert_int_equal(feed(d, s.bytes, s.len, 1, f), 2);
    check_stream(&s, f);
    pixproto_decoder_free(d);
}

static void decoder_every_split_point(void **state)
{
    struct stream s;
    struct copy f[MAX_FRAMES];

    make_stream(&s);
    for (size_t cut = 0; cut <= s.len; cut++) {
        pixproto_decoder *d = pixproto_decoder_new(0);
        int n = feed(d, s.bytes, cut, 0, f);

        assert_true(n >= 0);
        n += feed(d, s.bytes + cut, s.len - cut, 0, f + n);
        assert_int_equal(n, 2);
        check_stream(&s, f);
        pixproto_decoder_free(d);
    }
}

static void decoder_truncated_frame_waits(void **state)
{
    uint8_t *buf = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 9, "0123456789", 10, &buf);
    pixproto_decoder *d = pixproto_decoder_new(0);
    pixproto_frame f;

    for (long i = 0; i < n - 1; i++) {
        const uint8_t *in = buf + i;
        size_t left = 1;

        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 0);
        assert_int_equal(left, 0);
        assert_int_equal(pixproto_decoder_pending(d), (size_t)i + 1);
    }
    {
        const uint8_t *in = buf + n - 1;
        size_t left = 1;

        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
        assert_memory_equal(f.body, "0123456789", 10);
        assert_int_equal(pixproto_decoder_pending(d), 0);
    }
    pixproto_decoder_free(d);
    free(buf);
}

static void decoder_refuses_oversize_from_header(void **state)
{
    uint8_t buf[PIXPROTO_HEADER_SIZE + 8] = {0};
    const uint8_t *in = buf;
    size_t left = sizeof buf;
    pixproto_decoder *d = pixproto_decoder_new(100);
    pixproto_frame f;

    raw_header(buf, PIXPROTO_T_DATA, 0, 0, 1, 101);
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), PIXPROTO_ETOOBIG);
    /* Refused after the header alone: not one body byte was taken. */
    assert_int_equal(left, 8);
    pixproto_decoder_free(d);
}

static void decoder_clamps_max_body(void **state)
{
    const size_t limits[] = {0, PIXPROTO_MAX_BODY, (size_t)PIXPROTO_MAX_BODY * 4};

    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        uint8_t h[PIXPROTO_HEADER_SIZE];
        const uint8_t *in = h;
        size_t left = sizeof h;
        pixproto_decoder *d = pixproto_decoder_new(limits[i]);
        pixproto_frame f;

        raw_header(h, PIXPROTO_T_DATA, 0, 0, 1, PIXPROTO_MAX_BODY);
        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 0);
        pixproto_decoder_free(d);

        d = pixproto_decoder_new(limits[i]);
        in = h;
        left = sizeof h;
        raw_header(h, PIXPROTO_T_DATA, 0, 0, 1, PIXPROTO_MAX_BODY + 1);
        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f),
                         PIXPROTO_ETOOBIG);
        pixproto_decoder_free(d);
    }
}

static int decode_header_only(uint8_t type, uint8_t flags, uint16_t reserved,
                              uint32_t len)
{
    uint8_t h[PIXPROTO_HEADER_SIZE];
    const uint8_t *in = h;
    size_t left = sizeof h;
    pixproto_decoder *d = pixproto_decoder_new(0);
    pixproto_frame f;
    int rc;

    raw_header(h, type, flags, reserved, 1, len);
    rc = pixproto_decoder_next(d, &in, &left, &f);
    pixproto_decoder_free(d);
    return rc;
}

static void decoder_refuses_unknown_flags(void **state)
{
    for (unsigned bit = 2; bit < 8; bit++)
        assert_int_equal(decode_header_only(PIXPROTO_T_PING,
                                            (uint8_t)(1u << bit), 0, 0),
                         PIXPROTO_EBADFRAME);
}

static void decoder_refuses_nonzero_reserved(void **state)
{
    assert_int_equal(decode_header_only(PIXPROTO_T_PING, 0, 1, 0),
                     PIXPROTO_EBADFRAME);
    assert_int_equal(decode_header_only(PIXPROTO_T_PING, 0, 0x8000, 0),
                     PIXPROTO_EBADFRAME);
}

static void decoder_refuses_empty_zlib_body(void **state)
{
    assert_int_equal(decode_header_only(PIXPROTO_T_DATA, PIXPROTO_F_ZLIB, 0, 0),
                     PIXPROTO_EZLIB);
}

static void decoder_passes_unknown_type(void **state)
{
    uint8_t *buf = NULL;
    long n = pixproto_frame_encode(0x7f, 0, 42, "x", 1, &buf);
    struct copy f[MAX_FRAMES];
    pixproto_decoder *d = pixproto_decoder_new(0);

    assert_int_equal(feed(d, buf, (size_t)n, 0, f), 1);
    assert_int_equal(f[0].type, 0x7f);
    assert_int_equal(f[0].id, 42);
    assert_false(pixproto_type_known(f[0].type));
    pixproto_decoder_free(d);
    free(buf);
}

static void decoder_empty_body_is_not_null(void **state)
{
    uint8_t h[PIXPROTO_HEADER_SIZE];
    const uint8_t *in = h;
    size_t left = sizeof h;
    pixproto_decoder *d = pixproto_decoder_new(0);
    pixproto_frame f;

    raw_header(h, PIXPROTO_T_STATUS, 0, 0, 3, 0);
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    assert_non_null(f.body);
    assert_int_equal(f.len, 0);
    assert_int_equal(f.id, 3);
    pixproto_decoder_free(d);
}

static void decoder_body_outlives_input(void **state)
{
    uint8_t *buf = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 1, "abcd", 4, &buf);
    const uint8_t *in = buf;
    size_t left = (size_t)n;
    pixproto_decoder *d = pixproto_decoder_new(0);
    pixproto_frame f;

    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    memset(buf, 0, (size_t)n);
    free(buf);
    assert_memory_equal(f.body, "abcd", 4);
    pixproto_decoder_free(d);
}

static void decoder_reuses_body_buffer(void **state)
{
    uint8_t *a = NULL, *b = NULL;
    long na = pixproto_frame_encode(PIXPROTO_T_PING, 0, 1, "abcdef", 6, &a);
    long nb = pixproto_frame_encode(PIXPROTO_T_PING, 0, 2, "xyz", 3, &b);
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *in = a;
    size_t left = (size_t)na;
    pixproto_frame f;
    const uint8_t *first;

    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    first = f.body;
    in = b;
    left = (size_t)nb;
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    assert_ptr_equal(f.body, first);
    assert_memory_equal(f.body, "xyz", 3);
    pixproto_decoder_free(d);
    free(a);
    free(b);
}

/* Deflates plain into a frame with its own header, for bodies the encoder
 * would refuse to produce. Returns the frame's length; caller frees. */
static size_t zlib_frame(const uint8_t *plain, size_t len, uint8_t **out)
{
    uLongf zlen = compressBound((uLong)len);
    uint8_t *buf = malloc(PIXPROTO_HEADER_SIZE + zlen);

    assert_non_null(buf);
    assert_int_equal(compress2(buf + PIXPROTO_HEADER_SIZE, &zlen, plain,
                               (uLong)len, 9),
                     Z_OK);
    raw_header(buf, PIXPROTO_T_DATA, PIXPROTO_F_ZLIB, 0, 1, (uint32_t)zlen);
    *out = buf;
    return PIXPROTO_HEADER_SIZE + zlen;
}

/* take_body hands over the decoder's own buffer (the caller frees it) and
 * the next frame decodes into a new one; other bodies are not handed over. */
static void decoder_take_body_hands_over_the_buffer(void **state)
{
    pixproto_decoder *d = pixproto_decoder_new(0);
    uint8_t buf[2 * (PIXPROTO_HEADER_SIZE + 5)], *p, *body;
    const uint8_t *in = buf;
    size_t inlen = sizeof buf;
    pixproto_frame f;

    (void)state;
    raw_header(buf, 7, 0, 0, 1, 5);
    memcpy(buf + PIXPROTO_HEADER_SIZE, "hello", 5);
    p = buf + PIXPROTO_HEADER_SIZE + 5;
    raw_header(p, 7, 0, 0, 2, 5);
    memcpy(p + PIXPROTO_HEADER_SIZE, "world", 5);
    assert_int_equal(pixproto_decoder_next(d, &in, &inlen, &f), 1);
    body = pixproto_decoder_take_body(d, &f);
    assert_non_null(body);
    assert_ptr_equal(body, f.body);
    assert_null(pixproto_decoder_take_body(d, &f)); /* once only */
    assert_int_equal(pixproto_decoder_next(d, &in, &inlen, &f), 1);
    assert_ptr_not_equal(f.body, body);
    assert_memory_equal(body, "hello", 5); /* untouched by the next frame */
    assert_memory_equal(f.body, "world", 5);
    free(body);
    assert_null(pixproto_decoder_take_body(NULL, &f));
    pixproto_decoder_free(d);
}

/* An empty body is the library's static one: never handed over. */
static void decoder_take_body_refuses_empty_and_inflated(void **state)
{
    pixproto_decoder *d = pixproto_decoder_new(0);
    uint8_t buf[PIXPROTO_HEADER_SIZE + 64], z[64];
    uLongf zlen = sizeof z;
    const uint8_t *in = buf;
    size_t inlen;
    pixproto_frame f;

    (void)state;
    raw_header(buf, 7, 0, 0, 1, 0);
    inlen = PIXPROTO_HEADER_SIZE;
    assert_int_equal(pixproto_decoder_next(d, &in, &inlen, &f), 1);
    assert_null(pixproto_decoder_take_body(d, &f));
    assert_int_equal(compress(z, &zlen, (const uint8_t *)"abcabcabc", 9), Z_OK);
    raw_header(buf, 7, PIXPROTO_F_ZLIB, 0, 2, (uint32_t)zlen);
    memcpy(buf + PIXPROTO_HEADER_SIZE, z, zlen);
    in = buf;
    inlen = PIXPROTO_HEADER_SIZE + zlen;
    assert_int_equal(pixproto_decoder_next(d, &in, &inlen, &f), 1);
    assert_int_equal(f.len, 9);
    assert_null(pixproto_decoder_take_body(d, &f));
    pixproto_decoder_free(d);
}

static void decoder_refuses_zlib_bomb(void **state)
{
    const size_t big = 2u << 20;
    uint8_t *zeros = calloc(1, big);
    uint8_t *buf = NULL;
    size_t n = zlib_frame(zeros, big, &buf);
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *in = buf;
    size_t left = n;
    pixproto_frame f;

    assert_true(n < 8192); /* tiny on the wire */
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), PIXPROTO_ETOOBIG);
    pixproto_decoder_free(d);
    free(buf);
    free(zeros);
}

static void decoder_zlib_limit_is_exact(void **state)
{
    uint8_t plain[1001];
    struct copy f[MAX_FRAMES];

    memset(plain, 'z', sizeof plain);
    for (size_t len = 999; len <= 1001; len++) {
        uint8_t *buf = NULL;
        size_t n = zlib_frame(plain, len, &buf);

        /* Whole (inflated from the input) and byte by byte (staged). */
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            pixproto_decoder *d = pixproto_decoder_new(1000);
            int rc = feed(d, buf, n, chunk, f);

            if (len <= 1000) {
                assert_int_equal(rc, 1);
                assert_int_equal(f[0].len, len);
                assert_int_equal(f[0].flags, 0);
                assert_memory_equal(f[0].body, plain, len);
            } else {
                assert_int_equal(rc, PIXPROTO_ETOOBIG);
            }
            pixproto_decoder_free(d);
        }
        free(buf);
    }
}

static int decode_zlib_body(const uint8_t *z, size_t zlen)
{
    uint8_t buf[512];
    struct copy f[MAX_FRAMES];
    pixproto_decoder *d = pixproto_decoder_new(0);
    int rc;

    assert_true(zlen <= sizeof buf - PIXPROTO_HEADER_SIZE);
    raw_header(buf, PIXPROTO_T_DATA, PIXPROTO_F_ZLIB, 0, 1, (uint32_t)zlen);
    memcpy(buf + PIXPROTO_HEADER_SIZE, z, zlen);
    rc = feed(d, buf, PIXPROTO_HEADER_SIZE + zlen, 0, f);
    pixproto_decoder_free(d);
    return rc;
}

static void decoder_refuses_corrupt_zlib(void **state)
{
    const char text[] = "the same words, the same words, the same words";
    uint8_t z[256];
    uLongf zlen = sizeof z;

    assert_int_equal(compress2(z, &zlen, (const uint8_t *)text, sizeof text, 9),
                     Z_OK);
    assert_int_equal(decode_zlib_body(z, zlen), 1);
    z[0] ^= 0xff; /* bad zlib header */
    assert_int_equal(decode_zlib_body(z, zlen), PIXPROTO_EZLIB);
    z[0] ^= 0xff;
    z[zlen - 1] ^= 0x01; /* bad Adler-32 */
    assert_int_equal(decode_zlib_body(z, zlen), PIXPROTO_EZLIB);
    assert_int_equal(decode_zlib_body((const uint8_t *)"garbage!", 8),
                     PIXPROTO_EZLIB);
}

static void decoder_refuses_truncated_zlib(void **state)
{
    const char text[] = "truncated streams are corrupt streams";
    uint8_t z[256];
    uLongf zlen = sizeof z;

    assert_int_equal(compress2(z, &zlen, (const uint8_t *)text, sizeof text, 9),
                     Z_OK);
    for (size_t cut = 1; cut < zlen; cut++)
        assert_int_equal(decode_zlib_body(z, cut), PIXPROTO_EZLIB);
}

static void decoder_refuses_bytes_after_zlib_end(void **state)
{
    uint8_t z[256];
    uLongf zlen = sizeof z - 1;

    assert_int_equal(compress2(z, &zlen, (const uint8_t *)"abc", 3, 9), Z_OK);
    z[zlen] = 0;
    assert_int_equal(decode_zlib_body(z, zlen + 1), PIXPROTO_EZLIB);
}

static void decoder_stays_failed(void **state)
{
    uint8_t bad[PIXPROTO_HEADER_SIZE];
    uint8_t *good = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 1, "p", 1, &good);
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *in = bad;
    size_t left = sizeof bad;
    pixproto_frame f;

    raw_header(bad, PIXPROTO_T_PING, 0x40, 0, 1, 0);
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), PIXPROTO_EBADFRAME);
    for (int i = 0; i < 3; i++) {
        in = good;
        left = (size_t)n;
        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f),
                         PIXPROTO_EBADFRAME);
        assert_int_equal(left, (size_t)n);
    }
    pixproto_decoder_free(d);
    free(good);
}

static void decoder_refuses_bad_arguments(void **state)
{
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *in = NULL;
    size_t left = 1;
    pixproto_frame f;

    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), PIXPROTO_EINVALID);
    left = 0;
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 0);
    assert_int_equal(pixproto_decoder_next(NULL, &in, &left, &f),
                     PIXPROTO_EINVALID);
    assert_int_equal(pixproto_decoder_pending(NULL), 0);
    pixproto_decoder_free(d);
    pixproto_decoder_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decoder_round_trip),
        cmocka_unit_test(decoder_one_byte_at_a_time),
        cmocka_unit_test(decoder_every_split_point),
        cmocka_unit_test(decoder_truncated_frame_waits),
        cmocka_unit_test(decoder_refuses_oversize_from_header),
        cmocka_unit_test(decoder_clamps_max_body),
        cmocka_unit_test(decoder_refuses_unknown_flags),
        cmocka_unit_test(decoder_refuses_nonzero_reserved),
        cmocka_unit_test(decoder_refuses_empty_zlib_body),
        cmocka_unit_test(decoder_passes_unknown_type),
        cmocka_unit_test(decoder_empty_body_is_not_null),
        cmocka_unit_test(decoder_body_outlives_input),
        cmocka_unit_test(decoder_reuses_body_buffer),
        cmocka_unit_test(decoder_take_body_hands_over_the_buffer),
        cmocka_unit_test(decoder_take_body_refuses_empty_and_inflated),
        cmocka_unit_test(decoder_refuses_zlib_bomb),
        cmocka_unit_test(decoder_zlib_limit_is_exact),
        cmocka_unit_test(decoder_refuses_corrupt_zlib),
        cmocka_unit_test(decoder_refuses_truncated_zlib),
        cmocka_unit_test(decoder_refuses_bytes_after_zlib_end),
        cmocka_unit_test(decoder_stays_failed),
        cmocka_unit_test(decoder_refuses_bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
