// What put, get, ls, stat and rm share: store entries as text and JSON, and
// failures of store requests as messages that say what to do.
#ifndef PIXCTL_ENTRIES_HPP
#define PIXCTL_ENTRIES_HPP

#include "output.hpp"

#include <pixproto.hpp>

#include <string>

namespace pixctl {

// The entry's fields as JSON members (inside an object the caller opened):
// name, size, sha256 (hex), mtime_ms, type, width, height; null for what
// the server did not send.
void entry_members(Json &j, const pixproto::Entry &e);

// "0123456789abcdef…" (the first 16 hex digits), or "-".
std::string short_sha256(const pixproto::Entry &e);

// "4000x3000", or "-" when not an image.
std::string dimensions(const pixproto::Entry &e);

// A failed store request for one file, as a message after
// "pixctl: OP NAME: ": the server's words, the error's name, and what to
// do about it.
std::string failure_text(const pixproto::Error &e);

// One failure in a per-file JSON array: members error (the code's name, or
// "LOCAL" for a local file problem) and message.
void failure_members(Json &j, const std::string &code, const std::string &message);

// Prints "pixctl: OP NAME: WHY" on stderr.
void report_failure(const std::string &op, const std::string &name, const std::string &why);

} // namespace pixctl

#endif
