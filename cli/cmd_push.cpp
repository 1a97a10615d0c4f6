// pixctl push SOURCE --name NAME [--fps N] [--width W] [--height H]
// [--frames N] [--quality Q]: become a camera of the server.
//
// SOURCE is read here and JPEG-encoded here, so that pixd only passes the
// frames on: `test` (the moving pattern pixd draws, drawn locally),
// /dev/videoN, file:PATH (looped) or an OpenCV URL, all through the video
// module (OpenCV videoio, loaded only now); or a directory of JPEG files,
// sent untouched and looped, which needs no OpenCV at all.
//
// Pacing: a file, a directory and the test pattern are read when a frame is
// due; a camera or a stream sets the pace itself, and the frames that come
// between two due times are read and dropped (never queued: latency).
// Falling behind never leads to a burst to catch up.
#include "commands.hpp"
#include "frames.hpp"
#include "interrupt.hpp"
#include "localfile.hpp"
#include "output.hpp"
#include "video_load.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dirent.h>
#include <poll.h>

namespace pixctl {

extern const Command push_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec push_options[] = {
    {"name", 'n', "NAME", "the camera's name on the server (required)"},
    {"fps", 0, "N", "frames a second to send (default: a file's own rate, else 15)"},
    {"width", 'w', "W", "frame width (asked of a camera, else scaled to; alone, keeps the aspect)"},
    {"height", 0, "H", "frame height (likewise)"},
    {"frames", 0, "N", "stop after sending N frames (default: until Ctrl-C)"},
    {"quality", 'q', "Q", "JPEG quality 1..100 (default 85; not for a directory)"},
    {"help", 'h', nullptr, "show this help"},
};

using Clock = std::chrono::steady_clock;

constexpr uint64_t max_frame = 16u << 20; // pixd's ceiling for a pushed frame

struct Options {
    std::string source, name;
    unsigned fps = 0, width = 0, height = 0, quality = 85;
    uint64_t frames = 0;
    bool quality_given = false;
};

// Where frames come from: a directory of JPEG files, or the video module.
class Source {
public:
    virtual ~Source() = default;
    // Sources that set their own pace (cameras, streams) return true.
    virtual bool live() const = 0;
    // The next frame; false at the end (for sources that do not loop).
    virtual bool read() = 0;
    // The JPEG of the frame read last, valid until the next call.
    virtual std::pair<const uint8_t *, std::size_t> jpeg() = 0;
    virtual double own_fps() const { return 0; }
    virtual std::string size() const { return ""; }
};

class JpegDirectory : public Source {
public:
    explicit JpegDirectory(const std::string &dir) : dir_(dir)
    {
        std::unique_ptr<DIR, int (*)(DIR *)> d(::opendir(dir.c_str()), ::closedir);
        if (!d)
            throw LocalError(errno_message("cannot open directory", dir, errno));
        while (dirent *e = ::readdir(d.get())) {
            std::string n = e->d_name;
            std::string lower = n;
            for (char &c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            auto ends = [&](const char *suffix) {
                std::size_t k = std::strlen(suffix);
                return lower.size() > k && lower.compare(lower.size() - k, k, suffix) == 0;
            };
            if (n[0] != '.' && (ends(".jpg") || ends(".jpeg")))
                files_.push_back(n);
        }
        if (files_.empty())
            throw LocalError("no .jpg or .jpeg files in " + dir);
        std::sort(files_.begin(), files_.end());
    }

    bool live() const override { return false; }

    // Read each time: the page cache keeps that cheap, and memory stays
    // flat however many files there are.
    bool read() override
    {
        const std::string path = dir_ + "/" + files_[next_];
        next_ = (next_ + 1) % files_.size();
        InputFile in(path);
        if (in.size() == 0 || in.size() > max_frame)
            throw LocalError(path + ": a frame must be 1 byte to 16 MiB, not " + bytes_text(in.size()));
        data_.resize(static_cast<std::size_t>(in.size()));
        std::size_t got = 0;
        while (got < data_.size()) {
            std::size_t n = in.read(data_.data() + got, data_.size() - got);
            if (n == 0)
                throw LocalError(path + " shrank while being read");
            got += n;
        }
        // pixd would refuse it and end the push: say which file it was.
        if (data_.size() < 4 || data_[0] != 0xff || data_[1] != 0xd8)
            throw LocalError(path + " is not a JPEG file");
        return true;
    }

    std::pair<const uint8_t *, std::size_t> jpeg() override { return {data_.data(), data_.size()}; }

private:
    std::string dir_;
    std::vector<std::string> files_;
    std::size_t next_ = 0;
    std::vector<uint8_t> data_;
};

class VideoSource : public Source {
public:
    VideoSource(const Options &o) : cap_(o.source, o.name, o.width, o.height, o.fps), quality_(static_cast<int>(o.quality)) {}
    bool live() const override { return cap_.info().live != 0; }
    bool read() override { return cap_.read(); }
    std::pair<const uint8_t *, std::size_t> jpeg() override { return cap_.encode(quality_); }
    double own_fps() const override { return cap_.info().fps; }
    std::string size() const override
    {
        return std::to_string(cap_.info().width) + "x" + std::to_string(cap_.info().height);
    }

private:
    Capture cap_;
    int quality_;
};

// Sleeps until t, or throws Interrupted as soon as a signal comes.
void wait_until(Clock::time_point t, int interrupt_fd)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
        if (left.count() <= 0)
            return;
        pollfd p{interrupt_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1000))) > 0)
            throw pixproto::Interrupted();
        InterruptGuard::check();
    }
}

struct Result {
    uint64_t frames = 0, bytes = 0;
    Clock::time_point first{}, last{};
    const char *end = "frames"; // frames, interrupted, source (a source that ended)

    double seconds() const { return frames ? std::chrono::duration<double>(last - first).count() : 0.0; }
    double fps() const
    {
        double s = seconds();
        return frames >= 2 && s > 0 ? static_cast<double>(frames - 1) / s : 0.0;
    }
};

void print_summary(const Globals &g, const Options &o, const Source &src, const Result &r)
{
    char rate[32], secs[32];
    std::snprintf(rate, sizeof rate, "%.1f", r.fps());
    std::snprintf(secs, sizeof secs, "%.1f", r.seconds());
    if (g.json) {
        Json j;
        j.begin_object().key("name").string(o.name).key("source").string(o.source);
        j.key("frames").number(r.frames).key("seconds").number(r.seconds(), 3).key("fps").number(r.fps(), 2);
        j.key("bytes").number(r.bytes);
        if (src.size().empty())
            j.key("size").null();
        else
            j.key("size").string(src.size());
        j.key("end").string(r.end).end_object();
        emit(j.str() + "\n");
        return;
    }
    std::string size = src.size().empty() ? "" : ", " + src.size();
    emit("pushed " + std::to_string(r.frames) + (r.frames == 1 ? " frame" : " frames") + " as camera " +
         printable(o.name) + " in " + secs + " s: " + rate + " fps" + size + ", " + human_bytes(r.bytes) + "\n");
}

Options parse(Globals &g, int argc, char **argv, bool &help)
{
    const std::string hint = "pixctl push --help";
    Options o;
    int first = parse_command_options(push_command, g, argc, argv, [&](const OptionSpec &s, const char *arg) {
        std::string n = s.name;
        if (n == "name") {
            if (*arg == '\0')
                throw UsageError("--name wants the camera's name", hint);
            o.name = arg;
        } else if (n == "fps") {
            o.fps = static_cast<unsigned>(parse_integer("--fps", arg, 1, 240, hint));
        } else if (n == "width") {
            o.width = static_cast<unsigned>(parse_integer("--width", arg, 1, 16384, hint));
        } else if (n == "height") {
            o.height = static_cast<unsigned>(parse_integer("--height", arg, 1, 16384, hint));
        } else if (n == "frames") {
            o.frames = static_cast<uint64_t>(parse_integer("--frames", arg, 1, 1000000000, hint));
        } else if (n == "quality") {
            o.quality = static_cast<unsigned>(parse_integer("--quality", arg, 1, 100, hint));
            o.quality_given = true;
        }
    });
    help = first < 0;
    if (help)
        return o;
    if (first >= argc)
        throw UsageError("push wants a SOURCE: test, /dev/videoN, file:PATH, a URL or a directory of JPEG files",
                         hint);
    if (argc - first > 1)
        throw UsageError("push takes one SOURCE, but got '" + std::string(argv[first + 1]) + "' too", hint);
    o.source = argv[first];
    if (o.name.empty())
        throw UsageError("push wants --name NAME: the name the camera gets on the server", hint);
    if (o.name[0] == '.' || o.name.find('/') != std::string::npos)
        throw UsageError("a camera name cannot hold '/' or start with '.'", hint);
    return o;
}

int run_push(Globals &g, int argc, char **argv)
{
    bool help = false;
    Options o = parse(g, argc, argv, help);
    if (help)
        return 0;

    // The source first: a camera that cannot be opened is reported before
    // a name is taken on the server.
    std::unique_ptr<Source> src;
    if (is_directory(o.source)) {
        if (o.width || o.height || o.quality_given)
            throw UsageError("a directory's JPEG files are sent untouched: --width, --height and --quality "
                             "do not apply to them",
                             "pixctl push --help");
        src = std::make_unique<JpegDirectory>(o.source);
    } else {
        src = std::make_unique<VideoSource>(o);
    }
    double fps = o.fps ? o.fps : !src->live() && src->own_fps() > 0 ? src->own_fps() : 15.0;
    auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / fps));

    pixproto::Client client = connect(g);
    InterruptGuard guard;
    client.set_interrupt_fd(guard.fd());
    uint32_t id = start_push(client, o.name);

    Result r;
    try {
        Clock::time_point due = Clock::now();
        while (!o.frames || r.frames < o.frames) {
            if (!src->live())
                wait_until(due, guard.fd());
            if (!src->read()) {
                r.end = "source";
                break;
            }
            InterruptGuard::check();
            Clock::time_point now = Clock::now();
            // A camera's frame a little early counts: its clock and ours
            // drift, and waiting for the next one would halve the rate.
            if (src->live() && now + period / 4 < due)
                continue;
            uint64_t ts = now_us();
            auto [data, len] = src->jpeg();
            send_video_frame(client, id, data, len, ts);
            // pixd answers a push only to refuse a frame; that ends it.
            client.try_receive(id);
            if (r.frames == 0)
                r.first = now;
            r.last = now;
            ++r.frames;
            r.bytes += len;
            due += period;
            if (due + period < now)
                due = now; // behind: start the schedule over, no burst
        }
    } catch (const pixproto::Interrupted &) {
        r.end = "interrupted";
        client.set_interrupt_fd(-1);
    }
    client.set_timeout(std::chrono::seconds(1));
    try {
        // The camera goes away with the push.
        client.cancel(id);
    } catch (const std::exception &) {
        // Lost connection: pixd removes the camera all the same.
    }
    print_summary(g, o, *src, r);
    if (std::strcmp(r.end, "interrupted") == 0 && o.frames && r.frames < o.frames)
        return 128 + (interrupt_signal() ? interrupt_signal() : SIGINT);
    return 0;
}

} // namespace

extern const Command push_command = {
    "push",
    "send a camera's frames to the server, as a camera",
    "SOURCE --name NAME [--fps N] [--width W --height H] [--frames N] [--quality Q]",
    "Makes SOURCE a camera of the server, called NAME, for as long as pixctl\n"
    "runs: others watch it like any camera. SOURCE is read and JPEG-encoded\n"
    "here: test (a moving pattern), /dev/videoN, file:PATH (a video or image\n"
    "sequence, looped), an OpenCV URL (rtsp://...), or a directory of JPEG\n"
    "files, sent untouched in name order, looped. Frames go at --fps a second\n"
    "(a camera is asked for that rate; frames it sends between are dropped).\n"
    "Ctrl-C ends the push (status 0; 130 if --frames N was not reached) and\n"
    "prints the frames sent and the rate.",
    push_options,
    run_push,
};

} // namespace pixctl
