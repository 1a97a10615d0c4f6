#include "keyfile.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pixctl {

namespace {

constexpr std::size_t max_file = 4096;

} // namespace

Key parse_key(const std::string &token, const std::string &what)
{
    std::string t = token;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '\t'))
        t.pop_back();
    std::size_t colon = t.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == t.size() ||
        t.find('\n') != std::string::npos)
        throw std::runtime_error(what + ": expected one line NAME:SECRET, the key's name and "
                                        "secret as in pixd's keys file");
    return Key{t.substr(0, colon), t.substr(colon + 1)};
}

std::optional<Key> load_key(const std::string &path)
{
    if (path.empty()) {
        const char *env = std::getenv("PIXD_KEY");
        if (!env || !*env)
            return std::nullopt;
        return parse_key(env, "PIXD_KEY");
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        throw std::runtime_error("--key " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)max_file) {
        ::close(fd);
        throw std::runtime_error("--key " + path + ": not a regular file of at most " +
                                 std::to_string(max_file) + " bytes");
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        ::close(fd);
        throw std::runtime_error("--key " + path + ": other users can read this key file; "
                                 "run chmod 600 " + path);
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd, &text[got], text.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    return parse_key(text, "--key " + path);
}

} // namespace pixctl
