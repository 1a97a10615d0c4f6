// pixctl status: the server's version, pid, uptime, listeners, connections.
#include "commands.hpp"
#include "output.hpp"

#include <cstring>
#include <string>

namespace pixctl {

namespace {

const OptionSpec status_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

// "pixd/0.1.0" -> "0.1.0"; "" when the agent names no version.
std::string agent_version(const std::string &agent)
{
    std::size_t slash = agent.find('/');
    return slash == std::string::npos ? std::string() : agent.substr(slash + 1);
}

void print_text(const pixproto::Client &c, const pixproto::Status &s)
{
    std::string out;
    auto line = [&](const char *label, const std::string &value) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%-13s", label);
        out += buf + printable(value) + "\n";
    };
    line("server:", (s.agent.empty() ? std::string("?") : s.agent) + " (protocol " +
                        std::to_string(c.welcome().version) + ")");
    line("address:", c.peer());
    line("pid:", std::to_string(s.pid));
    line("uptime:", human_duration(s.uptime_ms));
    if (s.listeners.empty())
        line("listeners:", "none reported");
    for (std::size_t i = 0; i < s.listeners.size(); ++i)
        line(i == 0 ? "listeners:" : "", s.listeners[i]);
    std::string conns = std::to_string(s.connections);
    if (!s.handler_conns.empty()) {
        conns += " (";
        for (std::size_t i = 0; i < s.handler_conns.size(); ++i)
            conns += (i ? ", " : "") + s.handler_conns[i];
        conns += ")";
    }
    line("connections:", conns);
    emit(out);
}

void print_json(const pixproto::Client &c, const pixproto::Status &s)
{
    Json j;
    j.begin_object();
    j.key("address").string(c.peer());
    j.key("agent").string(s.agent);
    std::string version = agent_version(s.agent);
    j.key("version");
    if (version.empty())
        j.null();
    else
        j.string(version);
    j.key("protocol").number(uint64_t{c.welcome().version});
    j.key("pid").number(s.pid);
    j.key("uptime_ms").number(s.uptime_ms);
    j.key("connections").number(s.connections);

    // "native 3": handler name, a space, the count.
    j.key("connections_by_handler").begin_object();
    for (const std::string &h : s.handler_conns) {
        std::size_t sp = h.rfind(' ');
        std::string n = sp == std::string::npos ? std::string() : h.substr(sp + 1);
        bool numeric = !n.empty() && n.size() <= 19 && n.find_first_not_of("0123456789") == std::string::npos;
        if (numeric)
            j.key(h.substr(0, sp)).number(static_cast<uint64_t>(std::stoull(n)));
        else
            j.key(h).null(); // not in the documented form: keep it, uninterpreted
    }
    j.end_object();

    // As sent: "native 127.0.0.1:7070", handler name, a space, the address.
    j.key("listeners").begin_array();
    for (const std::string &l : s.listeners)
        j.string(l);
    j.end_array();
    j.end_object();
    emit(j.str() + "\n");
}

int run_status(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(status_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    no_operands(status_command, argc, argv, first);

    pixproto::Client client = connect(g);
    pixproto::Status s = client.status();
    if (g.json)
        print_json(client, s);
    else
        print_text(client, s);
    return 0;
}

} // namespace

extern const Command status_command = {
    "status",
    "show the server's version, uptime, listeners and connections",
    "",
    "Prints the server's agent and protocol version, process id, uptime, the\n"
    "addresses it listens on and its open connections, in total and by handler.",
    status_options,
    run_status,
};

} // namespace pixctl
