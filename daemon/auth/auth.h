/* Access control shared by every handler: the server's keys (--keys,
 * reloaded on SIGHUP), the per-host limit on failed authentications, and
 * the one question any handler asks: may this connection do that?
 *
 * Without --keys nothing is checked and every connection may do anything,
 * as before keys existed (listen.c then refuses non-loopback addresses
 * unless --insecure). With keys, a connection may do nothing but say
 * hello and ping until it proves a key. */
#ifndef PIXD_AUTH_AUTH_H
#define PIXD_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/keys.h"

typedef struct pixd_server pixd_server;
typedef struct pixd_conn pixd_conn;

/* Failed authentications: BURST quickly, then one per REFILL_MS, per host. */
#define PIXD_AUTHFAIL_BURST 5
#define PIXD_AUTHFAIL_REFILL_MS 2000

/* Load --keys (if given) and set up the limiter. Logs why on failure. */
int pixd_auth_start(pixd_server *srv);
void pixd_auth_stop(pixd_server *srv);
/* SIGHUP: read --keys again. A bad file keeps the old keys (and says why);
 * a good one replaces them, and connections authenticated with a key that
 * is gone or changed lose its permissions at once. */
void pixd_auth_reload(pixd_server *srv);

/* 1 when the server has keys, so connections must authenticate. */
int pixd_auth_required(const pixd_server *srv);
/* 1 when c may do what needs perm (PIXD_PERM_* bits, all required; 0 asks
 * only for an authenticated key). Always 1 without keys. */
int pixd_auth_allows(const pixd_conn *c, unsigned perm);
/* Mark c as authenticated with k. */
void pixd_auth_grant(pixd_conn *c, const pixd_key *k);

/* The failure limiter for c's host: 1 if blocked now, with a message for
 * the client in msg. */
int pixd_auth_blocked(pixd_conn *c, char *msg, size_t msglen);
/* Count a failure for c's host and log it (without the secret). */
void pixd_auth_failed(pixd_conn *c, const char *key_name, const char *why);

/* A "NAME:SECRET" token (HTTP bearer, ?key=, cookie): the key it names
 * when the secret is right, else NULL (the caller calls pixd_auth_failed). */
const pixd_key *pixd_auth_check_token(const pixd_server *srv, const char *token, size_t len);

#endif
