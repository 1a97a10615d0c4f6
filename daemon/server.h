/* The server: one libuv loop, its listeners and connections, the
 * counters that status and metrics read, and shutdown. */
#ifndef PIXD_SERVER_H
#define PIXD_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "auth/auth.h"
#include "auth/ratelimit.h"
#include "camera/hub.h"
#include "conn.h"
#include "handler.h"
#include "hosts.h"
#include "jobs.h"
#include "options.h"
#include "store.h"

struct pixd_listener {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    pixd_server *srv;
    const pixd_handler *handler;
    char addr[160];        /* as bound: "127.0.0.1:7070" or "unix:/path" */
    char unlink_path[110]; /* unix socket file we created, removed at exit */
    pixd_params params;    /* from --listen NAME=ADDR,KEY=VALUE... */
    char as[33];           /* ,as=NAME (auth.c), not in params */
    /* Connections keep their listener (and its params) alive: the memory
     * goes when the handle has closed and the last connection has gone. */
    unsigned refs;
    int closed;
    pixd_listener *next;
};

struct pixd_server {
    uv_loop_t *loop;
    const pixd_options *opt;
    pixd_listener *listeners;
    pixd_conn *conns;                 /* every live connection */
    uint64_t n_conns;                 /* counted connections */
    uint64_t n_by_handler[PIXD_H_COUNT_];
    uint64_t accepted, refused, next_conn_id;
    pixd_hosts hosts;
    pixd_keys *keys;                  /* --keys; NULL: no access control */
    pixd_ratelimit authfail;          /* failed authentications per host */
    pixd_ratelimit connrate;          /* new connections per host (--conn-rate) */
    struct ssl_ctx_st *tls_ctx;       /* --tls-cert/--tls-key; NULL: plaintext */
    pixd_store *store;
    pixd_jobs jobs;
    pixd_hub *hub;
    struct pixd_classifier *classify; /* --model; NULL without */
    struct pixd_timelapse *timelapse[PIXD_MAX_CAMERAS];
    uint64_t start_hr;                /* uv_hrtime() at start */
    int stopping;
    uv_signal_t sig[3];               /* SIGINT, SIGTERM, SIGHUP */
    uv_timer_t stop_timer;
    uv_timer_t watchdog;              /* WATCHDOG=1 pings (watchdog.c) */
    /* Reads land here: handlers consume data during the read callback,
     * so one buffer serves every connection. */
    char readbuf[256 * 1024];
    int readbuf_busy;
};

/* Set up listeners (from options, or systemd's sockets), signals and
 * readiness. Returns 0 or a negative errno, having logged why. */
int pixd_server_start(pixd_server *srv, uv_loop_t *loop, const pixd_options *opt);
/* Stop accepting, say goodbye to every connection, and let the loop end.
 * Idempotent; a second call closes everything at once. */
void pixd_server_stop(pixd_server *srv);
/* After uv_run returned: release what start allocated. */
void pixd_server_free(pixd_server *srv);

uint64_t pixd_server_uptime_ms(const pixd_server *srv);

#endif
