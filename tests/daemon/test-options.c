/* pixd's option table: values, validation, config file vs command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "options.h"

static int parse_argv(pixd_options *o, char *err, int argc, ...) {
    char *argv[32];
    va_list ap;
    argv[0] = "pixd";
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    pixd_options_defaults(o);
    return pixd_options_parse(o, argc, argv, err, 512);
}

static void options_defaults(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 1), 0);
    assert_int_equal(o.n_listens, 0);
    assert_int_equal(o.max_connections, 4096);
    assert_int_equal(o.max_per_host, 0);
    assert_int_equal(o.idle_timeout_ms, 20000);
    assert_false(o.insecure);
}

static void options_listen_repeatable(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 5, "--listen", "native=127.0.0.1:0", "--listen",
                                "native=unix:/tmp/x.sock"), 0);
    assert_int_equal(o.n_listens, 2);
    assert_string_equal(o.listens[1].handler, "native");
    assert_string_equal(o.listens[1].addr, "unix:/tmp/x.sock");
}

static void options_listen_unknown_handler_lists_known(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 3, "--listen", "ftp=127.0.0.1:21"), -EINVAL);
    assert_non_null(strstr(err, "ftp"));
    assert_non_null(strstr(err, "native"));
}

static void options_numbers_validated(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 3, "--max-connections", "0"), -EINVAL);
    assert_int_equal(parse_argv(&o, err, 3, "--max-connections", "12x"), -EINVAL);
    assert_int_equal(parse_argv(&o, err, 3, "--max-per-host", "-3"), -EINVAL);
    assert_int_equal(parse_argv(&o, err, 3, "--idle-timeout", "nan"), -EINVAL);
    assert_int_equal(parse_argv(&o, err, 3, "--idle-timeout", "0.25"), 0);
    assert_int_equal(o.idle_timeout_ms, 250);
    assert_int_equal(parse_argv(&o, err, 3, "--idle-timeout", "0"), 0);
    assert_int_equal(o.idle_timeout_ms, 0);
}

static void options_unknown_and_missing_value(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 2, "--frobnicate"), -EINVAL);
    assert_non_null(strstr(err, "--frobnicate"));
    assert_int_equal(parse_argv(&o, err, 2, "--listen"), -EINVAL);
    assert_non_null(strstr(err, "needs a value"));
}

static char *write_config(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/pixd-test-options-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void options_config_then_command_line_wins(void **state) {
    pixd_options o;
    char err[512];
    char *path = write_config("listen = native=127.0.0.1:1\nlisten = native=127.0.0.1:2\n"
                              "max-per-host = 7\nidle-timeout = 5\n");
    assert_int_equal(parse_argv(&o, err, 5, "--idle-timeout", "9", "--config", path), 0);
    assert_int_equal(o.n_listens, 2);
    assert_int_equal(o.max_per_host, 7);
    assert_int_equal(o.idle_timeout_ms, 9000);
    /* A --listen on the command line replaces the config's list. */
    assert_int_equal(parse_argv(&o, err, 5, "--config", path, "--listen", "native=127.0.0.1:3"), 0);
    assert_int_equal(o.n_listens, 1);
    assert_string_equal(o.listens[0].addr, "127.0.0.1:3");
    unlink(path);
}

static void options_config_errors_name_file_and_line(void **state) {
    pixd_options o;
    char err[512];
    char *path = write_config("max-connections = 10\nhelp = 1\n");
    assert_int_equal(parse_argv(&o, err, 3, "--config", path), -EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 2"));
    unlink(path);
    assert_int_equal(parse_argv(&o, err, 3, "--config", "/nonexistent/pixd.conf"), -ENOENT);
}

static void options_insecure_bool(void **state) {
    pixd_options o;
    char err[512];
    pixd_options_defaults(&o);
    assert_int_equal(pixd_options_set(&o, "insecure", "true", err, sizeof err), 0);
    assert_true(o.insecure);
    assert_int_equal(pixd_options_set(&o, "insecure", "no", err, sizeof err), 0);
    assert_false(o.insecure);
    assert_int_equal(pixd_options_set(&o, "insecure", "maybe", err, sizeof err), -EINVAL);
}

static void options_log_format_and_requests(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 4, "--log-format", "json", "--log-requests"), 0);
    assert_int_equal(o.log_format, PIXD_LOG_JSON);
    assert_true(o.log_requests);
    assert_int_equal(parse_argv(&o, err, 2, "--log-format=xml"), -EINVAL);
    assert_non_null(strstr(err, "text or json"));
    pixd_options_defaults(&o);
    assert_int_equal(o.log_format, PIXD_LOG_TEXT);
    assert_int_equal(pixd_options_set(&o, "log-requests", "false", err, sizeof err), 0);
    assert_false(o.log_requests);
}

static void options_check_config_seen_wherever_it_is(void **state) {
    pixd_options o;
    char err[512];
    assert_int_equal(parse_argv(&o, err, 2, "--check-config"), 0);
    assert_true(o.check_config);
    /* After a bad flag too: --check-config must answer 1, not 2. */
    assert_int_equal(parse_argv(&o, err, 3, "--frobnicate", "--check-config"), -EINVAL);
    assert_true(o.check_config);
    assert_non_null(strstr(err, "--frobnicate"));
    /* Not allowed in a config file. */
    pixd_options_defaults(&o);
    assert_int_equal(pixd_options_set(&o, "check-config", "", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "command line only"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_defaults),
        cmocka_unit_test(options_listen_repeatable),
        cmocka_unit_test(options_listen_unknown_handler_lists_known),
        cmocka_unit_test(options_numbers_validated),
        cmocka_unit_test(options_unknown_and_missing_value),
        cmocka_unit_test(options_config_then_command_line_wins),
        cmocka_unit_test(options_config_errors_name_file_and_line),
        cmocka_unit_test(options_insecure_bool),
        cmocka_unit_test(options_log_format_and_requests),
        cmocka_unit_test(options_check_config_seen_wherever_it_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
