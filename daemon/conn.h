/* The connection layer shared by every handler.
 *
 * It accepts, counts and limits connections, reads into a loop-wide
 * buffer, queues writes with backpressure, and ends idle or unwanted
 * connections through the handler's goodbye. Handlers see bytes in and
 * put bytes out; they never touch a socket. */
#ifndef PIXD_CONN_H
#define PIXD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "handler.h"

typedef struct pixd_server pixd_server;
typedef struct pixd_listener pixd_listener;
typedef struct pixd_tls pixd_tls;

/* Backpressure. Past HIGH queued bytes the layer stops reading from the
 * peer (a client that sends requests but never reads replies stalls
 * itself, not pixd); below LOW it reads again and calls handler->drain.
 * Streams check pixd_conn_congested() and skip what does not fit. Past
 * MAX the peer is too far behind and is disconnected. */
#define PIXD_CONN_WQ_HIGH (1u << 20)
#define PIXD_CONN_WQ_LOW (256u << 10)
#define PIXD_CONN_WQ_MAX (16u << 20)
/* How long a goodbye may take to flush before the socket is closed. */
#define PIXD_CONN_LINGER_MS 2000

enum pixd_conn_state {
    PIXD_CONN_OPEN,    /* reading and writing */
    PIXD_CONN_ENDING,  /* no more reads; closes when the write queue drains */
    PIXD_CONN_CLOSING  /* handles are closing; no more writes */
};

struct pixd_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    uv_timer_t timer;      /* idle timeout, then linger deadline */
    pixd_server *srv;
    const pixd_handler *handler;
    pixd_listener *listener; /* accepted here; held until the conn is freed */
    void *state;           /* handler's, handler->state_size bytes */
    uint64_t id;           /* for logs */
    char peer[64];         /* "1.2.3.4:5678", "[::1]:80" or "unix" */
    struct sockaddr_storage peer_addr;
    enum pixd_conn_state cstate;
    unsigned counted : 1;  /* holds a slot in the limits */
    unsigned reading : 1;  /* uv_read_start is active */
    unsigned paused : 1;   /* reads stopped by backpressure */
    unsigned in_window : 1; /* the read in flight goes to handler->window */
    unsigned no_idle : 1;  /* a stream: silence from the peer is fine */
    unsigned opened : 1;   /* handler->open accepted it */
    unsigned no_sendfile : 1; /* the transport must see every byte (TLS) */
    unsigned holds;        /* handler asked to stop reading (pixd_conn_hold) */
    int handles_open;      /* closes pending before the memory is freed */
    size_t queued;         /* bytes handed to uv_write, not yet written */
    uint64_t last_active;  /* uv_now() of the last byte in or out */
    uint64_t bytes_in, bytes_out;
    /* Access keys (auth/auth.h): who the peer proved to be, if anyone. */
    char key_name[33];     /* "" until authenticated */
    unsigned perms;        /* PIXD_PERM_* of that key */
    pixd_tls *tls;         /* TLS session (tls.h), NULL for plaintext */
    pixd_conn *prev, *next; /* server's list */
    struct pixd_sendq *sendq; /* file ranges queued (conn_sendfile.c), or NULL */
};

/* Called by a listener for each incoming connection. */
void pixd_conn_accept(pixd_listener *l, uv_stream_t *server);

/* Release callback for queued data: ctx is what the caller passed. */
typedef void (*pixd_release_cb)(void *ctx);

/* Queue bufs for writing. The bytes must stay valid until release(ctx)
 * is called (after the write completes or fails, possibly before this
 * returns on error). Returns 0 or a negative errno (-EPIPE when the
 * connection is closing). release may be NULL for static data. */
int pixd_conn_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                    pixd_release_cb release, void *ctx);
/* pixd_conn_write without TLS: the bytes go to the socket as they are.
 * For tls.c, which writes ciphertext through it. */
int pixd__conn_write_raw(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                         pixd_release_cb release, void *ctx);
/* Queue malloc'd data; the layer frees it. Frees it on error too. */
int pixd_conn_write_owned(pixd_conn *c, void *data, size_t len);
/* Queue a copy of data. */
int pixd_conn_write_copy(pixd_conn *c, const void *data, size_t len);

/* Queue len bytes of the open file fd from offset off, to be sent with
 * sendfile(2) (on the work queue: no file I/O on the loop) after what was
 * queued before and before what is queued after. fd must stay open until
 * release(ctx), which follows the last byte or the connection's end (and
 * comes at once on error). Counts toward the write queue like any write.
 * -ENOTSUP (release not called) when the transport cannot: a TLS
 * connection sets no_sendfile; the caller then writes the bytes itself. */
int pixd_conn_sendfile(pixd_conn *c, uv_file fd, uint64_t off, size_t len,
                       pixd_release_cb release, void *ctx);
/* 1 if pixd_conn_sendfile() can be used on c now. */
int pixd_conn_can_sendfile(const pixd_conn *c);

/* 1 when the write queue is past the high-water mark. */
int pixd_conn_congested(const pixd_conn *c);
/* A stream connection may be silent from the peer's side for long. */
void pixd_conn_set_streaming(pixd_conn *c, int streaming);

/* The handler cannot take more input for now (say, an upload waits for
 * the disk): stop reading from the peer while any hold is active. Holds
 * count: each pixd_conn_hold(c, 1) needs a pixd_conn_hold(c, 0). */
void pixd_conn_hold(pixd_conn *c, int hold);

/* Stop reading, flush what is queued (at most PIXD_CONN_LINGER_MS), close. */
void pixd_conn_end(pixd_conn *c);
/* Close now, dropping what is queued. */
void pixd_conn_close(pixd_conn *c);
/* Ask the handler to say goodbye for why, then end the connection. */
void pixd_conn_goodbye(pixd_conn *c, enum pixd_goodbye why);

#endif
