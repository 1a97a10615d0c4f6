/* Listen address parsing and formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "addr.h"

static int parse(const char *s, pixd_addr *a) {
    char err[200];
    return pixd_addr_parse(s, a, err, sizeof err);
}

static void addr_ipv4_host_port(void **state) {
    pixd_addr a;
    assert_int_equal(parse("127.0.0.1:7070", &a), 0);
    assert_int_equal(a.kind, PIXD_ADDR_TCP);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 7070);
}

static void addr_port_zero_allowed(void **state) {
    pixd_addr a;
    assert_int_equal(parse("localhost:0", &a), 0);
    assert_int_equal(a.port, 0);
}

static void addr_ipv6_brackets(void **state) {
    pixd_addr a;
    assert_int_equal(parse("[::1]:80", &a), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 80);
}

static void addr_ipv6_without_brackets_refused(void **state) {
    pixd_addr a;
    char err[200];
    assert_int_equal(pixd_addr_parse("::1:80", &a, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "[ADDR]:PORT"));
}

static void addr_ipv6_bad_literal_refused(void **state) {
    pixd_addr a;
    assert_int_equal(parse("[zz::1]:80", &a), -EINVAL);
    assert_int_equal(parse("[]:80", &a), -EINVAL);
    assert_int_equal(parse("[::1]80", &a), -EINVAL);
}

static void addr_port_range_checked(void **state) {
    pixd_addr a;
    assert_int_equal(parse("h:65536", &a), -EINVAL);
    assert_int_equal(parse("h:-1", &a), -EINVAL);
    assert_int_equal(parse("h:", &a), -EINVAL);
    assert_int_equal(parse("h:80x", &a), -EINVAL);
    assert_int_equal(parse("h:65535", &a), 0);
}

static void addr_missing_port_or_host_refused(void **state) {
    pixd_addr a;
    assert_int_equal(parse("localhost", &a), -EINVAL);
    assert_int_equal(parse(":80", &a), -EINVAL);
}

static void addr_host_characters_checked(void **state) {
    pixd_addr a;
    assert_int_equal(parse("ho st:80", &a), -EINVAL);
    assert_int_equal(parse("a/b:80", &a), -EINVAL);
}

static void addr_unix_path(void **state) {
    pixd_addr a;
    assert_int_equal(parse("unix:/run/pixd.sock", &a), 0);
    assert_int_equal(a.kind, PIXD_ADDR_UNIX);
    assert_string_equal(a.path, "/run/pixd.sock");
}

static void addr_unix_empty_or_long_refused(void **state) {
    pixd_addr a;
    char longp[200] = "unix:/";
    assert_int_equal(parse("unix:", &a), -EINVAL);
    memset(longp + 6, 'x', 150);
    longp[156] = '\0';
    assert_int_equal(parse(longp, &a), -EINVAL);
}

static void addr_format_v4_v6(void **state) {
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(7070)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    char out[64];
    inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
    pixd_addr_format((struct sockaddr *)&in, out, sizeof out);
    assert_string_equal(out, "10.1.2.3:7070");
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    pixd_addr_format((struct sockaddr *)&in6, out, sizeof out);
    assert_string_equal(out, "[::1]:80");
}

static void addr_loopback_detection(void **state) {
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    inet_pton(AF_INET, "127.9.9.9", &in.sin_addr);
    assert_true(pixd_addr_is_loopback((struct sockaddr *)&in));
    inet_pton(AF_INET, "0.0.0.0", &in.sin_addr);
    assert_false(pixd_addr_is_loopback((struct sockaddr *)&in));
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    assert_true(pixd_addr_is_loopback((struct sockaddr *)&in6));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
    assert_true(pixd_addr_is_loopback((struct sockaddr *)&in6));
    inet_pton(AF_INET6, "::", &in6.sin6_addr);
    assert_false(pixd_addr_is_loopback((struct sockaddr *)&in6));
    assert_true(pixd_addr_is_loopback((struct sockaddr *)&un));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addr_ipv4_host_port),
        cmocka_unit_test(addr_port_zero_allowed),
        cmocka_unit_test(addr_ipv6_brackets),
        cmocka_unit_test(addr_ipv6_without_brackets_refused),
        cmocka_unit_test(addr_ipv6_bad_literal_refused),
        cmocka_unit_test(addr_port_range_checked),
        cmocka_unit_test(addr_missing_port_or_host_refused),
        cmocka_unit_test(addr_host_characters_checked),
        cmocka_unit_test(addr_unix_path),
        cmocka_unit_test(addr_unix_empty_or_long_refused),
        cmocka_unit_test(addr_format_v4_v6),
        cmocka_unit_test(addr_loopback_detection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
