/* The config file parser: one test per rule it enforces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

typedef struct seen {
    char keys[8][64];
    char vals[8][256];
    int lines[8];
    int n;
} seen;

static int collect(const char *key, const char *value, int line, void *ctx,
                   char *err, size_t errlen) {
    seen *s = ctx;
    if (strcmp(key, "reject") == 0) {
        snprintf(err, errlen, "rejected %s", value);
        return -EINVAL;
    }
    if (s->n < 8) {
        snprintf(s->keys[s->n], 64, "%s", key);
        snprintf(s->vals[s->n], 256, "%s", value);
        s->lines[s->n] = line;
        s->n++;
    }
    return 0;
}

static int parse(const char *text, seen *s, char *err) {
    memset(s, 0, sizeof *s);
    err[0] = '\0';
    return pixd_config_parse(text, strlen(text), collect, s, err, 256);
}

static void config_key_value_trimmed(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("  listen   =  native=127.0.0.1:1 \t\r\nlog-level=debug", &s, err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "listen");
    assert_string_equal(s.vals[0], "native=127.0.0.1:1");
    assert_string_equal(s.vals[1], "debug");
    assert_int_equal(s.lines[1], 2);
}

static void config_comments_and_blank_lines_skipped(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("# comment\n\n   \n  # indented = comment\nkey = v\n", &s, err), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.lines[0], 5);
}

static void config_missing_equals_names_line(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("a = 1\njust words\n", &s, err), -EINVAL);
    assert_non_null(strstr(err, "line 2"));
}

static void config_empty_key_refused(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse(" = 3\n", &s, err), -EINVAL);
    assert_non_null(strstr(err, "line 1"));
}

static void config_bad_key_characters_refused(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("Max Connections = 3\n", &s, err), -EINVAL);
    assert_non_null(strstr(err, "bad key"));
}

static void config_control_characters_refused(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("a = b\x1b[31m\n", &s, err), -EINVAL);
    assert_non_null(strstr(err, "control"));
}

static void config_nul_byte_refused(void **state) {
    seen s;
    char err[256];
    const char text[] = "a = b\0c\n";
    memset(&s, 0, sizeof s);
    assert_int_equal(pixd_config_parse(text, sizeof text - 1, collect, &s, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "NUL"));
}

static void config_overlong_line_refused(void **state) {
    static char text[PIXD_CONFIG_MAX_LINE + 16];
    seen s;
    char err[256];
    memset(text, 'a', sizeof text - 1);
    text[0] = 'k';
    text[1] = '=';
    text[sizeof text - 1] = '\0';
    assert_int_equal(parse(text, &s, err), -EINVAL);
    assert_non_null(strstr(err, "longer"));
}

static void config_oversize_file_refused(void **state) {
    seen s;
    char err[256];
    assert_int_equal(pixd_config_parse("", PIXD_CONFIG_MAX_BYTES + 1, collect, &s, err,
                                       sizeof err), -EFBIG);
}

static void config_quotes_keep_spaces(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("a = \" x \"\nb = 'y'\nc = \"unbalanced\n", &s, err), 0);
    assert_string_equal(s.vals[0], " x ");
    assert_string_equal(s.vals[1], "y");
    assert_string_equal(s.vals[2], "\"unbalanced");
}

static void config_callback_error_has_line_number(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("ok = 1\nreject = this\n", &s, err), -EINVAL);
    assert_string_equal(err, "line 2: rejected this");
}

static void config_last_line_without_newline(void **state) {
    seen s;
    char err[256];
    assert_int_equal(parse("a = 1\nb = 2", &s, err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.vals[1], "2");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_key_value_trimmed),
        cmocka_unit_test(config_comments_and_blank_lines_skipped),
        cmocka_unit_test(config_missing_equals_names_line),
        cmocka_unit_test(config_empty_key_refused),
        cmocka_unit_test(config_bad_key_characters_refused),
        cmocka_unit_test(config_control_characters_refused),
        cmocka_unit_test(config_nul_byte_refused),
        cmocka_unit_test(config_overlong_line_refused),
        cmocka_unit_test(config_oversize_file_refused),
        cmocka_unit_test(config_quotes_keep_spaces),
        cmocka_unit_test(config_callback_error_has_line_number),
        cmocka_unit_test(config_last_line_without_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
