#include "commands.hpp"

#include "keyfile.hpp"
#include <pixproto_tls.hpp>
#include "pixd-config.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

namespace pixctl {

// Defined in cmd_resize.cpp (its declaration belongs with the others in
// commands.hpp).
extern const Command resize_command;
// Defined in cmd_cams.cpp, cmd_snap.cpp, cmd_watch.cpp, cmd_push.cpp and
// cmd_view.cpp (likewise).
extern const Command cams_command, snap_command, watch_command, push_command, view_command;
// Defined in cmd_models.cpp and cmd_classify.cpp (likewise).
extern const Command models_command, classify_command;

namespace {

// The table: `pixctl --help` lists commands in this order.
const Command *const command_table[] = {
    &help_command,
    &ping_command,
    &status_command,
    &put_command,
    &get_command,
    &ls_command,
    &stat_command,
    &rm_command,
    &resize_command,
    &cams_command,
    &snap_command,
    &watch_command,
    &push_command,
    &view_command,
    &models_command,
    &classify_command,
};

std::string command_hint(const Command &c) { return std::string("pixctl ") + c.name + " --help"; }

} // namespace

const Command *const *commands_begin() { return std::begin(command_table); }
const Command *const *commands_end() { return std::end(command_table); }

const Command *find_command(const std::string &name)
{
    for (const Command *c : command_table) {
        if (name == c->name)
            return c;
    }
    return nullptr;
}

std::string server_label(const Globals &g)
{
    if (!g.unix_path.empty())
        return "unix:" + g.unix_path;
    return pixproto::detail::host_port(g.host, g.port);
}

pixproto::Client connect(const Globals &g)
{
    check_connection_options(g);
    const std::string agent = "pixctl/" PIXD_VERSION;
    // Read the key first: a bad key file is reported even to a pixd that
    // needs none.
    std::optional<Key> key = load_key(g.key_file);
    pixproto::Client c = !g.unix_path.empty()
                             ? pixproto::Client::connect_unix(g.unix_path, g.timeout, agent)
                             : pixproto::Client::connect_tcp(g.host, g.port, g.timeout, agent,
                                                             g.tls ? pixproto::tls_wrap(g.ca_file)
                                                                   : pixproto::detail::Wrap{});
    // Without a key, ping still works; anything else hears from pixd
    // that it needs one.
    if (c.needs_key() && key)
        c.authenticate(key->name, key->secret);
    return c;
}

void print_command_help(std::FILE *out, const Command &c)
{
    std::fprintf(out, "Usage: pixctl [GLOBAL OPTIONS] %s%s%s\n\n%s\n", c.name,
                 *c.usage ? " " : "", c.usage, c.description);
    if (c.options.size > 0) {
        std::fprintf(out, "\nOptions:\n");
        print_options(out, c.options);
    }
    std::fprintf(out, "\nGlobal options (--host, --port, --unix, --timeout, --json) may come "
                      "before or after\nthe command; see `pixctl --help`.\n");
}

int parse_command_options(const Command &c, Globals &g, int argc, char **argv,
                          const std::function<void(const OptionSpec &, const char *)> &on_option)
{
    // The command's options, then the global ones it does not shadow: a
    // command option of the same name would win, so none may have one.
    std::vector<OptionSpec> table(c.options.begin(), c.options.end());
    const std::size_t own = table.size();
    for (const OptionSpec &o : trailing_global_options()) {
        bool taken = std::any_of(table.begin(), table.end(), [&](const OptionSpec &t) {
            return std::strcmp(t.name, o.name) == 0 || (o.short_name && t.short_name == o.short_name);
        });
        if (!taken)
            table.push_back(o);
    }
    bool help = false;
    int first = 0;
    try {
        first = parse_options(argc, argv, OptionList(table.data(), table.size()), false, command_hint(c),
                              [&](const OptionSpec &o, const char *arg) {
                                  std::size_t i = static_cast<std::size_t>(&o - table.data());
                                  if (i >= own)
                                      apply_global_option(g, o, arg);
                                  else if (std::strcmp(o.name, "help") == 0)
                                      help = true;
                                  else
                                      on_option(o, arg);
                              });
    } catch (const UsageError &e) {
        // Only --version is left to land here.
        const OptionSpec *global = find_global_option(e.unknown_option());
        if (!global)
            throw;
        std::string example = std::string("--") + global->name + (global->arg ? std::string(" ") + global->arg : "");
        throw UsageError(e.unknown_option() + " is a global option: put it before the command, as in `pixctl " +
                             example + " " + c.name + "`",
                         "pixctl --help");
    }
    if (help) {
        print_command_help(stdout, c);
        return -1;
    }
    return first;
}

void no_operands(const Command &c, int argc, char **argv, int first)
{
    if (first < argc)
        throw UsageError(std::string(c.name) + " takes no arguments, but got '" + argv[first] + "'",
                         command_hint(c));
}

} // namespace pixctl
