// A one-line progress bar on standard error for long transfers:
//   holiday.jpg [=========>          ]  47%  47.0 MiB/100.0 MiB  52.1 MiB/s  ETA 0:01
// Drawn only when stderr is a terminal and the transfer has lasted over a
// second, redrawn at most ten times a second, erased by clear() and at the
// end. Anything else written to the terminal must call clear() first.
#ifndef PIXCTL_PROGRESS_HPP
#define PIXCTL_PROGRESS_HPP

#include <chrono>
#include <cstdint>
#include <string>

namespace pixctl {

class Progress {
public:
    // enabled false (e.g. for --json): never draws. Otherwise draws only
    // when stderr is a terminal.
    explicit Progress(bool enabled = true);
    ~Progress();
    Progress(const Progress &) = delete;
    Progress &operator=(const Progress &) = delete;

    // A new item of total bytes: the byte count and the rate start over.
    void start(const std::string &label, uint64_t total);
    // Names what is being transferred without starting over.
    void set_label(const std::string &label);
    void advance(uint64_t n);
    // Erases the bar if it is on screen; the next advance() redraws it.
    void clear();

private:
    using Clock = std::chrono::steady_clock;
    void draw(Clock::time_point now);

    bool enabled_;
    bool drawn_ = false;
    Clock::time_point began_;      // of the whole transfer
    Clock::time_point item_began_; // of the current item, for the rate
    Clock::time_point last_draw_{};
    std::string label_;
    uint64_t done_ = 0, total_ = 0;
};

} // namespace pixctl

#endif
