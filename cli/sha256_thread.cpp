#include "sha256_thread.hpp"

#include <csignal>

#include <pthread.h>

namespace pixctl {

Sha256Thread::Sha256Thread(std::size_t max_pending) : max_pending_(max_pending ? max_pending : 1)
{
    // Signals (Ctrl-C) must reach the main thread, which checks for them:
    // the new thread starts with all of them blocked.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Sha256Thread::~Sha256Thread()
{
    {
        std::lock_guard<std::mutex> lock(m_);
        closing_ = true;
        pending_.clear();
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void Sha256Thread::run()
{
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
        cv_.wait(lock, [this] { return closing_ || !pending_.empty(); });
        if (pending_.empty())
            return; // closing, nothing left
        Piece p = std::move(pending_.front());
        pending_.pop_front();
        busy_ = true;
        lock.unlock();
        std::exception_ptr err;
        try {
            sha_.update(p.data.data(), p.n);
        } catch (...) {
            err = std::current_exception();
        }
        lock.lock();
        busy_ = false;
        if (err && !error_)
            error_ = err;
        if (spares_.size() < max_pending_)
            spares_.push_back(std::move(p.data));
        cv_.notify_all();
    }
}

void Sha256Thread::update(std::vector<uint8_t> &&piece, std::size_t n)
{
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [this] { return pending_.size() < max_pending_; });
    if (error_)
        std::rethrow_exception(error_);
    pending_.push_back(Piece{std::move(piece), n});
    piece.clear();
    cv_.notify_all();
}

std::vector<uint8_t> Sha256Thread::spare(std::size_t size)
{
    {
        std::lock_guard<std::mutex> lock(m_);
        while (!spares_.empty()) {
            std::vector<uint8_t> v = std::move(spares_.back());
            spares_.pop_back();
            if (v.size() == size)
                return v;
        }
    }
    return std::vector<uint8_t>(size);
}

Sha256::Digest Sha256Thread::finish()
{
    {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [this] { return pending_.empty() && !busy_; });
        closing_ = true;
        if (error_)
            std::rethrow_exception(error_);
    }
    cv_.notify_all();
    thread_.join();
    return sha_.finish();
}

} // namespace pixctl
