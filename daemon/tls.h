/* TLS for the connection layer (--tls-cert, --tls-key): OpenSSL with
 * memory BIOs, so libuv keeps owning the sockets.
 *
 * conn.c hands every chunk read from a TLS connection to
 * pixd_tls_input(), which decrypts it and passes the plaintext to the
 * handler's read; pixd_conn_write() on a TLS connection encrypts through
 * pixd_tls_write(). Handlers never know. A client that speaks no TLS
 * (its first byte is not a TLS handshake record) hears the handler's
 * PIXD_BYE_NOT_TLS goodbye in plaintext and is disconnected. */
#ifndef PIXD_TLS_H
#define PIXD_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct pixd_conn pixd_conn;
typedef struct pixd_tls pixd_tls;
typedef struct ssl_ctx_st SSL_CTX;
typedef void (*pixd_release_cb)(void *ctx);

/* Load the certificate chain and key. Returns 0 or a negative errno with
 * a message naming the file in err. */
int pixd_tls_ctx_new(const char *cert, const char *key, SSL_CTX **out, char *err, size_t errlen);
void pixd_tls_ctx_free(SSL_CTX *ctx); /* accepts NULL */

/* Per connection. NULL on allocation failure. */
pixd_tls *pixd_tls_new(SSL_CTX *ctx);
void pixd_tls_free(pixd_tls *t); /* accepts NULL */

/* Ciphertext from the peer (owned by the caller, valid during the call).
 * Plaintext goes to c->handler->read. Returns 0, or <0 when the
 * connection must close (the reason is logged). */
int pixd_tls_input(pixd_conn *c, const uint8_t *data, size_t len);
/* Encrypt bufs and queue the result; release(ctx) is called when the
 * ciphertext has been written, as pixd_conn_write promises. Before the
 * handshake is complete nothing can be sent: -ENOTCONN. */
int pixd_tls_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, pixd_release_cb release,
                   void *ctx);
/* Queue a close_notify alert (the connection is ending). */
void pixd_tls_close_notify(pixd_conn *c);

#endif
