#include "output.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace pixctl {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::size_t n;
    unsigned long min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size())
        return 0;
    unsigned long cp = c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

} // namespace

std::string json_quote(std::string_view s)
{
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    out += '"';
    return out;
}

void Json::separate()
{
    if (need_comma_)
        out_ += ',';
    need_comma_ = true;
}

Json &Json::begin_object()
{
    separate();
    out_ += '{';
    need_comma_ = false;
    return *this;
}

Json &Json::end_object()
{
    out_ += '}';
    need_comma_ = true;
    return *this;
}

Json &Json::begin_array()
{
    separate();
    out_ += '[';
    need_comma_ = false;
    return *this;
}

Json &Json::end_array()
{
    out_ += ']';
    need_comma_ = true;
    return *this;
}

Json &Json::key(std::string_view k)
{
    separate();
    out_ += json_quote(k);
    out_ += ':';
    need_comma_ = false;
    return *this;
}

Json &Json::string(std::string_view v)
{
    separate();
    out_ += json_quote(v);
    return *this;
}

Json &Json::number(uint64_t v)
{
    separate();
    out_ += std::to_string(v);
    return *this;
}

Json &Json::number(double v, int decimals)
{
    if (!std::isfinite(v))
        return null();
    separate();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    out_ += buf;
    return *this;
}

Json &Json::boolean(bool v)
{
    separate();
    out_ += v ? "true" : "false";
    return *this;
}

Json &Json::null()
{
    separate();
    out_ += "null";
    return *this;
}

std::string printable(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = utf8_length(s, i);
        unsigned char c = static_cast<unsigned char>(s[i]);
        // C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f") act like
        // escape sequences in UTF-8 terminals, as C0 ones do everywhere.
        bool control = n == 1 ? (c < 0x20 || c == 0x7f)
                              : n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
        if (n == 0 || control) {
            out += '?';
            i += n ? n : 1;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string human_duration(uint64_t ms)
{
    uint64_t s = ms / 1000;
    unsigned long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    char buf[64];
    if (d > 0)
        std::snprintf(buf, sizeof buf, "%llud %02lluh %02llum %02llus", d, h, m, sec);
    else if (h > 0)
        std::snprintf(buf, sizeof buf, "%lluh %02llum %02llus", h, m, sec);
    else if (m > 0)
        std::snprintf(buf, sizeof buf, "%llum %02llus", m, sec);
    else
        std::snprintf(buf, sizeof buf, "%llus", sec);
    return buf;
}

std::string format_ms(double ms)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

std::string bytes_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

std::string human_bytes(uint64_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024)
        return std::to_string(n) + " B";
    double v = static_cast<double>(n) / 1024.0;
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string local_time(uint64_t ms, bool zone)
{
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    if (!localtime_r(&t, &tm))
        return "?";
    char buf[64];
    if (std::strftime(buf, sizeof buf, zone ? "%Y-%m-%d %H:%M:%S %z" : "%Y-%m-%d %H:%M:%S", &tm) == 0)
        return "?";
    return buf;
}

const char *ellipsis()
{
    // The locale is never set (output stays byte-exact), so ask the
    // environment the way setlocale(LC_CTYPE, "") would.
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (const char *v : vars) {
        const char *val = std::getenv(v);
        if (val && *val) {
            std::string s(val);
            for (char &c : s)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos ? "\xe2\x80\xa6"
                                                                                                 : "...";
        }
    }
    return "...";
}

void emit(const std::string &s)
{
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
        throw std::runtime_error(std::string("cannot write the output: ") + std::strerror(errno));
}

} // namespace pixctl
