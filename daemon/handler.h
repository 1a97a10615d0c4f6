/* The protocol handler table.
 *
 * Every listener is bound to one entry of this table; the connection layer
 * (conn.c) owns sockets, buffers, limits and timers and calls the entry's
 * callbacks, so a handler only speaks its protocol. Adding a protocol is
 * one file and one row in handlers.c. */
#ifndef PIXD_HANDLER_H
#define PIXD_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef struct pixd_conn pixd_conn;

/* Why the connection layer asks a handler to say goodbye. */
enum pixd_goodbye {
    PIXD_BYE_LIMIT = 1,    /* over --max-connections or --max-per-host */
    PIXD_BYE_IDLE,         /* nothing in either direction for --idle-timeout */
    PIXD_BYE_SHUTDOWN,     /* SIGTERM / SIGINT */
    PIXD_BYE_NOT_TLS,      /* plaintext on a TLS listener; said in plaintext */
    PIXD_BYE_DENIED,       /* --keys: a seed-protocol client this listener does not admit */
};

typedef struct pixd_handler {
    const char *name;           /* as in --listen NAME=ADDR */
    const char *default_listen; /* listened on when no --listen is given, or NULL */
    const char *summary;        /* one line for --help */
    size_t state_size;          /* per-connection state, zeroed, in conn->state */

    /* A connection was accepted and counted. Return <0 to close it. */
    int (*open)(pixd_conn *c);
    /* Bytes arrived. data is owned by the connection layer and valid only
     * during the call; keep what you need. */
    void (*read)(pixd_conn *c, const uint8_t *data, size_t len);
    /* Optional, for bulk bodies: where the next bytes may be read straight
     * to (a body being collected), its room in *len; NULL for the shared
     * read buffer. Not used under TLS. Bytes read there are reported with
     * window_read instead of read. */
    uint8_t *(*window)(pixd_conn *c, size_t *len);
    void (*window_read)(pixd_conn *c, size_t len);
    /* Tell the peer why it is being let go, in this protocol (write an
     * error frame, an HTTP 503, ...). The layer then ends the connection
     * after the write queue drains. May be NULL: the socket just closes. */
    void (*goodbye)(pixd_conn *c, enum pixd_goodbye why);
    /* The write queue fell below the low-water mark (see conn.h). May be NULL. */
    void (*drain)(pixd_conn *c);
    /* The connection is going away: release state. Called once, for every
     * connection that open() accepted; no writes are possible any more. */
    void (*close)(pixd_conn *c);
    /* Check the listener's ",KEY=VALUE" parameters (see params.h) when
     * --listen is parsed: 0, or -EINVAL with a message for the user in
     * err. NULL: the handler takes none. A connection reads them from
     * c->listener->params. */
    int (*check_params)(const pixd_params *p, char *err, size_t errlen);
    /* 1: with --tls-cert this protocol is spoken inside TLS on TCP. The
     * seed tools' clients cannot, so their listeners stay plaintext. */
    int tls;
    /* 1: clients prove a key in the protocol (native, HTTP). 0: the seed
     * tools' protocols, which cannot: with --keys a client gets the
     * permissions of the listener's as=NAME key, or all of them from
     * loopback, and needs perm (PIXD_PERM_* of auth/keys.h) to connect. */
    int own_auth;
    unsigned perm;
} pixd_handler;

/* The table, indexed by enum pixd_handler_id; rows in handlers.c. */
enum pixd_handler_id {
    PIXD_H_NATIVE,
    PIXD_H_HTTP,
    PIXD_H_LEGACY_RESIZE,
    PIXD_H_LEGACY_SNAPSHOT,
    PIXD_H_LEGACY_CAMFEED,
    PIXD_H_LEGACY_PREDICT,
    PIXD_H_COUNT_
};

extern const pixd_handler *const pixd_handlers[PIXD_H_COUNT_];

/* Find a handler by name; NULL if there is none. */
const pixd_handler *pixd_handler_find(const char *name);
/* Index of h in the table (for per-handler counters). */
int pixd_handler_index(const pixd_handler *h);

#endif
