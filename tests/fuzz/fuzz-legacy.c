/* libFuzzer target: one legacy handler through pixd's real entry points.
 * Built once per handler, with LEGACY_LISTEN naming its --listen (for
 * instance "legacy-resize=127.0.0.1:0"). One pixd server (that listener,
 * a test camera, the job queue) runs in this process; each input is sent
 * by a client socket, the loop runs until pixd closes the connection or a
 * bounded number of rounds passes, and ASan/UBSan watch. The handler's
 * own sources are instrumented; the rest comes from the core library. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#ifndef LEGACY_LISTEN
#error "build with -DLEGACY_LISTEN=\"NAME=ADDR,...\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static pixd_server srv;
static pixd_options opt;
static int port;

static void start(void) {
    char err[256], dir[64] = "/tmp/pixd-fuzz-legacy-XXXXXX";
    /* As in main.c: a write to a client that has gone must be an EPIPE
     * for pixd to handle, not a signal that ends the process. */
    signal(SIGPIPE, SIG_IGN);
    pixd_log_set_level(PIXD_LOG_ERR);
    pixd_options_defaults(&opt);
    if (!mkdtemp(dir) ||
        pixd_options_set(&opt, "listen", LEGACY_LISTEN, err, sizeof err) < 0 ||
        pixd_options_set(&opt, "store", dir, err, sizeof err) < 0 ||
        pixd_options_set(&opt, "camera", "cam=test,width=64,height=48,fps=30", err,
                         sizeof err) < 0 ||
        pixd_options_set(&opt, "max-pixels", "1M", err, sizeof err) < 0 ||
        pixd_options_set(&opt, "max-upload", "1M", err, sizeof err) < 0 ||
        pixd_options_set(&opt, "idle-timeout", "1", err, sizeof err) < 0) {
        fprintf(stderr, "fuzz-legacy: setup: %s\n", err);
        abort();
    }
#ifdef LEGACY_MODEL
    /* legacy-predict: a model for MODE and PRED (needs PIXD_MODULE_DIR). */
    if (pixd_options_set(&opt, "model", LEGACY_MODEL, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz-legacy: setup: %s\n", err);
        abort();
    }
#endif
    if (uv_loop_init(&loop) < 0 || pixd_server_start(&srv, &loop, &opt) < 0)
        abort();
    port = atoi(strrchr(srv.listeners->addr, ':') + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct sockaddr_in sin = {.sin_family = AF_INET};
    size_t sent = 0;
    int fd, closed = 0;
    char buf[65536];

    if (!srv.loop)
        start();
    sin.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    connect(fd, (struct sockaddr *)&sin, sizeof sin); /* EINPROGRESS on loopback is fine */
    /* Legacy clients do not half-close: the input is sent, then the
     * connection stays open until pixd ends it or the rounds run out, so
     * replies (and the jobs behind them) really happen. */
    for (int round = 0, quiet = 0; round < 300 && !closed && quiet < 20; round++) {
        if (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        /* Everything sent, nothing heard and no job running for a while:
         * pixd waits for more input, which will not come. */
        quiet = sent == size && !srv.jobs.running && !srv.jobs.waiting ? quiet + 1 : 0;
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                closed = 1;
                break;
            }
            if (n < 0)
                break;
            quiet = 0;
        }
        if (!closed) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
    }
    close(fd);
    /* Let pixd notice the close and release the connection's state (a
     * job in flight ends on the pool; its done() frees it). */
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (!srv.conns && !srv.jobs.running)
            break;
        poll(NULL, 0, 1);
    }
    return 0;
}
