// The access key pixctl proves to pixd: --key FILE or PIXD_KEY=NAME:SECRET.
#ifndef PIXCTL_KEYFILE_HPP
#define PIXCTL_KEYFILE_HPP

#include <optional>
#include <string>

namespace pixctl {

struct Key {
    std::string name;
    std::string secret;
};

// The key from path (when non-empty), else from $PIXD_KEY, else none.
// The file holds one line NAME:SECRET and must not be readable by group or
// others. Throws std::runtime_error saying what to fix; never quotes the
// secret.
std::optional<Key> load_key(const std::string &path);

// "NAME:SECRET" -> Key; what names the source in messages.
Key parse_key(const std::string &token, const std::string &what);

} // namespace pixctl

#endif
