/* Per-host leaky buckets (failed authentications). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "auth/ratelimit.h"

static struct sockaddr_storage v4(const char *ip) {
    struct sockaddr_storage ss;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    in->sin_family = AF_INET;
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

static void ratelimit_blocks_after_burst(void **state) {
    pixd_ratelimit rl;
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
    uint64_t retry = 0;
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 3, 1000), 0);
    for (int i = 0; i < 3; i++) {
        assert_false(pixd_ratelimit_blocked(&rl, SA(a), 100, NULL));
        pixd_ratelimit_hit(&rl, SA(a), 100);
    }
    assert_true(pixd_ratelimit_blocked(&rl, SA(a), 100, &retry));
    assert_int_equal(retry, 1000);
    /* Another host is not affected. */
    assert_false(pixd_ratelimit_blocked(&rl, SA(b), 100, NULL));
    pixd_ratelimit_free(&rl);
}

static void ratelimit_drains_one_per_period(void **state) {
    pixd_ratelimit rl;
    struct sockaddr_storage a = v4("10.0.0.1");
    uint64_t retry = 0;
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 2, 1000), 0);
    pixd_ratelimit_hit(&rl, SA(a), 0);
    pixd_ratelimit_hit(&rl, SA(a), 0);
    assert_true(pixd_ratelimit_blocked(&rl, SA(a), 999, &retry));
    assert_int_equal(retry, 1);
    assert_false(pixd_ratelimit_blocked(&rl, SA(a), 1000, NULL));
    /* One more event at 1000 blocks again; drained fully after 2 periods. */
    pixd_ratelimit_hit(&rl, SA(a), 1000);
    assert_true(pixd_ratelimit_blocked(&rl, SA(a), 1500, NULL));
    assert_false(pixd_ratelimit_blocked(&rl, SA(a), 2000, NULL));
    pixd_ratelimit_free(&rl);
}

static void ratelimit_steady_hits_never_escape(void **state) {
    /* Hitting just before each drain tick must not keep the level from
     * draining, nor let the host past the burst. */
    pixd_ratelimit rl;
    struct sockaddr_storage a = v4("10.0.0.1");
    int allowed = 0;
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 2, 1000), 0);
    for (uint64_t t = 0; t < 10000; t += 100) {
        if (!pixd_ratelimit_blocked(&rl, SA(a), t, NULL)) {
            allowed++;
            pixd_ratelimit_hit(&rl, SA(a), t);
        }
    }
    /* Burst of 2, then one per second over ~10 s. */
    assert_in_range(allowed, 10, 12);
    pixd_ratelimit_free(&rl);
}

static void ratelimit_v4_mapped_is_same_host(void **state) {
    pixd_ratelimit rl;
    struct sockaddr_storage a = v4("192.0.2.7"), m = v6("::ffff:192.0.2.7");
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 1, 1000), 0);
    pixd_ratelimit_hit(&rl, SA(a), 0);
    assert_true(pixd_ratelimit_blocked(&rl, SA(m), 0, NULL));
    pixd_ratelimit_free(&rl);
}

static void ratelimit_unix_and_off_never_block(void **state) {
    pixd_ratelimit rl;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct sockaddr_storage a = v4("10.0.0.1");
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 1, 1000), 0);
    pixd_ratelimit_hit(&rl, (struct sockaddr *)&un, 0);
    assert_false(pixd_ratelimit_blocked(&rl, (struct sockaddr *)&un, 0, NULL));
    pixd_ratelimit_free(&rl);
    assert_int_equal(pixd_ratelimit_init(&rl, 64, 0, 1000), 0);
    pixd_ratelimit_hit(&rl, SA(a), 0);
    assert_false(pixd_ratelimit_blocked(&rl, SA(a), 0, NULL));
    pixd_ratelimit_free(&rl);
}

static void ratelimit_memory_is_bounded(void **state) {
    /* Many hosts share a fixed table; the blocked one survives churn from
     * hosts with lower levels. */
    pixd_ratelimit rl;
    struct sockaddr_storage bad = v4("10.9.9.9");
    char ip[32];
    assert_int_equal(pixd_ratelimit_init(&rl, 16, 3, 1000), 0);
    for (int i = 0; i < 3; i++)
        pixd_ratelimit_hit(&rl, SA(bad), 0);
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 250, i % 250);
        struct sockaddr_storage h = v4(ip);
        pixd_ratelimit_hit(&rl, SA(h), 0);
    }
    assert_int_equal(rl.nslots, 16);
    assert_true(pixd_ratelimit_blocked(&rl, SA(bad), 0, NULL));
    pixd_ratelimit_free(&rl);
    pixd_ratelimit_free(&rl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ratelimit_blocks_after_burst),
        cmocka_unit_test(ratelimit_drains_one_per_period),
        cmocka_unit_test(ratelimit_steady_hits_never_escape),
        cmocka_unit_test(ratelimit_v4_mapped_is_same_host),
        cmocka_unit_test(ratelimit_unix_and_off_never_block),
        cmocka_unit_test(ratelimit_memory_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
