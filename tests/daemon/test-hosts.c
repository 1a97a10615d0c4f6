/* Per-host connection counting for --max-per-host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "hosts.h"

static struct sockaddr_storage v4(const char *ip, int port) {
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &in->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *ip) {
    struct sockaddr_storage ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    memset(&ss, 0, sizeof ss);
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &in6->sin6_addr);
    return ss;
}

#define SA(x) ((struct sockaddr *)&(x))

static void hosts_limit_per_address(void **state) {
    pixd_hosts h;
    struct sockaddr_storage a = v4("10.0.0.1", 1), a2 = v4("10.0.0.1", 2), b = v4("10.0.0.2", 1);
    assert_int_equal(pixd_hosts_init(&h), 0);
    assert_int_equal(pixd_hosts_acquire(&h, SA(a), 2), 0);
    assert_int_equal(pixd_hosts_acquire(&h, SA(a2), 2), 0);
    assert_int_equal(pixd_hosts_acquire(&h, SA(a), 2), -EUSERS);
    assert_int_equal(pixd_hosts_acquire(&h, SA(b), 2), 0);
    assert_int_equal(pixd_hosts_count(&h, SA(a)), 2);
    pixd_hosts_release(&h, SA(a));
    assert_int_equal(pixd_hosts_acquire(&h, SA(a), 2), 0);
    pixd_hosts_free(&h);
}

static void hosts_zero_means_unlimited(void **state) {
    pixd_hosts h;
    struct sockaddr_storage a = v4("10.0.0.1", 1);
    assert_int_equal(pixd_hosts_init(&h), 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(pixd_hosts_acquire(&h, SA(a), 0), 0);
    assert_int_equal(pixd_hosts_count(&h, SA(a)), 5000);
    pixd_hosts_free(&h);
}

static void hosts_v4_mapped_is_same_host(void **state) {
    pixd_hosts h;
    struct sockaddr_storage a = v4("192.0.2.7", 1), m = v6("::ffff:192.0.2.7");
    assert_int_equal(pixd_hosts_init(&h), 0);
    assert_int_equal(pixd_hosts_acquire(&h, SA(a), 1), 0);
    assert_int_equal(pixd_hosts_acquire(&h, SA(m), 1), -EUSERS);
    pixd_hosts_free(&h);
}

static void hosts_entries_freed_at_zero(void **state) {
    pixd_hosts h;
    assert_int_equal(pixd_hosts_init(&h), 0);
    for (int i = 0; i < 300; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250, i % 250);
        struct sockaddr_storage a = v4(ip, 1);
        assert_int_equal(pixd_hosts_acquire(&h, SA(a), 1), 0);
    }
    assert_int_equal(h.nhosts, 300);
    for (int i = 0; i < 300; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250, i % 250);
        struct sockaddr_storage a = v4(ip, 1);
        pixd_hosts_release(&h, SA(a));
    }
    assert_int_equal(h.nhosts, 0);
    pixd_hosts_free(&h);
}

static void hosts_unix_not_counted(void **state) {
    pixd_hosts h;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_int_equal(pixd_hosts_init(&h), 0);
    assert_int_equal(pixd_hosts_acquire(&h, (struct sockaddr *)&un, 1), 0);
    assert_int_equal(pixd_hosts_acquire(&h, (struct sockaddr *)&un, 1), 0);
    assert_int_equal(pixd_hosts_count(&h, (struct sockaddr *)&un), 0);
    pixd_hosts_release(&h, (struct sockaddr *)&un);
    pixd_hosts_free(&h);
}

static void hosts_release_unknown_is_harmless(void **state) {
    pixd_hosts h;
    struct sockaddr_storage a = v6("2001:db8::1");
    assert_int_equal(pixd_hosts_init(&h), 0);
    pixd_hosts_release(&h, SA(a));
    assert_int_equal(pixd_hosts_count(&h, SA(a)), 0);
    pixd_hosts_free(&h);
    pixd_hosts_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_limit_per_address),
        cmocka_unit_test(hosts_zero_means_unlimited),
        cmocka_unit_test(hosts_v4_mapped_is_same_host),
        cmocka_unit_test(hosts_entries_freed_at_zero),
        cmocka_unit_test(hosts_unix_not_counted),
        cmocka_unit_test(hosts_release_unknown_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
