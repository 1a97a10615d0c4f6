// pixctl get NAME... [-o PATH] [--force]: download files from the store.
//
// One file at a time over one connection. The bytes go to PATH.part, are
// hashed as they arrive, and are checked against the size and SHA-256 that
// FILE announced; only then is PATH.part flushed and renamed to PATH. Any
// failure removes PATH.part, so a PATH that exists is always complete.
#include "commands.hpp"
#include "entries.hpp"
#include "interrupt.hpp"
#include "localfile.hpp"
#include "names.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sha256_thread.hpp"

#include <pixproto_store.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace pixctl {

namespace {

const OptionSpec get_options[] = {
    {"output", 'o', "PATH", "write to PATH (a directory for several NAMEs; - for standard output)"},
    {"force", 'f', nullptr, "replace files that exist already"},
    {"help", 'h', nullptr, "show this help"},
};

struct Download {
    std::string name;  // store name
    std::string dest;  // local path, or "-"
    std::optional<pixproto::Entry> entry; // when it was saved
    std::string code, message;            // or why not
};

class Downloader {
public:
    Downloader(pixproto::Client &c, bool force, bool json) : client_(c), store_(c), force_(force), json_(json) {}

    // Downloads each in turn; a failure that concerns one file is recorded
    // in it and the next goes on. Throws Interrupted after cancelling.
    void run(std::vector<Download> &downloads)
    {
        for (Download &d : downloads) {
            try {
                fetch(d);
            } catch (const pixproto::Interrupted &) {
                throw cancel(d);
            } catch (const pixproto::ConnectionError &e) {
                progress_.clear();
                throw pixproto::ConnectionError("get " + printable(d.name) + ": " + e.what(), e.reason(),
                                                e.sys_errno());
            } catch (const LocalError &e) {
                fail(d, "LOCAL", e.what());
            } catch (const pixproto::Error &e) {
                if (!client_.connected())
                    throw;
                bool spoilt = d.dest == "-" && written_ > 0;
                fail(d, e.name(), failure_text(e) + (spoilt ? "; what went to standard output is not the file" : ""));
            }
            progress_.clear();
            if (d.entry && !json_ && d.dest != "-")
                emit("saved " + printable(d.name) + " to " + printable(d.dest) + " (" + bytes_text(d.entry->size) +
                     (d.entry->sha256 ? ", sha256 verified" : "") + ")\n");
        }
    }

private:
    void fetch(Download &d)
    {
        if (d.dest != "-" && !force_ && exists(d.dest))
            throw LocalError(d.dest + " exists already; use --force to replace it");
        written_ = 0;
        id_ = store_.get_begin(d.name);
        pixproto::Entry e = store_.get_header(id_);
        OutputFile out(d.dest, force_);
        progress_.start(d.name, e.size);
        Sha256Thread sha; // hashes each piece while the next is received and written
        uint64_t got = 0;
        std::vector<uint8_t> chunk;
        while (store_.get_chunk(id_, chunk)) {
            InterruptGuard::check();
            if (chunk.size() > e.size - got)
                throw pixproto::Error(PIXPROTO_EINTEGRITY, "the server sent more than the " +
                                                               std::to_string(e.size) + " bytes it announced");
            out.write(chunk.data(), chunk.size());
            written_ += chunk.size();
            got += chunk.size();
            progress_.advance(chunk.size());
            std::size_t n = chunk.size();
            sha.update(std::move(chunk), n);
        }
        id_ = 0; // END: the request is over
        if (got != e.size)
            throw pixproto::Error(PIXPROTO_EINTEGRITY, "received " + std::to_string(got) + " of the " +
                                                           std::to_string(e.size) + " bytes announced");
        if (e.sha256 && sha.finish() != *e.sha256)
            throw pixproto::Error(PIXPROTO_EINTEGRITY, "the data does not match the SHA-256 the server announced");
        out.commit();
        d.entry = std::move(e);
    }

    // Records d's failure, and stops the download if the server still
    // sends it.
    void fail(Download &d, const std::string &code, const std::string &message)
    {
        progress_.clear();
        d.code = code;
        d.message = message;
        report_failure("get", d.name, message);
        if (id_ && client_.in_flight(id_))
            store_.cancel(id_);
        id_ = 0;
    }

    pixproto::Interrupted cancel(const Download &d)
    {
        progress_.clear();
        client_.set_interrupt_fd(-1);
        client_.set_timeout(std::chrono::seconds(1));
        try {
            if (id_ && client_.in_flight(id_))
                store_.cancel(id_);
        } catch (const std::exception &) {
            // Lost connection: the server stops sending all the same.
        }
        return pixproto::Interrupted("interrupted; cancelled the download of " + printable(d.name) +
                                     (d.dest == "-" ? "" : " (" + printable(d.dest) + " was not written)"));
    }

    pixproto::Client &client_;
    pixproto::Store store_;
    bool force_, json_;
    uint32_t id_ = 0;      // the download in progress
    uint64_t written_ = 0; // bytes of it written out
    Progress progress_;
};

void print_json(const std::vector<Download> &downloads)
{
    Json j;
    j.begin_array();
    for (const Download &d : downloads) {
        j.begin_object();
        if (d.entry)
            entry_members(j, *d.entry);
        else
            j.key("name").string(d.name);
        j.key("path").string(d.dest);
        if (!d.entry)
            failure_members(j, d.code, d.message);
        j.end_object();
    }
    j.end_array();
    emit(j.str() + "\n");
}

int run_get(Globals &g, int argc, char **argv)
{
    const std::string hint = "pixctl get --help";
    std::optional<std::string> output;
    bool force = false;
    int first = parse_command_options(get_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "output") == 0) {
            if (*arg == '\0')
                throw UsageError("-o wants a path, or - for standard output", hint);
            output = arg;
        } else if (std::strcmp(o.name, "force") == 0) {
            force = true;
        }
    });
    if (first < 0)
        return 0;
    int count = argc - first;
    if (count == 0)
        throw UsageError("get wants at least one NAME to download, as `pixctl ls` lists them", hint);
    bool to_stdout = output && *output == "-";
    bool into_dir = output && !to_stdout && is_directory(*output);
    if (to_stdout && count > 1)
        throw UsageError("-o - takes one NAME; for several, -o names a directory", hint);
    if (to_stdout && g.json)
        throw UsageError("--json and -o - would both write to standard output; choose one", hint);
    if (output && !to_stdout && !into_dir && count > 1)
        throw UsageError("with several NAMEs, -o must name an existing directory, and " + *output +
                             " is not one",
                         hint);

    std::vector<Download> downloads;
    bool ok = true;
    for (int i = first; i < argc; ++i) {
        Download d;
        d.name = normalize_name(argv[i]);
        bool named_after = !output || into_dir; // the name becomes a file name
        if (named_after) {
            std::string why = name_problem(d.name);
            if (!why.empty()) {
                report_failure("get", d.name, "not a store name: " + why);
                ok = false;
                continue;
            }
            d.dest = into_dir ? *output + (output->back() == '/' ? "" : "/") + d.name : d.name;
        } else {
            d.dest = *output;
        }
        downloads.push_back(std::move(d));
    }
    if (!downloads.empty()) {
        pixproto::Client client = connect(g);
        InterruptGuard guard;
        client.set_interrupt_fd(guard.fd());
        Downloader(client, force, g.json).run(downloads);
    }
    if (g.json)
        print_json(downloads);
    bool all = std::all_of(downloads.begin(), downloads.end(), [](const Download &d) { return d.entry.has_value(); });
    return ok && all ? 0 : 1;
}

} // namespace

extern const Command get_command = {
    "get",
    "download files from the store",
    "NAME... [-o PATH] [--force]",
    "Downloads each NAME from the server's store into the current directory,\n"
    "or to PATH. The data is checked against the size and SHA-256 the server\n"
    "announced and written to PATH.part first, renamed to PATH only when it is\n"
    "complete and correct. Existing files are not replaced without --force.\n"
    "With -o -, the one NAME goes to standard output (still checked).",
    get_options,
    run_get,
};

} // namespace pixctl
