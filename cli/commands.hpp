// The command table. A command is one file, cli/cmd_<name>.cpp, defining a
// `const Command <name>_command`, plus one row in commands.cpp.
#ifndef PIXCTL_COMMANDS_HPP
#define PIXCTL_COMMANDS_HPP

#include "options.hpp"

#include <pixproto_client.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace pixctl {

// What the global options chose; every command gets it.
struct Globals {
    std::string host = "127.0.0.1";
    uint16_t port = 7070;
    std::string unix_path; // non-empty: connect here instead of host:port
    std::chrono::milliseconds timeout{10000}; // 0: wait forever
    bool json = false;
    std::string key_file; // --key; empty: $PIXD_KEY, if set
    bool tls = false;     // --tls
    std::string ca_file;  // --ca
    bool host_given = false, port_given = false; // to refuse them with --unix
};

struct Command {
    const char *name;
    const char *summary; // one line for `pixctl --help`
    const char *usage;   // arguments after the name: "[-c COUNT] [-i SEC]"
    const char *description; // paragraph for `pixctl NAME --help`
    OptionList options;  // the command's own options, --help included
    // argv[0] is the command name; returns the exit status. Throws
    // UsageError (2), pixproto::Error (1), pixproto::ConnectionError (3),
    // pixproto::Interrupted (128 + the signal). globals may still change:
    // parse_command_options applies global options given after the command.
    int (*run)(Globals &globals, int argc, char **argv);
};

extern const Command help_command;
extern const Command ping_command;
extern const Command status_command;
extern const Command put_command;
extern const Command get_command;
extern const Command ls_command;
extern const Command stat_command;
extern const Command rm_command;

// The table, in the order `pixctl --help` lists it.
const Command *const *commands_begin();
const Command *const *commands_end();
const Command *find_command(const std::string &name);

// "127.0.0.1:7070", "[::1]:7070" or "unix:/run/pixd.sock"
std::string server_label(const Globals &g);
// Connects as "pixctl/<version>" and does the handshake.
pixproto::Client connect(const Globals &g);

void print_main_help(std::FILE *out);
// The global option called name ("--json", "-h"), or nullptr.
const OptionSpec *find_global_option(const std::string &name);
// The global options that may also follow the command (all but --help and
// --version), and how one of them sets g. Both live in main.cpp.
OptionList trailing_global_options();
void apply_global_option(Globals &g, const OptionSpec &o, const char *arg);
// Throws UsageError for global options that contradict each other.
void check_connection_options(const Globals &g);
void print_command_help(std::FILE *out, const Command &c);

// Parses a command's options: --help prints the command's help and returns
// -1 (the command then returns 0); global options other than --help and
// --version set g; the command's own go to on_option. Returns the index of
// the first operand. Throws UsageError.
int parse_command_options(const Command &c, Globals &g, int argc, char **argv,
                          const std::function<void(const OptionSpec &, const char *)> &on_option);

// Throws UsageError unless argv has no operands from index first on.
void no_operands(const Command &c, int argc, char **argv, int first);

} // namespace pixctl

#endif
