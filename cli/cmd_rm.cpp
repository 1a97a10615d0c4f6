// pixctl rm NAME...: delete files from the store. Every DELETE is sent at
// once; the replies are printed in the order of the names.
#include "commands.hpp"
#include "entries.hpp"
#include "names.hpp"
#include "output.hpp"

#include <pixproto_store.hpp>

#include <string>
#include <vector>

namespace pixctl {

namespace {

const OptionSpec rm_options[] = {
    {"help", 'h', nullptr, "show this help"},
};

struct Removal {
    std::string name;
    uint32_t id = 0;
    bool deleted = false;
    std::string code, message;
};

int run_rm(Globals &g, int argc, char **argv)
{
    int first = parse_command_options(rm_command, g, argc, argv, [](const OptionSpec &, const char *) {});
    if (first < 0)
        return 0;
    if (first >= argc)
        throw UsageError("rm wants at least one NAME to delete, as `pixctl ls` lists them", "pixctl rm --help");

    pixproto::Client client = connect(g);
    pixproto::Store store(client);
    std::vector<Removal> rms;
    for (int i = first; i < argc; ++i) {
        Removal r;
        r.name = normalize_name(argv[i]);
        r.id = store.remove_begin(r.name);
        rms.push_back(std::move(r));
    }
    bool all = true;
    Json j;
    j.begin_array();
    for (Removal &r : rms) {
        try {
            r.name = store.remove_result(r.id);
            r.deleted = true;
        } catch (const pixproto::Error &e) {
            if (!client.connected())
                throw;
            r.code = e.name();
            r.message = failure_text(e);
            report_failure("rm", r.name, r.message);
            all = false;
        }
        j.begin_object().key("name").string(r.name).key("deleted").boolean(r.deleted);
        if (!r.deleted)
            failure_members(j, r.code, r.message);
        j.end_object();
        if (!g.json && r.deleted)
            emit("deleted " + printable(r.name) + "\n");
    }
    j.end_array();
    if (g.json)
        emit(j.str() + "\n");
    return all ? 0 : 1;
}

} // namespace

extern const Command rm_command = {
    "rm",
    "delete files from the store",
    "NAME...",
    "Deletes each NAME from the server's store and prints one line per name.\n"
    "A name that cannot be deleted does not stop the others; the exit status\n"
    "is then 1.",
    rm_options,
    run_rm,
};

} // namespace pixctl
