// pixctl cams: the server's cameras, their state, size, measured rate and
// subscribers.
#include "commands.hpp"
#include "frames.hpp"
#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace pixctl {

extern const Command cams_command; // defined at the end; listed in commands.cpp

namespace {

const OptionSpec cams_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

std::string size_text(const CameraInfo &c)
{
    return c.width && c.height ? std::to_string(c.width) + "x" + std::to_string(c.height) : "-";
}

std::string fps_text(uint64_t fps_milli)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(fps_milli) / 1000.0);
    return buf;
}

void print_table(const std::vector<CameraInfo> &cams)
{
    std::vector<std::vector<std::string>> rows = {{"NAME", "SOURCE", "STATE", "SIZE", "FPS", "SUBSCRIBERS"}};
    for (const CameraInfo &c : cams)
        rows.push_back({printable(c.name), printable(c.source), printable(c.state), size_text(c),
                        fps_text(c.fps_milli), std::to_string(c.subscribers)});
    std::size_t width[6] = {};
    for (const auto &r : rows)
        for (std::size_t i = 0; i < 6; ++i)
            width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto &r : rows) {
        for (std::size_t i = 0; i < 4; ++i)
            out += r[i] + std::string(width[i] - r[i].size() + 2, ' ');
        // Numbers align right.
        out += std::string(width[4] - r[4].size(), ' ') + r[4] + "  ";
        out += std::string(width[5] - r[5].size(), ' ') + r[5] + "\n";
    }
    emit(out);
}

void print_json(const std::vector<CameraInfo> &cams)
{
    Json j;
    j.begin_array();
    for (const CameraInfo &c : cams) {
        j.begin_object();
        j.key("name").string(c.name).key("source").string(c.source).key("state").string(c.state);
        j.key("width").number(c.width).key("height").number(c.height);
        j.key("fps").number(static_cast<double>(c.fps_milli) / 1000.0, 3);
        j.key("subscribers").number(c.subscribers).key("frames").number(c.frames);
        j.key("delivered").number(c.delivered).key("dropped").number(c.dropped);
        j.end_object();
    }
    j.end_array();
    emit(j.str() + "\n");
}

int run_cams(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(cams_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    no_operands(cams_command, argc, argv, first);

    pixproto::Client client = connect(g);
    std::vector<CameraInfo> cams = list_cameras(client);
    std::sort(cams.begin(), cams.end(), [](const CameraInfo &a, const CameraInfo &b) { return a.name < b.name; });
    if (g.json)
        print_json(cams);
    else if (cams.empty())
        emit("no cameras (pixd --camera NAME=SOURCE adds one; pixctl push sends one)\n");
    else
        print_table(cams);
    return 0;
}

} // namespace

extern const Command cams_command = {
    "cams",
    "list the server's cameras",
    "",
    "Lists the server's cameras by name, pushed ones included: source, state\n"
    "(starting, online or offline), frame size, the frame rate measured over\n"
    "the last seconds, and the number of subscribers watching. With --json,\n"
    "also frames captured, delivered and dropped (skipped for slow subscribers).",
    cams_options,
    run_cams,
};

} // namespace pixctl
