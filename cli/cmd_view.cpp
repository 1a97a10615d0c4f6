// pixctl view NAME... [--fps N] [--width W]: a window per camera, as seed
// 002's server showed one per client.
//
// One connection carries a WATCH per NAME. The loop waits on the socket
// with a short timeout, takes what has arrived for every stream, shows only
// the newest picture of each (older ones would only add latency), and lets
// the window system have its turn (window_key). pixd skips frames for a
// connection that does not keep up, so a slow display never queues.
#include "commands.hpp"
#include "frames.hpp"
#include "interrupt.hpp"
#include "output.hpp"
#include "video_load.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>

namespace pixctl {

extern const Command view_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec view_options[] = {
    {"fps", 0, "N", "at most N frames a second per camera"},
    {"width", 'w', "W", "smaller copies W pixels wide (the server scales them)"},
    {"help", 'h', nullptr, "show this help"},
};

constexpr const char *no_display_text =
    "view needs a graphical display: set DISPLAY, or use `pixctl watch --out DIR`";

struct Stream {
    std::string name;
    uint32_t id = 0;
    FrameAssembler assembler;
    std::optional<VideoFrame> latest; // arrived, not shown yet
    StreamStats stats;
    bool open = false, was_visible = false;
    bool done = false; // ended, failed, or its window closed
    std::string failure;
};

void check_display()
{
    const char *x = std::getenv("DISPLAY"), *wl = std::getenv("WAYLAND_DISPLAY");
    if ((!x || !*x) && (!wl || !*wl))
        throw VideoError(std::string(no_display_text) + " (DISPLAY and WAYLAND_DISPLAY are not set)");
    char err[512] = "";
    if (video_module().display_check(err, sizeof err) < 0)
        throw VideoError(std::string(no_display_text) + " (" + err + ")");
}

// Windows open side by side, in the order their first pictures come.
void show(const pixctl_video &m, Stream &s, int &next_x)
{
    char err[512] = "";
    if (!s.open) {
        if (m.window_open(s.name.c_str(), next_x, 0, err, sizeof err) < 0)
            throw VideoError("cannot open a window for " + s.name + ": " + err);
        next_x += static_cast<int>(std::min<uint64_t>(s.latest->width, 8192)) + 8;
        s.open = true;
    }
    if (m.window_show(s.name.c_str(), s.latest->jpeg.data(), s.latest->jpeg.size(), err, sizeof err) < 0)
        throw VideoError("camera " + s.name + ": " + err);
    s.latest.reset();
}

// Takes every frame that has arrived for s, keeping the newest picture.
void drain(pixproto::Client &client, Stream &s)
{
    try {
        while (!s.done) {
            std::optional<pixproto::Frame> f = client.try_receive(s.id);
            if (!f)
                return;
            if (s.assembler.add(std::move(*f))) {
                s.latest = s.assembler.take();
                s.stats.add(*s.latest, now_us());
            } else if (std::string state, why; s.assembler.take_state(state, why)) {
                std::fprintf(stderr, "pixctl: view %s: the camera is %s%s%s\n", printable(s.name).c_str(),
                             printable(state).c_str(), why.empty() ? "" : ": ", printable(why).c_str());
            } else if (s.assembler.ended()) {
                client.finish(s.id);
                s.done = true;
                std::fprintf(stderr, "pixctl: view %s: the stream ended (the camera went away)\n",
                             printable(s.name).c_str());
            }
        }
    } catch (const pixproto::Error &e) {
        if (!client.connected())
            throw;
        s.done = true;
        s.failure = e.name();
        std::fprintf(stderr, "pixctl: view %s: %s (%s)\n", printable(s.name).c_str(), printable(e.what()).c_str(),
                     e.name().c_str());
    }
}

void print_summary(const Globals &g, const std::vector<Stream> &streams)
{
    Json j;
    std::string text;
    j.begin_array();
    for (const Stream &s : streams) {
        j.begin_object().key("name").string(s.name).key("frames").number(s.stats.frames());
        j.key("fps").number(s.stats.fps(), 2);
        j.key("latency_ms").begin_object();
        j.key("p50").number(s.stats.latency_ms(0.5), 3).key("p99").number(s.stats.latency_ms(0.99), 3);
        j.end_object();
        if (s.failure.empty())
            j.key("error").null();
        else
            j.key("error").string(s.failure);
        j.end_object();
        char fps[32];
        std::snprintf(fps, sizeof fps, "%.1f", s.stats.fps());
        if (s.failure.empty())
            text += printable(s.name) + ": " + std::to_string(s.stats.frames()) + " frames, " + fps +
                    " fps, latency p50 " + latency_text(s.stats.latency_ms(0.5)) + ", p99 " +
                    latency_text(s.stats.latency_ms(0.99)) + "\n";
    }
    j.end_array();
    emit(g.json ? j.str() + "\n" : text);
}

int run_view(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl view --help";
    uint64_t fps = 0, width = 0;
    int first = parse_command_options(view_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "fps") == 0)
            fps = static_cast<uint64_t>(parse_integer("--fps", arg, 1, 1000, hint));
        else if (std::strcmp(o.name, "width") == 0)
            width = static_cast<uint64_t>(parse_integer("--width", arg, 1, 16384, hint));
    });
    if (first < 0)
        return 0;
    if (first >= argc)
        throw UsageError("view wants one or more camera NAMEs, as `pixctl cams` lists them", hint);
    std::vector<Stream> streams;
    for (int i = first; i < argc; ++i) {
        bool dup = std::any_of(streams.begin(), streams.end(), [&](const Stream &s) { return s.name == argv[i]; });
        if (!dup) {
            streams.emplace_back();
            streams.back().name = argv[i];
        }
    }

    check_display();
    const pixctl_video &m = video_module();
    pixproto::Client client = connect(g);
    InterruptGuard guard;
    client.set_interrupt_fd(guard.fd());
    for (Stream &s : streams)
        s.id = start_watch(client, s.name, fps, width, 0);
    client.set_timeout(std::chrono::milliseconds(0)); // a camera may be offline for long

    bool quit = false;
    int next_x = 0;
    while (!quit) {
        for (Stream &s : streams) {
            drain(client, s);
            if (s.latest)
                show(m, s, next_x);
        }
        int key = m.window_key(1);
        if (key == 'q' || key == 'Q' || key == 27)
            break;
        for (Stream &s : streams) {
            if (!s.open || s.done)
                continue;
            // A window the user closed ends its stream.
            bool visible = m.window_visible(s.name.c_str()) != 0;
            if (s.was_visible && !visible) {
                client.cancel(s.id);
                s.done = true;
            }
            s.was_visible = s.was_visible || visible;
        }
        if (std::all_of(streams.begin(), streams.end(), [](const Stream &s) { return s.done; }))
            break;
        pollfd p[2] = {{client.fd(), POLLIN, 0}, {guard.fd(), POLLIN, 0}};
        // Short: the window system needs its turns too.
        ::poll(p, 2, 15);
        quit = InterruptGuard::fired();
    }
    client.set_interrupt_fd(-1);
    client.set_timeout(std::chrono::seconds(1));
    try {
        for (Stream &s : streams)
            if (!s.done)
                client.cancel(s.id);
    } catch (const std::exception &) {
        // Lost connection: the streams are over all the same.
    }
    m.window_close_all();
    print_summary(g, streams);
    bool failed = std::any_of(streams.begin(), streams.end(), [](const Stream &s) { return !s.failure.empty(); });
    return failed ? 1 : 0;
}

} // namespace

extern const Command view_command = {
    "view",
    "show cameras in windows",
    "NAME... [--fps N] [--width W]",
    "Opens a window for each camera NAME and shows its stream, all over one\n"
    "connection, until q or Esc is pressed in a window, Ctrl-C, or every\n"
    "window is closed; then prints each stream's rate and latency. Needs a\n"
    "graphical display (DISPLAY or WAYLAND_DISPLAY); without one, use\n"
    "`pixctl watch --out DIR`. A camera that is unknown or goes away is\n"
    "reported and the others go on; the status is then 1 for an unknown one.",
    view_options,
    run_view,
};

} // namespace pixctl
