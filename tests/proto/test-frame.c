/* Frame encoding: header layout, flag rules, optional deflate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "pixproto.h"

static void frame_header_layout(void **state)
{
    const uint8_t want[PIXPROTO_HEADER_SIZE] = {
        0x04, 0x02, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x01, 0x00, 0x05,
    };
    uint8_t h[PIXPROTO_HEADER_SIZE];

    assert_int_equal(pixproto_header_encode(h, PIXPROTO_T_PING, PIXPROTO_F_MORE,
                                            0x01020304, 0x10005),
                     PIXPROTO_HEADER_SIZE);
    assert_memory_equal(h, want, sizeof want);
}

static void frame_header_refuses_unknown_flags(void **state)
{
    uint8_t h[PIXPROTO_HEADER_SIZE];

    for (unsigned bit = 2; bit < 8; bit++)
        assert_int_equal(pixproto_header_encode(h, 1, (uint8_t)(1u << bit), 0, 1),
                         PIXPROTO_EBADFRAME);
}

static void frame_header_refuses_oversize_body(void **state)
{
    uint8_t h[PIXPROTO_HEADER_SIZE];

    assert_int_equal(pixproto_header_encode(h, 9, 0, 1, PIXPROTO_MAX_BODY),
                     PIXPROTO_HEADER_SIZE);
    assert_int_equal(pixproto_header_encode(h, 9, 0, 1, PIXPROTO_MAX_BODY + 1),
                     PIXPROTO_ETOOBIG);
}

static void frame_header_refuses_empty_zlib_body(void **state)
{
    uint8_t h[PIXPROTO_HEADER_SIZE];

    assert_int_equal(pixproto_header_encode(h, 9, PIXPROTO_F_ZLIB, 1, 0),
                     PIXPROTO_EZLIB);
}

static void frame_encode_copies_body(void **state)
{
    uint8_t *out = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 7, "abc", 3, &out);

    assert_int_equal(n, PIXPROTO_HEADER_SIZE + 3);
    assert_int_equal(out[0], PIXPROTO_T_PING);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[7], 7);
    assert_int_equal(out[11], 3);
    assert_memory_equal(out + PIXPROTO_HEADER_SIZE, "abc", 3);
    free(out);
}

static void frame_encode_deflates_when_smaller(void **state)
{
    uint8_t body[4096];
    uint8_t plain[sizeof body];
    uLongf plain_len = sizeof plain;
    uint8_t *out = NULL;
    long n;

    memset(body, 'x', sizeof body);
    n = pixproto_frame_encode(PIXPROTO_T_DATA, PIXPROTO_F_ZLIB, 3, body,
                              sizeof body, &out);
    assert_true(n > (long)PIXPROTO_HEADER_SIZE);
    assert_true(n < (long)(PIXPROTO_HEADER_SIZE + sizeof body));
    assert_int_equal(out[1], PIXPROTO_F_ZLIB);
    assert_int_equal(uncompress(plain, &plain_len, out + PIXPROTO_HEADER_SIZE,
                                (uLong)(n - PIXPROTO_HEADER_SIZE)),
                     Z_OK);
    assert_int_equal(plain_len, sizeof body);
    assert_memory_equal(plain, body, sizeof body);
    free(out);
}

static void frame_encode_sends_plain_when_deflate_does_not_pay(void **state)
{
    uint8_t *out = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_DATA,
                                   PIXPROTO_F_ZLIB | PIXPROTO_F_MORE, 3, "ab",
                                   2, &out);

    assert_int_equal(n, PIXPROTO_HEADER_SIZE + 2);
    assert_int_equal(out[1], PIXPROTO_F_MORE);
    assert_memory_equal(out + PIXPROTO_HEADER_SIZE, "ab", 2);
    free(out);
}

static void frame_encode_empty_body_with_zlib_goes_plain(void **state)
{
    uint8_t *out = NULL;

    assert_int_equal(pixproto_frame_encode(PIXPROTO_T_STATUS, PIXPROTO_F_ZLIB,
                                           5, NULL, 0, &out),
                     PIXPROTO_HEADER_SIZE);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[11], 0);
    free(out);
}

static void frame_encode_refuses_bad_input(void **state)
{
    static uint8_t big[PIXPROTO_MAX_BODY + 1];
    uint8_t dummy = 0;
    uint8_t *out = &dummy;

    assert_int_equal(pixproto_frame_encode(1, 0x80, 0, "a", 1, &out),
                     PIXPROTO_EBADFRAME);
    assert_null(out);
    assert_int_equal(pixproto_frame_encode(9, 0, 1, big, sizeof big, &out),
                     PIXPROTO_ETOOBIG);
    assert_int_equal(pixproto_frame_encode(9, PIXPROTO_F_ZLIB, 1, big,
                                           sizeof big, &out),
                     PIXPROTO_ETOOBIG);
    assert_int_equal(pixproto_frame_encode(9, 0, 1, NULL, 1, &out),
                     PIXPROTO_EINVALID);
    assert_int_equal(pixproto_frame_encode(9, 0, 1, "a", 1, NULL),
                     PIXPROTO_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_header_layout),
        cmocka_unit_test(frame_header_refuses_unknown_flags),
        cmocka_unit_test(frame_header_refuses_oversize_body),
        cmocka_unit_test(frame_header_refuses_empty_zlib_body),
        cmocka_unit_test(frame_encode_copies_body),
        cmocka_unit_test(frame_encode_deflates_when_smaller),
        cmocka_unit_test(frame_encode_sends_plain_when_deflate_does_not_pay),
        cmocka_unit_test(frame_encode_empty_body_with_zlib_goes_plain),
        cmocka_unit_test(frame_encode_refuses_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
