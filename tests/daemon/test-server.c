/* The server and connection layer in one process: a libuv client on the
 * same loop talks to pixd's native handler, then the server shuts down and
 * every handle must be gone (uv_loop_close() == 0). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixproto.h"
#include "server.h"

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    pixd_server *srv;
    pixproto_decoder *dec;
    uint8_t *out;
    size_t outlen;
    char rbuf[4096];
    int types[16];
    uint32_t codes[16];
    int nframes;
    int eof;
    int stop_after; /* stop the server once this many frames arrived */
} client;

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
    client *cl = h->data;
    *b = uv_buf_init(cl->rbuf, sizeof cl->rbuf);
}

static void on_closed(uv_handle_t *h) {}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    client *cl = s->data;
    const uint8_t *p = (const uint8_t *)b->base;
    size_t left = n > 0 ? (size_t)n : 0;
    pixproto_frame f;

    if (n < 0) {
        cl->eof = 1;
        uv_close((uv_handle_t *)s, on_closed);
        return;
    }
    while (pixproto_decoder_next(cl->dec, &p, &left, &f) == 1 && cl->nframes < 16) {
        pixproto_error e = {0};
        if (f.type == PIXPROTO_T_ERROR)
            pixproto_parse_error(&f, &e);
        cl->codes[cl->nframes] = e.code;
        cl->types[cl->nframes++] = f.type;
        if (cl->nframes == cl->stop_after)
            pixd_server_stop(cl->srv);
    }
}

static void on_written(uv_write_t *w, int status) { assert_int_equal(status, 0); }

static void on_connect(uv_connect_t *c, int status) {
    client *cl = c->data;
    uv_buf_t b = uv_buf_init((char *)cl->out, (unsigned)cl->outlen);
    assert_int_equal(status, 0);
    uv_read_start((uv_stream_t *)&cl->tcp, on_alloc, on_read);
    assert_int_equal(uv_write(&cl->write, (uv_stream_t *)&cl->tcp, &b, 1, on_written), 0);
}

static void append(client *cl, long n, uint8_t *frame) {
    assert_true(n > 0);
    cl->out = realloc(cl->out, cl->outlen + (size_t)n);
    memcpy(cl->out + cl->outlen, frame, (size_t)n);
    cl->outlen += (size_t)n;
    free(frame);
}

static const char *store_dir(void) {
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/pixd-test-server-XXXXXX");
        assert_non_null(mkdtemp(dir));
    }
    return dir;
}

static int port_of(const pixd_server *srv) {
    const char *colon = strrchr(srv->listeners->addr, ':');
    return atoi(colon + 1);
}

static void server_ping_then_shutdown_closes_every_handle(void **state) {
    static pixd_server srv;
    pixd_options opt;
    uv_loop_t loop;
    client cl = {0};
    struct sockaddr_in sin;
    uint8_t *f = NULL;
    char err[256];
    long n;

    memset(&srv, 0, sizeof srv);
    pixd_options_defaults(&opt);
    assert_int_equal(pixd_options_set(&opt, "listen", "native=127.0.0.1:0", err, sizeof err), 0);
    assert_int_equal(pixd_options_set(&opt, "store", store_dir(), err, sizeof err), 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(pixd_server_start(&srv, &loop, &opt), 0);

    cl.srv = &srv;
    cl.dec = pixproto_decoder_new(0);
    cl.stop_after = 2; /* WELCOME, PONG; then SIGTERM-like stop */
    n = pixproto_build_hello("test", &f);
    append(&cl, n, f);
    n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 1, "hi", 2, &f);
    append(&cl, n, f);
    uv_tcp_init(&loop, &cl.tcp);
    cl.tcp.data = &cl;
    cl.connect.data = &cl;
    uv_ip4_addr("127.0.0.1", port_of(&srv), &sin);
    assert_int_equal(uv_tcp_connect(&cl.connect, &cl.tcp, (struct sockaddr *)&sin, on_connect), 0);

    uv_run(&loop, UV_RUN_DEFAULT);
    pixd_server_free(&srv);

    assert_int_equal(cl.nframes, 3);
    assert_int_equal(cl.types[0], PIXPROTO_T_WELCOME);
    assert_int_equal(cl.types[1], PIXPROTO_T_PONG);
    assert_int_equal(cl.types[2], PIXPROTO_T_ERROR);
    assert_int_equal(cl.codes[2], -PIXPROTO_ESHUTDOWN);
    assert_true(cl.eof);
    assert_null(srv.conns);
    assert_int_equal(srv.n_conns, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    pixproto_decoder_free(cl.dec);
    free(cl.out);
}

static void server_refuses_exposed_listener_without_insecure(void **state) {
    static pixd_server srv;
    pixd_options opt;
    uv_loop_t loop;
    char err[256];

    memset(&srv, 0, sizeof srv);
    pixd_options_defaults(&opt);
    assert_int_equal(pixd_options_set(&opt, "listen", "native=0.0.0.0:0", err, sizeof err), 0);
    assert_int_equal(pixd_options_set(&opt, "store", store_dir(), err, sizeof err), 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(pixd_server_start(&srv, &loop, &opt), -EACCES);
    pixd_server_free(&srv);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_ping_then_shutdown_closes_every_handle),
        cmocka_unit_test(server_refuses_exposed_listener_without_insecure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
