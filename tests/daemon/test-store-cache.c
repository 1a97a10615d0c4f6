/* The hot-file cache: one case per rule of store_cache.h (what is cached,
 * what invalidates it, the bounds, and references outliving evictions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store_cache.h"

#define KB 1024u

static pixproto_entry entry(const char *name, size_t size) {
    pixproto_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "%s", name);
    e.size = size;
    e.has_sha256 = 1;
    e.sha256[0] = (uint8_t)size;
    return e;
}

/* Cache name with size bytes of fill, now at time now. */
static int put(pixd_store_cache *c, const char *name, size_t size, uint8_t fill, uint64_t now) {
    static uint8_t buf[128 * KB];
    pixproto_entry e = entry(name, size);
    memset(buf, fill, size);
    return pixd_store_cache_put(c, pixd_store_cache_ticket(c), &e, buf, size, now);
}

static void store_cache_serves_what_was_put(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    pixd_hot *h;
    assert_null(pixd_store_cache_get(c, "a.jpg", 0));
    assert_int_equal(put(c, "a.jpg", 5 * KB, 'x', 0), 1);
    h = pixd_store_cache_get(c, "a.jpg", 10);
    assert_non_null(h);
    assert_string_equal(h->e.name, "a.jpg");
    assert_int_equal(h->len, 5 * KB);
    assert_int_equal(h->data[0], 'x');
    assert_int_equal(h->data[5 * KB - 1], 'x');
    assert_null(pixd_store_cache_get(c, "b.jpg", 10));
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

static void store_cache_refuses_large_files(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    assert_int_equal(put(c, "big", 64 * KB + 1, 'x', 0), 0);
    assert_int_equal(put(c, "fits", 64 * KB, 'x', 0), 1);
    assert_null(pixd_store_cache_get(c, "big", 0));
    assert_int_equal(pixd_store_cache_count(c), 1);
    pixd_store_cache_free(c);
}

static void store_cache_refuses_a_length_other_than_the_size(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    pixproto_entry e = entry("a", 10);
    uint8_t buf[10] = {0};
    assert_int_equal(pixd_store_cache_put(c, pixd_store_cache_ticket(c), &e, buf, 9, 0), 0);
    assert_null(pixd_store_cache_get(c, "a", 0));
    pixd_store_cache_free(c);
}

static void store_cache_forget_drops_the_name(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    put(c, "a", 100, 'a', 0);
    put(c, "b", 100, 'b', 0);
    pixd_store_cache_forget(c, "a");
    assert_null(pixd_store_cache_get(c, "a", 0));
    pixd_hot *h = pixd_store_cache_get(c, "b", 0);
    assert_non_null(h);
    pixd_hot_unref(h);
    assert_int_equal(pixd_store_cache_count(c), 1);
    pixd_store_cache_free(c);
}

/* A download that read the old file before pixd replaced it must not put
 * the old bytes back after the replacement's forget(). */
static void store_cache_refuses_a_fill_read_before_a_forget(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    pixproto_entry e = entry("a", 3);
    uint64_t ticket = pixd_store_cache_ticket(c); /* the download starts */
    pixd_store_cache_forget(c, "a");             /* an upload renames a new "a" */
    assert_int_equal(pixd_store_cache_put(c, ticket, &e, (const uint8_t *)"old", 3, 0), 0);
    assert_null(pixd_store_cache_get(c, "a", 0));
    /* A read started after the forget is the new file: cached. */
    ticket = pixd_store_cache_ticket(c);
    assert_int_equal(pixd_store_cache_put(c, ticket, &e, (const uint8_t *)"new", 3, 0), 1);
    pixd_hot *h = pixd_store_cache_get(c, "a", 0);
    assert_memory_equal(h->data, "new", 3);
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

static void store_cache_put_replaces_the_older_entry(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    put(c, "a", 100, '1', 0);
    put(c, "a", 200, '2', 5);
    pixd_hot *h = pixd_store_cache_get(c, "a", 5);
    assert_int_equal(h->len, 200);
    assert_int_equal(h->data[0], '2');
    assert_int_equal(pixd_store_cache_count(c), 1);
    assert_int_equal(pixd_store_cache_bytes(c), 200 + PIXD_STORE_CACHE_OVERHEAD);
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

/* Files changed behind pixd's back are trusted only for the TTL. */
static void store_cache_entries_expire_after_the_ttl(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 8192 * KB, 1000);
    put(c, "a", 100, 'a', 5000);
    pixd_hot *h = pixd_store_cache_get(c, "a", 5999);
    assert_non_null(h);
    pixd_hot_unref(h);
    assert_null(pixd_store_cache_get(c, "a", 6000));
    assert_int_equal(pixd_store_cache_count(c), 0);
    assert_int_equal(pixd_store_cache_bytes(c), 0);
    pixd_store_cache_free(c);
}

static void store_cache_stays_under_its_byte_bound(void **state) {
    size_t total = 256 * KB;
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, total, 1000);
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "f%d", i);
        assert_int_equal(put(c, name, 60 * KB, (uint8_t)i, 0), 1);
        assert_true(pixd_store_cache_bytes(c) <= total);
    }
    /* 4 fit: the newest four. */
    assert_int_equal(pixd_store_cache_count(c), 4);
    assert_null(pixd_store_cache_get(c, "f95", 0));
    pixd_hot *h = pixd_store_cache_get(c, "f99", 0);
    assert_non_null(h);
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

static void store_cache_evicts_the_least_recently_used(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 3 * (60 * KB + PIXD_STORE_CACHE_OVERHEAD),
                                               1000);
    put(c, "a", 60 * KB, 'a', 0);
    put(c, "b", 60 * KB, 'b', 0);
    put(c, "c", 60 * KB, 'c', 0);
    pixd_hot_unref(pixd_store_cache_get(c, "a", 0)); /* a is now the most recent */
    put(c, "d", 60 * KB, 'd', 0);                    /* evicts b */
    assert_null(pixd_store_cache_get(c, "b", 0));
    pixd_hot *h = pixd_store_cache_get(c, "a", 0);
    assert_non_null(h);
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

/* A write in flight holds its entry: eviction, forget or freeing the
 * cache leave its bytes valid until the write releases them (ASan checks). */
static void store_cache_references_outlive_evictions(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 64 * KB + PIXD_STORE_CACHE_OVERHEAD, 1000);
    put(c, "a", 64 * KB, 'a', 0);
    pixd_hot *h = pixd_store_cache_get(c, "a", 0);
    put(c, "b", 64 * KB, 'b', 0); /* evicts a */
    assert_null(pixd_store_cache_get(c, "a", 0));
    assert_int_equal(h->data[64 * KB - 1], 'a');
    pixd_hot *g = pixd_store_cache_get(c, "b", 0);
    pixd_store_cache_forget(c, "b");
    pixd_store_cache_free(c);
    assert_int_equal(g->data[0], 'b');
    pixd_hot_unref(g);
    pixd_hot_unref(h);
}

static void store_cache_many_small_files_keep_a_count_bound(void **state) {
    pixd_store_cache *c = pixd_store_cache_new(64 * KB, 64u << 20, 1000);
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "tiny%d", i);
        put(c, name, 1, 't', 0);
    }
    assert_true(pixd_store_cache_count(c) <= 4096);
    assert_non_null(c);
    pixd_hot *h = pixd_store_cache_get(c, "tiny9999", 0);
    assert_non_null(h);
    pixd_hot_unref(h);
    pixd_store_cache_free(c);
}

static void store_cache_accepts_null(void **state) {
    assert_null(pixd_store_cache_get(NULL, "a", 0));
    pixd_store_cache_forget(NULL, "a");
    pixd_store_cache_free(NULL);
    pixd_hot_unref(NULL);
    assert_int_equal(pixd_store_cache_bytes(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_cache_serves_what_was_put),
        cmocka_unit_test(store_cache_refuses_large_files),
        cmocka_unit_test(store_cache_refuses_a_length_other_than_the_size),
        cmocka_unit_test(store_cache_forget_drops_the_name),
        cmocka_unit_test(store_cache_refuses_a_fill_read_before_a_forget),
        cmocka_unit_test(store_cache_put_replaces_the_older_entry),
        cmocka_unit_test(store_cache_entries_expire_after_the_ttl),
        cmocka_unit_test(store_cache_stays_under_its_byte_bound),
        cmocka_unit_test(store_cache_evicts_the_least_recently_used),
        cmocka_unit_test(store_cache_references_outlive_evictions),
        cmocka_unit_test(store_cache_many_small_files_keep_a_count_bound),
        cmocka_unit_test(store_cache_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
