// SHA-256 on a thread of its own, so that hashing a transfer overlaps with
// reading, sending, receiving and writing its bytes (hashing is the largest
// CPU cost of a transfer: ~0.6 ms per MiB even with SHA instructions).
#ifndef PIXCTL_SHA256_THREAD_HPP
#define PIXCTL_SHA256_THREAD_HPP

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "sha256.hpp"

namespace pixctl {

class Sha256Thread {
public:
    // At most max_pending pieces wait for the thread; update() blocks
    // beyond that, which bounds the memory held.
    explicit Sha256Thread(std::size_t max_pending = 4);
    // Stops the thread; a digest not asked for is dropped.
    ~Sha256Thread();
    Sha256Thread(const Sha256Thread &) = delete;
    Sha256Thread &operator=(const Sha256Thread &) = delete;

    // Hashes the first n bytes of piece next (the caller must not touch
    // piece any more; it is moved from).
    void update(std::vector<uint8_t> &&piece, std::size_t n);
    // A buffer the thread is done with, of the size it had, or a new one
    // of size bytes: lets the caller reuse buffers instead of allocating.
    std::vector<uint8_t> spare(std::size_t size);
    // The digest of everything given; the object is then spent.
    Sha256::Digest finish();

private:
    struct Piece {
        std::vector<uint8_t> data;
        std::size_t n;
    };
    void run();

    Sha256 sha_;
    std::size_t max_pending_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<Piece> pending_;
    std::vector<std::vector<uint8_t>> spares_;
    bool closing_ = false, busy_ = false;
    std::exception_ptr error_;
    std::thread thread_;
};

} // namespace pixctl

#endif
