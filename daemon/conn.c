#include "conn.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "addr.h"
#include "listen.h"
#include "conn_sendfile.h"
#include "log.h"
#include "server.h"
#include "tls.h"

struct write_req {
    uv_write_t req;
    size_t len;
    pixd_release_cb release;
    void *ctx;
};

static void arm_timer(pixd_conn *c, uint64_t ms);

static void list_add(pixd_server *srv, pixd_conn *c) {
    c->next = srv->conns;
    c->prev = NULL;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
}

static void list_del(pixd_server *srv, pixd_conn *c) {
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void handle_closed(uv_handle_t *h) {
    pixd_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    pixd_listener_unref(c->listener);
    pixd_tls_free(c->tls);
    free(c->state);
    free(c);
}

static void release_slot(pixd_conn *c) {
    pixd_server *srv = c->srv;
    if (!c->counted)
        return;
    c->counted = 0;
    srv->n_conns--;
    srv->n_by_handler[pixd_handler_index(c->handler)]--;
    pixd_hosts_release(&srv->hosts, (struct sockaddr *)&c->peer_addr);
}

void pixd_conn_close(pixd_conn *c) {
    if (c->cstate == PIXD_CONN_CLOSING)
        return;
    c->cstate = PIXD_CONN_CLOSING;
    {
        const pixd_log_field f[] = {
            {"conn", NULL, (long long)c->id}, {"peer", c->peer, 0},
            {"handler", c->handler->name, 0}, {"event", "close", 0},
            {"bytes_in", NULL, (long long)c->bytes_in},
            {"bytes_out", NULL, (long long)c->bytes_out},
        };
        pixd_log_fields(PIXD_LOG_DEBUG, f, sizeof f / sizeof f[0],
                        "conn %llu %s: closed (%llu bytes in, %llu out)",
                        (unsigned long long)c->id, c->peer,
                        (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
    }
    if (c->opened && c->handler->close)
        c->handler->close(c);
    release_slot(c);
    list_del(c->srv, c);
    pixd__sendq_close(c);
    /* Pending writes are cancelled by the close and release their data
     * in write_done before handle_closed frees the connection. */
    uv_close(&c->io.handle, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void shutdown_done(uv_shutdown_t *req, int status) {
    pixd_conn *c = req->data;
    free(req);
    pixd_conn_close(c);
}

/* Called when an ENDING connection has nothing left to write. */
static void finish_end(pixd_conn *c) {
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, &c->io.stream, shutdown_done) < 0) {
        free(req);
        pixd_conn_close(c);
        return;
    }
    req->data = c;
}

void pixd_conn_end(pixd_conn *c) {
    if (c->cstate != PIXD_CONN_OPEN)
        return;
    c->cstate = PIXD_CONN_ENDING;
    if (c->reading)
        uv_read_stop(&c->io.stream);
    c->reading = 0;
    if (c->tls)
        pixd_tls_close_notify(c);
    arm_timer(c, PIXD_CONN_LINGER_MS);
    if (c->queued == 0)
        finish_end(c);
}

void pixd_conn_goodbye(pixd_conn *c, enum pixd_goodbye why) {
    if (c->cstate != PIXD_CONN_OPEN)
        return;
    if (c->handler->goodbye)
        c->handler->goodbye(c, why);
    pixd_conn_end(c);
}

/* Below this much room a window is not worth a read of its own. */
#define WINDOW_MIN (16u << 10)

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    pixd_conn *c = h->data;
    pixd_server *srv = c->srv;
    /* A bulk body goes straight where the handler keeps it: one copy less
     * per uploaded byte. */
    if (c->handler->window && !c->tls && c->cstate == PIXD_CONN_OPEN) {
        size_t room = 0;
        uint8_t *p = c->handler->window(c, &room);
        if (p && room >= WINDOW_MIN) {
            c->in_window = 1;
            *buf = uv_buf_init((char *)p, room > UINT_MAX ? UINT_MAX : (unsigned)room);
            return;
        }
    }
    /* libuv reads from one stream at a time and hands the bytes to
     * on_read before the next alloc, so the shared buffer is free here. */
    if (srv->readbuf_busy) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    srv->readbuf_busy = 1;
    *buf = uv_buf_init(srv->readbuf, sizeof srv->readbuf);
}

static void start_reading(pixd_conn *c);

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    pixd_conn *c = s->data;
    int in_window = c->in_window;
    c->in_window = 0;
    if (buf->base == c->srv->readbuf)
        c->srv->readbuf_busy = 0;
    if (n == 0)
        return;
    if (n < 0) {
        if (n != UV_EOF && n != UV_ECONNRESET)
            pixd_debug("conn %llu %s: read: %s", (unsigned long long)c->id,
                       c->peer, uv_strerror((int)n));
        if (n == UV_ENOBUFS)
            return;
        pixd_conn_close(c);
        return;
    }
    c->bytes_in += (uint64_t)n;
    c->last_active = uv_now(c->srv->loop);
    if (c->cstate != PIXD_CONN_OPEN)
        return;
    if (in_window)
        c->handler->window_read(c, (size_t)n);
    else if (!c->tls)
        c->handler->read(c, (const uint8_t *)buf->base, (size_t)n);
    else if (pixd_tls_input(c, (const uint8_t *)buf->base, (size_t)n) < 0)
        pixd_conn_close(c);
}

static void start_reading(pixd_conn *c) {
    if (c->reading || c->paused || c->holds || c->cstate != PIXD_CONN_OPEN)
        return;
    if (uv_read_start(&c->io.stream, on_alloc, on_read) == 0)
        c->reading = 1;
}

static void write_done(uv_write_t *req, int status) {
    struct write_req *w = (struct write_req *)req;
    pixd_conn *c = req->data;

    if (status < 0) {
        c->queued -= w->len;
        if (w->release)
            w->release(w->ctx);
        free(w);
        if (status != UV_ECANCELED && status != UV_EPIPE && status != UV_ECONNRESET)
            pixd_debug("conn %llu %s: write: %s", (unsigned long long)c->id,
                       c->peer, uv_strerror(status));
        pixd_conn_close(c);
        return;
    }
    if (w->release)
        w->release(w->ctx);
    pixd__conn_written(c, w->len);
    free(w);
}

void pixd__conn_written(pixd_conn *c, size_t len) {
    c->queued -= len;
    c->last_active = uv_now(c->srv->loop);
    pixd__sendq_kick(c);
    if (c->cstate == PIXD_CONN_ENDING) {
        if (c->queued == 0)
            finish_end(c);
        return;
    }
    if (c->cstate == PIXD_CONN_OPEN && c->paused && c->queued <= PIXD_CONN_WQ_LOW) {
        c->paused = 0;
        start_reading(c);
        if (c->handler->drain)
            c->handler->drain(c);
    }
}

int pixd__conn_uv_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, size_t len,
                        pixd_release_cb release, void *ctx) {
    struct write_req *w = malloc(sizeof *w);
    int r;

    if (!w) {
        if (release)
            release(ctx);
        return -ENOMEM;
    }
    w->len = len;
    w->release = release;
    w->ctx = ctx;
    w->req.data = c;
    r = uv_write(&w->req, &c->io.stream, bufs, nbufs, write_done);
    if (r < 0) {
        free(w);
        if (release)
            release(ctx);
    }
    return r;
}

/* len more bytes are queued: count them, and stop reading past HIGH. */
static void count_queued(pixd_conn *c, size_t len) {
    c->queued += len;
    c->bytes_out += len;
    if (c->queued > PIXD_CONN_WQ_HIGH && !c->paused) {
        c->paused = 1;
        if (c->reading)
            uv_read_stop(&c->io.stream);
        c->reading = 0;
    }
}

/* 0 if len more bytes may be queued; else the peer is cut off. */
static int check_room(pixd_conn *c, size_t len, pixd_release_cb release, void *ctx) {
    if (c->cstate == PIXD_CONN_CLOSING) {
        if (release)
            release(ctx);
        return -EPIPE;
    }
    if (c->queued + len > PIXD_CONN_WQ_MAX) {
        pixd_notice("conn %llu %s: peer is not reading (%zu bytes queued), "
                    "disconnecting", (unsigned long long)c->id, c->peer, c->queued);
        if (release)
            release(ctx);
        pixd_conn_close(c);
        return -ENOBUFS;
    }
    return 0;
}

int pixd_conn_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                    pixd_release_cb release, void *ctx) {
    if (c->tls && c->cstate != PIXD_CONN_CLOSING)
        return pixd_tls_write(c, bufs, nbufs, release, ctx);
    return pixd__conn_write_raw(c, bufs, nbufs, release, ctx);
}

int pixd__conn_write_raw(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                         pixd_release_cb release, void *ctx) {
    size_t len = 0;
    int r;

    for (unsigned i = 0; i < nbufs; i++)
        len += bufs[i].len;
    if ((r = check_room(c, len, release, ctx)) < 0)
        return r;
    /* Behind a file range, bytes wait their turn (conn_sendfile.c). */
    if (pixd__sendq_busy(c))
        r = pixd__sendq_defer(c, bufs, nbufs, len, release, ctx);
    else
        r = pixd__conn_uv_write(c, bufs, nbufs, len, release, ctx);
    if (r < 0)
        return r;
    count_queued(c, len);
    return 0;
}

int pixd_conn_can_sendfile(const pixd_conn *c) {
    return !c->no_sendfile && (c->io.handle.type == UV_TCP || c->io.handle.type == UV_NAMED_PIPE);
}

int pixd_conn_sendfile(pixd_conn *c, uv_file fd, uint64_t off, size_t len,
                       pixd_release_cb release, void *ctx) {
    int r;
    if (!pixd_conn_can_sendfile(c))
        return -ENOTSUP;
    if ((r = check_room(c, len, release, ctx)) < 0)
        return r;
    if ((r = pixd__sendq_file(c, fd, off, len, release, ctx)) < 0)
        return r;
    count_queued(c, len);
    pixd__sendq_kick(c);
    return 0;
}

int pixd_conn_write_owned(pixd_conn *c, void *data, size_t len) {
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    return pixd_conn_write(c, &b, 1, free, data);
}

int pixd_conn_write_copy(pixd_conn *c, const void *data, size_t len) {
    void *p = malloc(len ? len : 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, data, len);
    return pixd_conn_write_owned(c, p, len);
}

void pixd_conn_hold(pixd_conn *c, int hold) {
    if (hold) {
        if (c->holds++ == 0 && c->reading) {
            uv_read_stop(&c->io.stream);
            c->reading = 0;
        }
    } else if (c->holds > 0 && --c->holds == 0) {
        start_reading(c);
    }
}

int pixd_conn_congested(const pixd_conn *c) {
    return c->queued > PIXD_CONN_WQ_HIGH || c->cstate != PIXD_CONN_OPEN;
}

void pixd_conn_set_streaming(pixd_conn *c, int streaming) {
    c->no_idle = streaming ? 1 : 0;
}

static void on_timer(uv_timer_t *t) {
    pixd_conn *c = t->data;
    uint64_t now = uv_now(c->srv->loop);
    unsigned idle = c->srv->opt->idle_timeout_ms;

    if (c->cstate == PIXD_CONN_ENDING) {
        pixd_debug("conn %llu %s: goodbye did not flush in time",
                   (unsigned long long)c->id, c->peer);
        pixd_conn_close(c);
        return;
    }
    if (c->cstate != PIXD_CONN_OPEN)
        return;
    if (c->no_idle || c->holds || now - c->last_active < idle) {
        /* Activity since the timer was armed: sleep for what is left,
         * rather than re-arming the timer on every read and write. */
        uint64_t left = (c->no_idle || c->holds) ? idle : idle - (now - c->last_active);
        arm_timer(c, left ? left : 1);
        return;
    }
    pixd_info("conn %llu %s: idle for %u s, disconnecting",
              (unsigned long long)c->id, c->peer, idle / 1000);
    pixd_conn_goodbye(c, PIXD_BYE_IDLE);
}

static void arm_timer(pixd_conn *c, uint64_t ms) {
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* Accept into c->io, which the caller has initialised. Fills peer info. */
static void describe_peer(pixd_conn *c) {
    int len = (int)sizeof c->peer_addr;
    memset(&c->peer_addr, 0, sizeof c->peer_addr);
    if (c->io.handle.type == UV_TCP &&
        uv_tcp_getpeername(&c->io.tcp, (struct sockaddr *)&c->peer_addr, &len) == 0) {
        pixd_addr_format((struct sockaddr *)&c->peer_addr, c->peer, sizeof c->peer);
        return;
    }
    c->peer_addr.ss_family = AF_UNIX;
    snprintf(c->peer, sizeof c->peer, "unix");
}

/* Descriptors kept free for the clients already in (store files, directory
 * scans, modules): a new client whose socket lands this close to the
 * RLIMIT_NOFILE ceiling is refused in its own protocol, rather than later
 * store work failing with EMFILE or libuv closing new sockets unheard. */
#define FD_HEADROOM 32

static int near_fd_limit(pixd_conn *c) {
    struct rlimit rl;
    uv_os_fd_t fd;
    if (uv_fileno(&c->io.handle, &fd) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
        rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur <= 2 * FD_HEADROOM)
        return 0;
    /* Descriptors are handed out lowest first: fd is about the number open. */
    if ((rlim_t)fd < rl.rlim_cur - FD_HEADROOM)
        return 0;
    pixd_notice("refusing %s: %d descriptors open of %llu (LimitNOFILE=, ulimit -n); "
                "%d are kept for the clients already in", c->peer, fd + 1,
                (unsigned long long)rl.rlim_cur, FD_HEADROOM);
    return 1;
}

/* Decide whether c may take a slot; returns 0 or the reason to refuse. */
static int take_slot(pixd_conn *c) {
    pixd_server *srv = c->srv;
    const pixd_options *o = srv->opt;
    int r;

    if (srv->stopping)
        return PIXD_BYE_SHUTDOWN;
    if (near_fd_limit(c))
        return PIXD_BYE_LIMIT;
    if (o->max_connections && srv->n_conns >= o->max_connections) {
        pixd_notice("refusing %s: %llu connections open (--max-connections %u)",
                    c->peer, (unsigned long long)srv->n_conns, o->max_connections);
        return PIXD_BYE_LIMIT;
    }
    if (o->conn_rate) {
        uint64_t now = uv_now(srv->loop);
        if (pixd_ratelimit_blocked(&srv->connrate, (struct sockaddr *)&c->peer_addr, now,
                                   NULL)) {
            pixd_notice("refusing %s: more than %u new connections a second from this "
                        "host (--conn-rate %u)", c->peer, o->conn_rate, o->conn_rate);
            return PIXD_BYE_LIMIT;
        }
        pixd_ratelimit_hit(&srv->connrate, (struct sockaddr *)&c->peer_addr, now);
    }
    r = pixd_hosts_acquire(&srv->hosts, (struct sockaddr *)&c->peer_addr,
                           o->max_per_host);
    if (r < 0) {
        if (r == -EUSERS)
            pixd_notice("refusing %s: host has %u connections open "
                        "(--max-per-host %u)", c->peer, o->max_per_host,
                        o->max_per_host);
        return PIXD_BYE_LIMIT;
    }
    c->counted = 1;
    srv->n_conns++;
    srv->n_by_handler[pixd_handler_index(c->handler)]++;
    return 0;
}

void pixd_conn_accept(pixd_listener *l, uv_stream_t *server) {
    pixd_server *srv = l->srv;
    pixd_conn *c = calloc(1, sizeof *c);
    int r, why;

    if (!c) {
        pixd_err("out of memory accepting a connection");
        return;
    }
    c->srv = srv;
    c->handler = l->handler;
    c->id = ++srv->next_conn_id;
    if (server->type == UV_TCP)
        r = uv_tcp_init(srv->loop, &c->io.tcp);
    else
        r = uv_pipe_init(srv->loop, &c->io.pipe, 0);
    if (r < 0) {
        free(c);
        return;
    }
    c->listener = l;
    pixd_listener_ref(l);
    c->io.handle.data = c;
    c->handles_open = 1;
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    c->handles_open++;
    list_add(srv, c);
    r = uv_accept(server, &c->io.stream);
    if (r < 0) {
        pixd_warn("accept on %s: %s", l->addr, uv_strerror(r));
        pixd_conn_close(c);
        return;
    }
    srv->accepted++;
    describe_peer(c);
    if (c->io.handle.type == UV_TCP)
        uv_tcp_nodelay(&c->io.tcp, 1);
    c->last_active = uv_now(srv->loop);
    why = take_slot(c);
    /* --keys: a seed-protocol client is admitted by its listener's as=
     * key or by coming from loopback; others hear why in the protocol. */
    if (!why && !c->handler->own_auth && !pixd_auth_allows(c, c->handler->perm)) {
        pixd_info("conn %llu %s: %s refused: not loopback and the listener has no as=KEY "
                  "with the permission", (unsigned long long)c->id, c->peer, c->handler->name);
        why = PIXD_BYE_DENIED;
    }
    if (why && srv->tls_ctx && c->handler->tls && c->io.handle.type == UV_TCP) {
        /* A refusal in plaintext would be garbage to a TLS client. */
        srv->refused++;
        pixd_conn_close(c);
        return;
    }
    if (why) {
        srv->refused++;
        /* The refusal is written in the handler's protocol, with no
         * handler state: goodbye must cope with c->state == NULL. */
        pixd_conn_goodbye(c, (enum pixd_goodbye)why);
        return;
    }
    if (c->handler->state_size) {
        c->state = calloc(1, c->handler->state_size);
        if (!c->state) {
            pixd_conn_close(c);
            return;
        }
    }
    /* --tls-cert: TLS on every native and HTTP TCP listener; unix sockets
     * stay local. */
    if (srv->tls_ctx && c->handler->tls && c->io.handle.type == UV_TCP &&
        !(c->tls = pixd_tls_new(srv->tls_ctx))) {
        pixd_conn_close(c);
        return;
    }
    /* sendfile would put file bytes on the wire past TLS. */
    c->no_sendfile = c->tls != NULL;
    if (c->handler->open && c->handler->open(c) < 0) {
        pixd_conn_close(c);
        return;
    }
    c->opened = 1;
    {
        const pixd_log_field f[] = {
            {"conn", NULL, (long long)c->id}, {"peer", c->peer, 0},
            {"handler", c->handler->name, 0}, {"event", "open", 0}, {"listener", l->addr, 0},
        };
        pixd_log_fields(PIXD_LOG_DEBUG, f, sizeof f / sizeof f[0], "conn %llu %s: open on %s %s",
                        (unsigned long long)c->id, c->peer, c->handler->name, l->addr);
    }
    if (srv->opt->idle_timeout_ms)
        arm_timer(c, srv->opt->idle_timeout_ms);
    start_reading(c);
}
