/* Store entries: the fields of one store file, flat (STORED, FILE,
 * STAT_REPLY) and nested (LIST_REPLY's ENTRY), and NAME-only frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixproto.h"

static pixproto_entry full_entry(const char *name, uint64_t size) {
    pixproto_entry e;
    memset(&e, 0, sizeof e);
    strcpy(e.name, name);
    e.size = size;
    for (int i = 0; i < 32; i++)
        e.sha256[i] = (uint8_t)(0xa0 + i);
    e.has_sha256 = 1;
    e.mtime_ms = 1700000000123ull;
    strcpy(e.type, "jpeg");
    e.width = 4000;
    e.height = 3000;
    return e;
}

static void assert_entry_equal(const pixproto_entry *a, const pixproto_entry *b) {
    assert_string_equal(a->name, b->name);
    assert_true(a->size == b->size);
    assert_int_equal(a->has_sha256, b->has_sha256);
    if (a->has_sha256)
        assert_memory_equal(a->sha256, b->sha256, sizeof a->sha256);
    assert_true(a->mtime_ms == b->mtime_ms);
    assert_string_equal(a->type, b->type);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
}

/* Counts the fields of a body, and those with the given tag. */
static int count_fields(const pixproto_buf *b, uint16_t tag, int *with_tag) {
    pixproto_reader r;
    pixproto_field f;
    int n = 0, rc;
    *with_tag = 0;
    pixproto_reader_init(&r, b->data, b->len);
    while ((rc = pixproto_field_next(&r, &f)) == 1) {
        n++;
        if (f.tag == tag)
            (*with_tag)++;
    }
    assert_int_equal(rc, 0);
    return n;
}

static void entry_flat_round_trip(void **state) {
    pixproto_entry in = full_entry("cat.jpg", 123456789012ull), out;
    pixproto_buf b = {0};
    int sha;
    assert_int_equal(pixproto_put_entry(&b, &in), 0);
    assert_int_equal(count_fields(&b, PIXPROTO_TAG_SHA256, &sha), 7);
    assert_int_equal(sha, 1);
    memset(&out, 0x55, sizeof out);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
    assert_entry_equal(&in, &out);
    pixproto_buf_free(&b);
}

static void entry_unset_fields_are_left_out(void **state) {
    pixproto_entry in, out;
    pixproto_buf b = {0};
    int w;
    memset(&in, 0, sizeof in);
    strcpy(in.name, "notes.txt");
    in.width = 10; /* without a height, neither is sent */
    assert_int_equal(pixproto_put_entry(&b, &in), 0);
    assert_int_equal(count_fields(&b, PIXPROTO_TAG_WIDTH, &w), 2); /* NAME, SIZE */
    assert_int_equal(w, 0);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
    assert_string_equal(out.name, "notes.txt");
    assert_true(out.size == 0);
    assert_int_equal(out.has_sha256, 0);
    assert_true(out.mtime_ms == 0);
    assert_string_equal(out.type, "");
    assert_int_equal(out.width, 0);
    assert_int_equal(out.height, 0);
    pixproto_buf_free(&b);
}

static void entry_nested_list_of_three(void **state) {
    pixproto_entry in[3] = {full_entry("a.png", 1), full_entry("b c.gif", 2),
                            full_entry("\xc3\xa9t\xc3\xa9.webp", 3)};
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;
    int n = 0, rc;

    in[1].has_sha256 = 0;
    in[2].type[0] = '\0';
    in[2].width = in[2].height = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(pixproto_put_entry_nested(&b, &in[i]), 0);
    pixproto_reader_init(&r, b.data, b.len);
    while ((rc = pixproto_field_next(&r, &f)) == 1) {
        pixproto_entry out;
        assert_int_equal(f.tag, PIXPROTO_TAG_ENTRY);
        assert_true(n < 3);
        assert_int_equal(pixproto_parse_entry(f.value, f.len, &out), 0);
        assert_entry_equal(&in[n], &out);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);
    /* The outer body is not an entry itself: it has no NAME. */
    {
        pixproto_entry out;
        assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
    }
    pixproto_buf_free(&b);
}

static void entry_missing_name_is_bad_body(void **state) {
    pixproto_buf b = {0};
    pixproto_entry out;
    pixproto_put_u64(&b, PIXPROTO_TAG_SIZE, 5);
    pixproto_put_str(&b, PIXPROTO_TAG_TYPE, "png");
    assert_int_equal(b.err, 0);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
    assert_int_equal(pixproto_parse_entry(NULL, 0, &out), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void entry_empty_name_counts_as_present(void **state) {
    /* The codec carries names; whether one is acceptable is the server's
     * business (pixd-protocol(7), store names). */
    pixproto_buf b = {0};
    pixproto_entry out;
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, "");
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
    assert_string_equal(out.name, "");
    pixproto_buf_free(&b);
}

static void entry_bad_sha256_length(void **state) {
    static const size_t lens[] = {0, 31, 33, 64};
    uint8_t sha[64] = {0};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        pixproto_buf b = {0};
        pixproto_entry out;
        pixproto_put_str(&b, PIXPROTO_TAG_NAME, "x");
        pixproto_put_bytes(&b, PIXPROTO_TAG_SHA256, sha, lens[i]);
        assert_int_equal(b.err, 0);
        assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
        pixproto_buf_free(&b);
    }
}

static void entry_width_over_uint32_max(void **state) {
    static const uint16_t tags[] = {PIXPROTO_TAG_WIDTH, PIXPROTO_TAG_HEIGHT};
    for (int i = 0; i < 2; i++) {
        pixproto_buf b = {0};
        pixproto_entry out;
        pixproto_put_str(&b, PIXPROTO_TAG_NAME, "x");
        pixproto_put_u64(&b, tags[i], UINT32_MAX);
        assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
        assert_int_equal(tags[i] == PIXPROTO_TAG_WIDTH ? out.width : out.height,
                         UINT32_MAX);
        pixproto_put_u64(&b, tags[i], (uint64_t)UINT32_MAX + 1);
        assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
        pixproto_buf_free(&b);
    }
}

static void entry_u64_of_wrong_length(void **state) {
    static const uint16_t tags[] = {PIXPROTO_TAG_SIZE, PIXPROTO_TAG_MTIME_MS,
                                    PIXPROTO_TAG_WIDTH, PIXPROTO_TAG_HEIGHT};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        pixproto_buf b = {0};
        pixproto_entry out;
        pixproto_put_str(&b, PIXPROTO_TAG_NAME, "x");
        pixproto_put_bytes(&b, tags[i], "\0\0\0\1", 4);
        assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
        pixproto_buf_free(&b);
    }
}

static void entry_truncated_is_bad_body(void **state) {
    pixproto_entry in = full_entry("cat.jpg", 42), out;
    pixproto_buf b = {0};
    assert_int_equal(pixproto_put_entry(&b, &in), 0);
    for (size_t cut = 1; cut < 6; cut++)
        assert_int_equal(pixproto_parse_entry(b.data, b.len - cut, &out), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void entry_name_with_nul_is_bad_body(void **state) {
    pixproto_buf b = {0};
    pixproto_entry out;
    pixproto_put_bytes(&b, PIXPROTO_TAG_NAME, "a\0b", 3);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void entry_name_too_long_is_bad_body(void **state) {
    /* A name cut to fit would be another file's name: refused, not cut. */
    char name[PIXPROTO_NAME_MAX + 2];
    pixproto_buf b = {0};
    pixproto_entry out;
    memset(name, 'n', PIXPROTO_NAME_MAX);
    name[PIXPROTO_NAME_MAX] = '\0';
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, name);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
    assert_string_equal(out.name, name);
    pixproto_buf_free(&b);
    name[PIXPROTO_NAME_MAX] = 'n';
    name[PIXPROTO_NAME_MAX + 1] = '\0';
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, name);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void entry_skips_unknown_tags_and_last_wins(void **state) {
    pixproto_buf b = {0};
    pixproto_entry out;
    pixproto_put_str(&b, 999, "from the future");
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, "first");
    pixproto_put_u64(&b, PIXPROTO_TAG_SIZE, 1);
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, "second");
    pixproto_put_u64(&b, PIXPROTO_TAG_SIZE, 2);
    pixproto_put_bytes(&b, 1000, "", 0);
    assert_int_equal(pixproto_parse_entry(b.data, b.len, &out), 0);
    assert_string_equal(out.name, "second");
    assert_true(out.size == 2);
    pixproto_buf_free(&b);
}

static void entry_build_name_round_trip(void **state) {
    static const uint8_t types[] = {PIXPROTO_T_GET, PIXPROTO_T_STAT, PIXPROTO_T_DELETE,
                                    PIXPROTO_T_DELETED};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint8_t *buf = NULL;
        long n = pixproto_build_name(types[i], 77, "my_cat.jpg", &buf);
        pixproto_decoder *d = pixproto_decoder_new(0);
        const uint8_t *in = buf;
        size_t left;
        pixproto_frame f;
        pixproto_entry e;
        assert_true(n > (long)PIXPROTO_HEADER_SIZE);
        assert_non_null(d);
        left = (size_t)n;
        assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
        assert_int_equal(left, 0);
        assert_int_equal(f.type, types[i]);
        assert_int_equal(f.flags, 0);
        assert_int_equal(f.id, 77);
        assert_int_equal(pixproto_parse_entry(f.body, f.len, &e), 0);
        assert_string_equal(e.name, "my_cat.jpg");
        assert_true(e.size == 0);
        assert_int_equal(e.has_sha256, 0);
        pixproto_decoder_free(d);
        free(buf);
    }
}

static void entry_build_name_needs_a_name(void **state) {
    uint8_t *buf = NULL;
    assert_int_equal(pixproto_build_name(PIXPROTO_T_GET, 1, NULL, &buf), PIXPROTO_EINVALID);
    assert_null(buf);
}

static void entry_nested_in_list_reply_frame(void **state) {
    /* A LIST_REPLY frame through the encoder and decoder, MORE set. */
    pixproto_entry in = full_entry("x.bmp", 9), out;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *p;
    size_t left;
    pixproto_frame f;
    pixproto_reader r;
    pixproto_field fld;
    long n;

    assert_non_null(d);
    assert_int_equal(pixproto_put_entry_nested(&b, &in), 0);
    n = pixproto_frame_encode(PIXPROTO_T_LIST_REPLY, PIXPROTO_F_MORE, 5, b.data, b.len, &buf);
    assert_true(n > 0);
    p = buf;
    left = (size_t)n;
    assert_int_equal(pixproto_decoder_next(d, &p, &left, &f), 1);
    assert_int_equal(f.type, PIXPROTO_T_LIST_REPLY);
    assert_int_equal(f.flags, PIXPROTO_F_MORE);
    pixproto_reader_init(&r, f.body, f.len);
    assert_int_equal(pixproto_field_next(&r, &fld), 1);
    assert_int_equal(fld.tag, PIXPROTO_TAG_ENTRY);
    assert_int_equal(pixproto_parse_entry(fld.value, fld.len, &out), 0);
    assert_entry_equal(&in, &out);
    assert_int_equal(pixproto_field_next(&r, &fld), 0);
    pixproto_decoder_free(d);
    free(buf);
    pixproto_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_flat_round_trip),
        cmocka_unit_test(entry_unset_fields_are_left_out),
        cmocka_unit_test(entry_nested_list_of_three),
        cmocka_unit_test(entry_missing_name_is_bad_body),
        cmocka_unit_test(entry_empty_name_counts_as_present),
        cmocka_unit_test(entry_bad_sha256_length),
        cmocka_unit_test(entry_width_over_uint32_max),
        cmocka_unit_test(entry_u64_of_wrong_length),
        cmocka_unit_test(entry_truncated_is_bad_body),
        cmocka_unit_test(entry_name_with_nul_is_bad_body),
        cmocka_unit_test(entry_name_too_long_is_bad_body),
        cmocka_unit_test(entry_skips_unknown_tags_and_last_wins),
        cmocka_unit_test(entry_build_name_round_trip),
        cmocka_unit_test(entry_build_name_needs_a_name),
        cmocka_unit_test(entry_nested_in_list_reply_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
