// pixctl watch NAME [--frames N] [--out DIR] [--fps N] [--width W]: receive
// a camera's stream, measure its rate and latency, optionally keep it.
//
// Latency is the time from capture (the frame's TS_US, pixd's clock) to
// receipt here (this machine's clock). Ctrl-C is the normal end of a watch
// without --frames: it cancels the stream, prints the summary and exits 0.
// With --frames N, an interrupt before the Nth frame still prints the
// summary but exits 128 + the signal, so that a script sees it fell short.
#include "commands.hpp"
#include "frames.hpp"
#include "interrupt.hpp"
#include "localfile.hpp"
#include "output.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pixctl {

extern const Command watch_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec watch_options[] = {
    {"frames", 'n', "N", "stop after N frames (default: until Ctrl-C or the camera goes away)"},
    {"out", 'o', "DIR", "write each frame to DIR/NAME-SEQ.jpg (DIR is created if missing)"},
    {"fps", 0, "N", "at most N frames a second (the server skips the others)"},
    {"width", 'w', "W", "a smaller copy W pixels wide (the server scales it, keeping the aspect)"},
    {"help", 'h', nullptr, "show this help"},
};

// One line on standard error, rewritten at most once a second, only when
// stderr is a terminal.
class StatusLine {
public:
    explicit StatusLine(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}
    ~StatusLine() { clear(); }
    StatusLine(const StatusLine &) = delete;
    StatusLine &operator=(const StatusLine &) = delete;

    bool due()
    {
        if (!enabled_)
            return false;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::seconds(1))
            return false;
        last_ = now;
        return true;
    }
    void show(const std::string &text)
    {
        std::fprintf(stderr, "\r%s\033[K", text.c_str());
        std::fflush(stderr);
        shown_ = true;
    }
    void clear()
    {
        if (shown_)
            std::fprintf(stderr, "\r\033[K");
        shown_ = false;
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Writes one frame to path, whole or not at all: under a hidden temporary
// name first, then renamed over whatever had the name. Not fsync'ed: at
// 30 frames a second that would cost more than the frames are worth.
void write_frame_file(const std::string &dir, const std::string &file, const std::vector<uint8_t> &data)
{
    std::string path = dir + "/" + file, part = dir + "/." + file + ".part";
    int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        throw LocalError(errno_message("cannot create", part, errno));
    const uint8_t *p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(part.c_str());
            throw LocalError(errno_message("cannot write", part, err));
        }
        p += w;
        left -= static_cast<std::size_t>(w);
    }
    if (::close(fd) < 0 || ::rename(part.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(part.c_str());
        throw LocalError(errno_message("cannot write", path, err));
    }
}

std::string frame_file_name(const std::string &camera, uint64_t seq)
{
    std::string base = camera;
    for (char &ch : base)
        if (ch == '/')
            ch = '_';
    char num[32];
    // Zero-padded, so that the files sort in order by name.
    std::snprintf(num, sizeof num, "%08llu", static_cast<unsigned long long>(seq));
    return base + "-" + num + ".jpg";
}

std::string fixed(double v, int decimals)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string status_text(const std::string &name, const StreamStats &s)
{
    return printable(name) + ": " + std::to_string(s.frames()) + " frames, " + fixed(s.fps(), 1) +
           " fps, latency p50 " + latency_text(s.latency_ms(0.5)) + ", p99 " + latency_text(s.latency_ms(0.99));
}

struct Outcome {
    const char *end = "frames"; // frames, interrupted, ended (the camera went away)
    uint64_t width = 0, height = 0;
    uint64_t files = 0;
};

void print_summary(const Globals &g, const std::string &name, const StreamStats &s, const Outcome &o,
                   const std::string &out_dir)
{
    if (g.json) {
        Json j;
        j.begin_object().key("name").string(name);
        j.key("frames").number(s.frames()).key("seconds").number(s.seconds(), 3).key("fps").number(s.fps(), 2);
        j.key("bytes").number(s.bytes()).key("width").number(o.width).key("height").number(o.height);
        if (s.frames())
            j.key("first_seq").number(s.first_seq()).key("last_seq").number(s.last_seq());
        else
            j.key("first_seq").null().key("last_seq").null();
        j.key("missed").number(s.missed());
        j.key("latency_ms").begin_object();
        j.key("p50").number(s.latency_ms(0.5), 3).key("p99").number(s.latency_ms(0.99), 3);
        j.key("max").number(s.max_latency_ms(), 3).end_object();
        if (out_dir.empty())
            j.key("out").null();
        else
            j.key("out").string(out_dir);
        j.key("files").number(o.files).key("end").string(o.end);
        j.end_object();
        emit(j.str() + "\n");
        return;
    }
    std::string text = "watched " + printable(name) + " for " + fixed(s.seconds(), 1) + " s: " +
                       std::to_string(s.frames()) + (s.frames() == 1 ? " frame" : " frames");
    if (s.frames())
        text += " (seq " + std::to_string(s.first_seq()) + ".." + std::to_string(s.last_seq()) + ", " +
                std::to_string(s.missed()) + " missed), " + std::to_string(o.width) + "x" + std::to_string(o.height);
    text += ", " + fixed(s.fps(), 1) + " fps, " + human_bytes(s.bytes()) + "\n";
    if (s.frames())
        text += "latency from capture: p50 " + latency_text(s.latency_ms(0.5)) + ", p99 " +
                latency_text(s.latency_ms(0.99)) + ", max " + latency_text(s.max_latency_ms()) + "\n";
    if (!out_dir.empty())
        text += "wrote " + std::to_string(o.files) + (o.files == 1 ? " file" : " files") + " to " +
                printable(out_dir) + "\n";
    emit(text);
}

void make_out_dir(const std::string &dir)
{
    if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) {
        if (!is_directory(dir))
            throw LocalError(dir + " exists and is not a directory");
        return;
    }
    throw LocalError(errno_message("cannot create directory", dir, errno));
}

int run_watch(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl watch --help";
    uint64_t frames = 0, fps = 0, width = 0;
    std::string out_dir;
    int first = parse_command_options(watch_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "frames") == 0)
            frames = static_cast<uint64_t>(parse_integer("--frames", arg, 1, UINT32_MAX, hint));
        else if (std::strcmp(o.name, "fps") == 0)
            fps = static_cast<uint64_t>(parse_integer("--fps", arg, 1, 1000, hint));
        else if (std::strcmp(o.name, "width") == 0)
            width = static_cast<uint64_t>(parse_integer("--width", arg, 1, 16384, hint));
        else if (std::strcmp(o.name, "out") == 0) {
            if (*arg == '\0')
                throw UsageError("--out wants a directory", hint);
            out_dir = arg;
        }
    });
    if (first < 0)
        return 0;
    if (first >= argc)
        throw UsageError("watch wants the NAME of a camera, as `pixctl cams` lists them", hint);
    if (argc - first > 1)
        throw UsageError("watch takes one camera NAME (`pixctl view` shows several), but got '" +
                             std::string(argv[first + 1]) + "' too",
                         hint);
    const std::string name = argv[first];
    if (!out_dir.empty())
        make_out_dir(out_dir);

    pixproto::Client client = connect(g);
    InterruptGuard guard;
    client.set_interrupt_fd(guard.fd());
    uint32_t id = start_watch(client, name, fps, width, frames);
    // Frames may be a long time coming while a camera is offline and being
    // reopened: the stream waits for them, as `tail -f` would.
    client.set_timeout(std::chrono::milliseconds(0));

    StreamStats stats;
    Outcome outcome;
    StatusLine status(!g.json);
    FrameAssembler assembler;
    try {
        for (;;) {
            if (assembler.add(client.receive(id))) {
                VideoFrame f = assembler.take();
                stats.add(f, now_us());
                outcome.width = f.width;
                outcome.height = f.height;
                if (!out_dir.empty()) {
                    write_frame_file(out_dir, frame_file_name(name, f.seq), f.jpeg);
                    ++outcome.files;
                }
                if (status.due())
                    status.show(status_text(name, stats));
            } else if (std::string state, why; assembler.take_state(state, why)) {
                status.clear();
                if (state == "offline")
                    std::fprintf(stderr, "pixctl: watch %s: the camera is offline (%s); frames resume "
                                         "when pixd has reopened it\n",
                                 printable(name).c_str(), printable(why).c_str());
                else
                    std::fprintf(stderr, "pixctl: watch %s: the camera is %s again\n",
                                 printable(name).c_str(), printable(state).c_str());
            } else if (assembler.ended()) {
                client.finish(id);
                if (!frames || stats.frames() < frames)
                    outcome.end = "ended";
                break;
            }
        }
    } catch (const pixproto::Interrupted &) {
        outcome.end = "interrupted";
        client.set_interrupt_fd(-1);
        client.set_timeout(std::chrono::seconds(1));
        try {
            client.cancel(id);
        } catch (const std::exception &) {
            // Lost connection: the stream is over all the same.
        }
    }
    status.clear();
    print_summary(g, name, stats, outcome, out_dir);
    if (std::strcmp(outcome.end, "interrupted") == 0)
        return frames && stats.frames() < frames ? 128 + (interrupt_signal() ? interrupt_signal() : SIGINT) : 0;
    if (std::strcmp(outcome.end, "ended") == 0 && frames) {
        std::fprintf(stderr, "pixctl: watch %s: the stream ended after %llu of %llu frames (the camera went away)\n",
                     printable(name).c_str(), static_cast<unsigned long long>(stats.frames()),
                     static_cast<unsigned long long>(frames));
        return 1;
    }
    return 0;
}

} // namespace

extern const Command watch_command = {
    "watch",
    "receive a camera's stream, measure rate and latency",
    "NAME [--frames N] [--out DIR] [--fps N] [--width W]",
    "Receives the frames of camera NAME until N have come (--frames), Ctrl-C,\n"
    "or the camera goes away, then prints how many came, the rate, and the\n"
    "latency from capture (the frame's time stamp, pixd's clock) to receipt\n"
    "(p50, p99, max). On a terminal, a status line shows them once a second.\n"
    "With --out, each frame is also written, whole, to DIR/NAME-SEQ.jpg (SEQ is\n"
    "the camera's frame number, eight digits). Ctrl-C ends a watch normally\n"
    "(status 0); with --frames N, one that ends it before N frames gives 130.\n"
    "--timeout bounds connecting only: a stream may wait long for a frame.",
    watch_options,
    run_watch,
};

} // namespace pixctl
