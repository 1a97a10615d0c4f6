#include "tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"

struct pixd_tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    int first_seen;   /* the first byte was checked for a handshake record */
};

/* The ciphertext of one pixd_tls_write, and the caller's release. */
struct sealed {
    void *data;
    pixd_release_cb release;
    void *ctx;
};

int pixd_tls_ctx_new(const char *cert, const char *key, SSL_CTX **out, char *err,
                     size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[256] = "";

    *out = NULL;
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context (OpenSSL)");
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Memory BIOs: the write buffer may move between SSL_write calls. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        snprintf(err, errlen, "--tls-cert %s: cannot load a PEM certificate chain (%s)", cert,
                 why);
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        snprintf(err, errlen, "--tls-key %s: cannot load a PEM private key (%s)", key, why);
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "--tls-key %s does not belong to the certificate in --tls-cert %s",
                 key, cert);
        SSL_CTX_free(ctx);
        return -EINVAL;
    }
    *out = ctx;
    return 0;
}

void pixd_tls_ctx_free(SSL_CTX *ctx) {
    SSL_CTX_free(ctx);
}

pixd_tls *pixd_tls_new(SSL_CTX *ctx) {
    pixd_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_accept_state(t->ssl);
    return t;
}

void pixd_tls_free(pixd_tls *t) {
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

static void sealed_done(void *p) {
    struct sealed *s = p;
    free(s->data);
    if (s->release)
        s->release(s->ctx);
    free(s);
}

/* Send what OpenSSL has produced (handshake, records, alerts). */
static int flush(pixd_conn *c, pixd_release_cb release, void *ctx) {
    pixd_tls *t = c->tls;
    size_t n = BIO_ctrl_pending(t->wbio);
    struct sealed *s;
    uv_buf_t b;

    if (n == 0) {
        if (release)
            release(ctx);
        return 0;
    }
    s = malloc(sizeof *s);
    if (!s || !(s->data = malloc(n))) {
        free(s);
        if (release)
            release(ctx);
        return -ENOMEM;
    }
    s->release = release;
    s->ctx = ctx;
    if (BIO_read(t->wbio, s->data, (int)n) != (int)n) {
        sealed_done(s);
        return -EIO;
    }
    b = uv_buf_init(s->data, (unsigned)n);
    return pixd__conn_write_raw(c, &b, 1, sealed_done, s);
}

static int not_tls(pixd_conn *c) {
    pixd_info("conn %llu %s: not a TLS client on a TLS listener; telling it so",
              (unsigned long long)c->id, c->peer);
    /* The goodbye must go out in plaintext, which this peer speaks. */
    pixd_tls_free(c->tls);
    c->tls = NULL;
    pixd_conn_goodbye(c, PIXD_BYE_NOT_TLS);
    return 0;
}

int pixd_tls_input(pixd_conn *c, const uint8_t *data, size_t len) {
    static uint8_t plain[64 * 1024];
    pixd_tls *t = c->tls;

    /* 0x16: a TLS handshake record, the first thing any TLS client sends. */
    if (!t->first_seen && len > 0) {
        t->first_seen = 1;
        if (data[0] != 0x16)
            return not_tls(c);
    }
    if (len && BIO_write(t->rbio, data, (int)len) != (int)len)
        return -ENOMEM;
    while (c->cstate == PIXD_CONN_OPEN && c->tls == t) {
        int r = SSL_read(t->ssl, plain, sizeof plain), e;
        if (r > 0) {
            c->handler->read(c, plain, (size_t)r);
            continue;
        }
        e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            flush(c, NULL, NULL);
            pixd_conn_end(c);
            return 0;
        }
        {
            char why[256] = "unexpected end of stream";
            unsigned long ec = ERR_get_error();
            if (ec)
                ERR_error_string_n(ec, why, sizeof why);
            ERR_clear_error();
            pixd_info("conn %llu %s: TLS failed: %s", (unsigned long long)c->id, c->peer, why);
        }
        /* Send the alert OpenSSL prepared, then go. */
        flush(c, NULL, NULL);
        pixd_conn_end(c);
        return 0;
    }
    if (c->tls == t && c->cstate != PIXD_CONN_CLOSING)
        return flush(c, NULL, NULL);
    return 0;
}

int pixd_tls_write(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, pixd_release_cb release,
                   void *ctx) {
    pixd_tls *t = c->tls;

    if (!SSL_is_init_finished(t->ssl)) {
        if (release)
            release(ctx);
        return -ENOTCONN;
    }
    for (unsigned i = 0; i < nbufs; i++) {
        if (bufs[i].len == 0)
            continue;
        if (SSL_write(t->ssl, bufs[i].base, (int)bufs[i].len) != (int)bufs[i].len) {
            ERR_clear_error();
            if (release)
                release(ctx);
            pixd_conn_close(c);
            return -EIO;
        }
    }
    return flush(c, release, ctx);
}

void pixd_tls_close_notify(pixd_conn *c) {
    pixd_tls *t = c->tls;
    if (!t || !SSL_is_init_finished(t->ssl))
        return;
    SSL_shutdown(t->ssl);
    flush(c, NULL, NULL);
}
