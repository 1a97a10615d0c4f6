// Option tables: one table per command line (global, each command) drives
// getopt_long, the --help text and, through a test, the man page.
#ifndef PIXCTL_OPTIONS_HPP
#define PIXCTL_OPTIONS_HPP

#include <cstddef>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace pixctl {

struct OptionSpec {
    const char *name;  // long name without "--"
    char short_name;   // 0 if none
    const char *arg;   // argument name for --help ("PORT"), nullptr if none
    const char *help;  // one line
};

// A view of a constant option table (an array defined next to its command).
struct OptionList {
    const OptionSpec *specs = nullptr;
    std::size_t size = 0;

    template <std::size_t N>
    constexpr OptionList(const OptionSpec (&a)[N]) : specs(a), size(N) {}
    constexpr OptionList(const OptionSpec *p, std::size_t n) : specs(p), size(n) {}
    constexpr OptionList() = default;
    const OptionSpec *begin() const { return specs; }
    const OptionSpec *end() const { return specs + size; }
};

// Bad usage: exit status 2. what() says what is wrong; hint names the help
// to read ("pixctl --help", "pixctl ping --help").
class UsageError : public std::runtime_error {
public:
    UsageError(const std::string &what, std::string hint = "pixctl --help",
               std::string unknown_option = "")
        : std::runtime_error(what), hint_(std::move(hint)), unknown_(std::move(unknown_option))
    {
    }
    const std::string &hint() const { return hint_; }
    // The option that was not recognised ("--json"), if that was the error.
    const std::string &unknown_option() const { return unknown_; }

private:
    std::string hint_;
    std::string unknown_;
};

// Parses options from argv[1..] with getopt_long. stop_at_operand: stop at
// the first operand (global options, which end at the command); otherwise
// options and operands may mix (GNU style). Calls on_option for each option
// given; returns the index of the first operand. Throws UsageError with
// hint as its hint.
int parse_options(int argc, char **argv, OptionList options, bool stop_at_operand,
                  const std::string &hint,
                  const std::function<void(const OptionSpec &, const char *arg)> &on_option);

// "  --name ARG    help (also -n)", one line per option.
void print_options(std::FILE *out, OptionList options);

// Strict number parsing for option values; the whole text must be a number
// in [min, max]. what names the option in messages ("--port").
long parse_integer(const std::string &what, const char *text, long min, long max,
                   const std::string &hint);
double parse_seconds(const std::string &what, const char *text, double max,
                     const std::string &hint);

} // namespace pixctl

#endif
