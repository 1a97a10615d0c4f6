// pixctl ls [--long]: the files in the store, sorted by name.
#include "commands.hpp"
#include "entries.hpp"
#include "output.hpp"

#include <pixproto_store.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace pixctl {

namespace {

const OptionSpec ls_options[] = {
    {"long", 'l', nullptr, "also show size, modification time, type, dimensions and SHA-256"},
    {"help", 'h', nullptr, "show this help"},
};

// Columns: size, modified, type, WxH, sha256 (short), name.
void print_long(const std::vector<pixproto::Entry> &entries)
{
    std::vector<std::vector<std::string>> rows;
    std::size_t width[5] = {};
    for (const pixproto::Entry &e : entries) {
        std::vector<std::string> r = {
            std::to_string(e.size),
            e.mtime_ms ? local_time(e.mtime_ms) : std::string("-"),
            e.type.empty() ? std::string("-") : printable(e.type),
            dimensions(e),
            e.sha256 ? pixproto::sha256_hex(e).substr(0, 16) : std::string("-"),
            printable(e.name),
        };
        for (std::size_t i = 0; i < 5; ++i)
            width[i] = std::max(width[i], r[i].size());
        rows.push_back(std::move(r));
    }
    std::string out;
    for (const auto &r : rows) {
        out += std::string(width[0] - r[0].size(), ' ') + r[0]; // numbers align right
        for (std::size_t i = 1; i < 5; ++i)
            out += "  " + r[i] + std::string(width[i] - r[i].size(), ' ');
        out += "  " + r[5] + "\n";
    }
    emit(out);
}

int run_ls(Globals &g, int argc, char **argv)
{
    bool long_format = false;
    int first = parse_command_options(ls_command, g, argc, argv, [&](const OptionSpec &o, const char *) {
        if (std::strcmp(o.name, "long") == 0)
            long_format = true;
    });
    if (first < 0)
        return 0;
    no_operands(ls_command, argc, argv, first);

    pixproto::Client client = connect(g);
    std::vector<pixproto::Entry> entries = pixproto::Store(client).list();
    std::sort(entries.begin(), entries.end(),
              [](const pixproto::Entry &a, const pixproto::Entry &b) { return a.name < b.name; });
    if (g.json) {
        Json j;
        j.begin_array();
        for (const pixproto::Entry &e : entries) {
            j.begin_object();
            entry_members(j, e);
            j.end_object();
        }
        j.end_array();
        emit(j.str() + "\n");
    } else if (long_format) {
        print_long(entries);
    } else {
        std::string out;
        for (const pixproto::Entry &e : entries)
            out += printable(e.name) + "\n";
        emit(out);
    }
    return 0;
}

} // namespace

extern const Command ls_command = {
    "ls",
    "list the files in the store",
    "[--long]",
    "Lists the names in the server's store, sorted by name, one per line. With\n"
    "--long, each line shows size in bytes, modification time (local), type,\n"
    "width x height, the first 16 hex digits of the SHA-256, and the name.",
    ls_options,
    run_ls,
};

} // namespace pixctl
