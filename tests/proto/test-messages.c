/* Messages: builders, parsers, version negotiation, and a round trip of
 * every message type through the encoder and decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixproto.h"

/* Decodes the single frame of n bytes in *bufp and frees it (a pointer to
 * the pointer, so that a builder can fill it in the same call). The frame's
 * body lives in *d, which the caller frees. */
static pixproto_frame decode(long n, uint8_t **bufp, pixproto_decoder **d)
{
    uint8_t *buf = *bufp;
    const uint8_t *in = buf;
    size_t left;
    pixproto_frame f;

    assert_true(n >= (long)PIXPROTO_HEADER_SIZE);
    left = (size_t)n;
    *d = pixproto_decoder_new(0);
    assert_non_null(*d);
    assert_int_equal(pixproto_decoder_next(*d, &in, &left, &f), 1);
    assert_int_equal(left, 0);
    free(buf);
    return f;
}

/* A frame whose body is magic (if any) followed by the fields in b. */
struct body {
    uint8_t bytes[1024];
    pixproto_frame f;
};

static const pixproto_frame *frame_of(struct body *out, uint8_t type,
                                      const char *magic, pixproto_buf *b)
{
    size_t m = magic ? strlen(magic) : 0;

    assert_int_equal(b->err, 0);
    assert_true(m + b->len <= sizeof out->bytes);
    memcpy(out->bytes, magic ? magic : "", m);
    if (b->len > 0)
        memcpy(out->bytes + m, b->data, b->len);
    out->f = (pixproto_frame){.type = type, .id = 0, .body = out->bytes,
                              .len = m + b->len};
    pixproto_buf_free(b);
    return &out->f;
}

static void messages_hello_round_trip(void **state)
{
    uint8_t *buf = NULL;
    long n = pixproto_build_hello("pixctl/0.1.0", &buf);
    pixproto_decoder *d;
    pixproto_frame f = decode(n, &buf, &d);
    pixproto_hello h;

    assert_int_equal(f.type, PIXPROTO_T_HELLO);
    assert_int_equal(f.id, 0);
    assert_memory_equal(f.body, PIXPROTO_MAGIC, 4);
    assert_int_equal(pixproto_parse_hello(&f, &h), 0);
    assert_int_equal(h.min_version, PIXPROTO_MIN_VERSION);
    assert_int_equal(h.max_version, PIXPROTO_VERSION);
    assert_string_equal(h.agent, "pixctl/0.1.0");
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_VERSION);
    pixproto_decoder_free(d);
}

static void messages_hello_agent_is_optional_and_cut(void **state)
{
    char agent[100];
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;
    pixproto_hello h;

    f = decode(pixproto_build_hello(NULL, &buf), &buf, &d);
    assert_int_equal(pixproto_parse_hello(&f, &h), 0);
    assert_string_equal(h.agent, "");
    pixproto_decoder_free(d);

    memset(agent, 'a', sizeof agent - 1);
    agent[sizeof agent - 1] = '\0';
    f = decode(pixproto_build_hello(agent, &buf), &buf, &d);
    assert_int_equal(pixproto_parse_hello(&f, &h), 0);
    assert_int_equal(strlen(h.agent), 63);
    assert_memory_equal(h.agent, agent, 63);
    pixproto_decoder_free(d);
}

static void messages_hello_wrong_magic_is_bad_body(void **state)
{
    const char *magics[] = {"PIXd", "XIDP", "PIX", "", NULL};
    struct body body;
    pixproto_hello h;

    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        pixproto_buf b = {0};

        pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 1);
        pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, 1);
        assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                       magics[i], &b),
                                              &h),
                         PIXPROTO_EBADBODY);
    }
}

static void messages_hello_needs_both_versions(void **state)
{
    const uint16_t tags[] = {PIXPROTO_TAG_MIN_VERSION, PIXPROTO_TAG_MAX_VERSION};
    struct body body;
    pixproto_hello h;

    for (size_t i = 0; i < 2; i++) {
        pixproto_buf b = {0};

        pixproto_put_u64(&b, tags[i], 1);
        assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                       "PIXD", &b),
                                              &h),
                         PIXPROTO_EBADBODY);
    }
}

static void messages_hello_min_above_max_is_bad_body(void **state)
{
    pixproto_buf b = {0};
    struct body body;
    pixproto_hello h;

    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 3);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, 2);
    assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                   "PIXD", &b),
                                          &h),
                     PIXPROTO_EBADBODY);
}

static void messages_hello_bad_field_is_bad_body(void **state)
{
    pixproto_buf b = {0};
    struct body body;
    pixproto_hello h;

    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 1);
    pixproto_put_bytes(&b, PIXPROTO_TAG_MAX_VERSION, "\0\0\0\1", 4);
    assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                   "PIXD", &b),
                                          &h),
                     PIXPROTO_EBADBODY);
    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 1);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, 1);
    pixproto_put_bytes(&b, PIXPROTO_TAG_AGENT, "a\0b", 3);
    assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                   "PIXD", &b),
                                          &h),
                     PIXPROTO_EBADBODY);
    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 1);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, 1);
    pixproto_put_u64(&b, PIXPROTO_TAG_AGENT, 1);
    frame_of(&body, PIXPROTO_T_HELLO, "PIXD", &b);
    body.f.len -= 1; /* truncated last field */
    assert_int_equal(pixproto_parse_hello(&body.f, &h), PIXPROTO_EBADBODY);
}

static void messages_hello_skips_unknown_tags(void **state)
{
    pixproto_buf b = {0};
    struct body body;
    pixproto_hello h;

    pixproto_put_str(&b, 0x7777, "from the future");
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, 1);
    pixproto_put_bytes(&b, 0, NULL, 0);
    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, 1);
    assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                   "PIXD", &b),
                                          &h),
                     0);
    assert_int_equal(h.min_version, 1);
    assert_int_equal(h.max_version, 1);
}

static pixproto_hello hello(uint32_t min, uint32_t max)
{
    return (pixproto_hello){.min_version = min, .max_version = max};
}

static void messages_negotiate_picks_highest_common(void **state)
{
    pixproto_hello h;

    h = hello(PIXPROTO_MIN_VERSION, PIXPROTO_VERSION);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_VERSION);
    h = hello(0, PIXPROTO_VERSION + 10);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_VERSION);
    h = hello(PIXPROTO_VERSION, UINT32_MAX);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_VERSION);
    h = hello(0, PIXPROTO_MIN_VERSION);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_MIN_VERSION);
}

static void messages_negotiate_refuses_disjoint_ranges(void **state)
{
    pixproto_hello h;

    h = hello(PIXPROTO_VERSION + 1, PIXPROTO_VERSION + 5);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_EVERSION);
    h = hello(0, PIXPROTO_MIN_VERSION - 1);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_EVERSION);
    h = hello(5, 2);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_EVERSION);
    assert_int_equal(pixproto_negotiate(NULL), PIXPROTO_EINVALID);
}

static void messages_hello_huge_versions_are_clamped(void **state)
{
    pixproto_buf b = {0};
    struct body body;
    pixproto_hello h;

    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, (uint64_t)1 << 40);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, UINT64_MAX);
    assert_int_equal(pixproto_parse_hello(frame_of(&body, PIXPROTO_T_HELLO,
                                                   "PIXD", &b),
                                          &h),
                     0);
    assert_int_equal(h.min_version, UINT32_MAX);
    assert_int_equal(h.max_version, UINT32_MAX);
    assert_int_equal(pixproto_negotiate(&h), PIXPROTO_EVERSION);
}

static void messages_welcome_round_trip(void **state)
{
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;
    pixproto_welcome w;

    f = decode(pixproto_build_welcome(1, PIXPROTO_MAX_BODY, "pixd/0.1.0", &buf), &buf, &d);
    assert_int_equal(f.type, PIXPROTO_T_WELCOME);
    assert_int_equal(f.id, 0);
    assert_int_equal(pixproto_parse_welcome(&f, &w), 0);
    assert_int_equal(w.version, 1);
    assert_int_equal(w.max_body, PIXPROTO_MAX_BODY);
    assert_string_equal(w.agent, "pixd/0.1.0");
    pixproto_decoder_free(d);
}

static void messages_welcome_needs_version_and_max_body(void **state)
{
    const uint16_t tags[] = {PIXPROTO_TAG_VERSION, PIXPROTO_TAG_MAX_BODY};
    struct body body;
    pixproto_welcome w;

    for (size_t i = 0; i < 2; i++) {
        pixproto_buf b = {0};

        pixproto_put_u64(&b, tags[i], 1);
        pixproto_put_str(&b, PIXPROTO_TAG_AGENT, "pixd");
        assert_int_equal(pixproto_parse_welcome(frame_of(&body, PIXPROTO_T_WELCOME,
                                                         NULL, &b),
                                                &w),
                         PIXPROTO_EBADBODY);
    }
}

static void messages_error_round_trip(void **state)
{
    const int codes[] = {PIXPROTO_EBADTYPE, -PIXPROTO_ENOTFOUND};
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;
    pixproto_error e;

    for (size_t i = 0; i < 2; i++) {
        f = decode(pixproto_build_error(77, codes[i], "no such image", &buf), &buf, &d);
        assert_int_equal(f.type, PIXPROTO_T_ERROR);
        assert_int_equal(f.id, 77);
        assert_int_equal(pixproto_parse_error(&f, &e), 0);
        assert_int_equal(e.code, codes[i] < 0 ? -codes[i] : codes[i]);
        assert_string_equal(e.message, "no such image");
        pixproto_decoder_free(d);
    }
    f = decode(pixproto_build_error(0, PIXPROTO_ELIMIT, NULL, &buf), &buf, &d);
    assert_int_equal(pixproto_parse_error(&f, &e), 0);
    assert_int_equal(e.code, 8);
    assert_string_equal(e.message, pixproto_strerror(PIXPROTO_ELIMIT));
    pixproto_decoder_free(d);
}

static void messages_error_long_message_is_cut(void **state)
{
    char text[1000];
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;
    pixproto_error e;

    memset(text, 'm', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    f = decode(pixproto_build_error(1, PIXPROTO_EINVALID, text, &buf), &buf, &d);
    assert_int_equal(pixproto_parse_error(&f, &e), 0);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
    pixproto_decoder_free(d);
}

static void messages_error_needs_a_valid_code(void **state)
{
    const uint64_t codes[] = {0, (uint64_t)INT32_MAX + 1, UINT64_MAX};
    struct body body;
    pixproto_error e;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;

    pixproto_put_str(&b, PIXPROTO_TAG_MESSAGE, "no code");
    assert_int_equal(pixproto_parse_error(frame_of(&body, PIXPROTO_T_ERROR, NULL, &b), &e),
                     PIXPROTO_EBADBODY);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pixproto_put_u64(&b, PIXPROTO_TAG_CODE, codes[i]);
        assert_int_equal(pixproto_parse_error(frame_of(&body, PIXPROTO_T_ERROR, NULL, &b), &e),
                         PIXPROTO_EBADBODY);
    }
    /* Codes this version does not know are still passed on. */
    pixproto_put_u64(&b, PIXPROTO_TAG_CODE, 500);
    assert_int_equal(pixproto_parse_error(frame_of(&body, PIXPROTO_T_ERROR, NULL, &b), &e), 0);
    assert_int_equal(e.code, 500);
    assert_string_equal(e.message, "");
    assert_int_equal(pixproto_build_error(1, 0, "zero", &buf), PIXPROTO_EINVALID);
    assert_null(buf);
}

static void messages_parse_refuses_other_types(void **state)
{
    pixproto_frame f = {.type = PIXPROTO_T_PING, .body = (const uint8_t *)"", .len = 0};
    pixproto_hello h;
    pixproto_welcome w;
    pixproto_error e;

    assert_int_equal(pixproto_parse_hello(&f, &h), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_parse_welcome(&f, &w), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_parse_error(&f, &e), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_parse_error(NULL, &e), PIXPROTO_EINVALID);
}

/* PING/PONG, STATUS, CANCEL and DATA have no builders: they are frames. */
static void messages_plain_frames_round_trip(void **state)
{
    uint8_t ping[64];
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;

    for (size_t i = 0; i < sizeof ping; i++)
        ping[i] = (uint8_t)(0xa0 + i);
    f = decode(pixproto_frame_encode(PIXPROTO_T_PING, 0, 9, ping, sizeof ping, &buf), &buf, &d);
    assert_int_equal(f.type, PIXPROTO_T_PING);
    assert_int_equal(f.id, 9);
    {
        pixproto_decoder *d2;
        pixproto_frame pong = decode(pixproto_frame_encode(PIXPROTO_T_PONG, 0, f.id,
                                                               f.body, f.len, &buf), &buf,
                                     &d2);

        assert_int_equal(pong.type, PIXPROTO_T_PONG);
        assert_int_equal(pong.id, 9);
        assert_int_equal(pong.len, sizeof ping);
        assert_memory_equal(pong.body, ping, sizeof ping);
        pixproto_decoder_free(d2);
    }
    pixproto_decoder_free(d);

    f = decode(pixproto_frame_encode(PIXPROTO_T_STATUS, 0, 10, NULL, 0, &buf), &buf, &d);
    assert_int_equal(f.type, PIXPROTO_T_STATUS);
    assert_int_equal(f.len, 0);
    pixproto_decoder_free(d);

    f = decode(pixproto_frame_encode(PIXPROTO_T_CANCEL, 0, 11, NULL, 0, &buf), &buf, &d);
    assert_int_equal(f.type, PIXPROTO_T_CANCEL);
    assert_int_equal(f.id, 11);
    pixproto_decoder_free(d);

    f = decode(pixproto_frame_encode(PIXPROTO_T_DATA, PIXPROTO_F_MORE, 12,
                                          "chunk", 5, &buf), &buf,
               &d);
    assert_int_equal(f.type, PIXPROTO_T_DATA);
    assert_int_equal(f.flags, PIXPROTO_F_MORE);
    assert_memory_equal(f.body, "chunk", 5);
    pixproto_decoder_free(d);
}

static void messages_status_reply_round_trip(void **state)
{
    const char *listeners[] = {"native 127.0.0.1:7070", "http 127.0.0.1:7080"};
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    pixproto_decoder *d;
    pixproto_frame f;
    pixproto_reader r;
    pixproto_field fl;
    uint64_t pid = 0, uptime = 0, conns = 0;
    char s[64];
    int nlisteners = 0, nhandlers = 0;

    pixproto_put_str(&b, PIXPROTO_TAG_AGENT, "pixd/0.1.0");
    pixproto_put_u64(&b, PIXPROTO_TAG_PID, 4242);
    pixproto_put_u64(&b, PIXPROTO_TAG_UPTIME_MS, 123456);
    pixproto_put_u64(&b, PIXPROTO_TAG_CONNECTIONS, 3);
    pixproto_put_str(&b, PIXPROTO_TAG_LISTENER, listeners[0]);
    pixproto_put_str(&b, PIXPROTO_TAG_LISTENER, listeners[1]);
    pixproto_put_str(&b, PIXPROTO_TAG_HANDLER_CONNS, "native 3");
    assert_int_equal(b.err, 0);
    f = decode(pixproto_frame_encode(PIXPROTO_T_STATUS_REPLY, PIXPROTO_F_ZLIB, 5,
                                          b.data, b.len, &buf), &buf,
               &d);
    pixproto_buf_free(&b);
    assert_int_equal(f.type, PIXPROTO_T_STATUS_REPLY);
    pixproto_reader_init(&r, f.body, f.len);
    while (pixproto_field_next(&r, &fl) == 1) {
        switch (fl.tag) {
        case PIXPROTO_TAG_PID:
            assert_int_equal(pixproto_field_u64(&fl, &pid), 0);
            break;
        case PIXPROTO_TAG_UPTIME_MS:
            assert_int_equal(pixproto_field_u64(&fl, &uptime), 0);
            break;
        case PIXPROTO_TAG_CONNECTIONS:
            assert_int_equal(pixproto_field_u64(&fl, &conns), 0);
            break;
        case PIXPROTO_TAG_LISTENER:
            assert_int_equal(pixproto_field_str(&fl, s, sizeof s), 0);
            assert_string_equal(s, listeners[nlisteners++]);
            break;
        case PIXPROTO_TAG_HANDLER_CONNS:
            assert_int_equal(pixproto_field_str(&fl, s, sizeof s), 0);
            assert_string_equal(s, "native 3");
            nhandlers++;
            break;
        default:
            break;
        }
    }
    assert_true(pid == 4242 && uptime == 123456 && conns == 3);
    assert_int_equal(nlisteners, 2);
    assert_int_equal(nhandlers, 1);
    pixproto_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_hello_round_trip),
        cmocka_unit_test(messages_hello_agent_is_optional_and_cut),
        cmocka_unit_test(messages_hello_wrong_magic_is_bad_body),
        cmocka_unit_test(messages_hello_needs_both_versions),
        cmocka_unit_test(messages_hello_min_above_max_is_bad_body),
        cmocka_unit_test(messages_hello_bad_field_is_bad_body),
        cmocka_unit_test(messages_hello_skips_unknown_tags),
        cmocka_unit_test(messages_negotiate_picks_highest_common),
        cmocka_unit_test(messages_negotiate_refuses_disjoint_ranges),
        cmocka_unit_test(messages_hello_huge_versions_are_clamped),
        cmocka_unit_test(messages_welcome_round_trip),
        cmocka_unit_test(messages_welcome_needs_version_and_max_body),
        cmocka_unit_test(messages_error_round_trip),
        cmocka_unit_test(messages_error_long_message_is_cut),
        cmocka_unit_test(messages_error_needs_a_valid_code),
        cmocka_unit_test(messages_parse_refuses_other_types),
        cmocka_unit_test(messages_plain_frames_round_trip),
        cmocka_unit_test(messages_status_reply_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
