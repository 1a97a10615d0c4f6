// pixctl help [COMMAND]
#include "commands.hpp"

namespace pixctl {

namespace {

const OptionSpec help_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

int run_help(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(help_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    if (first >= argc) {
        print_main_help(stdout);
        return 0;
    }
    if (first + 1 < argc)
        throw UsageError("help takes one command name, but got several", "pixctl help --help");
    const Command *c = find_command(argv[first]);
    if (!c)
        throw UsageError(std::string("unknown command '") + argv[first] + "'");
    print_command_help(stdout, *c);
    return 0;
}

} // namespace

extern const Command help_command = {
    "help",
    "show help for pixctl or for one command",
    "[COMMAND]",
    "Shows pixctl's options and commands, or with COMMAND that command's\n"
    "usage and options (the same as `pixctl COMMAND --help`).",
    help_options,
    run_help,
};

} // namespace pixctl
