// pixctl put FILE... [--name NAME]: upload files to the store.
//
// All uploads share one connection and are pipelined: the next file starts
// as soon as the previous one is sent, without waiting for its STORED, and
// the replies are printed in the order of the files as they come in. Each
// file is read once, in chunks, hashing as it goes; the SHA-256 travels in
// END. Between chunks the connection is checked, without waiting, for an
// early refusal (bad name, over quota), which stops that file at once.
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
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace pixctl {

namespace {

const OptionSpec put_options[] = {
    {"name", 'n', "NAME", "store the file as NAME (one FILE only; the extension stays FILE's)"},
    {"help", 'h', nullptr, "show this help"},
};

struct Upload {
    std::string path;  // the local file
    std::string name;  // the store name it goes to
    uint32_t id = 0;   // the request, while the server owes a reply
    bool ended = false; // END went out: all of it was sent
    bool resolved = false;
    std::optional<pixproto::Entry> entry; // STORED
    std::string code, message;            // or why not: error name, text

    // For messages: "a.jpg", or "photos/IMG 1.JPG as IMG_1.jpg".
    std::string label() const { return name == base_name(path) ? path : path + " as " + name; }
};

// Local checks before connecting: every FILE readable and regular, every
// name acceptable and used once. Reports each problem; true if none.
bool prepare(std::vector<Upload> &ups, uint64_t &total)
{
    bool ok = true;
    std::map<std::string, std::string> seen; // name -> path
    total = 0;
    for (Upload &u : ups) {
        struct stat st{};
        if (::stat(u.path.c_str(), &st) < 0) {
            report_failure("put", u.path, errno_text(errno));
            ok = false;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            report_failure("put", u.path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
            ok = false;
            continue;
        }
        total += static_cast<uint64_t>(st.st_size);
        std::string why = name_problem(u.name);
        if (!why.empty()) {
            report_failure("put", u.path, "would be stored as '" + printable(u.name) + "', but " + why +
                                              " (choose a name with --name)");
            ok = false;
            continue;
        }
        auto [it, fresh] = seen.emplace(u.name, u.path);
        if (!fresh) {
            report_failure("put", u.path, "would be stored as " + printable(u.name) + ", as " +
                                              printable(it->second) + " is; give one of them another name with --name");
            ok = false;
        }
    }
    return ok;
}

class Uploader {
public:
    Uploader(pixproto::Client &c, std::vector<Upload> &ups, bool json)
        : client_(c), store_(c), ups_(ups), json_(json)
    {
    }

    // Sends every file, then collects the replies. Throws Interrupted after
    // cancelling whatever is in flight.
    void run(uint64_t total)
    {
        std::vector<uint8_t> buf(PIXPROTO_CHUNK);
        progress_.start("", total);
        const Upload *current = nullptr;
        try {
            for (Upload &u : ups_) {
                current = &u;
                progress_.set_label(u.name);
                attempt(u, [&] { send(u, buf); });
                print_ready(false);
            }
            current = nullptr;
            print_ready(true);
        } catch (const pixproto::Interrupted &) {
            throw cancel_all();
        } catch (const pixproto::ConnectionError &e) {
            progress_.clear();
            if (!current && next_ < ups_.size())
                current = &ups_[next_];
            if (!current)
                throw;
            throw pixproto::ConnectionError("put " + printable(current->label()) + ": " + e.what(), e.reason(),
                                            e.sys_errno());
        }
    }

private:
    void send(Upload &u, std::vector<uint8_t> &buf)
    {
        InputFile in(u.path);
        Sha256Thread sha; // hashes each piece while the next is read and sent
        uint64_t left = in.size();
        u.id = store_.put_begin(u.name, left);
        while (left > 0) {
            InterruptGuard::check();
            std::size_t n = in.read(buf.data(), static_cast<std::size_t>(std::min<uint64_t>(buf.size(), left)));
            if (n == 0)
                throw LocalError(u.path + " got shorter while being uploaded; nothing was stored");
            store_.put_data(u.id, buf.data(), n);
            std::size_t size = buf.size();
            sha.update(std::move(buf), n);
            buf = sha.spare(size);
            left -= n;
            progress_.advance(n);
            // An ERROR throws from here; a STORED before END breaks the
            // protocol (the server cannot have checked the hash).
            if (store_.put_poll(u.id))
                throw pixproto::Error(PIXPROTO_EBADFRAME, "the server answered before the upload was complete", u.id);
        }
        if (in.read(buf.data(), 1) != 0)
            throw LocalError(u.path + " grew while being uploaded; nothing was stored");
        Sha256::Digest d = sha.finish();
        store_.put_end(u.id, d.data());
        u.ended = true;
    }

    // Runs f for u; a failure that concerns u alone is recorded in u (and
    // the upload cancelled if the server still expects data), others throw.
    template <class F>
    void attempt(Upload &u, F &&f)
    {
        try {
            f();
            return;
        } catch (const LocalError &e) {
            resolve(u, "LOCAL", e.what());
        } catch (const pixproto::Error &e) {
            if (!client_.connected())
                throw;
            resolve(u, e.name(), failure_text(e));
        }
        if (u.id && client_.in_flight(u.id))
            store_.cancel(u.id);
        u.id = 0;
    }

    void resolve(Upload &u, const std::string &code, const std::string &message)
    {
        u.resolved = true;
        u.code = code;
        u.message = message;
    }

    // Prints the results of the uploads not printed yet, in order, as far
    // as they are known; with wait, waits for each.
    void print_ready(bool wait)
    {
        for (; next_ < ups_.size(); ++next_) {
            Upload &u = ups_[next_];
            if (!u.resolved && !u.id)
                return; // not sent yet
            if (!u.resolved) {
                attempt(u, [&] {
                    std::optional<pixproto::Entry> e =
                        wait ? std::optional<pixproto::Entry>(store_.put_result(u.id)) : store_.put_poll(u.id);
                    if (e) {
                        u.entry = std::move(e);
                        u.resolved = true;
                        u.id = 0;
                    }
                });
                if (!u.resolved)
                    return; // not known yet: later ones wait their turn
            }
            print(u);
        }
    }

    void print(const Upload &u)
    {
        progress_.clear();
        if (!u.entry)
            report_failure("put", u.label(), u.message);
        if (json_)
            return;
        if (u.entry)
            emit("stored " + printable(u.entry->name) + " (" + bytes_text(u.entry->size) + ", sha256 " +
                 short_sha256(*u.entry) + ")\n");
    }

    pixproto::Interrupted cancel_all()
    {
        progress_.clear();
        // Cancelling must not be cut short by the same interrupt, nor wait
        // long for a server that does not read.
        client_.set_interrupt_fd(-1);
        client_.set_timeout(std::chrono::seconds(1));
        // Results that arrived behind one still pending: say them now, out
        // of order, so that no stored file goes unmentioned.
        for (std::size_t i = next_; i < ups_.size(); ++i) {
            if (ups_[i].resolved)
                print(ups_[i]);
        }
        std::vector<std::string> names, complete;
        for (Upload &u : ups_) {
            if (u.resolved || !u.id)
                continue;
            (u.ended ? complete : names).push_back(printable(u.name));
            try {
                store_.cancel(u.id);
            } catch (const std::exception &) {
                // Lost connection: the server drops the upload all the same.
            }
        }
        std::size_t unsent = static_cast<std::size_t>(
            std::count_if(ups_.begin(), ups_.end(), [](const Upload &u) { return !u.resolved && !u.id; }));
        std::string msg = "interrupted";
        if (!names.empty()) {
            msg += "; cancelled the upload of ";
            for (std::size_t i = 0; i < names.size(); ++i)
                msg += (i ? ", " : "") + names[i];
        }
        if (!complete.empty()) {
            // The server may be publishing them as the CANCEL arrives.
            msg += "; sent in full, so perhaps stored (see `pixctl ls`): ";
            for (std::size_t i = 0; i < complete.size(); ++i)
                msg += (i ? ", " : "") + complete[i];
        }
        if (unsent > 0)
            msg += "; " + std::to_string(unsent) + (unsent == 1 ? " file" : " files") + " not sent";
        return pixproto::Interrupted(msg);
    }

    pixproto::Client &client_;
    pixproto::Store store_;
    std::vector<Upload> &ups_;
    bool json_;
    Progress progress_;
    std::size_t next_ = 0;
};

void print_json(const std::vector<Upload> &ups)
{
    Json j;
    j.begin_array();
    for (const Upload &u : ups) {
        j.begin_object().key("file").string(u.path);
        if (u.entry)
            entry_members(j, *u.entry);
        else
            failure_members(j.key("name").string(u.name), u.code, u.message);
        j.end_object();
    }
    j.end_array();
    emit(j.str() + "\n");
}

int run_put(Globals &g, int argc, char **argv)
{
    std::optional<std::string> name;
    int first = parse_command_options(put_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        if (std::strcmp(o.name, "name") == 0) {
            if (*arg == '\0')
                throw UsageError("--name wants a store name, not an empty string", "pixctl put --help");
            name = arg;
        }
    });
    if (first < 0)
        return 0;
    if (first >= argc)
        throw UsageError("put wants at least one FILE to upload", "pixctl put --help");
    if (name && argc - first > 1)
        throw UsageError("--name names one file, but " + std::to_string(argc - first) +
                             " were given; upload them one at a time to name each",
                         "pixctl put --help");

    std::vector<Upload> ups;
    for (int i = first; i < argc; ++i) {
        Upload u;
        u.path = argv[i];
        u.name = store_name(u.path, name ? &*name : nullptr);
        ups.push_back(std::move(u));
    }
    uint64_t total = 0;
    if (!prepare(ups, total)) {
        std::fprintf(stderr, "pixctl: nothing was uploaded\n");
        return 1;
    }

    pixproto::Client client = connect(g);
    InterruptGuard guard;
    client.set_interrupt_fd(guard.fd());
    Uploader(client, ups, g.json).run(total);
    if (g.json)
        print_json(ups);
    bool all = std::all_of(ups.begin(), ups.end(), [](const Upload &u) { return u.entry.has_value(); });
    return all ? 0 : 1;
}

} // namespace

extern const Command put_command = {
    "put",
    "upload files to the store",
    "FILE... [--name NAME]",
    "Uploads each FILE to the server's store and prints the name, size and\n"
    "SHA-256 it was stored under. The store name is FILE's base name, or NAME,\n"
    "with spaces made '_'; the extension always comes from FILE (lower-cased):\n"
    "it is appended to NAME, or replaces NAME's own. Several files share one\n"
    "connection. Nothing is uploaded if a FILE is missing or two would get the\n"
    "same name; a file the server refuses does not stop the others.",
    put_options,
    run_put,
};

} // namespace pixctl
