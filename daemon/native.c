/* The native protocol handler (pixd-protocol(7)): frames in, one message
 * table dispatches them, replies out through the connection layer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "conn.h"
#include "handler.h"
#include "log.h"
#include "native.h"
#include "pixd-config.h"
#include "pixproto.h"
#include "server.h"

#define AGENT "pixd/" PIXD_VERSION
#define PING_MAX 64

typedef struct native_cmd {
    native_fn fn;
    const char *name;
} native_cmd;

void pixd__native_send(pixd_conn *c, long n, uint8_t *buf) {
    if (n < 0) {
        pixd_err("conn %llu: cannot encode reply: %s", (unsigned long long)c->id,
                 pixproto_strerror((int)n));
        pixd_conn_close(c);
        return;
    }
    pixd_conn_write_owned(c, buf, (size_t)n);
}

void pixd__native_error(pixd_conn *c, uint32_t id, int code, const char *msg) {
    uint8_t *buf = NULL;
    long n = pixproto_build_error(id, code, msg ? msg : pixproto_strerror(code), &buf);
    pixd__native_send(c, n, buf);
}

static int cmd_ping(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    uint8_t *buf = NULL;
    long n;
    if (f->len > PING_MAX)
        return PIXPROTO_ETOOBIG;
    n = pixproto_frame_encode(PIXPROTO_T_PONG, 0, f->id, f->body, f->len, &buf);
    pixd__native_send(c, n, buf);
    return 0;
}

static int cmd_status(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixd_server *srv = c->srv;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    char line[200];
    long n;

    pixproto_put_str(&b, PIXPROTO_TAG_AGENT, AGENT);
    pixproto_put_u64(&b, PIXPROTO_TAG_UPTIME_MS, pixd_server_uptime_ms(srv));
    /* With keys, the details below are for admin keys only. */
    if (!pixd_auth_allows(c, PIXD_PERM_ADMIN))
        goto send;
    pixproto_put_u64(&b, PIXPROTO_TAG_PID, (uint64_t)getpid());
    pixproto_put_u64(&b, PIXPROTO_TAG_CONNECTIONS, srv->n_conns);
    pixproto_put_u64(&b, PIXPROTO_TAG_STORE_BYTES, pixd_store_bytes(srv->store));
    for (pixd_listener *l = srv->listeners; l; l = l->next) {
        snprintf(line, sizeof line, "%s %s", l->handler->name, l->addr);
        pixproto_put_str(&b, PIXPROTO_TAG_LISTENER, line);
    }
    for (int i = 0; i < PIXD_H_COUNT_; i++) {
        if (!pixd_handlers[i])
            continue;
        snprintf(line, sizeof line, "%s %llu", pixd_handlers[i]->name,
                 (unsigned long long)srv->n_by_handler[i]);
        pixproto_put_str(&b, PIXPROTO_TAG_HANDLER_CONNS, line);
    }
send:
    if (b.err) {
        int e = b.err;
        pixproto_buf_free(&b);
        return e;
    }
    n = pixproto_frame_encode(PIXPROTO_T_STATUS_REPLY, 0, f->id, b.data, b.len, &buf);
    pixproto_buf_free(&b);
    pixd__native_send(c, n, buf);
    return 0;
}

static int cmd_cancel(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    /* Cancelling an unknown id is not an error: the request may have
     * finished while the CANCEL was on its way. */
    native_req *req = pixd__native_req_find(st, f->id);
    if (req)
        pixd__native_req_detach(req);
    return 0;
}

void pixd__native_req_hold(native_req *req, int hold) {
    if (!req->conn || (!hold && !req->holds))
        return;
    if (hold)
        req->holds++;
    else
        req->holds--;
    pixd_conn_hold(req->conn, hold);
}

void pixd__native_req_detach(native_req *req) {
    if (req->conn) {
        native_state *st = req->conn->state;
        /* A cancelled upload may have stopped the reading (waiting for the
         * disk): the connection reads on without it. */
        while (req->holds)
            pixd__native_req_hold(req, 0);
        native_req **p = &st->reqs;
        while (*p && *p != req)
            p = &(*p)->next;
        if (*p)
            *p = req->next;
        req->conn = NULL;
    }
    if (req->cancel)
        req->cancel(req);
}

native_req *pixd__native_req_find(native_state *st, uint32_t id) {
    for (native_req *r = st->reqs; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

native_req *pixd__native_req_new(pixd_conn *c, native_state *st, uint32_t id, uint8_t type) {
    native_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->conn = c;
    r->id = id;
    r->type = type;
    r->next = st->reqs;
    st->reqs = r;
    return r;
}

void pixd__native_req_done(native_req *req) {
    if (req->conn) {
        native_state *st = req->conn->state;
        native_req **p = &st->reqs;
        while (*p && *p != req)
            p = &(*p)->next;
        if (*p)
            *p = req->next;
    }
    free(req);
}

static int cmd_hello_again(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    return PIXPROTO_EINVALID;
}

static const native_cmd commands[256] = {
    [PIXPROTO_T_HELLO] = {cmd_hello_again, "hello"},
    [PIXPROTO_T_PING] = {cmd_ping, "ping"},
    [PIXPROTO_T_STATUS] = {cmd_status, "status"},
    [PIXPROTO_T_CANCEL] = {cmd_cancel, "cancel"},
    [PIXPROTO_T_PUT] = {pixd__native_put, "put"},
    [PIXPROTO_T_DATA] = {pixd__native_data, "data"},
    [PIXPROTO_T_END] = {pixd__native_end, "end"},
    [PIXPROTO_T_GET] = {pixd__native_get, "get"},
    [PIXPROTO_T_LIST] = {pixd__native_list, "list"},
    [PIXPROTO_T_STAT] = {pixd__native_stat, "stat"},
    [PIXPROTO_T_DELETE] = {pixd__native_delete, "delete"},
    [PIXPROTO_T_RESIZE] = {pixd__native_resize, "resize"},
    [PIXPROTO_T_CAMS] = {pixd__native_cams, "cams"},
    [PIXPROTO_T_WATCH] = {pixd__native_watch, "watch"},
    [PIXPROTO_T_SNAP] = {pixd__native_snap, "snap"},
    [PIXPROTO_T_PUSH] = {pixd__native_push, "push"},
    [PIXPROTO_T_FRAME] = {pixd__native_push_frame, "frame"},
    [PIXPROTO_T_MODELS] = {pixd__native_models, "models"},
    [PIXPROTO_T_CLASSIFY] = {pixd__native_classify, "classify"},
};

static int greet(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixproto_hello h;
    uint8_t *buf = NULL;
    long n;
    int v;

    if (f->type != PIXPROTO_T_HELLO || f->id != 0) {
        pixd__native_error(c, 0, PIXPROTO_ENOTHELLO,
                   "the first frame must be HELLO with id 0 (see pixd-protocol(7))");
        return -1;
    }
    if (pixproto_parse_hello(f, &h) < 0) {
        pixd__native_error(c, 0, PIXPROTO_EBADBODY, "malformed HELLO (bad magic or fields)");
        return -1;
    }
    if ((v = pixproto_negotiate(&h)) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "client speaks versions %u..%u, this pixd speaks %d..%d",
                 h.min_version, h.max_version, PIXPROTO_MIN_VERSION, PIXPROTO_VERSION);
        pixd__native_error(c, 0, PIXPROTO_EVERSION, msg);
        return -1;
    }
    st->version = (uint32_t)v;
    snprintf(st->agent, sizeof st->agent, "%s", h.agent);
    pixd_debug("conn %llu %s: hello from \"%s\", version %d", (unsigned long long)c->id,
               c->peer, st->agent, v);
    n = pixd__native_welcome(c, st, (uint32_t)v, AGENT, &buf);
    pixd__native_send(c, n, buf);
    return 0;
}

/* --log-requests: the command and its id, never its body. The chunks of
 * a transfer (data, frame, end) belong to a request already logged. */
static void log_request(pixd_conn *c, const native_cmd *cmd, const pixproto_frame *f) {
    if (f->type == PIXPROTO_T_DATA || f->type == PIXPROTO_T_FRAME || f->type == PIXPROTO_T_END)
        return;
    const pixd_log_field fl[] = {
        {"conn", NULL, (long long)c->id}, {"peer", c->peer, 0}, {"handler", "native", 0},
        {"event", "request", 0}, {"command", cmd->name, 0}, {"id", NULL, (long long)f->id},
    };
    pixd_log_fields(PIXD_LOG_INFO, fl, sizeof fl / sizeof fl[0], "conn %llu %s: native %s id %lu",
                    (unsigned long long)c->id, c->peer, cmd->name, (unsigned long)f->id);
}

static int dispatch(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    const native_cmd *cmd = &commands[f->type];
    int r;

    if (!st->version)
        return greet(c, st, f);
    if (f->type == PIXPROTO_T_AUTH)
        return pixd__native_auth(c, st, f);
    if (f->id == 0) {
        pixd__native_error(c, 0, PIXPROTO_EINVALID, "request id 0 is reserved; use ids from 1");
        return 0;
    }
    if (!pixd__native_allowed(c, st, f))
        return 0;
    if (!cmd->fn) {
        char msg[96];
        snprintf(msg, sizeof msg, "unknown message type 0x%02x", f->type);
        pixd__native_error(c, f->id, PIXPROTO_EBADTYPE, msg);
        return 0;
    }
    if (pixd_log_requests())
        log_request(c, cmd, f);
    r = cmd->fn(c, st, f);
    if (r < 0)
        pixd__native_error(c, f->id, r, NULL);
    return 0;
}

static int native_open(pixd_conn *c) {
    native_state *st = c->state;
    st->dec = pixproto_decoder_new(PIXPROTO_MAX_BODY);
    return st->dec ? 0 : -ENOMEM;
}

static void native_read(pixd_conn *c, const uint8_t *data, size_t len) {
    native_state *st = c->state;
    pixproto_frame f;
    int r;

    while (c->cstate == PIXD_CONN_OPEN &&
           (r = pixproto_decoder_next(st->dec, &data, &len, &f)) != 0) {
        if (r < 0) {
            pixd_info("conn %llu %s: bad frame: %s", (unsigned long long)c->id,
                      c->peer, pixproto_strerror(r));
            pixd__native_error(c, 0, r, NULL);
            pixd_conn_end(c);
            return;
        }
        if (dispatch(c, st, &f) < 0) {
            pixd_conn_end(c);
            return;
        }
    }
}

/* The rest of a frame body being collected (an upload's DATA, an image)
 * is read straight into the decoder's buffer for it. */
static uint8_t *native_window(pixd_conn *c, size_t *len) {
    native_state *st = c->state;
    uint8_t *p = NULL;
    if (pixproto_decoder_window(st->dec, &p, len) < 0)
        return NULL; /* the next read reports the error */
    return p;
}

static void native_window_read(pixd_conn *c, size_t len) {
    native_state *st = c->state;
    int r = pixproto_decoder_commit(st->dec, len);
    if (r < 0) { /* cannot happen: libuv reads at most the window */
        pixd_warn("conn %llu %s: read past the decoder's window", (unsigned long long)c->id, c->peer);
        pixd_conn_end(c);
        return;
    }
    native_read(c, NULL, 0);
}

static void native_goodbye(pixd_conn *c, enum pixd_goodbye why) {
    switch (why) {
    case PIXD_BYE_LIMIT:
        pixd__native_error(c, 0, PIXPROTO_ELIMIT, "too many connections; try again later");
        break;
    case PIXD_BYE_IDLE:
        pixd__native_error(c, 0, PIXPROTO_ETIMEOUT, "idle for too long; reconnect when needed");
        break;
    case PIXD_BYE_SHUTDOWN:
        pixd__native_error(c, 0, PIXPROTO_ESHUTDOWN, "pixd is shutting down");
        break;
    case PIXD_BYE_NOT_TLS:
        pixd__native_error(c, 0, PIXPROTO_EINVALID, "this listener speaks TLS: connect with TLS "
                           "(pixctl --tls)");
        break;
    case PIXD_BYE_DENIED: /* for the seed protocols; native clients prove a key */
        pixd__native_error(c, 0, PIXPROTO_EDENIED, "permission denied");
        break;
    }
}

static void native_drain(pixd_conn *c) {
    native_state *st = c->state;
    for (native_req *r = st->reqs, *n; r; r = n) {
        n = r->next;
        if (r->resume)
            r->resume(r);
    }
}

static void native_close(pixd_conn *c) {
    native_state *st = c->state;
    /* Transfers and jobs stop here; one-shot requests still on the work
     * queue find conn == NULL when they finish and free themselves. */
    while (st->reqs)
        pixd__native_req_detach(st->reqs);
    pixproto_decoder_free(st->dec);
    st->dec = NULL;
}

const pixd_handler pixd_native_handler = {
    .name = "native",
    .default_listen = "127.0.0.1:7070",
    .summary = "pixd's binary protocol (pixctl, libpixproto)",
    .state_size = sizeof(native_state),
    .open = native_open,
    .read = native_read,
    .window = native_window,
    .window_read = native_window_read,
    .goodbye = native_goodbye,
    .drain = native_drain,
    .close = native_close,
    .tls = 1,
    .own_auth = 1,
};
