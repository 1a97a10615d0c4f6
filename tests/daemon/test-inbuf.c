/* inbuf.c: bodies of an announced (untrusted) size, and bytes put
 * aside while a request is served. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "inbuf.h"

static void inbuf_first_allocation_is_capped(void **state) {
    pixd_inbuf b = {0};
    /* 4 GiB announced: nothing like that is allocated before bytes come. */
    assert_int_equal(pixd_inbuf_begin(&b, 0xFFFFFFFFu), 0);
    assert_true(b.cap <= (1u << 20));
    pixd_inbuf_free(&b);
    assert_int_equal(pixd_inbuf_begin(&b, 10), 0);
    assert_int_equal(b.cap, 10);
    pixd_inbuf_free(&b);
}

/* Pages of [p, p + n) that are in memory. */
static size_t resident_pages(const uint8_t *p, size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1);
    size_t len = (size_t)((uintptr_t)p + n - a), count = (len + page - 1) / page, in = 0;
    unsigned char *vec = malloc(count);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)a, len, vec), 0);
    for (size_t i = 0; i < count; i++)
        in += vec[i] & 1;
    free(vec);
    return in;
}

/* An announced size that is never sent pins no memory: the first block is
 * allocated, not touched, and only the pages bytes are copied into come
 * in (inbuf faults them in per piece, never ahead). */
static void inbuf_announced_size_pins_nothing(void **state) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    pixd_inbuf b = {0};
    uint8_t data[10000];
    size_t used;
    memset(data, 3, sizeof data);
    assert_int_equal(pixd_inbuf_begin(&b, 8u << 20), 0);
    assert_int_equal(b.cap, 1u << 20);
    /* The allocator may write its header and fill the first bytes. */
    assert_true(resident_pages(b.data, b.cap) <= 2);
    assert_int_equal(pixd_inbuf_feed(&b, data, sizeof data, &used), 0);
    assert_int_equal(used, sizeof data);
    assert_true(resident_pages(b.data, b.cap) <= sizeof data / page + 3);
    pixd_inbuf_free(&b);
}

static void inbuf_takes_no_more_than_wanted(void **state) {
    pixd_inbuf b = {0};
    uint8_t data[100];
    size_t used;
    memset(data, 7, sizeof data);
    assert_int_equal(pixd_inbuf_begin(&b, 30), 0);
    assert_int_equal(pixd_inbuf_feed(&b, data, 20, &used), 0);
    assert_int_equal(used, 20);
    assert_false(pixd_inbuf_full(&b));
    assert_int_equal(pixd_inbuf_feed(&b, data, 100, &used), 0);
    assert_int_equal(used, 10); /* the rest is the next message's */
    assert_true(pixd_inbuf_full(&b));
    pixd_inbuf_free(&b);
}

static void inbuf_grows_by_doubling_to_want(void **state) {
    pixd_inbuf b = {0};
    size_t want = (3u << 20) + 5, used, fed = 0, caps = 0, last = 0, len = 0;
    uint8_t *chunk = calloc(1, 65536), *d;
    assert_int_equal(pixd_inbuf_begin(&b, want), 0);
    while (!pixd_inbuf_full(&b)) {
        assert_int_equal(pixd_inbuf_feed(&b, chunk, 65536, &used), 0);
        fed += used;
        if (b.cap != last) {
            caps++;
            last = b.cap;
        }
        assert_true(b.cap <= want);
    }
    assert_int_equal(fed, want);
    assert_true(caps <= 4); /* 1 MiB, 2 MiB, want */
    d = pixd_inbuf_take(&b, &len);
    assert_non_null(d);
    assert_int_equal(len, want);
    assert_null(b.data);
    free(d);
    free(chunk);
}

static void inbuf_add_refuses_more_than_announced(void **state) {
    pixd_inbuf b = {0};
    uint8_t data[16];
    memset(data, 3, sizeof data);
    assert_int_equal(pixd_inbuf_begin(&b, 10), 0);
    assert_int_equal(pixd_inbuf_add(&b, data, 6), 0);
    /* 6 more would overrun the 10 announced: nothing of them is taken. */
    assert_int_equal(pixd_inbuf_add(&b, data, 6), -EMSGSIZE);
    assert_int_equal(b.len, 6);
    assert_false(pixd_inbuf_full(&b));
    assert_int_equal(pixd_inbuf_add(&b, data, 4), 0);
    assert_true(pixd_inbuf_full(&b));
    assert_int_equal(pixd_inbuf_add(&b, data, 1), -EMSGSIZE);
    assert_int_equal(pixd_inbuf_add(&b, data, 0), 0);
    pixd_inbuf_free(&b);
}

static void inbuf_add_grows_within_want(void **state) {
    pixd_inbuf b = {0};
    size_t want = (2u << 20) + 3, len = 0;
    uint8_t *chunk = malloc(want), *d;
    for (size_t i = 0; i < want; i++)
        chunk[i] = (uint8_t)(i * 7);
    assert_int_equal(pixd_inbuf_begin(&b, want), 0);
    assert_int_equal(pixd_inbuf_add(&b, chunk, 1000), 0);
    assert_int_equal(pixd_inbuf_add(&b, chunk + 1000, want - 1000), 0);
    assert_true(pixd_inbuf_full(&b));
    assert_int_equal(b.cap, want);
    d = pixd_inbuf_take(&b, &len);
    assert_int_equal(len, want);
    assert_memory_equal(d, chunk, want);
    free(d);
    free(chunk);
}

static void inbuf_empty_body_is_full_at_once(void **state) {
    pixd_inbuf b = {0};
    uint8_t *d;
    size_t len = 1;
    assert_int_equal(pixd_inbuf_begin(&b, 0), 0);
    assert_true(pixd_inbuf_full(&b));
    assert_int_equal(pixd_inbuf_add(&b, (const uint8_t *)"x", 1), -EMSGSIZE);
    d = pixd_inbuf_take(&b, &len);
    assert_non_null(d); /* a buffer to hand over, of no bytes */
    assert_int_equal(len, 0);
    free(d);
}

static void inbuf_take_waits_for_the_whole_body(void **state) {
    pixd_inbuf b = {0};
    size_t len = 99;
    uint8_t *d;
    assert_null(pixd_inbuf_take(&b, &len)); /* never begun */
    assert_int_equal(pixd_inbuf_begin(&b, 5), 0);
    assert_int_equal(pixd_inbuf_add(&b, (const uint8_t *)"abcd", 4), 0);
    /* A body cut short is not handed over, and stays the buffer's to free. */
    assert_null(pixd_inbuf_take(&b, &len));
    assert_int_equal(len, 99);
    assert_int_equal(b.len, 4);
    assert_non_null(b.data);
    assert_int_equal(pixd_inbuf_add(&b, (const uint8_t *)"e", 1), 0);
    d = pixd_inbuf_take(&b, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(d, "abcde", 5);
    assert_null(b.data);
    free(d);
    pixd_inbuf_free(&b);
}

static void stash_keeps_bytes_in_order(void **state) {
    pixd_stash s = {0}, t;
    assert_int_equal(pixd_stash_add(&s, (const uint8_t *)"ab", 2), 0);
    assert_int_equal(pixd_stash_add(&s, (const uint8_t *)"", 0), 0);
    assert_int_equal(pixd_stash_add(&s, (const uint8_t *)"cde", 3), 0);
    t = pixd_stash_take(&s);
    assert_int_equal(t.len, 5);
    assert_memory_equal(t.data, "abcde", 5);
    assert_null(s.data);
    assert_int_equal(s.len, 0);
    free(t.data);
    pixd_stash_free(&s);
}

static void be32_round_trip(void **state) {
    uint8_t p[4];
    pixd_put_be32(p, 0x01020304u);
    assert_memory_equal(p, "\x01\x02\x03\x04", 4);
    assert_int_equal(pixd_be32(p), 0x01020304u);
    pixd_put_be32(p, 0xFFFFFFFFu);
    assert_int_equal(pixd_be32(p), 0xFFFFFFFFu);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inbuf_first_allocation_is_capped),
        cmocka_unit_test(inbuf_announced_size_pins_nothing),
        cmocka_unit_test(inbuf_takes_no_more_than_wanted),
        cmocka_unit_test(inbuf_grows_by_doubling_to_want),
        cmocka_unit_test(inbuf_add_refuses_more_than_announced),
        cmocka_unit_test(inbuf_add_grows_within_want),
        cmocka_unit_test(inbuf_empty_body_is_full_at_once),
        cmocka_unit_test(inbuf_take_waits_for_the_whole_body),
        cmocka_unit_test(stash_keeps_bytes_in_order),
        cmocka_unit_test(be32_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
