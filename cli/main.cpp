// pixctl: global options, command dispatch, and the mapping of failures to
// messages and exit statuses (0 ok, 1 refused/failed, 2 usage, 3 connection).
#include "commands.hpp"
#include "interrupt.hpp"
#include "options.hpp"
#include "output.hpp"

#include "pixd-config.h"

#include <pixproto_client.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <string>

#include <malloc.h>

namespace pixctl {

namespace {

enum Exit { exit_ok = 0, exit_failed = 1, exit_usage = 2, exit_connection = 3 };

// The global options; --help output and man/pixctl.1's OPTIONS section
// list exactly these (a test compares them). All but the last two may also
// follow the command (trailing_global_options).
const OptionSpec global_options[] = {
    {"host", 0, "HOST", "server name or address, IPv6 literal allowed (default 127.0.0.1)"},
    {"port", 0, "PORT", "server TCP port (default 7070)"},
    {"unix", 0, "PATH", "connect to the unix socket PATH instead of HOST:PORT"},
    {"timeout", 0, "SEC", "seconds to wait for the server, fractions allowed, 0 forever (default 10)"},
    {"tls", 0, nullptr, "speak TLS to pixd (pixd run with --tls-cert)"},
    {"ca", 0, "FILE", "with --tls: trust the server certificate's CA from this PEM file "
                      "(default: the system's roots)"},
    {"key", 0, "FILE", "prove this access key to pixd: FILE holds NAME:SECRET, mode 600 "
                       "(default: $PIXD_KEY)"},
    {"json", 0, nullptr, "print the result as JSON (one object, or an array for lists)"},
    {"help", 'h', nullptr, "show this help and exit"},
    {"version", 'V', nullptr, "show the version and exit"},
};

// Timeouts beyond a day are typos, and stay far from overflowing poll().
constexpr double max_timeout_s = 86400;

constexpr std::size_t trailing_count = std::size(global_options) - 2;

int run(int argc, char **argv)
{
    Globals g;
    bool help = false, version = false;
    int first = parse_options(argc, argv, global_options, true, "pixctl --help",
                              [&](const OptionSpec &o, const char *arg) {
        std::string name = o.name;
        if (name == "help")
            help = true;
        else if (name == "version")
            version = true;
        else
            apply_global_option(g, o, arg);
    });

    if (help) {
        print_main_help(stdout);
        return exit_ok;
    }
    if (version) {
        std::printf("pixctl %s (native protocol %d)\n", PIXD_VERSION, PIXPROTO_VERSION);
        return exit_ok;
    }
    check_connection_options(g);
    if (first >= argc)
        throw UsageError("no command given");

    const Command *c = find_command(argv[first]);
    if (!c)
        throw UsageError(std::string("unknown command '") + argv[first] + "'");
    return c->run(g, argc - first, argv + first);
}

// What to do about a connection failure, appended to its message.
const char *connection_hint(pixproto::ConnectionError::Reason r)
{
    using R = pixproto::ConnectionError::Reason;
    switch (r) {
    case R::refused: return " — is pixd running? (start it with `pixd` or `./dev run`)";
    case R::resolve: return " — check the name given to --host";
    case R::unreachable: return " — check --host and the network";
    case R::timeout: return " — is the server overloaded or the address wrong? "
                            "--timeout SEC waits longer";
    case R::closed: return " — pixd's log says why";
    case R::other: break;
    }
    return "";
}

} // namespace

OptionList trailing_global_options() { return OptionList(global_options, trailing_count); }

void apply_global_option(Globals &g, const OptionSpec &o, const char *arg)
{
    std::string name = o.name;
    if (name == "host") {
        if (*arg == '\0')
            throw UsageError("--host wants a host name or address, not an empty string");
        g.host = arg;
        // "[::1]" as in URLs: the brackets are not part of the address.
        if (g.host.size() > 2 && g.host.front() == '[' && g.host.back() == ']')
            g.host = g.host.substr(1, g.host.size() - 2);
        g.host_given = true;
    } else if (name == "port") {
        g.port = static_cast<uint16_t>(parse_integer("--port", arg, 1, 65535, "pixctl --help"));
        g.port_given = true;
    } else if (name == "unix") {
        if (*arg == '\0')
            throw UsageError("--unix wants a socket path, not an empty string");
        g.unix_path = arg;
    } else if (name == "timeout") {
        double s = parse_seconds("--timeout", arg, max_timeout_s, "pixctl --help");
        auto ms = static_cast<long long>(s * 1000.0 + 0.5);
        if (s > 0 && ms == 0)
            ms = 1; // 0 means forever: a tiny timeout must not become that
        g.timeout = std::chrono::milliseconds(ms);
    } else if (name == "tls") {
        g.tls = true;
    } else if (name == "ca") {
        if (*arg == '\0')
            throw UsageError("--ca wants a PEM file of CA certificates, not an empty string");
        g.ca_file = arg;
    } else if (name == "key") {
        if (*arg == '\0')
            throw UsageError("--key wants a file holding NAME:SECRET, not an empty string");
        g.key_file = arg;
    } else if (name == "json") {
        g.json = true;
    }
}

void check_connection_options(const Globals &g)
{
    if (!g.unix_path.empty() && (g.host_given || g.port_given))
        throw UsageError("--unix cannot be combined with --host or --port: choose one way to connect");
    if (!g.unix_path.empty() && g.tls)
        throw UsageError("--tls is for TCP; pixd serves unix sockets without TLS");
    if (!g.ca_file.empty() && !g.tls)
        throw UsageError("--ca only matters with --tls");
}

const OptionSpec *find_global_option(const std::string &name)
{
    for (const OptionSpec &o : global_options) {
        if (name == std::string("--") + o.name ||
            (o.short_name && name == std::string("-") + o.short_name))
            return &o;
    }
    return nullptr;
}

void print_main_help(std::FILE *out)
{
    std::fprintf(out,
                 "Usage: pixctl [OPTIONS] COMMAND [ARGS]\n"
                 "\n"
                 "Control a pixd server over its native protocol.\n"
                 "\n"
                 "Options:\n");
    print_options(out, global_options);
    std::fprintf(out, "\nCommands:\n");
    std::size_t width = 0;
    for (auto it = commands_begin(); it != commands_end(); ++it)
        width = std::max(width, std::strlen((*it)->name));
    for (auto it = commands_begin(); it != commands_end(); ++it)
        std::fprintf(out, "  %-*s   %s\n", static_cast<int>(width), (*it)->name, (*it)->summary);
    std::fprintf(out,
                 "\n"
                 "Run `pixctl COMMAND --help` for a command's options.\n"
                 "Exit status: 0 ok, 1 the server refused or failed the request, 2 bad usage,\n"
                 "3 could not connect or lost the connection.\n");
}

} // namespace pixctl

int main(int argc, char **argv)
{
    using namespace pixctl;
    // Transfers go through 256 KiB - 1 MiB buffers, allocated and freed a
    // few thousand times a second. Kept in the heap and not given back to
    // the kernel after each, they are reused while still mapped: fresh
    // pages (an mmap, or the heap regrown after a trim) are faulted in one
    // by one, which costs more than the copy into them.
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    try {
        return run(argc, argv);
    } catch (const UsageError &e) {
        std::fprintf(stderr, "pixctl: %s (see `%s`)\n", e.what(), e.hint().c_str());
        return exit_usage;
    } catch (const pixproto::Interrupted &e) {
        std::fprintf(stderr, "pixctl: %s\n", e.what());
        return 128 + (interrupt_signal() ? interrupt_signal() : SIGINT);
    } catch (const pixproto::ConnectionError &e) {
        std::fprintf(stderr, "pixctl: %s%s\n", printable(e.what()).c_str(),
                     connection_hint(e.reason()));
        return exit_connection;
    } catch (const pixproto::Error &e) {
        std::fprintf(stderr, "pixctl: %s (%s)\n", printable(e.what()).c_str(), e.name().c_str());
        return exit_failed;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "pixctl: %s\n", e.what());
        return exit_failed;
    }
}
