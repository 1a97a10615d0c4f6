/* legacy-predict's wire rules, one case each, against the real handler: a
 * pixd server (no models) and a plain socket in this process, the loop
 * turned by hand between sends and reads. The classification path itself
 * is in tests/integration/test_legacy_predict.py (it needs an ONNX model). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "server.h"

typedef struct env {
    uv_loop_t loop;
    pixd_server srv;
    pixd_options opt;
    char dir[64];
    int fd;
    uint8_t got[256];
    size_t len;
} env;

/* A PNG's signature and IHDR (2 x 2): all that FILE checks. */
static const uint8_t png[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0xfd, 0xd4, 0x9a, 0x73,
};

static int setup(void **state) {
    env *e = calloc(1, sizeof *e);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    char err[256];

    assert_non_null(e);
    strcpy(e->dir, "/tmp/pixd-test-predict-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    pixd_log_set_level(PIXD_LOG_ERR);
    pixd_options_defaults(&e->opt);
    assert_int_equal(pixd_options_set(&e->opt, "listen", "legacy-predict=127.0.0.1:0", err,
                                      sizeof err), 0);
    assert_int_equal(pixd_options_set(&e->opt, "store", e->dir, err, sizeof err), 0);
    assert_int_equal(pixd_options_set(&e->opt, "max-upload", "1000", err, sizeof err), 0);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(pixd_server_start(&e->srv, &e->loop, &e->opt), 0);
    sin.sin_port = htons((uint16_t)atoi(strrchr(e->srv.listeners->addr, ':') + 1));
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    e->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(e->fd >= 0);
    connect(e->fd, (struct sockaddr *)&sin, sizeof sin); /* EINPROGRESS on loopback */
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env *e = *state;
    if (e->fd >= 0)
        close(e->fd);
    pixd_server_stop(&e->srv);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    pixd_server_free(&e->srv);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    rmdir(e->dir);
    free(e);
    return 0;
}

/* Turn the loop and read until n bytes came, the peer closed (returns
 * -1) or 5 s passed (fails). */
static int pump(env *e, size_t n) {
    for (int i = 0; i < 5000; i++) {
        ssize_t r;
        uv_run(&e->loop, UV_RUN_NOWAIT);
        r = recv(e->fd, e->got + e->len, sizeof e->got - e->len, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
        if (r > 0)
            e->len += (size_t)r;
        if (n && e->len >= n)
            return 0;
        poll(NULL, 0, 1);
    }
    fail_msg("no reply within 5 s (%zu of %zu bytes)", e->len, n);
    return -1;
}

static void put(env *e, const void *d, size_t n) {
    size_t sent = 0;
    while (sent < n) {
        ssize_t r = send(e->fd, (const char *)d + sent, n - sent, MSG_NOSIGNAL);
        if (r > 0)
            sent += (size_t)r;
        uv_run(&e->loop, UV_RUN_NOWAIT);
    }
}

static void expect(env *e, const char *want) {
    size_t n = strlen(want);
    assert_int_equal(pump(e, n), 0);
    assert_int_equal(e->len, n);
    assert_memory_equal(e->got, want, n);
    e->len = 0;
}

static void expect_close(env *e, const char *want) {
    assert_int_equal(pump(e, 0), -1);
    assert_int_equal(e->len, strlen(want));
    assert_memory_equal(e->got, want, e->len);
}

static void send_png(env *e) {
    put(e, "FILE", 4);
    expect(e, "0");
    put(e, "33xxxxxxxx", 10);
    put(e, png, sizeof png);
    expect(e, "0?");
}

static void predict_question_mark_on_open(void **state) { expect(*state, "?"); }

static void predict_unknown_command_is_2(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "WHATfile", 8);
    expect(e, "2?2?");
}

static void predict_size_field_filler_is_ignored(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILE", 4);
    expect(e, "0");
    put(e, "x3.3      ", 10); /* 33, the PNG's length */
    put(e, png, sizeof png);
    expect(e, "0?");
    /* Framing held: the next 4 bytes are a command. */
    put(e, "WHAT", 4);
    expect(e, "2?");
}

static void predict_body_one_byte_at_a_time(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILE", 4);
    expect(e, "0");
    put(e, "0000000033", 10);
    for (size_t i = 0; i < sizeof png; i++)
        put(e, png + i, 1);
    expect(e, "0?");
}

static void predict_not_an_image_is_5(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILE", 4);
    expect(e, "0");
    put(e, "5_________hello", 15);
    expect(e, "5?");
    put(e, "HASH", 4); /* the refused file is no file */
    expect(e, "1?");
}

static void predict_size_zero_is_5_and_goes_on(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILE0000000000", 14);
    expect(e, "05?");
}

static void predict_size_without_digits_is_5_and_close(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILEabcdefghij", 14);
    expect_close(e, "05");
}

static void predict_size_over_max_upload_is_5_and_close(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "FILE1001______", 14); /* --max-upload 1000; no body sent */
    expect_close(e, "05");
}

static void predict_hash_match_mismatch_case(void **state) {
    env *e = *state;
    uint8_t md[32];
    char hex[65];

    EVP_Digest(png, sizeof png, md, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    expect(e, "?");
    send_png(e);
    put(e, "HASH", 4);
    put(e, hex, 64);
    expect(e, "00?");
    for (int i = 0; i < 64; i++)
        if (hex[i] >= 'a')
            hex[i] = (char)(hex[i] - 'a' + 'A');
    put(e, "HASH", 4);
    put(e, hex, 64);
    expect(e, "00?");
    hex[63] = hex[63] == '0' ? '1' : '0';
    put(e, "HASH", 4);
    put(e, hex, 64);
    expect(e, "04?");
    hex[63] = 'g';
    put(e, "HASH", 4);
    put(e, hex, 64);
    expect(e, "04?");
}

static void predict_hash_without_file_is_1(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "HASH", 4);
    expect(e, "1?");
}

static void predict_mode_unknown_model_is_3(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "MODEINCE", 8);
    expect(e, "03?");
}

static void predict_pred_without_file_or_model_is_1(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "PRED", 4);
    expect(e, "1?");
    send_png(e);
    put(e, "PRED", 4); /* a file, but no model */
    expect(e, "1?");
}

static void predict_bye_with_any_filler_closes(void **state) {
    env *e = *state;
    expect(e, "?");
    put(e, "BYE\0", 4);
    expect_close(e, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(predict_question_mark_on_open),
        T(predict_unknown_command_is_2),
        T(predict_size_field_filler_is_ignored),
        T(predict_body_one_byte_at_a_time),
        T(predict_not_an_image_is_5),
        T(predict_size_zero_is_5_and_goes_on),
        T(predict_size_without_digits_is_5_and_close),
        T(predict_size_over_max_upload_is_5_and_close),
        T(predict_hash_match_mismatch_case),
        T(predict_hash_without_file_is_1),
        T(predict_mode_unknown_model_is_3),
        T(predict_pred_without_file_or_model_is_1),
        T(predict_bye_with_any_filler_closes),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
