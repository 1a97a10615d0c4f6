/* File ranges in a connection's write queue, sent with sendfile(2) on the
 * work queue (conn_sendfile.c). Internal to the connection layer: handlers
 * call pixd_conn_sendfile() (conn.h).
 *
 * While a file range is queued, later writes wait behind it in the same
 * list (order is kept byte for byte), and a range starts only once every
 * write before it has left (uv_write done). sendfile runs on a pool thread
 * against a dup of the socket, so closing the connection while it runs
 * cannot send file bytes to a socket that reused the descriptor number.
 * When the socket is full (a short sendfile, EAGAIN), a uv_poll on that
 * dup waits for room; the loop never blocks and no pool thread waits. */
#ifndef PIXD_CONN_SENDFILE_H
#define PIXD_CONN_SENDFILE_H

#include "conn.h"

/* 1 when writes must wait behind a queued file range. */
int pixd__sendq_busy(const pixd_conn *c);
/* Queue bufs behind the file ranges (len bytes, already counted by the
 * caller in c->queued). On error, release(ctx) has been called. */
int pixd__sendq_defer(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, size_t len,
                      pixd_release_cb release, void *ctx);
/* Queue a file range (pixd_conn_sendfile; the caller counts len). On
 * error, release(ctx) has been called. */
int pixd__sendq_file(pixd_conn *c, uv_file fd, uint64_t off, size_t len,
                     pixd_release_cb release, void *ctx);
/* Something was written: start what waits, if its turn has come. */
void pixd__sendq_kick(pixd_conn *c);
/* The connection closes: release what waits; a sendfile in flight
 * finishes on its own and then frees the queue. */
void pixd__sendq_close(pixd_conn *c);

/* conn.c, for this file: issue a uv_write whose bytes are already counted
 * in c->queued; and account for len bytes that have left. */
int pixd__conn_uv_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, size_t len,
                        pixd_release_cb release, void *ctx);
void pixd__conn_written(pixd_conn *c, size_t len);

#endif
