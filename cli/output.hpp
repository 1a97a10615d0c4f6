// Printing results: text for people, JSON (--json) for scripts.
#ifndef PIXCTL_OUTPUT_HPP
#define PIXCTL_OUTPUT_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace pixctl {

// A JSON string literal, quotes included. Control characters are escaped;
// bytes that are not UTF-8 become U+FFFD, so the output is always valid.
std::string json_quote(std::string_view s);

// Builds one JSON value in a string. Commas are placed automatically:
//   Json j; j.begin_object().key("pid").number(uint64_t{42}).end_object();
class Json {
public:
    Json &begin_object();
    Json &end_object();
    Json &begin_array();
    Json &end_array();
    Json &key(std::string_view k);
    Json &string(std::string_view v);
    Json &number(uint64_t v);
    // Fixed-point with the given decimals; NaN and infinities become null.
    Json &number(double v, int decimals);
    Json &boolean(bool v);
    Json &null();
    const std::string &str() const { return out_; }

private:
    void separate();
    std::string out_;
    bool need_comma_ = false;
};

// Text from the server made safe for a terminal: control characters (C0
// and C1, so no escape sequences) and bytes that are not UTF-8 become '?'.
std::string printable(std::string_view s);

// "2h 03m 10s", "3d 00h 00m 05s", "45s"
std::string human_duration(uint64_t ms);

// "0.123" (milliseconds with three decimals)
std::string format_ms(double ms);

// "1 byte", "1048576 bytes"
std::string bytes_text(uint64_t n);

// "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB"
std::string human_bytes(uint64_t n);

// "2024-05-01 12:34:56" in local time (with " +0200" when zone is set),
// from milliseconds since the Unix epoch.
std::string local_time(uint64_t ms, bool zone = false);

// "…" where the locale says UTF-8, else "...".
const char *ellipsis();

// Writes s to stdout; throws std::runtime_error when stdout fails (a full
// disk, a closed pipe) so that the exit status says so.
void emit(const std::string &s);

} // namespace pixctl

#endif
