#include "entries.hpp"

#include <cstdio>

namespace pixctl {

void entry_members(Json &j, const pixproto::Entry &e)
{
    j.key("name").string(e.name);
    j.key("size").number(e.size);
    j.key("sha256");
    if (e.sha256)
        j.string(pixproto::sha256_hex(e));
    else
        j.null();
    j.key("mtime_ms");
    if (e.mtime_ms)
        j.number(e.mtime_ms);
    else
        j.null();
    j.key("type");
    if (e.type.empty())
        j.null();
    else
        j.string(e.type);
    j.key("width");
    if (e.width && e.height)
        j.number(uint64_t{e.width}).key("height").number(uint64_t{e.height});
    else
        j.null().key("height").null();
}

std::string short_sha256(const pixproto::Entry &e)
{
    if (!e.sha256)
        return "-";
    return pixproto::sha256_hex(e).substr(0, 16) + ellipsis();
}

std::string dimensions(const pixproto::Entry &e)
{
    if (!e.width || !e.height)
        return "-";
    return std::to_string(e.width) + "x" + std::to_string(e.height);
}

std::string failure_text(const pixproto::Error &e)
{
    std::string said = printable(e.what());
    std::string tail = " (" + e.name() + ")";
    // pixd's messages say what to do; a hint is added only to the generic
    // text of a code that came without one.
    bool bare = e.what() == pixproto::error_text(e.code());
    auto hint = [&](const char *what_to_do) { return said + tail + (bare ? what_to_do : ""); };
    switch (-e.code()) {
    case PIXPROTO_ENOTFOUND:
        return "not found on the server (see `pixctl ls`)";
    case PIXPROTO_EINVALID:
        return "the server refused the name: " + said + tail;
    case PIXPROTO_ETOOBIG:
        return hint(" — the server's --max-upload limits one file");
    case PIXPROTO_ENOSPACE:
        return hint(" — make room with `pixctl rm`, or raise the server's --max-store");
    case PIXPROTO_EINTEGRITY:
        return said + tail + " — the data changed on the way; try again";
    case PIXPROTO_EEXISTS:
        return hint(" — remove it first with `pixctl rm`, or choose another name");
    default:
        return said + tail;
    }
}

void failure_members(Json &j, const std::string &code, const std::string &message)
{
    j.key("error").string(code).key("message").string(message);
}

void report_failure(const std::string &op, const std::string &name, const std::string &why)
{
    std::fprintf(stderr, "pixctl: %s %s: %s\n", op.c_str(), printable(name).c_str(), why.c_str());
}

} // namespace pixctl
