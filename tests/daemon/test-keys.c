/* The keys file (--keys): one test per rule the parser and loader enforce. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/keys.h"

#define S16 "0123456789abcdef"

static int parse(const char *text, pixd_keys **k, char *err, size_t errlen) {
    err[0] = '\0';
    return pixd_keys_parse(text, strlen(text), k, err, errlen);
}

/* Parses text, expecting a refusal that names line `line` and holds `what`. */
static void refused(const char *text, int line, const char *what) {
    pixd_keys *k = (pixd_keys *)1;
    char err[300], want[32];
    assert_true(parse(text, &k, err, sizeof err) < 0);
    assert_null(k);
    snprintf(want, sizeof want, "line %d:", line);
    if (line)
        assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, what));
}

static void keys_parse_fields_and_perms(void **state) {
    pixd_keys *k;
    char err[300];
    assert_int_equal(parse("alice " S16 "xy read,write\n"
                           "ops.bot-1 " S16 "  admin\n"
                           "r\t" S16 "\tread\n", &k, err, sizeof err), 0);
    assert_int_equal(k->n, 3);
    assert_string_equal(k->keys[0].name, "alice");
    assert_string_equal(k->keys[0].secret, S16 "xy");
    assert_int_equal(k->keys[0].secret_len, 18);
    assert_int_equal(k->keys[0].perms, PIXD_PERM_READ | PIXD_PERM_WRITE);
    assert_int_equal(k->keys[1].perms, PIXD_PERM_ADMIN);
    assert_int_equal(pixd_keys_find(k, "r")->perms, PIXD_PERM_READ);
    assert_null(pixd_keys_find(k, "nobody"));
    pixd_keys_free(k);
}

static void keys_comments_blank_lines_and_crlf(void **state) {
    pixd_keys *k;
    char err[300];
    assert_int_equal(parse("# who may do what\n\n   \n  # indented comment\r\n"
                           "a " S16 " read,write,admin\r\n", &k, err, sizeof err), 0);
    assert_int_equal(k->n, 1);
    assert_int_equal(k->keys[0].perms, PIXD_PERM_ALL);
    assert_string_equal(k->keys[0].secret, S16);
    pixd_keys_free(k);
}

static void keys_last_line_without_newline(void **state) {
    pixd_keys *k;
    char err[300];
    assert_int_equal(parse("a " S16 " read", &k, err, sizeof err), 0);
    assert_int_equal(k->n, 1);
    pixd_keys_free(k);
}

static void keys_missing_secret_or_perms(void **state) {
    refused("# c\nalice\n", 2, "no secret");
    refused("\n\nalice " S16 "\n", 3, "no permissions");
}

static void keys_extra_field(void **state) {
    refused("a " S16 " read extra\n", 1, "unexpected text");
}

static void keys_unknown_perm(void **state) {
    refused("a " S16 " read,delete\n", 1, "read, write, admin");
    refused("a " S16 " read,\n", 1, "read, write, admin");
    refused("a " S16 " ,read\n", 1, "read, write, admin");
}

static void keys_bad_name(void **state) {
    refused("al:ice " S16 " read\n", 1, "letters, digits");
    refused("abcdefghijabcdefghijabcdefghijabc " S16 " read\n", 1, "longer than 32");
}

static void keys_secret_length(void **state) {
    char line[400];
    refused("a 0123456789abcde read\n", 1, "16 to 256");
    memset(line, 'x', sizeof line);
    memcpy(line, "a ", 2);
    memcpy(line + 2 + 257, " read\n", 7);
    refused(line, 1, "16 to 256");
}

static void keys_secret_never_in_error(void **state) {
    pixd_keys *k;
    char err[300];
    assert_true(parse("a supersecretvalue0123 read extra\n", &k, err, sizeof err) < 0);
    assert_null(strstr(err, "supersecret"));
    assert_true(parse("a supersecretvalue0123 reed\n", &k, err, sizeof err) < 0);
    assert_null(strstr(err, "supersecret"));
}

static void keys_duplicate_name(void **state) {
    refused("a " S16 " read\nb " S16 " read\na " S16 " write\n", 3, "used twice");
}

static void keys_control_and_non_ascii_bytes(void **state) {
    pixd_keys *k;
    char err[300];
    static const char nul[] = "a " S16 "\0 read\n";
    assert_true(pixd_keys_parse(nul, sizeof nul - 1, &k, err, sizeof err) < 0);
    assert_non_null(strstr(err, "line 1:"));
    refused("a " S16 "\xc3\xa9 read\n", 1, "not printable ASCII");
}

static void keys_long_line(void **state) {
    char *text = malloc(2000);
    memset(text, 'a', 1999);
    text[1999] = '\0';
    refused(text, 1, "longer than");
    free(text);
}

static void keys_empty_file(void **state) {
    refused("# nothing\n\n", 0, "no keys");
}

static void keys_too_many(void **state) {
    size_t cap = (PIXD_KEYS_MAX + 1) * 48;
    char *text = malloc(cap);
    size_t o = 0;
    for (int i = 0; i <= PIXD_KEYS_MAX; i++)
        o += (size_t)snprintf(text + o, cap - o, "k%d " S16 " read\n", i);
    refused(text, PIXD_KEYS_MAX + 1, "more than");
    free(text);
}

static void keys_secret_matches_in_full(void **state) {
    pixd_keys *k;
    char err[300];
    assert_int_equal(parse("a " S16 " read\n", &k, err, sizeof err), 0);
    assert_true(pixd_key_secret_matches(&k->keys[0], S16, 16));
    assert_false(pixd_key_secret_matches(&k->keys[0], S16, 15));
    assert_false(pixd_key_secret_matches(&k->keys[0], S16 "0", 17));
    assert_false(pixd_key_secret_matches(&k->keys[0], "0123456789abcdeF", 16));
    pixd_keys_free(k);
}

static void keys_perms_text(void **state) {
    char buf[32];
    assert_string_equal(pixd_perms_text(0, buf, sizeof buf), "none");
    assert_string_equal(pixd_perms_text(PIXD_PERM_READ, buf, sizeof buf), "read");
    assert_string_equal(pixd_perms_text(PIXD_PERM_WRITE | PIXD_PERM_ADMIN, buf, sizeof buf),
                        "write,admin");
    assert_string_equal(pixd_perms_text(PIXD_PERM_ALL, buf, sizeof buf), "read,write,admin");
}

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void keys_load_mode_checked(void **state) {
    char dir[] = "/tmp/test-keys-XXXXXX", path[64], err[600];
    pixd_keys *k;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/keys", dir);
    write_file(path, "a " S16 " read\n", 0600);
    assert_int_equal(pixd_keys_load(path, &k, err, sizeof err), 0);
    assert_int_equal(k->n, 1);
    pixd_keys_free(k);
    write_file(path, "a " S16 " read\n", 0644);
    assert_int_equal(pixd_keys_load(path, &k, err, sizeof err), -EPERM);
    assert_non_null(strstr(err, "chmod 600"));
    write_file(path, "a " S16 " read\n", 0640);
    assert_int_equal(pixd_keys_load(path, &k, err, sizeof err), -EPERM);
    write_file(path, "a " S16 " read\n", 0620);
    assert_int_equal(pixd_keys_load(path, &k, err, sizeof err), -EPERM);
    write_file(path, "a " S16 " nope\n", 0400);
    assert_int_equal(pixd_keys_load(path, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 1:"));
    unlink(path);
    assert_true(pixd_keys_load(path, &k, err, sizeof err) == -ENOENT);
    assert_true(pixd_keys_load(dir, &k, err, sizeof err) < 0);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_parse_fields_and_perms),
        cmocka_unit_test(keys_comments_blank_lines_and_crlf),
        cmocka_unit_test(keys_last_line_without_newline),
        cmocka_unit_test(keys_missing_secret_or_perms),
        cmocka_unit_test(keys_extra_field),
        cmocka_unit_test(keys_unknown_perm),
        cmocka_unit_test(keys_bad_name),
        cmocka_unit_test(keys_secret_length),
        cmocka_unit_test(keys_secret_never_in_error),
        cmocka_unit_test(keys_duplicate_name),
        cmocka_unit_test(keys_control_and_non_ascii_bytes),
        cmocka_unit_test(keys_long_line),
        cmocka_unit_test(keys_empty_file),
        cmocka_unit_test(keys_too_many),
        cmocka_unit_test(keys_secret_matches_in_full),
        cmocka_unit_test(keys_perms_text),
        cmocka_unit_test(keys_load_mode_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
