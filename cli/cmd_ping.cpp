// pixctl ping [-c COUNT] [-i SEC]: round-trip time over one connection.
#include "commands.hpp"
#include "output.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace pixctl {

namespace {

const OptionSpec ping_options[] = {
    {"count", 'c', "COUNT", "send COUNT pings (default 1)"},
    {"interval", 'i', "SEC", "wait SEC seconds between pings, fractions allowed (default 1)"},
    {"help", 'h', nullptr, "show this help"},
};

constexpr long max_count = 1000000;
constexpr double max_interval_s = 3600;

void print_json(const Globals &g, const pixproto::Client &c, const std::vector<double> &rtts,
                double min, double avg, double max)
{
    Json j;
    j.begin_object().key("address").string(c.peer());
    if (g.unix_path.empty()) {
        j.key("host").string(g.host).key("port").number(uint64_t{g.port}).key("unix").null();
    } else {
        j.key("host").null().key("port").null().key("unix").string(g.unix_path);
    }
    j.key("count").number(uint64_t{rtts.size()});
    j.key("rtt_ms").begin_array();
    for (double ms : rtts)
        j.number(ms, 3);
    j.end_array();
    j.key("min_ms").number(min, 3).key("avg_ms").number(avg, 3).key("max_ms").number(max, 3);
    j.end_object();
    emit(j.str() + "\n");
}

int run_ping(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl ping --help";
    long count = 1;
    double interval = 1.0;
    int first = parse_command_options(ping_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "count") == 0)
            count = parse_integer("--count", arg, 1, max_count, hint);
        else if (std::strcmp(o.name, "interval") == 0)
            interval = parse_seconds("--interval", arg, max_interval_s, hint);
    });
    if (first < 0)
        return 0;
    no_operands(ping_command, argc, argv, first);

    pixproto::Client client = connect(g);
    std::vector<double> rtts;
    for (long i = 0; i < count; ++i) {
        if (i > 0 && interval > 0)
            std::this_thread::sleep_for(std::chrono::duration<double>(interval));
        double ms = std::chrono::duration<double, std::milli>(client.ping()).count();
        rtts.push_back(ms);
        if (!g.json)
            emit("pong from " + printable(client.peer()) + ": seq=" + std::to_string(i + 1) +
                 " time=" + format_ms(ms) + " ms\n");
    }

    double min = *std::min_element(rtts.begin(), rtts.end());
    double max = *std::max_element(rtts.begin(), rtts.end());
    double sum = 0;
    for (double ms : rtts)
        sum += ms;
    double avg = sum / static_cast<double>(rtts.size());
    if (g.json) {
        print_json(g, client, rtts, min, avg, max);
    } else if (count > 1) {
        emit("--- " + printable(client.peer()) + " ping statistics ---\n" +
             std::to_string(rtts.size()) + " pings, rtt min/avg/max = " + format_ms(min) + "/" +
             format_ms(avg) + "/" + format_ms(max) + " ms\n");
    }
    return 0;
}

} // namespace

extern const Command ping_command = {
    "ping",
    "measure the round-trip time to the server",
    "[-c COUNT] [-i SEC]",
    "Connects once, sends COUNT pings one after the other and prints the\n"
    "round-trip time of each; with more than one, a min/avg/max summary.",
    ping_options,
    run_ping,
};

} // namespace pixctl
