#include "interrupt.hpp"

#include <pixproto_socket.hpp>

#include <cerrno>
#include <csignal>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace pixctl {

namespace {

volatile std::sig_atomic_t caught = 0;
// Only the handler reads it; set before the handlers go in, -1 after.
volatile std::sig_atomic_t wake_fd = -1;
int read_fd = -1;

struct sigaction old_int, old_term;

void on_signal(int sig)
{
    int saved = errno;
    caught = sig;
    if (wake_fd >= 0) {
        char c = 1;
        // Non-blocking: a full pipe already says what one more byte would.
        (void)!::write(wake_fd, &c, 1);
    }
    errno = saved;
}

} // namespace

InterruptGuard::InterruptGuard()
{
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
        throw std::system_error(errno, std::generic_category(), "cannot create a pipe");
    read_fd = p[0];
    wake_fd = p[1];
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    // Restarting keeps plain reads and writes free of EINTR; poll() is never
    // restarted, and the pipe wakes it anyway.
    sa.sa_flags = SA_RESTART;
    if (::sigaction(SIGINT, &sa, &old_int) < 0 || ::sigaction(SIGTERM, &sa, &old_term) < 0) {
        int err = errno;
        ::close(p[0]);
        ::close(p[1]);
        read_fd = wake_fd = -1;
        throw std::system_error(err, std::generic_category(), "cannot install a signal handler");
    }
}

InterruptGuard::~InterruptGuard()
{
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    int w = wake_fd;
    wake_fd = -1;
    ::close(w);
    ::close(read_fd);
    read_fd = -1;
}

int InterruptGuard::fd() const noexcept { return read_fd; }

bool InterruptGuard::fired() noexcept { return caught != 0; }

void InterruptGuard::check()
{
    if (caught)
        throw pixproto::Interrupted();
}

int interrupt_signal() noexcept { return caught; }

} // namespace pixctl
