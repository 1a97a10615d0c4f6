/* Store names: one case per rule of store_name.h, with the texts users see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_name.h"

/* Checks name and expects a refusal whose reason contains why. */
static void refused_n(const char *name, size_t n, const char *why) {
    char out[PIXPROTO_NAME_MAX + 1] = "untouched";
    char err[256] = "";
    assert_int_equal(pixd_store_name_check_n(name, n, out, sizeof out, err, sizeof err),
                     -EINVAL);
    if (!strstr(err, why))
        fail_msg("reason \"%s\" does not mention \"%s\"", err, why);
    assert_string_equal(out, "untouched");
}

static void refused(const char *name, const char *why) {
    refused_n(name, strlen(name), why);
    assert_false(pixd_store_name_is_valid(name));
}

static void accepted(const char *name, const char *expect) {
    char out[PIXPROTO_NAME_MAX + 1];
    char err[256] = "";
    assert_int_equal(pixd_store_name_check(name, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, expect);
    assert_string_equal(err, "");
}

static void store_name_accepts_plain(void **state) {
    accepted("cat.jpg", "cat.jpg");
    accepted("a", "a");
    accepted("IMG_0001.JPEG", "IMG_0001.JPEG");
    accepted("x-y_z+1,2;3=4@5~6#7%8&(9)[0]{1}'2'!$^", "x-y_z+1,2;3=4@5~6#7%8&(9)[0]{1}'2'!$^");
    accepted("a.b.c", "a.b.c");
    accepted("a..b", "a..b");
    accepted("_", "_");
    assert_true(pixd_store_name_is_valid("cat.jpg"));
}

static void store_name_spaces_become_underscores(void **state) {
    accepted("my cat.jpg", "my_cat.jpg");
    accepted(" lead", "_lead");
    accepted("trail ", "trail_");
    accepted("   ", "___");
    accepted("a.jpg ", "a.jpg_");
    /* The stored name is what is valid on disk; the sent one is not. */
    assert_true(pixd_store_name_is_valid("my_cat.jpg"));
    assert_false(pixd_store_name_is_valid("my cat.jpg"));
}

static void store_name_normalises_in_place(void **state) {
    char buf[PIXPROTO_NAME_MAX + 1] = "two words";
    assert_int_equal(pixd_store_name_check(buf, buf, sizeof buf, NULL, 0), 0);
    assert_string_equal(buf, "two_words");
}

static void store_name_refuses_empty(void **state) {
    refused("", "name is empty");
    refused_n("abc", 0, "name is empty");
}

static void store_name_refuses_too_long(void **state) {
    char name[PIXPROTO_NAME_MAX + 2];
    char out[PIXPROTO_NAME_MAX + 1];
    memset(name, 'a', PIXPROTO_NAME_MAX);
    name[PIXPROTO_NAME_MAX] = '\0';
    assert_int_equal(pixd_store_name_check(name, out, sizeof out, NULL, 0), 0);
    assert_int_equal(strlen(out), PIXPROTO_NAME_MAX);
    name[PIXPROTO_NAME_MAX] = 'a';
    name[PIXPROTO_NAME_MAX + 1] = '\0';
    refused(name, "name is longer than 200 bytes");
}

static void store_name_long_limit_counts_bytes(void **state) {
    /* 100 two-byte characters are 200 bytes; one more is over. */
    char name[2 * 101 + 1] = "";
    char out[PIXPROTO_NAME_MAX + 1];
    for (int i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9");
    assert_int_equal(pixd_store_name_check(name, out, sizeof out, NULL, 0), 0);
    strcat(name, "\xc3\xa9");
    refused(name, "longer than 200 bytes");
}

static void store_name_refuses_dot_and_dotdot(void **state) {
    refused(".", "must not be '.' or '..'");
    refused("..", "must not be '.' or '..'");
}

static void store_name_refuses_slash(void **state) {
    refused("a/b", "name must not contain '/'");
    refused("/etc/passwd", "name must not contain '/'");
    refused("../x", "name must not contain '/'");
    refused("x/", "name must not contain '/'");
}

static void store_name_refuses_backslash(void **state) {
    refused("a\\b", "name must not contain '\\'");
    refused("..\\x", "name must not contain '\\'");
}

static void store_name_n_refuses_nul(void **state) {
    refused_n("a\0b", 3, "NUL byte (at byte offset 1)");
    refused_n("abc\0", 4, "NUL byte");
    refused_n("\0", 1, "NUL byte");
}

static void store_name_refuses_control_characters(void **state) {
    refused("a\tb", "control characters (U+0009 at byte offset 1)");
    refused("a\nb", "control characters (U+000A");
    refused("a\rb", "control characters (U+000D");
    refused("\x01", "control characters (U+0001");
    refused("x\x1b[31m", "control characters (U+001B");
    refused("x\x1f", "control characters (U+001F");
    refused("x\x7f", "control characters (U+007F");
}

static void store_name_refuses_c1_controls(void **state) {
    refused("a\xc2\x80", "control characters (U+0080 at byte offset 1)");
    refused("a\xc2\x9b" "31m", "control characters (U+009B");
    refused("\xc2\x9f", "control characters (U+009F");
    accepted("\xc2\xa0nbsp", "\xc2\xa0nbsp"); /* U+00A0 is not a control */
}

static void store_name_refuses_leading_dot(void **state) {
    refused(".hidden", "name must not start with '.'");
    refused(".tmp", "name must not start with '.'");
    refused(".meta", "name must not start with '.'");
    refused("...", "name must not start with '.'");
}

static void store_name_refuses_leading_dash(void **state) {
    refused("-rf", "name must not start with '-'");
    refused("--help", "name must not start with '-'");
    accepted("a-b-", "a-b-");
}

static void store_name_refuses_trailing_dot(void **state) {
    refused("photo.", "name must not end with '.'");
    refused("photo..", "name must not end with '.'");
    /* A trailing space is normalised away rather than refused. */
    accepted("photo. ", "photo._");
}

static void store_name_refuses_overlong_utf8(void **state) {
    refused("\xc0\xaf", "not valid UTF-8 (at byte offset 0)"); /* '/' in 2 bytes */
    refused("a\xc1\xbf", "not valid UTF-8 (at byte offset 1)");
    refused("\xe0\x80\xaf", "not valid UTF-8");               /* '/' in 3 bytes */
    refused("\xe0\x9f\xbf", "not valid UTF-8");               /* U+07FF in 3 */
    refused("\xf0\x80\x80\xaf", "not valid UTF-8");           /* '/' in 4 bytes */
    refused("\xf0\x8f\xbf\xbf", "not valid UTF-8");           /* U+FFFF in 4 */
}

static void store_name_refuses_surrogates(void **state) {
    refused("\xed\xa0\x80", "not valid UTF-8"); /* U+D800 */
    refused("\xed\xbf\xbf", "not valid UTF-8"); /* U+DFFF */
    refused("\xed\xa0\xbd\xed\xb8\x80", "not valid UTF-8"); /* CESU-8 pair */
    accepted("\xed\x9f\xbf", "\xed\x9f\xbf");   /* U+D7FF */
}

static void store_name_refuses_above_max_code_point(void **state) {
    refused("\xf4\x90\x80\x80", "not valid UTF-8"); /* U+110000 */
    refused("\xf5\x80\x80\x80", "not valid UTF-8");
    refused("\xf8\x88\x80\x80\x80", "not valid UTF-8");
    refused("x\xff", "not valid UTF-8 (at byte offset 1)");
    refused("x\xfe", "not valid UTF-8");
    accepted("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
}

static void store_name_refuses_truncated_utf8(void **state) {
    refused("a\xc3", "not valid UTF-8 (at byte offset 1)");
    refused("a\xe2\x82", "not valid UTF-8");
    refused("a\xf0\x9f\x98", "not valid UTF-8");
    refused("\xe2\x82x", "not valid UTF-8");
    /* A cut inside the length given, though bytes follow in memory. */
    refused_n("\xc3\xa9", 1, "not valid UTF-8");
}

static void store_name_refuses_stray_continuation(void **state) {
    refused("\x80", "not valid UTF-8");
    refused("a\xbf", "not valid UTF-8");
    refused("\xc3\xa9\xa9", "not valid UTF-8 (at byte offset 2)");
}

static void store_name_accepts_utf8(void **state) {
    accepted("caf\xc3\xa9.jpg", "caf\xc3\xa9.jpg");                 /* 2 bytes */
    accepted("\xe5\x86\x99\xe7\x9c\x9f.png", "\xe5\x86\x99\xe7\x9c\x9f.png"); /* 3 */
    accepted("\xf0\x9f\x90\x88 cat", "\xf0\x9f\x90\x88_cat");      /* 4 */
    assert_true(pixd_store_name_is_valid("caf\xc3\xa9.jpg"));
}

static void store_name_out_too_small(void **state) {
    char out[4] = "xyz";
    char err[64] = "";
    assert_int_equal(pixd_store_name_check("abcd", out, sizeof out, err, sizeof err), -ERANGE);
    assert_string_equal(out, "xyz");
    assert_int_equal(pixd_store_name_check("abc", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "abc");
}

static void store_name_error_fits_small_buffer(void **state) {
    char out[PIXPROTO_NAME_MAX + 1];
    char err[8];
    assert_int_equal(pixd_store_name_check("a/b", out, sizeof out, err, sizeof err), -EINVAL);
    assert_string_equal(err, "name mu");
    assert_int_equal(pixd_store_name_check("a/b", out, sizeof out, NULL, 0), -EINVAL);
}

static void store_name_is_valid_bounded(void **state) {
    /* A name much longer than the limit is refused without a full scan. */
    static char big[1 << 16];
    memset(big, 'a', sizeof big - 1);
    assert_false(pixd_store_name_is_valid(big));
    assert_false(pixd_store_name_is_valid(""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_name_accepts_plain),
        cmocka_unit_test(store_name_spaces_become_underscores),
        cmocka_unit_test(store_name_normalises_in_place),
        cmocka_unit_test(store_name_refuses_empty),
        cmocka_unit_test(store_name_refuses_too_long),
        cmocka_unit_test(store_name_long_limit_counts_bytes),
        cmocka_unit_test(store_name_refuses_dot_and_dotdot),
        cmocka_unit_test(store_name_refuses_slash),
        cmocka_unit_test(store_name_refuses_backslash),
        cmocka_unit_test(store_name_n_refuses_nul),
        cmocka_unit_test(store_name_refuses_control_characters),
        cmocka_unit_test(store_name_refuses_c1_controls),
        cmocka_unit_test(store_name_refuses_leading_dot),
        cmocka_unit_test(store_name_refuses_leading_dash),
        cmocka_unit_test(store_name_refuses_trailing_dot),
        cmocka_unit_test(store_name_refuses_overlong_utf8),
        cmocka_unit_test(store_name_refuses_surrogates),
        cmocka_unit_test(store_name_refuses_above_max_code_point),
        cmocka_unit_test(store_name_refuses_truncated_utf8),
        cmocka_unit_test(store_name_refuses_stray_continuation),
        cmocka_unit_test(store_name_accepts_utf8),
        cmocka_unit_test(store_name_out_too_small),
        cmocka_unit_test(store_name_error_fits_small_buffer),
        cmocka_unit_test(store_name_is_valid_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
