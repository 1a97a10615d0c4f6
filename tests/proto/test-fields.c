/* Field writer and reader: u16 tag, u32 length, value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pixproto.h"

static void fields_round_trip(void **state)
{
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;
    uint64_t v = 0;
    char s[16];

    assert_int_equal(pixproto_put_u64(&b, 1, 0x0102030405060708u), 0);
    assert_int_equal(pixproto_put_str(&b, 2, "pixd"), 0);
    assert_int_equal(pixproto_put_bytes(&b, 3, "\x00\xff", 2), 0);
    assert_int_equal(pixproto_put_bytes(&b, 4, NULL, 0), 0);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, (6 + 8) + (6 + 4) + (6 + 2) + 6);
    /* u64 values are big-endian */
    assert_memory_equal(b.data, "\x00\x01\x00\x00\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", 14);

    pixproto_reader_init(&r, b.data, b.len);
    assert_int_equal(pixproto_field_next(&r, &f), 1);
    assert_int_equal(f.tag, 1);
    assert_int_equal(pixproto_field_u64(&f, &v), 0);
    assert_true(v == 0x0102030405060708u);
    assert_int_equal(pixproto_field_next(&r, &f), 1);
    assert_int_equal(f.tag, 2);
    assert_int_equal(pixproto_field_str(&f, s, sizeof s), 0);
    assert_string_equal(s, "pixd");
    assert_int_equal(pixproto_field_next(&r, &f), 1);
    assert_int_equal(f.tag, 3);
    assert_int_equal(f.len, 2);
    assert_memory_equal(f.value, "\x00\xff", 2);
    assert_int_equal(pixproto_field_next(&r, &f), 1);
    assert_int_equal(f.tag, 4);
    assert_int_equal(f.len, 0);
    assert_int_equal(pixproto_field_str(&f, s, sizeof s), 0);
    assert_string_equal(s, "");
    assert_int_equal(pixproto_field_next(&r, &f), 0);
    assert_int_equal(pixproto_field_next(&r, &f), 0);
    pixproto_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    pixproto_buf_free(NULL);
}

static void fields_empty_body_has_no_fields(void **state)
{
    pixproto_reader r;
    pixproto_field f;

    pixproto_reader_init(&r, NULL, 0);
    assert_int_equal(pixproto_field_next(&r, &f), 0);
    pixproto_reader_init(&r, "", 0);
    assert_int_equal(pixproto_field_next(&r, &f), 0);
}

static void fields_truncated_head_is_bad_body(void **state)
{
    const uint8_t body[] = {0x00, 0x01, 0x00, 0x00, 0x00};
    pixproto_reader r;
    pixproto_field f;

    for (size_t len = 1; len <= sizeof body; len++) {
        pixproto_reader_init(&r, body, len);
        assert_int_equal(pixproto_field_next(&r, &f), PIXPROTO_EBADBODY);
        assert_int_equal(pixproto_field_next(&r, &f), PIXPROTO_EBADBODY);
    }
}

static void fields_truncated_value_is_bad_body(void **state)
{
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;

    pixproto_put_str(&b, 7, "whole");
    pixproto_put_str(&b, 8, "cut short");
    for (size_t len = 6 + 5 + 6; len < b.len; len++) {
        pixproto_reader_init(&r, b.data, len);
        assert_int_equal(pixproto_field_next(&r, &f), 1);
        assert_int_equal(pixproto_field_next(&r, &f), PIXPROTO_EBADBODY);
        assert_int_equal(pixproto_field_next(&r, &f), PIXPROTO_EBADBODY);
    }
    /* A length near UINT32_MAX must not wrap around the bounds check. */
    b.data[6 + 5 + 2] = 0xff;
    b.data[6 + 5 + 3] = 0xff;
    b.data[6 + 5 + 4] = 0xff;
    b.data[6 + 5 + 5] = 0xff;
    pixproto_reader_init(&r, b.data, b.len);
    assert_int_equal(pixproto_field_next(&r, &f), 1);
    assert_int_equal(pixproto_field_next(&r, &f), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void fields_repeated_tags_come_in_order(void **state)
{
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;
    const char *want[] = {"native 127.0.0.1:7070", "http 127.0.0.1:7080"};
    char s[64];

    pixproto_put_str(&b, PIXPROTO_TAG_LISTENER, want[0]);
    pixproto_put_u64(&b, 999, 1);
    pixproto_put_str(&b, PIXPROTO_TAG_LISTENER, want[1]);
    pixproto_reader_init(&r, b.data, b.len);
    for (int i = 0; i < 2;) {
        assert_int_equal(pixproto_field_next(&r, &f), 1);
        if (f.tag != PIXPROTO_TAG_LISTENER)
            continue; /* unknown tags are skipped */
        assert_int_equal(pixproto_field_str(&f, s, sizeof s), 0);
        assert_string_equal(s, want[i++]);
    }
    assert_int_equal(pixproto_field_next(&r, &f), 0);
    pixproto_buf_free(&b);
}

static void fields_u64_needs_eight_bytes(void **state)
{
    const uint8_t value[9] = {0};
    uint64_t v = 7;

    for (size_t len = 0; len <= sizeof value; len++) {
        pixproto_field f = {.tag = 1, .value = value, .len = len};

        assert_int_equal(pixproto_field_u64(&f, &v), len == 8 ? 0 : PIXPROTO_EBADBODY);
    }
    assert_true(v == 0);
}

static void fields_str_with_nul_is_bad_body(void **state)
{
    pixproto_field f = {.tag = 1, .value = (const uint8_t *)"ab\0cd", .len = 5};
    char s[16] = "stale";

    assert_int_equal(pixproto_field_str(&f, s, sizeof s), PIXPROTO_EBADBODY);
    assert_string_equal(s, "");
}

static void fields_str_too_long_is_cut(void **state)
{
    pixproto_field f = {.tag = 1, .value = (const uint8_t *)"abcdef", .len = 6};
    char s[4];

    assert_int_equal(pixproto_field_str(&f, s, sizeof s), PIXPROTO_ETOOBIG);
    assert_string_equal(s, "abc");
    assert_int_equal(pixproto_field_str(&f, s, 0), PIXPROTO_ETOOBIG);
    f.len = 3;
    assert_int_equal(pixproto_field_str(&f, s, sizeof s), 0);
    assert_string_equal(s, "abc");
}

static void fields_str_cut_keeps_utf8_whole(void **state)
{
    /* "aé€" is 61 C3 A9 E2 82 AC: cuts land before a character. */
    const uint8_t text[] = {0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac};
    pixproto_field f = {.tag = 1, .value = text, .len = sizeof text};
    char s[8];

    assert_int_equal(pixproto_field_str(&f, s, 3), PIXPROTO_ETOOBIG);
    assert_string_equal(s, "a");
    assert_int_equal(pixproto_field_str(&f, s, 4), PIXPROTO_ETOOBIG);
    assert_string_equal(s, "a\xc3\xa9");
    assert_int_equal(pixproto_field_str(&f, s, 6), PIXPROTO_ETOOBIG);
    assert_string_equal(s, "a\xc3\xa9");
    assert_int_equal(pixproto_field_str(&f, s, 7), 0);
}

static void fields_first_error_sticks(void **state)
{
    pixproto_buf b = {0};

    assert_int_equal(pixproto_put_u64(&b, 1, 1), 0);
    assert_int_equal(pixproto_put_str(&b, 2, NULL), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_put_bytes(&b, 3, NULL, 4), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_put_u64(&b, 4, 1), PIXPROTO_EINVALID);
    assert_int_equal(b.err, PIXPROTO_EINVALID);
    assert_int_equal(b.len, 14);
    pixproto_buf_free(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(pixproto_put_str(NULL, 1, "x"), PIXPROTO_EINVALID);
}

static void fields_value_past_u32_is_too_big(void **state)
{
#if SIZE_MAX > UINT32_MAX
    pixproto_buf b = {0};
    const char one = 'x';

    /* The length is refused before any byte of the value is read. */
    assert_int_equal(pixproto_put_bytes(&b, 1, &one, (size_t)UINT32_MAX + 1),
                     PIXPROTO_ETOOBIG);
    assert_int_equal(b.err, PIXPROTO_ETOOBIG);
    assert_int_equal(pixproto_put_u64(&b, 2, 1), PIXPROTO_ETOOBIG);
    assert_int_equal(b.len, 0);
    pixproto_buf_free(&b);
#else
    skip();
#endif
}

static void fields_buf_grows(void **state)
{
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;
    uint64_t v;

    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(pixproto_put_u64(&b, 5, i), 0);
    assert_int_equal(b.len, 1000 * 14);
    assert_true(b.cap >= b.len);
    pixproto_reader_init(&r, b.data, b.len);
    for (uint64_t i = 0; i < 1000; i++) {
        assert_int_equal(pixproto_field_next(&r, &f), 1);
        assert_int_equal(pixproto_field_u64(&f, &v), 0);
        assert_true(v == i);
    }
    pixproto_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_round_trip),
        cmocka_unit_test(fields_empty_body_has_no_fields),
        cmocka_unit_test(fields_truncated_head_is_bad_body),
        cmocka_unit_test(fields_truncated_value_is_bad_body),
        cmocka_unit_test(fields_repeated_tags_come_in_order),
        cmocka_unit_test(fields_u64_needs_eight_bytes),
        cmocka_unit_test(fields_str_with_nul_is_bad_body),
        cmocka_unit_test(fields_str_too_long_is_cut),
        cmocka_unit_test(fields_str_cut_keeps_utf8_whole),
        cmocka_unit_test(fields_first_error_sticks),
        cmocka_unit_test(fields_value_past_u32_is_too_big),
        cmocka_unit_test(fields_buf_grows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
