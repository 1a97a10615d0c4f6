// Ctrl-C during transfers. While an InterruptGuard lives, SIGINT and SIGTERM
// only set a flag and write a byte to a pipe: pixproto::Client polls that
// pipe beside its socket (Client::set_interrupt_fd), so a blocked wait ends
// at once with pixproto::Interrupted, and loops over local files call
// check() between chunks. Nothing else happens in the handler, and no
// exception is thrown from it; the transfer code then cancels what is in
// flight, removes its temporary files and leaves through main(), which exits
// with 128 + the signal.
#ifndef PIXCTL_INTERRUPT_HPP
#define PIXCTL_INTERRUPT_HPP

namespace pixctl {

class InterruptGuard {
public:
    // Installs the handlers; throws std::system_error if it cannot.
    InterruptGuard();
    // Restores the previous handlers and closes the pipe.
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;

    // The pipe's read end: readable once a signal came.
    int fd() const noexcept;
    static bool fired() noexcept;
    // Throws pixproto::Interrupted once a signal came.
    static void check();
};

// The signal that interrupted pixctl, 0 if none did.
int interrupt_signal() noexcept;

} // namespace pixctl

#endif
