// pixctl snap NAME [-o FILE] [--width W]: one JPEG from a camera.
//
// The picture goes to FILE.part and is renamed to FILE once complete, as
// get does, so a FILE that exists is always a whole picture; unlike get,
// snap replaces FILE: taking a fresh snapshot over the last one is what
// `pixctl snap cam -o latest.jpg` in a cron job is for.
#include "commands.hpp"
#include "frames.hpp"
#include "interrupt.hpp"
#include "localfile.hpp"
#include "output.hpp"

#include <cstring>
#include <ctime>
#include <optional>
#include <string>

namespace pixctl {

extern const Command snap_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec snap_options[] = {
    {"output", 'o', "FILE", "write to FILE, or into it if a directory (- for standard output)"},
    {"width", 'w', "W", "a smaller copy W pixels wide (the server scales it, keeping the aspect)"},
    {"help", 'h', nullptr, "show this help"},
};

// "cam-20240501-123456.jpg": the camera's name and the capture time, local.
std::string default_file_name(const std::string &camera, uint64_t ts_us)
{
    std::string base = camera;
    for (char &ch : base)
        if (ch == '/')
            ch = '_';
    std::time_t t = static_cast<std::time_t>(ts_us / 1000000);
    std::tm tm{};
    char stamp[32] = "00000000-000000";
    if (localtime_r(&t, &tm))
        std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    return base + "-" + stamp + ".jpg";
}

int run_snap(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl snap --help";
    std::optional<std::string> output;
    uint64_t width = 0;
    int first = parse_command_options(snap_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "output") == 0) {
            if (*arg == '\0')
                throw UsageError("-o wants a file name, or - for standard output", hint);
            output = arg;
        } else if (std::strcmp(o.name, "width") == 0) {
            width = static_cast<uint64_t>(parse_integer("--width", arg, 1, 16384, hint));
        }
    });
    if (first < 0)
        return 0;
    if (first >= argc)
        throw UsageError("snap wants the NAME of a camera, as `pixctl cams` lists them", hint);
    if (argc - first > 1)
        throw UsageError("snap takes one camera NAME, but got '" + std::string(argv[first + 1]) + "' too", hint);
    const std::string name = argv[first];
    bool to_stdout = output && *output == "-";
    if (to_stdout && g.json)
        throw UsageError("--json and -o - would both write to standard output; choose one", hint);

    pixproto::Client client = connect(g);
    InterruptGuard guard;
    client.set_interrupt_fd(guard.fd());
    uint32_t id = start_snap(client, name, width);
    std::optional<VideoFrame> frame;
    try {
        frame = receive_video_frame(client, id);
    } catch (const pixproto::ConnectionError &e) {
        if (e.reason() != pixproto::ConnectionError::Reason::timeout || !client.connected())
            throw;
        // The connection is fine: the camera has nothing to show.
        client.cancel(id);
        throw pixproto::Error(PIXPROTO_ETIMEOUT, "no picture from camera " + printable(name) + " within " +
                                                     pixproto::detail::seconds_text(g.timeout) +
                                                     " s; is it offline? (see `pixctl cams`)");
    } catch (const pixproto::Interrupted &) {
        client.set_interrupt_fd(-1);
        client.set_timeout(std::chrono::seconds(1));
        try {
            client.cancel(id);
        } catch (const std::exception &) {
            // Lost connection: nothing more will come anyway.
        }
        throw pixproto::Interrupted("interrupted; no snapshot taken");
    }
    if (!frame)
        throw pixproto::Error(PIXPROTO_ENOTFOUND, "camera " + printable(name) + " went away before it sent a picture");

    std::string dest;
    if (!output)
        dest = default_file_name(name, frame->ts_us);
    else if (!to_stdout && is_directory(*output))
        dest = *output + (output->back() == '/' ? "" : "/") + default_file_name(name, frame->ts_us);
    else
        dest = *output;
    OutputFile out(dest, true);
    out.write(frame->jpeg.data(), frame->jpeg.size());
    out.commit();

    if (g.json) {
        Json j;
        j.begin_object().key("name").string(name).key("path").string(dest);
        j.key("seq").number(frame->seq).key("ts_us").number(frame->ts_us);
        j.key("width").number(frame->width).key("height").number(frame->height);
        j.key("size").number(uint64_t{frame->jpeg.size()});
        j.end_object();
        emit(j.str() + "\n");
    } else if (!to_stdout) {
        emit("saved a snapshot of " + printable(name) + " to " + printable(dest) + " (" +
             std::to_string(frame->width) + "x" + std::to_string(frame->height) + ", " +
             human_bytes(frame->jpeg.size()) + ", taken " + local_time(frame->ts_us / 1000) + ")\n");
    }
    return 0;
}

} // namespace

extern const Command snap_command = {
    "snap",
    "save one picture from a camera",
    "NAME [-o FILE] [--width W]",
    "Saves the next picture of camera NAME as a JPEG, by default in the current\n"
    "directory as NAME-YYYYmmdd-HHMMSS.jpg (the capture time, local). The file\n"
    "is written under FILE.part and renamed when complete; an existing FILE is\n"
    "replaced. With -o -, the JPEG goes to standard output. --timeout bounds the\n"
    "wait for the picture (a camera that is offline sends none).",
    snap_options,
    run_snap,
};

} // namespace pixctl
