#include "options.hpp"

#include <getopt.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pixctl {

namespace {

// getopt_long reports a long option by this value plus its table index, so
// that it never collides with a short option character.
constexpr int long_base = 256;

std::string dashed(const OptionSpec &o) { return std::string("--") + o.name; }

} // namespace

int parse_options(int argc, char **argv, OptionList options, bool stop_at_operand,
                  const std::string &hint,
                  const std::function<void(const OptionSpec &, const char *arg)> &on_option)
{
    // "+" stops at the first operand; ":" makes a missing argument return
    // ':' so that the messages are ours, not getopt's.
    std::string shorts = stop_at_operand ? "+:" : ":";
    std::vector<option> longs;
    for (std::size_t i = 0; i < options.size; ++i) {
        const OptionSpec &o = options.specs[i];
        longs.push_back({o.name, o.arg ? required_argument : no_argument, nullptr,
                         long_base + static_cast<int>(i)});
        if (o.short_name) {
            shorts += o.short_name;
            if (o.arg)
                shorts += ':';
        }
    }
    longs.push_back({nullptr, 0, nullptr, 0});

    auto by_value = [&](int v) -> const OptionSpec * {
        if (v >= long_base && v < long_base + static_cast<int>(options.size))
            return &options.specs[v - long_base];
        for (const OptionSpec &o : options) {
            if (o.short_name && o.short_name == v)
                return &o;
        }
        return nullptr;
    };

    opterr = 0;
    optind = 0; // glibc: 0 re-initialises, so each parse starts afresh
    for (;;) {
        int c = getopt_long(argc, argv, shorts.c_str(), longs.data(), nullptr);
        if (c == -1)
            break;
        if (c == ':') {
            const OptionSpec *o = by_value(optopt);
            std::string name = o ? dashed(*o) : std::string("-") + static_cast<char>(optopt);
            throw UsageError("option " + name + " needs an argument" +
                                 (o && o->arg ? std::string(" (") + o->arg + ")" : ""),
                             hint);
        }
        if (c == '?') {
            if (const OptionSpec *o = by_value(optopt))
                throw UsageError("option " + dashed(*o) + " takes no argument", hint);
            std::string bad = optopt ? std::string("-") + static_cast<char>(optopt)
                                     : std::string(argv[optind - 1]);
            std::size_t eq = bad.find('=');
            if (eq != std::string::npos)
                bad.resize(eq);
            throw UsageError("unknown option " + bad, hint, bad);
        }
        const OptionSpec *o = by_value(c);
        if (!o)
            throw UsageError("unexpected option parsing result", hint);
        on_option(*o, optarg);
    }
    return optind;
}

void print_options(std::FILE *out, OptionList options)
{
    std::size_t width = 0;
    for (const OptionSpec &o : options) {
        std::size_t w = std::strlen(o.name) + 2 + (o.arg ? std::strlen(o.arg) + 1 : 0);
        width = w > width ? w : width;
    }
    for (const OptionSpec &o : options) {
        std::string left = dashed(o) + (o.arg ? std::string(" ") + o.arg : "");
        std::fprintf(out, "  %-*s   %s", static_cast<int>(width), left.c_str(), o.help);
        if (o.short_name)
            std::fprintf(out, " (also -%c)", o.short_name);
        std::fputc('\n', out);
    }
}

long parse_integer(const std::string &what, const char *text, long min, long max,
                   const std::string &hint)
{
    // strtol also skips blanks and takes "+"; only plain integers are meant.
    const char *digits = text[0] == '-' ? text + 1 : text;
    bool plain = digits[0] != '\0' && std::strspn(digits, "0123456789") == std::strlen(digits);
    errno = 0;
    char *end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (!plain || end == text || *end != '\0')
        throw UsageError(what + " wants a whole number, not '" + text + "'", hint);
    if (errno == ERANGE || v < min || v > max)
        throw UsageError(what + " must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", not " + text,
                         hint);
    return v;
}

double parse_seconds(const std::string &what, const char *text, double max,
                     const std::string &hint)
{
    errno = 0;
    char *end = nullptr;
    double v = std::strtod(text, &end);
    // strtod also takes "inf", "nan" and hex; only plain decimals are meant.
    bool plain = std::strspn(text, "0123456789.") == std::strlen(text);
    if (end == text || *end != '\0' || !plain || !std::isfinite(v))
        throw UsageError(what + " wants seconds such as 5 or 0.5, not '" + text + "'", hint);
    if (errno == ERANGE || v < 0 || v > max) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", max);
        throw UsageError(what + " must be between 0 and " + buf + " seconds, not " + text, hint);
    }
    return v;
}

} // namespace pixctl
