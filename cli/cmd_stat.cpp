// pixctl stat NAME: everything the store knows about one file.
#include "commands.hpp"
#include "entries.hpp"
#include "names.hpp"
#include "output.hpp"

#include <pixproto_store.hpp>

#include <cstdio>
#include <string>

namespace pixctl {

namespace {

const OptionSpec stat_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

void print_text(const pixproto::Entry &e)
{
    std::string out;
    auto line = [&](const char *label, const std::string &value) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%-12s", label);
        out += buf + value + "\n";
    };
    line("name:", printable(e.name));
    line("size:", bytes_text(e.size) + (e.size >= 1024 ? " (" + human_bytes(e.size) + ")" : ""));
    line("modified:", e.mtime_ms ? local_time(e.mtime_ms, true) : "unknown");
    line("type:", e.type.empty() ? "unknown" : printable(e.type));
    line("dimensions:", e.width && e.height ? dimensions(e) + " pixels" : "-");
    line("sha256:", e.sha256 ? pixproto::sha256_hex(e) : "unknown");
    emit(out);
}

int run_stat(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(stat_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    if (argc - first != 1)
        throw UsageError(first >= argc ? "stat wants the NAME of a file in the store, as `pixctl ls` lists them"
                                       : "stat takes one NAME",
                         "pixctl stat --help");
    std::string name = normalize_name(argv[first]);

    pixproto::Client client = connect(g);
    pixproto::Entry e;
    try {
        e = pixproto::Store(client).stat(name);
    } catch (const pixproto::Error &err) {
        if (!client.connected())
            throw;
        report_failure("stat", name, failure_text(err));
        return 1;
    }
    if (g.json) {
        Json j;
        j.begin_object();
        entry_members(j, e);
        j.end_object();
        emit(j.str() + "\n");
    } else {
        print_text(e);
    }
    return 0;
}

} // namespace

extern const Command stat_command = {
    "stat",
    "show everything about one file in the store",
    "NAME",
    "Prints a stored file's name, size, modification time, type, dimensions\n"
    "(for images) and full SHA-256.",
    stat_options,
    run_stat,
};

} // namespace pixctl
