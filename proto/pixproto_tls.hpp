/* pixproto_tls.hpp: TLS for pixproto::Client, with OpenSSL's libssl.
 *
 *   auto c = pixproto::Client::connect_tcp(host, port, timeout, agent,
 *                                          pixproto::tls_wrap(ca_file));
 *
 * The server's certificate must chain to ca_file (PEM), or to the system's
 * trusted roots when ca_file is empty, and name the host connected to.
 * Header-only; link libssl and libcrypto. */
#ifndef PIXPROTO_TLS_HPP
#define PIXPROTO_TLS_HPP

#include "pixproto_client.hpp"

#include <memory>
#include <string>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace pixproto {

namespace detail {

inline std::string tls_error_text(const char *what)
{
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    return std::string(what) + (e ? std::string(": ") + buf : std::string());
}

class TlsTransport : public Transport {
public:
    TlsTransport(SSL_CTX *ctx, int fd) : ssl_(SSL_new(ctx), SSL_free)
    {
        if (!ssl_ || SSL_set_fd(ssl_.get(), fd) != 1)
            throw ConnectionError(tls_error_text("TLS: cannot set up a session"),
                                  ConnectionError::Reason::other);
        SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }

    SSL *ssl() const { return ssl_.get(); }

    long recv(void *buf, size_t n) override
    {
        int r = SSL_read(ssl_.get(), buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
        if (r > 0)
            return r;
        return after(r, "TLS read failed");
    }

    long send(const void *buf, size_t n) override
    {
        int r = SSL_write(ssl_.get(), buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
        if (r > 0)
            return r;
        return after(r, "TLS write failed");
    }

    bool pending() const override { return SSL_pending(ssl_.get()) > 0; }
    short want() const override { return want_; }

    /* The handshake, within dl. */
    void connect(const Deadline &dl)
    {
        for (;;) {
            int r = SSL_connect(ssl_.get());
            if (r == 1)
                return;
            int e = SSL_get_error(ssl_.get(), r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                long v = SSL_get_verify_result(ssl_.get());
                std::string why = v != X509_V_OK
                                      ? std::string("TLS: the server's certificate is not "
                                                    "trusted: ") +
                                            X509_verify_cert_error_string(v) +
                                            " (give its CA with --ca FILE)"
                                      : tls_error_text("TLS handshake failed (does this "
                                                       "listener speak TLS?)");
                throw ConnectionError(why, ConnectionError::Reason::other);
            }
            if (wait_fd(SSL_get_fd(ssl_.get()), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                        dl) == 0)
                throw ConnectionError("timed out in the TLS handshake",
                                      ConnectionError::Reason::timeout, ETIMEDOUT);
        }
    }

private:
    long after(int r, const char *what)
    {
        int e = SSL_get_error(ssl_.get(), r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            want_ = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            return -1;
        }
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            return 0; /* the server closed without close_notify */
        throw ConnectionError(tls_error_text(what), ConnectionError::Reason::closed);
    }

    std::unique_ptr<SSL, void (*)(SSL *)> ssl_;
    short want_ = POLLIN;
};

} // namespace detail

/* A Wrap for Client::connect_tcp that speaks TLS 1.2 or later, verifying the
 * server against ca_file (PEM) or the system's roots. */
inline detail::Wrap tls_wrap(const std::string &ca_file)
{
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!ctx)
        throw ConnectionError(detail::tls_error_text("TLS: cannot create a context"),
                              ConnectionError::Reason::other);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                             : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
    if (ok != 1)
        throw ConnectionError(detail::tls_error_text(("cannot load CA certificates from " +
                                                      (ca_file.empty() ? std::string("the system")
                                                                       : ca_file)).c_str()),
                              ConnectionError::Reason::other);
    return [ctx](int fd, const std::string &host, std::chrono::milliseconds timeout) {
        auto t = std::make_unique<detail::TlsTransport>(ctx.get(), fd);
        std::string name = host;
        if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
            name = name.substr(1, name.size() - 2);
        unsigned char addr[16];
        bool is_ip = inet_pton(AF_INET, name.c_str(), addr) == 1 ||
                     inet_pton(AF_INET6, name.c_str(), addr) == 1;
        /* The certificate must name the host: an IP address or a DNS name. */
        X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl());
        if (is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        } else {
            SSL_set_tlsext_host_name(t->ssl(), name.c_str());
            X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
        }
        t->connect(detail::Deadline(timeout));
        return std::unique_ptr<detail::Transport>(std::move(t));
    };
}

} // namespace pixproto

#endif
