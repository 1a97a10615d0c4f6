// Store names on the client side. The server applies the same rules and has
// the last word; these give the name a file will be stored under and a
// friendlier message than a round trip would, before anything is sent.
#ifndef PIXCTL_NAMES_HPP
#define PIXCTL_NAMES_HPP

#include <string>
#include <string_view>

namespace pixctl {

// The part of path after its last '/' (path itself if none).
std::string base_name(std::string_view path);

// ".jpg" for "Photo.JPG": the source's extension, lower-cased, dot
// included; "" when the base name has none (no dot, only a leading dot, or
// a trailing dot).
std::string extension_of(std::string_view path);

// Spaces become '_', as the server does; other bytes stay.
std::string normalize_name(std::string_view name);

// The name `pixctl put SOURCE [--name GIVEN]` stores SOURCE under: GIVEN,
// or SOURCE's base name, with spaces made '_' and the extension taken from
// SOURCE (appended, or replacing GIVEN's). A SOURCE without an extension
// leaves the name's as it is.
std::string store_name(std::string_view source, const std::string *given);

// Why the server will refuse name, or "" if these checks pass: the rules
// of pixd-protocol(7) (1 to PIXPROTO_NAME_MAX bytes of UTF-8, no control
// characters, no '/' or '\\', no leading '.' or '-', no trailing '.').
// The server checks again and has the last word.
std::string name_problem(std::string_view name);

} // namespace pixctl

#endif
