/* pixproto_stream.hpp: the byte side of a native-protocol connection, for
 * pixproto::Client (pixproto_client.hpp): writing whole frames without
 * blocking past a deadline, reading what arrives into the decoder (large
 * bodies straight into its buffer), an optional Transport (TLS) layered
 * over the socket, and how a connection ends. What the frames mean, and
 * which request they belong to, is the client's. Header-only. */
#ifndef PIXPROTO_STREAM_HPP
#define PIXPROTO_STREAM_HPP

#include "pixproto.hpp"
#include "pixproto_socket.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace pixproto {

namespace detail {
/* A byte stream layered over the client's socket (TLS, in pixproto_tls.hpp).
 * Calls never block: they return -1 when they would, and want() then says
 * which poll event to wait for. */
struct Transport {
    virtual ~Transport() = default;
    /* Bytes read (> 0), 0 at the end of the stream, -1 would block; throws
     * ConnectionError on failure. */
    virtual long recv(void *buf, size_t n) = 0;
    /* Bytes written (> 0) or -1 would block; throws ConnectionError. */
    virtual long send(const void *buf, size_t n) = 0;
    /* Bytes already received and decrypted, not yet read. */
    virtual bool pending() const = 0;
    virtual short want() const = 0;
};
/* Called on a connected socket before HELLO, within the timeout. */
using Wrap = std::function<std::unique_ptr<Transport>(int fd, const std::string &host,
                                                      std::chrono::milliseconds timeout)>;
} // namespace detail

namespace detail {

/* One connection's socket, reads and writes. ingest() receives every
 * frame that read_some() completes. Not thread-safe; move-only. */
class FrameStream {
public:
    using Timeout = std::chrono::milliseconds;

protected:
    FrameStream(UniqueFd fd, Timeout timeout) : fd_(std::move(fd)), timeout_(timeout) {}
    FrameStream(FrameStream &&) noexcept = default;
    FrameStream &operator=(FrameStream &&) noexcept = default;
    virtual ~FrameStream() = default;

    virtual void ingest(Frame f) = 0;

    /* Ends the connection with e: closes the socket and rethrows e from now
     * on. Frames already queued stay available. */
    template <class E>
    [[noreturn]] void fail(const E &e)
    {
        if (!broken_)
            broken_ = std::make_exception_ptr(e);
        transport_.reset();
        fd_.reset();
        throw e;
    }

    void usable() const
    {
        if (broken_)
            std::rethrow_exception(broken_);
        if (fd_.get() < 0)
            throw ConnectionError("not connected", ConnectionError::Reason::closed);
    }

    ConnectionError timed_out() const
    {
        return ConnectionError("timed out after " + detail::seconds_text(timeout_) +
                                   " s waiting for the server",
                               ConnectionError::Reason::timeout, ETIMEDOUT);
    }

    /* Waits until readable, then reads what is there into the inbox. */
    void pump(const detail::Deadline &dl)
    {
        usable();
        if (transport_ && transport_->pending()) {
            read_some();
            return;
        }
        short rev = detail::wait_fd(fd_.get(), POLLIN, dl, interrupt_fd_);
        if (rev == 0)
            throw timed_out();
        read_some();
    }

    /* One read; queues the frames it completes. Throws on EOF, on an error,
     * on a malformed frame and on ERROR with id 0. */
    void read_some()
    {
        if (rbuf_.empty())
            rbuf_.resize(read_size);
        uint8_t *buf = rbuf_.data();
        size_t want = rbuf_.size();
        // The rest of a large body is read straight into the decoder's
        // buffer for it, not copied there from rbuf_ (a download is mostly
        // such bodies).
        std::pair<uint8_t *, size_t> window{nullptr, 0};
        try {
            window = decoder_.window();
        } catch (const Error &e) {
            fail(Error(e.code(), "bad data from the server: " + pixproto::error_text(e.code())));
        }
        if (window.second >= read_size) {
            buf = window.first;
            want = window.second;
        } else {
            window = {nullptr, 0};
        }
        ssize_t n;
        if (transport_) {
            try {
                n = transport_->recv(buf, want);
            } catch (const ConnectionError &e) {
                fail(e);
            }
            if (n < 0)
                return;
        } else {
            n = ::recv(fd_.get(), buf, want, 0);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            int err = errno;
            fail(ConnectionError(err == ECONNRESET ? "connection reset by the server"
                                                   : "lost the connection: " + detail::errno_text(err),
                                 detail::reason_of(err) == ConnectionError::Reason::other
                                     ? ConnectionError::Reason::closed
                                     : detail::reason_of(err),
                                 err));
        }
        if (n == 0)
            fail(ConnectionError(decoder_.pending() ? "connection closed by the server in the middle of a frame"
                                                    : "connection closed by the server",
                                 ConnectionError::Reason::closed));
        const uint8_t *in = buf;
        size_t len = static_cast<size_t>(n);
        if (window.first) {
            std::optional<Frame> f;
            try {
                decoder_.commit(len);
                len = 0;
                f = decoder_.next(in, len);
            } catch (const Error &e) {
                fail(Error(e.code(), "bad data from the server: " + pixproto::error_text(e.code())));
            }
            if (f)
                ingest(std::move(*f));
            return;
        }
        while (len > 0) {
            std::optional<Frame> f;
            try {
                f = decoder_.next(in, len);
            } catch (const Error &e) {
                fail(Error(e.code(), "bad data from the server: " + pixproto::error_text(e.code())));
            }
            if (!f)
                break;
            ingest(std::move(*f));
        }
    }

    /* Writes a then b (either may be empty) completely, handling partial
     * writes and EINTR, reading incoming frames while the socket is full. */
    void write_all(const void *a, size_t alen, const void *b, size_t blen)
    {
        usable();
        if (transport_) {
            write_transport(a, alen, b, blen);
            return;
        }
        iovec iov[2] = {{const_cast<void *>(a), alen}, {const_cast<void *>(b), blen}};
        size_t first = 0;
        bool started = false;
        detail::Deadline dl(timeout_);
        std::optional<detail::Deadline> grace; /* after an interrupt */
        while (first < 2) {
            if (iov[first].iov_len == 0) {
                ++first;
                continue;
            }
            msghdr msg{};
            msg.msg_iov = iov + first;
            msg.msg_iovlen = 2 - first;
            ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                started = true;
                size_t left = static_cast<size_t>(n);
                for (size_t i = first; i < 2 && left > 0; ++i) {
                    size_t take = std::min(left, iov[i].iov_len);
                    iov[i].iov_base = static_cast<uint8_t *>(iov[i].iov_base) + take;
                    iov[i].iov_len -= take;
                    left -= take;
                }
                continue;
            }
            int err = errno;
            if (err == EINTR)
                continue;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                short rev;
                try {
                    rev = detail::wait_fd(fd_.get(), POLLOUT | POLLIN, grace ? *grace : dl,
                                          grace ? -1 : interrupt_fd_);
                } catch (const Interrupted &) {
                    if (!started)
                        throw;
                    /* Half a frame is out: finish it if the server takes it
                     * soon, so that the connection can still carry a CANCEL. */
                    grace.emplace(std::chrono::milliseconds(1000));
                    continue;
                }
                if (rev == 0 && grace)
                    fail(Interrupted("interrupted in the middle of a frame; the connection was closed"));
                if (rev == 0) {
                    ConnectionError e = timed_out();
                    if (started)
                        fail(e); /* half a frame sent: the stream is unusable */
                    throw e;
                }
                if (rev & POLLIN)
                    read_some();
                continue;
            }
            /* The server may have said why before it closed (LIMIT, ...). */
            drain_after_error();
            fail(ConnectionError(err == EPIPE || err == ECONNRESET ? "connection closed by the server"
                                                                   : "lost the connection: " + detail::errno_text(err),
                                 ConnectionError::Reason::closed, err));
        }
    }

    /* write_all through the transport (TLS): its records cannot be split
     * by sendmsg, and an interrupted frame ends the connection. */
    void write_transport(const void *a, size_t alen, const void *b, size_t blen)
    {
        const uint8_t *p[2] = {static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(b)};
        size_t left[2] = {alen, blen};
        bool started = false;
        detail::Deadline dl(timeout_);
        for (int i = 0; i < 2; ++i) {
            while (left[i] > 0) {
                long n;
                try {
                    n = transport_->send(p[i], left[i]);
                } catch (const ConnectionError &e) {
                    fail(e);
                }
                if (n > 0) {
                    started = true;
                    p[i] += n;
                    left[i] -= static_cast<size_t>(n);
                    continue;
                }
                short rev;
                try {
                    rev = detail::wait_fd(fd_.get(), transport_->want() | POLLIN, dl,
                                          interrupt_fd_);
                } catch (const Interrupted &) {
                    if (started)
                        fail(Interrupted("interrupted in the middle of a frame; the connection "
                                         "was closed"));
                    throw;
                }
                if (rev == 0) {
                    ConnectionError e = timed_out();
                    if (started)
                        fail(e);
                    throw e;
                }
                if ((rev & POLLIN) && !(transport_->want() & POLLIN))
                    read_some();
            }
        }
    }

    /* Reads what is already buffered, so that an ERROR with id 0 the server
     * sent before closing is what gets reported. */
    void drain_after_error()
    {
        try {
            for (int i = 0; i < 64 && fd_.get() >= 0; ++i) {
                pollfd p{fd_.get(), POLLIN, 0};
                if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
                    return;
                read_some();
            }
        } catch (const ConnectionError &) {
            /* EOF or reset: the caller reports the failure it saw. */
        }
    }

    UniqueFd fd_;
    std::unique_ptr<Transport> transport_; /* TLS; null: plain socket */
    Timeout timeout_;
    Decoder decoder_;
    std::exception_ptr broken_;
    int interrupt_fd_ = -1;
    /* Large reads keep the syscall count down for streamed files. */
    static constexpr size_t read_size = 64 * 1024;
    std::vector<uint8_t> rbuf_;
};

} // namespace detail
} // namespace pixproto

#endif /* PIXPROTO_STREAM_HPP */
