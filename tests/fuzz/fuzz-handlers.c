/* libFuzzer target: the protocol handlers through pixd's real entry
 * points. One pixd server (native + HTTP, a store, a test camera) runs in
 * this process on loopback; each input is sent by a client socket to the
 * handler its first byte picks, the loop runs until pixd closes the
 * connection, and ASan/UBSan watch everything in between. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static pixd_server srv;
static pixd_options opt;
static int ports[2];

static void start(void) {
    char err[256], dir[64] = "/tmp/pixd-fuzz-handlers-XXXXXX";
    /* As in main.c: a write to a client that has gone must be an EPIPE
     * for pixd to handle, not a signal that ends the process. */
    signal(SIGPIPE, SIG_IGN);
    pixd_log_set_level(PIXD_LOG_ERR);
    pixd_options_defaults(&opt);
    if (!mkdtemp(dir) ||
        pixd_options_set(&opt, "listen", "native=127.0.0.1:0", err, sizeof err) < 0 ||
        pixd_options_set(&opt, "listen", "http=127.0.0.1:0", err, sizeof err) < 0 ||
        pixd_options_set(&opt, "store", dir, err, sizeof err) < 0 ||
        pixd_options_set(&opt, "camera", "cam=test,width=64,height=48,fps=30", err,
                         sizeof err) < 0 ||
        pixd_options_set(&opt, "max-pixels", "1M", err, sizeof err) < 0 ||
        pixd_options_set(&opt, "idle-timeout", "1", err, sizeof err) < 0) {
        fprintf(stderr, "fuzz-handlers: setup: %s\n", err);
        abort();
    }
#ifdef FUZZ_WITH_KEYS
    {
        /* Keys on: every input meets the handshake and the gates. */
        static const char keys[] = "k 0123456789abcdef0123 read,write,admin\n";
        char path[96];
        int kfd;
        snprintf(path, sizeof path, "%s/keys", dir);
        kfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (kfd < 0 || write(kfd, keys, sizeof keys - 1) != (ssize_t)(sizeof keys - 1) ||
            pixd_options_set(&opt, "keys", path, err, sizeof err) < 0)
            abort();
        close(kfd);
    }
#endif
    if (uv_loop_init(&loop) < 0 || pixd_server_start(&srv, &loop, &opt) < 0)
        abort();
    for (pixd_listener *l = srv.listeners; l; l = l->next) {
        int i = strcmp(l->handler->name, "http") == 0;
        ports[i] = atoi(strrchr(l->addr, ':') + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct sockaddr_in sin = {.sin_family = AF_INET};
    size_t sent = 0;
    int fd, closed = 0;
    char buf[65536];

    if (!srv.loop)
        start();
    if (size < 1)
        return 0;
    sin.sin_port = htons((uint16_t)ports[data[0] & 1]);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    data++;
    size--;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    connect(fd, (struct sockaddr *)&sin, sizeof sin); /* EINPROGRESS on loopback is fine */
    /* Send, read and turn the loop until pixd closes or a bounded number
     * of rounds passes (a request may legitimately wait for a camera). */
    for (int round = 0; round < 400 && !closed; round++) {
        if (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            if (sent == size)
                shutdown(fd, SHUT_WR);
        } else if (size == 0 && round == 0) {
            shutdown(fd, SHUT_WR);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                closed = 1;
                break;
            }
            if (n < 0)
                break;
        }
        if (!closed) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
    }
    close(fd);
    /* Let pixd notice the close and release the connection's state. */
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
