/* Listeners: bind an address (or adopt a socket from systemd) and hand
 * each accepted connection to the connection layer. */
#ifndef PIXD_LISTEN_H
#define PIXD_LISTEN_H

#include "server.h"

/* Bind spec->addr for spec->handler and start listening. On success the
 * listener is linked into srv->listeners and its bound address printed on
 * stdout ("pixd: native listening on 127.0.0.1:7070"). Returns 0 or a
 * negative errno, having logged what went wrong and what to do. */
int pixd_listen_spec_open(pixd_server *srv, const pixd_listen_spec *spec);
/* Adopt an already-listening socket fd (systemd socket activation). */
int pixd_listen_fd_open(pixd_server *srv, const pixd_handler *h, int fd);
/* A connection holds its listener; the last release frees a closed one. */
void pixd_listener_ref(pixd_listener *l);
void pixd_listener_unref(pixd_listener *l);
/* Close every listener (their handles free themselves). */
void pixd_listen_close_all(pixd_server *srv);

#endif
