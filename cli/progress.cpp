#include "progress.hpp"

#include "output.hpp"

#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

namespace pixctl {

namespace {

constexpr auto delay = std::chrono::seconds(1);            // before the first draw
constexpr auto interval = std::chrono::milliseconds(100);  // between draws
constexpr std::size_t label_max = 24;

int terminal_width()
{
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

// "0:07", "12:34", "1:02:03"
std::string clock_text(double seconds)
{
    if (!(seconds >= 0) || seconds > 99 * 3600)
        return "--:--";
    auto s = static_cast<unsigned long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lu:%02lu", s / 60, s % 60);
    return buf;
}

// The label cut to at most max bytes, on a UTF-8 character boundary.
std::string shorten(const std::string &s, std::size_t max)
{
    if (s.size() <= max)
        return s;
    std::size_t n = max - 3;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
        --n;
    return s.substr(0, n) + "...";
}

} // namespace

Progress::Progress(bool enabled)
    : enabled_(enabled && ::isatty(STDERR_FILENO) == 1), began_(Clock::now()), item_began_(began_)
{
}

Progress::~Progress() { clear(); }

void Progress::start(const std::string &label, uint64_t total)
{
    label_ = printable(label);
    total_ = total;
    done_ = 0;
    item_began_ = Clock::now();
}

void Progress::set_label(const std::string &label) { label_ = printable(label); }

void Progress::advance(uint64_t n)
{
    done_ += n;
    if (!enabled_)
        return;
    auto now = Clock::now();
    if (now - began_ < delay || (drawn_ && now - last_draw_ < interval))
        return;
    if (!drawn_ && total_ && done_ >= total_)
        return; // finished: a bar now would only flash

    draw(now);
}

void Progress::clear()
{
    if (!drawn_)
        return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
}

void Progress::draw(Clock::time_point now)
{
    last_draw_ = now;
    double secs = std::chrono::duration<double>(now - item_began_).count();
    double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
    unsigned percent = total_ ? static_cast<unsigned>(done_ * 100.0 / static_cast<double>(total_)) : 100;
    if (percent > 100)
        percent = 100;
    std::string eta = rate > 0 && total_ >= done_
                          ? clock_text(static_cast<double>(total_ - done_) / rate)
                          : std::string("--:--");
    char tail[160];
    // Fixed widths, so that the bar does not jump as the numbers grow.
    std::snprintf(tail, sizeof tail, " %3u%%  %9s/%-9s  %9s/s  ETA %s", percent, human_bytes(done_).c_str(),
                  human_bytes(total_).c_str(), human_bytes(static_cast<uint64_t>(rate)).c_str(),
                  eta.c_str());
    std::string label = shorten(label_, label_max);

    // One column short of the width, so that the line never wraps.
    int room = terminal_width() - 1 - static_cast<int>(label.size() + std::string(tail).size()) - 3;
    std::string bar;
    if (room >= 10) {
        int width = room > 40 ? 40 : room;
        int fill = static_cast<int>(width * static_cast<double>(percent) / 100.0);
        bar = " [" + std::string(static_cast<std::size_t>(fill), '=') +
              (fill < width ? ">" : "") +
              std::string(static_cast<std::size_t>(width - fill - (fill < width ? 1 : 0)), ' ') + "]";
    }
    std::fprintf(stderr, "\r\033[K%s%s%s", label.c_str(), bar.c_str(), tail);
    std::fflush(stderr);
    drawn_ = true;
}

} // namespace pixctl
