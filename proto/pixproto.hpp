/* pixproto.hpp: C++17 wrapper over libpixproto, plus a blocking client.
 *
 * pixproto.h is the source of truth; this header adds ownership (one
 * move-only class per C object, holding a unique_ptr with the C destructor)
 * and turns negative PIXPROTO_E* codes into exceptions, only here at the
 * boundary. Nothing in it calls back from C, so no exception crosses C code.
 *
 *   pixproto::Error            an ERROR frame from the server, or a codec
 *                              failure; code() is the positive wire code
 *   pixproto::ConnectionError  could not connect, timed out, connection lost
 *   Frame, Decoder, Fields,    the codec
 *   FieldReader
 *   Client                     socket client: handshake, ping, status and
 *                              generic requests with several in flight
 *
 * Header-only; link with libpixproto (pkg-config libpixproto). The Client
 * part needs POSIX sockets.
 */
#ifndef PIXPROTO_HPP
#define PIXPROTO_HPP

#include "pixproto.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

namespace pixproto {

/* ---- Errors -------------------------------------------------------------- */

/* Text of a code, negative (library) or positive (wire). */
inline std::string error_text(int code)
{
    const char *s = pixproto_strerror(code);
    return s ? s : "unknown error " + std::to_string(code);
}

/* "TOOBIG", or "E<code>" for a code this library does not know. */
inline std::string errname(int code)
{
    const char *s = pixproto_errname(code);
    return s ? s : "E" + std::to_string(code < 0 ? -static_cast<long>(code) : code);
}

/* "ping", or "type 0x2a" for an unknown type. */
inline std::string type_name(int type)
{
    const char *s = pixproto_type_name(type);
    if (s)
        return s;
    char buf[16];
    std::snprintf(buf, sizeof buf, "type 0x%02x", static_cast<unsigned>(type) & 0xffu);
    return buf;
}

/* The server refused or failed a request (an ERROR frame), or bytes could not
 * be encoded or decoded. what() is the server's message when it sent one. */
class Error : public std::runtime_error {
public:
    /* code: a PIXPROTO_E* value, negative or positive; stored positive. */
    Error(int code, const std::string &message, uint32_t id = 0)
        : std::runtime_error(message.empty() ? pixproto::error_text(code) : message),
          code_(code < 0 ? -code : code), id_(id)
    {
    }

    /* Positive wire code (PIXPROTO_ELIMIT is -8, code() is 8). */
    int code() const noexcept { return code_; }
    /* "LIMIT" */
    std::string name() const { return errname(code_); }
    /* The request the error belongs to; 0 for the connection as a whole
     * (the server closes after such an error) and for local codec errors. */
    uint32_t id() const noexcept { return id_; }

private:
    int code_;
    uint32_t id_;
};

/* Could not reach the server, it did not answer in time, or the connection
 * was lost. */
class ConnectionError : public std::runtime_error {
public:
    enum class Reason {
        refused,     /* nothing listens there (ECONNREFUSED, no socket file) */
        resolve,     /* the host name does not resolve */
        unreachable, /* no route to the host or network */
        timeout,     /* connecting or waiting took longer than the timeout */
        closed,      /* the server closed or reset the connection */
        other,
    };

    explicit ConnectionError(const std::string &message, Reason reason = Reason::other,
                             int sys_errno = 0)
        : std::runtime_error(message), reason_(reason), errno_(sys_errno)
    {
    }

    Reason reason() const noexcept { return reason_; }
    /* The errno behind the failure, 0 if none. */
    int sys_errno() const noexcept { return errno_; }

private:
    Reason reason_;
    int errno_;
};

namespace detail {

inline int check(int rc, const std::string &what)
{
    if (rc < 0)
        throw Error(rc, what + ": " + pixproto::error_text(rc));
    return rc;
}

struct FreeDeleter {
    void operator()(void *p) const noexcept { std::free(p); }
};
struct DecoderDeleter {
    void operator()(pixproto_decoder *d) const noexcept { pixproto_decoder_free(d); }
};
struct BufDeleter {
    void operator()(pixproto_buf *b) const noexcept
    {
        pixproto_buf_free(b);
        delete b;
    }
};
struct AddrinfoDeleter {
    void operator()(addrinfo *ai) const noexcept { freeaddrinfo(ai); }
};

/* Adopts a result of pixproto_frame_encode and friends: buffer malloc'd by
 * the library, freed here with free(). */
inline std::vector<uint8_t> take_encoded(long rc, uint8_t *out, const char *what)
{
    std::unique_ptr<uint8_t, FreeDeleter> owned(out);
    if (rc < 0)
        throw Error(static_cast<int>(rc), std::string(what) + ": " + pixproto::error_text(static_cast<int>(rc)));
    return std::vector<uint8_t>(owned.get(), owned.get() + rc);
}

} // namespace detail

/* ---- Frames ---------------------------------------------------------------- */

/* An owning copy of a pixproto_frame. */
struct Frame {
    uint8_t type = 0;
    uint8_t flags = 0;
    uint32_t id = 0;
    std::vector<uint8_t> body;

    Frame() = default;
    Frame(uint8_t type_, uint32_t id_, std::vector<uint8_t> body_ = {}, uint8_t flags_ = 0)
        : type(type_), flags(flags_), id(id_), body(std::move(body_))
    {
    }
    /* Copies f.body: the copy outlives the decoder that produced f. */
    explicit Frame(const pixproto_frame &f)
        : type(f.type), flags(f.flags), id(f.id)
    {
        if (f.body && f.len)
            body.assign(f.body, f.body + f.len);
    }

    /* A C view of this frame, valid while this Frame lives unchanged. */
    pixproto_frame view() const noexcept
    {
        pixproto_frame f{};
        f.type = type;
        f.flags = flags;
        f.id = id;
        f.body = body.data();
        f.len = body.size();
        return f;
    }

    bool more() const noexcept { return (flags & PIXPROTO_F_MORE) != 0; }
    std::string type_name() const { return pixproto::type_name(type); }
};

/* Header plus body as they go on the wire. PIXPROTO_F_ZLIB in flags deflates
 * the body (pixproto_frame_encode decides whether that pays). */
inline std::vector<uint8_t> encode_frame(uint8_t type, uint8_t flags, uint32_t id,
                                         const void *body, size_t len)
{
    uint8_t *out = nullptr;
    long rc = pixproto_frame_encode(type, flags, id, body, len, &out);
    return detail::take_encoded(rc, out, "cannot encode frame");
}

inline std::vector<uint8_t> encode_frame(const Frame &f)
{
    return encode_frame(f.type, f.flags, f.id, f.body.data(), f.body.size());
}

/* ---- Decoder --------------------------------------------------------------- */

/* Incremental frame decoder. Move-only; a moved-from Decoder may only be
 * destroyed or assigned to. */
class Decoder {
public:
    /* max_body 0 means PIXPROTO_MAX_BODY. Throws std::bad_alloc. */
    explicit Decoder(size_t max_body = 0) : d_(pixproto_decoder_new(max_body))
    {
        if (!d_)
            throw std::bad_alloc();
    }

    /* Consumes bytes from [in, in+len), advancing in and decreasing len,
     * until a frame is complete (returned) or the input is used up (nullopt).
     * Throws Error on malformed input; the decoder then stays failed. */
    std::optional<Frame> next(const uint8_t *&in, size_t &len)
    {
        pixproto_frame f{};
        int rc = pixproto_decoder_next(d_.get(), &in, &len, &f);
        detail::check(rc, "cannot decode frame");
        if (rc == 0)
            return std::nullopt;
        return Frame(f);
    }

    /* Decodes all of [data, data+len), calling on_frame(Frame&&) for every
     * complete frame. Returns the number of frames. */
    template <class F>
    size_t feed(const void *data, size_t len, F &&on_frame)
    {
        const uint8_t *in = static_cast<const uint8_t *>(data);
        size_t n = 0;
        while (len > 0) {
            std::optional<Frame> f = next(in, len);
            if (!f)
                break;
            ++n;
            on_frame(std::move(*f));
        }
        return n;
    }

    /* Bytes buffered toward an incomplete frame. */
    size_t pending() const noexcept { return pixproto_decoder_pending(d_.get()); }
    pixproto_decoder *get() const noexcept { return d_.get(); }

private:
    std::unique_ptr<pixproto_decoder, detail::DecoderDeleter> d_;
};

/* ---- Fields ---------------------------------------------------------------- */

/* Builds a fields body: Fields().u64(TAG_PID, 42).str(TAG_AGENT, "x").vector() */
class Fields {
public:
    Fields() : b_(new pixproto_buf{}) {}

    Fields &u64(uint16_t tag, uint64_t v)
    {
        return done(pixproto_put_u64(b_.get(), tag, v));
    }
    /* Strings travel without NUL, so one holding a NUL byte is refused. */
    Fields &str(uint16_t tag, std::string_view s)
    {
        if (s.find('\0') != std::string_view::npos)
            throw Error(PIXPROTO_EINVALID, "cannot encode string field: it holds a NUL byte");
        return done(pixproto_put_str(b_.get(), tag, std::string(s).c_str()));
    }
    Fields &bytes(uint16_t tag, const void *p, size_t n)
    {
        return done(pixproto_put_bytes(b_.get(), tag, p, n));
    }

    /* Valid until the next append; owned by this object. */
    const uint8_t *data() const noexcept { return b_->data; }
    size_t size() const noexcept { return b_->len; }
    std::vector<uint8_t> vector() const { return std::vector<uint8_t>(data(), data() + size()); }

private:
    Fields &done(int rc)
    {
        if (rc >= 0 && b_->err < 0)
            rc = b_->err;
        detail::check(rc, "cannot encode field");
        return *this;
    }

    std::unique_ptr<pixproto_buf, detail::BufDeleter> b_;
};

/* One field of a body; points into the body it was read from. */
class Field {
public:
    Field() = default;
    explicit Field(const pixproto_field &f) : f_(f) {}

    uint16_t tag() const noexcept { return f_.tag; }
    const uint8_t *data() const noexcept { return f_.value; }
    size_t size() const noexcept { return f_.len; }

    uint64_t u64() const
    {
        uint64_t v = 0;
        detail::check(pixproto_field_u64(&f_, &v), "field " + std::to_string(f_.tag));
        return v;
    }
    std::string str() const
    {
        std::string s(f_.len + 1, '\0');
        detail::check(pixproto_field_str(&f_, &s[0], s.size()), "field " + std::to_string(f_.tag));
        s.resize(f_.len);
        return s;
    }

private:
    pixproto_field f_{};
};

/* Range over the fields of a body the caller owns and keeps alive:
 *   for (const pixproto::Field &f : pixproto::FieldReader(frame)) ...
 * Iteration throws Error (BADBODY) at a truncated field. */
class FieldReader {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Field;
        using difference_type = std::ptrdiff_t;
        using pointer = const Field *;
        using reference = const Field &;

        iterator() = default; /* the end */
        explicit iterator(const pixproto_reader &r) : r_(r), end_(false) { advance(); }

        reference operator*() const noexcept { return field_; }
        pointer operator->() const noexcept { return &field_; }
        iterator &operator++()
        {
            advance();
            return *this;
        }
        iterator operator++(int)
        {
            iterator old = *this;
            advance();
            return old;
        }
        friend bool operator==(const iterator &a, const iterator &b) noexcept
        {
            return a.end_ == b.end_ && (a.end_ || a.field_.data() == b.field_.data());
        }
        friend bool operator!=(const iterator &a, const iterator &b) noexcept { return !(a == b); }

    private:
        void advance()
        {
            pixproto_field f{};
            int rc = pixproto_field_next(&r_, &f);
            if (rc < 0) {
                end_ = true;
                detail::check(rc, "malformed message body");
            }
            if (rc == 0) {
                end_ = true;
                return;
            }
            field_ = Field(f);
        }

        pixproto_reader r_{};
        Field field_;
        bool end_ = true;
    };

    FieldReader(const void *body, size_t len) { pixproto_reader_init(&r_, body, len); }
    explicit FieldReader(const std::vector<uint8_t> &body) : FieldReader(body.data(), body.size()) {}
    explicit FieldReader(const Frame &f) : FieldReader(f.body) {}
    /* The reader points into the body: refuse temporaries. */
    explicit FieldReader(std::vector<uint8_t> &&) = delete;
    explicit FieldReader(Frame &&) = delete;

    iterator begin() const { return iterator(r_); }
    iterator end() const noexcept { return iterator(); }

private:
    pixproto_reader r_{};
};

/* ---- Messages -------------------------------------------------------------- */

struct Welcome {
    uint32_t version = 0;  /* protocol version chosen by the server */
    uint32_t max_body = 0; /* the server's body ceiling */
    std::string agent;     /* "pixd/0.1.0" */
};

/* STATUS_REPLY; a field the server did not send stays empty or 0. */
struct Status {
    std::string agent;
    uint64_t pid = 0;
    uint64_t uptime_ms = 0;
    uint64_t connections = 0;                /* open connections, all handlers */
    std::vector<std::string> listeners;      /* "native 127.0.0.1:7070" */
    std::vector<std::string> handler_conns;  /* "native 3" */
};

inline std::vector<uint8_t> build_hello(const std::string &agent)
{
    if (agent.find('\0') != std::string::npos)
        throw Error(PIXPROTO_EINVALID, "cannot encode HELLO: the agent holds a NUL byte");
    uint8_t *out = nullptr;
    long rc = pixproto_build_hello(agent.c_str(), &out);
    return detail::take_encoded(rc, out, "cannot encode HELLO");
}

inline Welcome parse_welcome(const Frame &f)
{
    pixproto_frame v = f.view();
    pixproto_welcome w{};
    detail::check(pixproto_parse_welcome(&v, &w), "malformed WELCOME from the server");
    Welcome out;
    out.version = w.version;
    out.max_body = w.max_body;
    w.agent[sizeof w.agent - 1] = '\0';
    out.agent = w.agent;
    return out;
}

/* The Error an ERROR frame stands for (returned, not thrown). */
inline Error error_from_frame(const Frame &f)
{
    pixproto_frame v = f.view();
    pixproto_error e{};
    int rc = pixproto_parse_error(&v, &e);
    if (rc < 0)
        return Error(PIXPROTO_EBADBODY, "malformed ERROR frame from the server", f.id);
    e.message[sizeof e.message - 1] = '\0';
    int code = e.code > 0 && e.code <= INT_MAX ? static_cast<int>(e.code) : PIXPROTO_EINTERNAL;
    return Error(code, e.message, f.id);
}

inline Status parse_status(const Frame &f)
{
    Status s;
    for (const Field &field : FieldReader(f)) {
        switch (field.tag()) {
        case PIXPROTO_TAG_AGENT: s.agent = field.str(); break;
        case PIXPROTO_TAG_PID: s.pid = field.u64(); break;
        case PIXPROTO_TAG_UPTIME_MS: s.uptime_ms = field.u64(); break;
        case PIXPROTO_TAG_CONNECTIONS: s.connections = field.u64(); break;
        case PIXPROTO_TAG_LISTENER: s.listeners.push_back(field.str()); break;
        case PIXPROTO_TAG_HANDLER_CONNS: s.handler_conns.push_back(field.str()); break;
        default: break; /* newer servers add fields; skipping them is the rule */
        }
    }
    return s;
}

/* ---- Client ---------------------------------------------------------------- */

namespace detail {

class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept
    {
        if (this != &o)
            reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

using Clock = std::chrono::steady_clock;

/* An absolute end for one blocking operation; a zero timeout never ends. */
class Deadline {
public:
    explicit Deadline(std::chrono::milliseconds timeout)
        : infinite_(timeout.count() <= 0), at_(Clock::now() + timeout)
    {
    }
    /* Milliseconds for poll(): -1 forever, 0 when expired, rounded up. */
    int poll_ms() const
    {
        if (infinite_)
            return -1;
        auto left = std::chrono::ceil<std::chrono::milliseconds>(at_ - Clock::now()).count();
        if (left <= 0)
            return 0;
        return left > INT_MAX ? INT_MAX : static_cast<int>(left);
    }
    bool expired() const { return !infinite_ && Clock::now() >= at_; }

private:
    bool infinite_;
    Clock::time_point at_;
};

/* "10", "0.5": a timeout as seconds, for messages. */
inline std::string seconds_text(std::chrono::milliseconds t)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(t.count()) / 1000.0);
    return buf;
}

/* strerror() with a lower-case first letter, to follow "...: ". */
inline std::string errno_text(int err)
{
    std::string s = std::strerror(err);
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && !(s.size() > 1 && s[1] >= 'A' && s[1] <= 'Z'))
        s[0] = static_cast<char>(s[0] - 'A' + 'a');
    return s;
}

inline ConnectionError::Reason reason_of(int err)
{
    using R = ConnectionError::Reason;
    switch (err) {
    case ECONNREFUSED:
    case ENOENT: return R::refused;
    case ETIMEDOUT: return R::timeout;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EADDRNOTAVAIL: return R::unreachable;
    case ECONNRESET:
    case EPIPE: return R::closed;
    default: return R::other;
    }
}

/* "127.0.0.1:7070", "[::1]:7070" */
inline std::string host_port(const std::string &host, unsigned port)
{
    if (host.find(':') != std::string::npos && host.front() != '[')
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

inline std::string numeric_address(const sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "?";
    return host_port(host, static_cast<unsigned>(std::strtoul(serv, nullptr, 10)));
}

/* Waits for events on fd until the deadline, retrying on EINTR. Returns
 * revents, 0 on timeout; throws ConnectionError if poll itself fails. */
inline short wait_fd(int fd, short events, const Deadline &dl)
{
    for (;;) {
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, dl.poll_ms());
        if (rc > 0)
            return p.revents;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            throw ConnectionError("poll failed: " + errno_text(errno), ConnectionError::Reason::other, errno);
    }
}

/* Connects a non-blocking socket within the deadline. Returns 0 or an errno
 * value (ETIMEDOUT when the deadline passed). */
inline int connect_within(int fd, const sockaddr *sa, socklen_t len, const Deadline &dl)
{
    for (;;) {
        if (::connect(fd, sa, len) == 0)
            return 0;
        int err = errno;
        if (err == EAGAIN && sa->sa_family == AF_UNIX) {
            /* A unix socket's backlog is full: no completion to wait for,
             * only retries. */
            if (dl.expired())
                return ETIMEDOUT;
            ::poll(nullptr, 0, 10);
            continue;
        }
        if (err != EINPROGRESS && err != EINTR)
            return err;
        break;
    }
    short rev = wait_fd(fd, POLLOUT, dl);
    if (rev == 0)
        return ETIMEDOUT;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return errno;
    return soerr;
}

} // namespace detail

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
 * Not thread-safe. Move-only; closes its socket when destroyed. */
class Client {
public:
    using Timeout = std::chrono::milliseconds;

    static std::string default_agent() { return "libpixproto++/" + std::to_string(PIXPROTO_VERSION); }

    /* Resolves host (name, IPv4, IPv6 literal with or without brackets),
     * tries every address in turn, each within timeout, then does the
     * HELLO/WELCOME handshake. Throws ConnectionError, or Error when the
     * server answers HELLO with ERROR (e.g. LIMIT). getaddrinfo() itself
     * is not bounded by the timeout. */
    static Client connect_tcp(const std::string &host, uint16_t port, Timeout timeout,
                              const std::string &agent = default_agent())
    {
        std::string name = host;
        if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
            name = name.substr(1, name.size() - 2);
        const std::string label = detail::host_port(name, port);

        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo *res = nullptr;
        int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &res);
        if (rc != 0) {
            std::string why = rc == EAI_SYSTEM ? detail::errno_text(errno) : gai_strerror(rc);
            if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z')
                why[0] = static_cast<char>(why[0] - 'A' + 'a');
            throw ConnectionError("cannot resolve " + name + ": " + why,
                                  ConnectionError::Reason::resolve);
        }
        std::unique_ptr<addrinfo, detail::AddrinfoDeleter> list(res);

        std::vector<std::pair<std::string, int>> failures; /* address, errno */
        for (const addrinfo *ai = list.get(); ai; ai = ai->ai_next) {
            std::string addr = detail::numeric_address(ai->ai_addr, ai->ai_addrlen);
            detail::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                         ai->ai_protocol));
            int err = fd.get() < 0 ? errno
                                   : detail::connect_within(fd.get(), ai->ai_addr, ai->ai_addrlen,
                                                            detail::Deadline(timeout));
            if (err == 0) {
                int one = 1;
                /* Requests are small and latency matters more than packets. */
                (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                Client c(std::move(fd), addr, timeout);
                c.handshake(agent);
                return c;
            }
            failures.emplace_back(addr, err);
        }
        throw connect_failure(label, failures, timeout);
    }

    /* Connects to a unix stream socket, then does the handshake. */
    static Client connect_unix(const std::string &path, Timeout timeout,
                               const std::string &agent = default_agent())
    {
        const std::string label = "unix:" + path;
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        if (path.empty() || path.size() >= sizeof sa.sun_path)
            throw ConnectionError("cannot connect to " + label + ": a socket path must be 1 to " +
                                      std::to_string(sizeof sa.sun_path - 1) + " bytes",
                                  ConnectionError::Reason::other, ENAMETOOLONG);
        std::memcpy(sa.sun_path, path.data(), path.size());
        detail::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        int err = fd.get() < 0 ? errno
                               : detail::connect_within(fd.get(), reinterpret_cast<const sockaddr *>(&sa),
                                                        sizeof sa, detail::Deadline(timeout));
        if (err != 0)
            throw connect_failure(label, {{label, err}}, timeout);
        Client c(std::move(fd), label, timeout);
        c.handshake(agent);
        return c;
    }

    /* Takes over a connected stream socket (e.g. one end of a socketpair)
     * and does the handshake over it. peer names it in messages. */
    static Client adopt(int fd, const std::string &peer, Timeout timeout,
                        const std::string &agent = default_agent())
    {
        detail::UniqueFd owned(fd);
        if (fcntl_nonblock(owned.get()) < 0)
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
        usable();
        uint32_t id = next_id_;
        while (id == 0 || open_.count(id))
            ++id;
        next_id_ = id + 1;
        open_.insert(id);
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

private:
    Client(detail::UniqueFd fd, std::string peer, Timeout timeout)
        : fd_(std::move(fd)), peer_(std::move(peer)), timeout_(timeout)
    {
    }

    static int fcntl_nonblock(int fd)
    {
        int fl = ::fcntl(fd, F_GETFL);
        return fl < 0 ? -1 : ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }

    static ConnectionError connect_failure(const std::string &label,
                                           const std::vector<std::pair<std::string, int>> &failures,
                                           Timeout timeout)
    {
        auto why = [&](int err) {
            return err == ETIMEDOUT ? "timed out after " + detail::seconds_text(timeout) + " s"
                                    : detail::errno_text(err);
        };
        if (failures.empty())
            return ConnectionError("cannot connect to " + label + ": no address found",
                                   ConnectionError::Reason::resolve);
        /* Report the most telling failure: one other than "refused" wins,
         * since e.g. ::1 refusing says less than 127.0.0.1 timing out. */
        int err = failures.front().second;
        bool same = true;
        for (const auto &f : failures) {
            if (f.second != err)
                same = false;
        }
        std::string text = "cannot connect to " + label + ": ";
        if (same) {
            text += why(err);
        } else {
            for (size_t i = 0; i < failures.size(); ++i) {
                text += (i ? "; " : "") + failures[i].first + " " + why(failures[i].second);
                if (failures[i].second != ECONNREFUSED)
                    err = failures[i].second;
            }
        }
        return ConnectionError(text, detail::reason_of(err), err);
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

    /* Ends the connection with e: closes the socket and rethrows e from now
     * on. Frames already queued stay available. */
    template <class E>
    [[noreturn]] void fail(const E &e)
    {
        if (!broken_)
            broken_ = std::make_exception_ptr(e);
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
        short rev = detail::wait_fd(fd_.get(), POLLIN, dl);
        if (rev == 0)
            throw timed_out();
        read_some();
    }

    /* One read; queues the frames it completes. Throws on EOF, on an error,
     * on a malformed frame and on ERROR with id 0. */
    void read_some()
    {
        uint8_t buf[16384];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
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

    void ingest(Frame f)
    {
        if (f.id == 0 && f.type == PIXPROTO_T_ERROR)
            fail(error_from_frame(f));
        if (open_.count(f.id))
            inbox_.push_back(std::move(f));
        else
            ++dropped_;
    }

    /* Writes a then b (either may be empty) completely, handling partial
     * writes and EINTR, reading incoming frames while the socket is full. */
    void write_all(const void *a, size_t alen, const void *b, size_t blen)
    {
        usable();
        iovec iov[2] = {{const_cast<void *>(a), alen}, {const_cast<void *>(b), blen}};
        size_t first = 0;
        bool started = false;
        detail::Deadline dl(timeout_);
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
                short rev = detail::wait_fd(fd_.get(), POLLOUT | POLLIN, dl);
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

    detail::UniqueFd fd_;
    std::string peer_;
    Timeout timeout_;
    Decoder decoder_;
    Welcome welcome_;
    std::deque<Frame> inbox_;           /* arrived, not yet received */
    std::unordered_set<uint32_t> open_; /* ids in flight */
    uint32_t next_id_ = 1;
    uint64_t pings_ = 0;
    uint64_t dropped_ = 0;
    std::exception_ptr broken_;
};

} // namespace pixproto

#endif /* PIXPROTO_HPP */
