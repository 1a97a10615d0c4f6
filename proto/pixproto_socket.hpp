/* pixproto_socket.hpp: the socket plumbing under pixproto::Client.
 *
 *   pixproto::ConnectionError  could not connect, timed out, connection lost
 *   pixproto::Interrupted      a wait was cut short by an interrupt descriptor
 *   detail::                   descriptors, deadlines, poll, connecting
 *
 * Only ConnectionError and Interrupted are meant for users; detail:: may
 * change. Header-only; needs POSIX sockets.
 */
#ifndef PIXPROTO_SOCKET_HPP
#define PIXPROTO_SOCKET_HPP

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

namespace pixproto {

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

/* A blocking wait ended early because the caller's interrupt descriptor
 * became readable (e.g. a signal handler wrote to a pipe). The connection
 * is still usable when nothing was half sent. */
class Interrupted : public std::runtime_error {
public:
    explicit Interrupted(const std::string &message = "interrupted") : std::runtime_error(message) {}
};

namespace detail {


struct AddrinfoDeleter {
    void operator()(addrinfo *ai) const noexcept { freeaddrinfo(ai); }
};


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
 * revents, 0 on timeout; throws ConnectionError if poll itself fails, and
 * Interrupted when interrupt_fd (if >= 0) is readable, even if fd is ready
 * too: an interrupt wins. */
inline short wait_fd(int fd, short events, const Deadline &dl, int interrupt_fd = -1)
{
    for (;;) {
        pollfd p[2] = {{fd, events, 0}, {interrupt_fd, POLLIN, 0}};
        int rc = ::poll(p, interrupt_fd >= 0 ? 2 : 1, dl.poll_ms());
        if (rc > 0 && interrupt_fd >= 0 && p[1].revents)
            throw Interrupted();
        if (rc > 0)
            return p[0].revents;
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

inline int fcntl_nonblock(int fd)
{
    int fl = ::fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* One ConnectionError for every address that failed: (address, errno). */
inline ConnectionError connect_failure(const std::string &label,
                                       const std::vector<std::pair<std::string, int>> &failures,
                                       std::chrono::milliseconds timeout)
{
    auto why = [&](int err) {
        return err == ETIMEDOUT ? "timed out after " + seconds_text(timeout) + " s" : errno_text(err);
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
    return ConnectionError(text, reason_of(err), err);
}

/* A connected, non-blocking socket and the peer's name for messages. */
struct Dialed {
    UniqueFd fd;
    std::string peer;
};

/* Resolves host (name, IPv4, IPv6 literal with or without brackets) and
 * tries every address in turn, each within timeout. getaddrinfo() itself
 * is not bounded by the timeout. Throws ConnectionError. */
inline Dialed dial_tcp(const std::string &host, uint16_t port, std::chrono::milliseconds timeout)
{
    std::string name = host;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
        name = name.substr(1, name.size() - 2);
    const std::string label = host_port(name, port);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo *res = nullptr;
    int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0) {
        std::string why = rc == EAI_SYSTEM ? errno_text(errno) : gai_strerror(rc);
        if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z')
            why[0] = static_cast<char>(why[0] - 'A' + 'a');
        throw ConnectionError("cannot resolve " + name + ": " + why, ConnectionError::Reason::resolve);
    }
    std::unique_ptr<addrinfo, AddrinfoDeleter> list(res);

    std::vector<std::pair<std::string, int>> failures; /* address, errno */
    for (const addrinfo *ai = list.get(); ai; ai = ai->ai_next) {
        std::string addr = numeric_address(ai->ai_addr, ai->ai_addrlen);
        UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                             ai->ai_protocol));
        int err = fd.get() < 0 ? errno
                               : connect_within(fd.get(), ai->ai_addr, ai->ai_addrlen, Deadline(timeout));
        if (err == 0) {
            int one = 1;
            /* Requests are small and latency matters more than packets. */
            (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return Dialed{std::move(fd), addr};
        }
        failures.emplace_back(addr, err);
    }
    throw connect_failure(label, failures, timeout);
}

/* Connects to a unix stream socket within timeout. Throws ConnectionError. */
inline Dialed dial_unix(const std::string &path, std::chrono::milliseconds timeout)
{
    const std::string label = "unix:" + path;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path)
        throw ConnectionError("cannot connect to " + label + ": a socket path must be 1 to " +
                                  std::to_string(sizeof sa.sun_path - 1) + " bytes",
                              ConnectionError::Reason::other, ENAMETOOLONG);
    std::memcpy(sa.sun_path, path.data(), path.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int err = fd.get() < 0 ? errno
                           : connect_within(fd.get(), reinterpret_cast<const sockaddr *>(&sa), sizeof sa,
                                            Deadline(timeout));
    if (err != 0)
        throw connect_failure(label, {{label, err}}, timeout);
    return Dialed{std::move(fd), label};
}

} // namespace detail

} // namespace pixproto

#endif /* PIXPROTO_SOCKET_HPP */
