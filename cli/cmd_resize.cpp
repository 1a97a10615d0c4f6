// pixctl resize FILE... [options]: resize images on the server.
//
// Every image goes over one connection, and several requests are in flight
// at once (--jobs, 4 by default) so that the server's workers run them in
// parallel: while one job runs, the next image is already on its way. The
// results come back as they are done, each written to PATH.part as its
// DATA frames arrive and renamed to PATH at its END; the statistics are
// printed in the order of the sources.
//
// Here: the options, and where each result goes, checked before anything
// is sent; the requests themselves, BUSY and the results are
// resize_pipeline.cpp's.
#include "commands.hpp"
#include "entries.hpp"
#include "interrupt.hpp"
#include "localfile.hpp"
#include "names.hpp"
#include "output.hpp"
#include "resize_pipeline.hpp"

#include <pixproto_client.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace pixctl {

extern const Command resize_command;

namespace {

using namespace resize;

const char *const hint = "pixctl resize --help";

const OptionSpec resize_options[] = {
    {"width", 0, "W", "target width in pixels (0 or absent: from the height, aspect kept)"},
    {"height", 0, "H", "target height in pixels (0 or absent: from the width, aspect kept)"},
    {"mode", 0, "MODE", "fit (default: inside the box), fill (cover it, crop the centre) or stretch"},
    {"quality", 'q', "Q", "JPEG/WebP quality 1..100 (default: the server's --jpeg-quality, 85)"},
    {"format", 0, "FMT", "output format: jpeg (default), png or webp"},
    {"sharpen", 0, "R,A,T", "unsharp mask: radius, amount, threshold, as in 2,1.5,3"},
    {"enlarge", 0, nullptr, "allow the output to be larger than the input"},
    {"progressive", 0, nullptr, "write a progressive JPEG"},
    {"precise", 0, nullptr, "decode JPEG at no less than twice the target size (slower, sharper)"},
    {"stored", 0, "NAME", "also resize the stored image NAME (repeatable)"},
    {"store-as", 0, "NAME", "store the result on the server as NAME instead of downloading it"},
    {"output", 'o', "OUT", "output file (one source; - for standard output) or existing directory"},
    {"force", 'f', nullptr, "replace output files that exist already"},
    {"jobs", 'j', "N", "requests in flight at once, 1..64 (default 4)"},
    {"help", 'h', nullptr, "show this help"},
};

// The format a file name's extension stands for, if it names one.
std::optional<Format> format_of_extension(const std::string &path)
{
    std::string ext = extension_of(path);
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".jpe" || ext == ".jfif")
        return Format::jpeg;
    if (ext == ".png")
        return Format::png;
    if (ext == ".webp")
        return Format::webp;
    return std::nullopt;
}

// "processed_photo.jpg" for photo.png and JPEG output: seed 004's prefix,
// and the extension of the output format unless the source's already is.
std::string processed_name(const std::string &source, Format f)
{
    std::string base = base_name(source);
    std::optional<Format> own = format_of_extension(base);
    if (!own || *own != f) {
        std::string ext = extension_of(base);
        base.resize(base.size() - ext.size());
        while (!base.empty() && base.back() == '.')
            base.pop_back();
        base += f == Format::jpeg ? ".jpg" : f == Format::png ? ".png" : ".webp";
    }
    return "processed_" + base;
}

std::string dir_part(const std::string &path)
{
    std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string join(const std::string &dir, const std::string &name)
{
    if (dir.empty())
        return name;
    return dir + (dir.back() == '/' ? "" : "/") + name;
}

Format parse_format(const char *arg)
{
    std::string s = arg;
    for (char &c : s)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (s == "jpeg" || s == "jpg")
        return Format::jpeg;
    if (s == "png")
        return Format::png;
    if (s == "webp")
        return Format::webp;
    throw UsageError(std::string("--format must be jpeg, png or webp, not '") + arg + "'", hint);
}

// The server's rules (native_resize.c): radius in (0, 50], amount in
// [0, 10], threshold 0..255.
std::string parse_sharpen(const char *arg)
{
    float r = 0, a = 0;
    int t = 0, n = 0;
    if (std::sscanf(arg, "%f,%f,%d%n", &r, &a, &t, &n) != 3 || arg[n] != '\0')
        throw UsageError(std::string("--sharpen wants RADIUS,AMOUNT,THRESHOLD as in 2,1.5,3, not '") + arg + "'",
                         hint);
    if (!(r > 0 && r <= 50) || !(a >= 0 && a <= 10) || t < 0 || t > 255)
        throw UsageError(std::string("--sharpen ") + arg +
                             ": the radius must be over 0 and at most 50, the amount 0 to 10, the threshold 0 to 255",
                         hint);
    return arg;
}

// A store name given to --stored or --store-as, normalised as the server
// does; a bad one is a usage error.
std::string store_name_arg(const char *option, const char *arg)
{
    std::string name = normalize_name(arg);
    std::string why = name_problem(name);
    if (!why.empty())
        throw UsageError(std::string(option) + " " + printable(arg) + ": " + why, hint);
    return name;
}

// The output format from --format, or else from the extension of -o FILE or
// --store-as NAME; a format that contradicts such an extension is refused.
void settle_format(Settings &s, const std::optional<std::string> &named)
{
    if (!named)
        return;
    std::optional<Format> ext = format_of_extension(*named);
    if (!ext)
        return;
    if (!s.format)
        s.format = ext;
    else if (*s.format != *ext)
        throw UsageError(printable(*named) + " names a " + format_name(*ext) + " file, but --format " +
                             format_name(*s.format) + " was asked; make them agree",
                         hint);
}

int run_resize(Globals &g, int argc, char **argv)
{
    Settings s;
    std::vector<std::string> stored;
    int first = parse_command_options(resize_command, g, argc, argv, [&](const OptionSpec &o, const char *arg) {
        std::string name = o.name;
        if (name == "width")
            s.width = static_cast<uint64_t>(parse_integer("--width", arg, 0, 65535, hint));
        else if (name == "height")
            s.height = static_cast<uint64_t>(parse_integer("--height", arg, 0, 65535, hint));
        else if (name == "quality")
            s.quality = static_cast<uint64_t>(parse_integer("--quality", arg, 1, 100, hint));
        else if (name == "mode") {
            if (std::strcmp(arg, "fit") != 0 && std::strcmp(arg, "fill") != 0 && std::strcmp(arg, "stretch") != 0)
                throw UsageError(std::string("--mode must be fit, fill or stretch, not '") + arg + "'", hint);
            s.mode = arg;
        } else if (name == "format")
            s.format = parse_format(arg);
        else if (name == "sharpen")
            s.sharpen = parse_sharpen(arg);
        else if (name == "enlarge")
            s.enlarge = true;
        else if (name == "progressive")
            s.progressive = true;
        else if (name == "precise")
            s.precise = true;
        else if (name == "stored")
            stored.push_back(store_name_arg("--stored", arg));
        else if (name == "store-as")
            s.store_as = store_name_arg("--store-as", arg);
        else if (name == "output") {
            if (*arg == '\0')
                throw UsageError("-o wants a file or directory, or - for standard output", hint);
            s.output = arg;
        } else if (name == "force")
            s.force = true;
        else if (name == "jobs")
            s.jobs = parse_integer("--jobs", arg, 1, 64, hint);
    });
    if (first < 0)
        return 0;

    std::vector<Job> jobs;
    for (int i = first; i < argc; ++i) {
        Job j;
        j.path = argv[i];
        jobs.push_back(std::move(j));
    }
    for (const std::string &name : stored) {
        Job j;
        j.stored = name;
        jobs.push_back(std::move(j));
    }
    if (jobs.empty())
        throw UsageError("resize wants at least one FILE, or --stored NAME", hint);
    std::size_t count = jobs.size();
    bool to_stdout = s.output && *s.output == "-";
    bool into_dir = s.output && !to_stdout && is_directory(*s.output);
    if (s.store_as && s.output)
        throw UsageError("--store-as keeps the result on the server, so -o has nothing to write; choose one", hint);
    if (s.store_as && count > 1)
        throw UsageError("--store-as names one result, but " + std::to_string(count) +
                             " images were given; resize them one at a time",
                         hint);
    if (to_stdout && count > 1)
        throw UsageError("-o - takes one image; for several, -o names a directory", hint);
    if (to_stdout && g.json)
        throw UsageError("--json and -o - would both write to standard output; choose one", hint);
    if (s.output && !to_stdout && !into_dir && count > 1)
        throw UsageError("with several images, -o must name an existing directory, and " + printable(*s.output) +
                             " is not one",
                         hint);
    settle_format(s, s.output && !to_stdout && !into_dir ? s.output : s.store_as);

    // Where each result goes, checked before anything is sent: an existing
    // file (without --force), or two results for one path, fail that image
    // only.
    std::map<std::string, std::string> taken; // dest -> source
    for (Job &j : jobs) {
        if (s.store_as)
            break;
        const std::string &src = j.stored.empty() ? j.path : j.stored;
        if (to_stdout || (s.output && !into_dir))
            j.dest = *s.output;
        else if (into_dir)
            j.dest = join(*s.output, processed_name(src, s.out_format()));
        else
            j.dest = join(j.stored.empty() ? dir_part(j.path) : "", processed_name(src, s.out_format()));
        std::string why;
        struct stat st{};
        if (j.stored.empty() && ::stat(j.path.c_str(), &st) < 0)
            why = errno_text(errno);
        else if (j.stored.empty() && !S_ISREG(st.st_mode))
            why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
        else if (j.dest != "-" && !s.force && exists(j.dest))
            why = "the output " + printable(j.dest) + " exists already; use --force to replace it, or -o";
        else if (j.dest != "-") {
            auto [it, fresh] = taken.emplace(j.dest, j.label());
            if (!fresh)
                why = "its result would be written to " + printable(j.dest) + ", as that of " +
                      printable(it->second) + " is; resize them separately, or with -o DIR";
        }
        if (!why.empty()) {
            j.state = Job::State::failed;
            j.code = "LOCAL";
            j.message = why;
        }
    }

    bool any = std::any_of(jobs.begin(), jobs.end(), [](const Job &j) { return !j.resolved(); });
    auto t0 = Clock::now();
    if (any) {
        pixproto::Client client = connect(g);
        InterruptGuard guard;
        client.set_interrupt_fd(guard.fd());
        run_jobs(client, jobs, s, g.json);
    } else {
        for (const Job &j : jobs)
            report_failure("resize", j.label(), j.message);
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::size_t ok = static_cast<std::size_t>(
        std::count_if(jobs.begin(), jobs.end(), [](const Job &j) { return j.state == Job::State::done; }));
    if (g.json) {
        print_json(jobs, s);
    } else if (count > 1) {
        char line[160];
        std::snprintf(line, sizeof line, "%zu of %zu images resized in %.2f s (%.1f images/s)\n", ok, count, secs,
                      secs > 0 ? double(ok) / secs : 0.0);
        if (to_stdout)
            std::fputs(line, stderr);
        else
            emit(line);
    }
    return ok == count ? 0 : 1;
}

} // namespace

extern const Command resize_command = {
    "resize",
    "resize images on the server",
    "FILE... [--width W] [--height H] [--mode MODE] [--quality Q] [--format FMT]\n"
    "       [--sharpen R,A,T] [--enlarge] [--progressive] [--stored NAME] [--store-as NAME]\n"
    "       [-o OUT] [--force] [--jobs N]",
    "Sends each FILE (and each stored image named by --stored) to the server,\n"
    "which resizes it into the box W x H and encodes it, and saves the result\n"
    "as processed_NAME beside FILE (in the current directory for --stored),\n"
    "with the extension of the output format, or to OUT. Prints the sizes and\n"
    "dimensions before and after, the server's processing and queue time, the\n"
    "JPEG DCT scale used and the compression ratio. All images share one\n"
    "connection and several are in flight at once, so the server's workers\n"
    "run in parallel. An image the server refuses does not stop the others.\n"
    "Without --format, the extension of -o FILE or --store-as NAME chooses\n"
    "the format (JPEG otherwise). Existing files are not replaced without\n"
    "--force.",
    resize_options,
    run_resize,
};

} // namespace pixctl
