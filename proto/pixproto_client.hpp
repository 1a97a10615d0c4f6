/* pixproto_client.hpp: a blocking client for pixd's native protocol, over
 * the codec in pixproto.hpp and the socket plumbing in pixproto_socket.hpp.
 *
 *   Client   one connection: handshake, ping, status, and generic requests
 *            with several in flight (send, send_frame, receive, cancel);
 *            its socket reads and writes are pixproto_stream.hpp's
 *
 * The image store's requests are in pixproto_store.hpp. Header-only; needs
 * POSIX sockets and libpixproto.
 */
#ifndef PIXPROTO_CLIENT_HPP
#define PIXPROTO_CLIENT_HPP

#include "pixproto.hpp"
#include "pixproto_auth.h"
#include "pixproto_socket.hpp"
#include "pixproto_stream.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace pixproto {


/* A blocking client for one connection to pixd.
 *
 * Requests carry ids counting up from 1; several may be in flight at once.
 * Frames that arrive for an in-flight request other than the one being
 * waited for are queued in arrival order and handed out by the next
 * receive() for their id; frames for ids not in flight (finished or
 * cancelled requests) are dropped. An ERROR frame always becomes an Error:
 * with a request's id it ends that request, with id 0 it ends the connection.
 *
 * Every blocking call waits at most timeout() (0: forever) and then throws
 * ConnectionError; a timeout while reading leaves the connection usable,
 * one while writing (a frame half sent) does not. After the connection is
 * lost, every call rethrows the error that ended it.
 *
 * With an interrupt descriptor set (set_interrupt_fd), a wait ends with
 * Interrupted as soon as that descriptor is readable. A frame already partly
 * written is given a second to finish first, so that the connection stays
 * usable (to send CANCEL, for instance, after set_interrupt_fd(-1)); if the
 * server does not take it, the connection is closed.
 *
 * Not thread-safe. Move-only; closes its socket when destroyed. */
class Client : private detail::FrameStream {
public:
    using Timeout = detail::FrameStream::Timeout;

    static std::string default_agent() { return "libpixproto++/" + std::to_string(PIXPROTO_VERSION); }

    /* Resolves host (name, IPv4, IPv6 literal with or without brackets),
     * tries every address in turn, each within timeout, then does the
     * HELLO/WELCOME handshake. Throws ConnectionError, or Error when the
     * server answers HELLO with ERROR (e.g. LIMIT). getaddrinfo() itself
     * is not bounded by the timeout. */
    static Client connect_tcp(const std::string &host, uint16_t port, Timeout timeout,
                              const std::string &agent = default_agent(),
                              const detail::Wrap &wrap = {})
    {
        detail::Dialed d = detail::dial_tcp(host, port, timeout);
        Client c(std::move(d.fd), d.peer, timeout);
        if (wrap)
            c.transport_ = wrap(c.fd_.get(), host, timeout);
        c.handshake(agent);
        return c;
    }

    /* Connects to a unix stream socket, then does the handshake. */
    static Client connect_unix(const std::string &path, Timeout timeout,
                               const std::string &agent = default_agent())
    {
        detail::Dialed d = detail::dial_unix(path, timeout);
        Client c(std::move(d.fd), d.peer, timeout);
        c.handshake(agent);
        return c;
    }

    /* Takes over a connected stream socket (e.g. one end of a socketpair)
     * and does the handshake over it. peer names it in messages. */
    static Client adopt(int fd, const std::string &peer, Timeout timeout,
                        const std::string &agent = default_agent())
    {
        detail::UniqueFd owned(fd);
        if (detail::fcntl_nonblock(owned.get()) < 0)
            throw ConnectionError("cannot use socket: " + detail::errno_text(errno),
                                  ConnectionError::Reason::other, errno);
        Client c(std::move(owned), peer, timeout);
        c.handshake(agent);
        return c;
    }

    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() = default;

    /* "127.0.0.1:7070", "[::1]:7070", "unix:/run/pixd/native.sock" */
    const std::string &peer() const noexcept { return peer_; }
    const Welcome &welcome() const noexcept { return welcome_; }
    int fd() const noexcept { return fd_.get(); }
    Timeout timeout() const noexcept { return timeout_; }
    void set_timeout(Timeout t) noexcept { timeout_ = t; }
    /* Frames dropped because no request with their id was in flight. */
    uint64_t dropped() const noexcept { return dropped_; }
    /* While fd >= 0 is readable, blocking waits throw Interrupted (see the
     * class comment); -1 turns this off. The descriptor stays the caller's. */
    void set_interrupt_fd(int fd) noexcept { interrupt_fd_ = fd; }
    int interrupt_fd() const noexcept { return interrupt_fd_; }

    /* True when WELCOME carried a challenge: every request but PING then
     * needs authenticate() first. */
    bool needs_key() const noexcept { return needs_key_; }
    /* After authenticate(): the key's permissions, "read,write". */
    const std::string &perms() const noexcept { return perms_; }

    /* Answers WELCOME's challenge with the key NAME:SECRET (pixd-protocol(7),
     * "Access keys") and checks the server's proof that it knows the secret
     * too. Throws Error (AUTH: unknown key or wrong secret; the server then
     * closes the connection) or ConnectionError. */
    void authenticate(const std::string &name, const std::string &secret)
    {
        usable();
        if (!needs_key_)
            throw std::logic_error("pixproto::Client::authenticate: the server asked for no key");
        std::array<uint8_t, PIXPROTO_NONCE_SIZE> nonce{};
        detail::check(pixproto_auth_random(nonce.data(), nonce.size()),
                      "cannot get random bytes for the handshake");
        uint8_t *out = nullptr;
        long rc = pixproto_build_auth(secret.data(), secret.size(), welcome_.version,
                                      challenge_.data(), nonce.data(), name.c_str(), &out);
        std::vector<uint8_t> wire = detail::take_encoded(rc, out, "cannot encode AUTH");
        open_.insert(0);
        Frame f;
        try {
            write_all(wire.data(), wire.size(), nullptr, 0);
            f = receive(0);
        } catch (...) {
            open_.erase(0);
            throw;
        }
        open_.erase(0);
        if (f.type != PIXPROTO_T_AUTHED)
            fail(Error(PIXPROTO_EBADFRAME, "the server answered AUTH with " + f.type_name() +
                                               " instead of AUTHED"));
        pixproto_frame v = f.view();
        pixproto_authed a{};
        if (pixproto_parse_authed(&v, &a) < 0)
            fail(Error(PIXPROTO_EBADBODY, "malformed AUTHED from the server"));
        uint8_t expect[PIXPROTO_MAC_SIZE];
        detail::check(pixproto_auth_mac(secret.data(), secret.size(), welcome_.version,
                                        challenge_.data(), nonce.data(), name.c_str(),
                                        PIXPROTO_AUTH_SERVER, expect),
                      "cannot compute the handshake's MAC");
        if (!pixproto_auth_mac_equal(expect, a.server_mac))
            fail(Error(PIXPROTO_EAUTH, "the server's proof of the key is wrong: it is not the "
                                       "pixd that holds this key"));
        a.perms[sizeof a.perms - 1] = '\0';
        perms_ = a.perms;
        needs_key_ = false;
    }

    /* Sends PING with an 8-byte token, checks that PONG echoes it, and
     * returns the round trip. */
    std::chrono::nanoseconds ping()
    {
        uint64_t v = static_cast<uint64_t>(detail::Clock::now().time_since_epoch().count()) ^
                     (++pings_ * 0x9e3779b97f4a7c15ull);
        std::vector<uint8_t> token(8);
        for (int i = 7; i >= 0; --i, v >>= 8)
            token[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
        auto t0 = detail::Clock::now();
        Frame reply = request(PIXPROTO_T_PING, token);
        auto t1 = detail::Clock::now();
        expect_type(reply, PIXPROTO_T_PONG);
        if (reply.body != token)
            throw Error(PIXPROTO_EBADBODY, "the server's PONG does not echo the PING", reply.id);
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0);
    }

    Status status()
    {
        Frame reply = request(PIXPROTO_T_STATUS);
        expect_type(reply, PIXPROTO_T_STATUS_REPLY);
        Status s = parse_status(reply);
        if (s.agent.empty())
            s.agent = welcome_.agent;
        return s;
    }

    /* One request, one reply: sends a new request and returns the first
     * frame answering it. Requests answered by several frames use send()
     * and receive(). */
    Frame request(uint8_t type, const std::vector<uint8_t> &body = {})
    {
        uint32_t id = send(type, body);
        try {
            Frame f = receive(id);
            finish(id);
            return f;
        } catch (...) {
            finish(id);
            throw;
        }
    }

    /* Starts a request under a fresh id and returns the id; it stays in
     * flight until finish() or an ERROR for it. */
    uint32_t send(uint8_t type, const void *body, size_t len, uint8_t flags = 0)
    {
        uint32_t id = open_id();
        try {
            send_frame(type, id, body, len, flags);
        } catch (...) {
            open_.erase(id);
            throw;
        }
        return id;
    }
    uint32_t send(uint8_t type, const std::vector<uint8_t> &body, uint8_t flags = 0)
    {
        return send(type, body.data(), body.size(), flags);
    }

    /* Starts a request whose body is a store NAME only (GET, STAT, DELETE),
     * encoded by pixproto_build_name; returns its id as send() does. */
    uint32_t send_name(uint8_t type, std::string_view name)
    {
        uint32_t id = open_id();
        try {
            std::vector<uint8_t> wire = encode_name_frame(type, id, name);
            write_all(wire.data(), wire.size(), nullptr, 0);
        } catch (...) {
            open_.erase(id);
            throw;
        }
        return id;
    }

    /* Sends one frame under an existing id: DATA chunks and CANCEL of an
     * in-flight request. Body at most the server's max_body. While the
     * server does not read, frames it sends meanwhile are queued, so both
     * sides writing at once cannot deadlock. */
    void send_frame(uint8_t type, uint32_t id, const void *body, size_t len, uint8_t flags = 0)
    {
        usable();
        size_t limit = welcome_.max_body ? welcome_.max_body : PIXPROTO_MAX_BODY;
        if (len > limit)
            throw Error(PIXPROTO_ETOOBIG, "frame body of " + std::to_string(len) +
                                              " bytes exceeds the server's limit of " +
                                              std::to_string(limit));
        if (flags & PIXPROTO_F_ZLIB) {
            std::vector<uint8_t> wire = encode_frame(type, flags, id, body, len);
            write_all(wire.data(), wire.size(), nullptr, 0);
            return;
        }
        uint8_t header[PIXPROTO_HEADER_SIZE];
        detail::check(pixproto_header_encode(header, type, flags, id, len), "cannot encode frame");
        write_all(header, sizeof header, body, len);
    }

    /* The next frame for request id, waiting for it if none is queued. An
     * ERROR for it throws Error and finishes the request. */
    Frame receive(uint32_t id)
    {
        if (!open_.count(id))
            throw std::logic_error("pixproto::Client::receive: request " + std::to_string(id) +
                                   " is not in flight");
        detail::Deadline dl(timeout_);
        for (;;) {
            auto it = std::find_if(inbox_.begin(), inbox_.end(),
                                   [id](const Frame &f) { return f.id == id; });
            if (it != inbox_.end()) {
                Frame f = std::move(*it);
                inbox_.erase(it);
                return deliver(std::move(f));
            }
            pump(dl);
        }
    }

    /* Like receive(), but never waits: does at most one read of what the
     * socket already holds and returns the next frame for id if one has
     * arrived. For checking, between chunks of an upload, whether the
     * server has refused it. */
    std::optional<Frame> try_receive(uint32_t id)
    {
        if (!open_.count(id))
            throw std::logic_error("pixproto::Client::try_receive: request " + std::to_string(id) +
                                   " is not in flight");
        for (int round = 0;; ++round) {
            auto it = std::find_if(inbox_.begin(), inbox_.end(),
                                   [id](const Frame &f) { return f.id == id; });
            if (it != inbox_.end()) {
                Frame f = std::move(*it);
                inbox_.erase(it);
                return deliver(std::move(f));
            }
            if (round > 0)
                return std::nullopt;
            usable();
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
                return std::nullopt;
            read_some();
        }
    }

    /* Aborts request id: sends CANCEL for it (the server answers nothing)
     * and finishes it here, so frames still on their way are dropped. Does
     * nothing for an id not in flight. */
    void cancel(uint32_t id)
    {
        if (!open_.count(id))
            return;
        finish(id);
        send_frame(PIXPROTO_T_CANCEL, id, nullptr, 0);
    }

    /* The next frame for any request in flight, in arrival order. */
    Frame receive_any()
    {
        detail::Deadline dl(timeout_);
        for (;;) {
            if (!inbox_.empty()) {
                Frame f = std::move(inbox_.front());
                inbox_.pop_front();
                return deliver(std::move(f));
            }
            if (open_.empty())
                throw std::logic_error("pixproto::Client::receive_any: no request in flight");
            pump(dl);
        }
    }

    /* Ends a request on this side: drops its queued frames and any that
     * arrive later. */
    void finish(uint32_t id) noexcept
    {
        open_.erase(id);
        inbox_.erase(std::remove_if(inbox_.begin(), inbox_.end(),
                                    [id](const Frame &f) { return f.id == id; }),
                     inbox_.end());
    }

    bool in_flight(uint32_t id) const noexcept { return open_.count(id) != 0; }
    /* False once the connection is lost or ended by the server. */
    bool connected() const noexcept { return !broken_ && fd_.get() >= 0; }

private:
    Client(detail::UniqueFd fd, std::string peer, Timeout timeout)
        : FrameStream(std::move(fd), timeout), peer_(std::move(peer))
    {
    }

    /* A fresh request id, marked in flight. */
    uint32_t open_id()
    {
        usable();
        uint32_t id = next_id_;
        while (id == 0 || open_.count(id))
            ++id;
        next_id_ = id + 1;
        open_.insert(id);
        return id;
    }

    void handshake(const std::string &agent)
    {
        std::vector<uint8_t> hello = build_hello(agent);
        open_.insert(0);
        write_all(hello.data(), hello.size(), nullptr, 0);
        Frame f = receive(0);
        open_.erase(0);
        if (f.type != PIXPROTO_T_WELCOME)
            fail(Error(PIXPROTO_EBADFRAME, "the server answered HELLO with " + f.type_name() +
                                               " instead of WELCOME"));
        try {
            welcome_ = parse_welcome(f);
        } catch (const Error &e) {
            fail(e);
        }
        pixproto_frame v = f.view();
        int rc = pixproto_parse_challenge(&v, challenge_.data());
        if (rc < 0)
            fail(Error(rc, "malformed challenge in the server's WELCOME"));
        needs_key_ = rc == 1;
    }

    static void expect_type(const Frame &f, uint8_t type)
    {
        if (f.type != type)
            throw Error(PIXPROTO_EBADTYPE, "expected " + type_name(type) + " from the server, got " +
                                               f.type_name(), f.id);
    }

    Frame deliver(Frame f)
    {
        if (f.type == PIXPROTO_T_ERROR) {
            Error e = error_from_frame(f);
            finish(f.id);
            throw e;
        }
        return f;
    }

    /* A frame read_some() completed: queued for its request. */
    void ingest(Frame f) override
    {
        if (f.id == 0 && f.type == PIXPROTO_T_ERROR)
            fail(error_from_frame(f));
        if (open_.count(f.id))
            inbox_.push_back(std::move(f));
        else
            ++dropped_;
    }

    std::string peer_;
    Welcome welcome_;
    bool needs_key_ = false;
    std::array<uint8_t, PIXPROTO_NONCE_SIZE> challenge_{};
    std::string perms_;
    std::deque<Frame> inbox_;           /* arrived, not yet received */
    std::unordered_set<uint32_t> open_; /* ids in flight */
    uint32_t next_id_ = 1;
    uint64_t pings_ = 0;
    uint64_t dropped_ = 0;
};

} // namespace pixproto

#endif /* PIXPROTO_CLIENT_HPP */

