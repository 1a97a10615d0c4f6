#include "names.hpp"

#include "output.hpp"

#include <pixproto.h>

namespace pixctl {

std::string base_name(std::string_view path)
{
    std::size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string extension_of(std::string_view path)
{
    std::string base = base_name(path);
    std::size_t dot = base.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == base.size())
        return "";
    std::string ext = base.substr(dot);
    for (char &c : ext) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return ext;
}

std::string normalize_name(std::string_view name)
{
    std::string out(name);
    for (char &c : out) {
        if (c == ' ')
            c = '_';
    }
    return out;
}

std::string store_name(std::string_view source, const std::string *given)
{
    std::string name = normalize_name(given ? *given : base_name(source));
    std::string ext = normalize_name(extension_of(source));
    if (ext.empty())
        return name;
    std::string own = extension_of(name);
    name.resize(name.size() - own.size());
    // "photo." + ".jpg" would make "photo..jpg".
    while (!name.empty() && name.back() == '.')
        name.pop_back();
    return name + ext;
}

std::string name_problem(std::string_view name)
{
    // The rules of pixd-protocol(7), as the server applies them to what
    // it receives (after spaces became '_').
    if (name.empty())
        return "a store name cannot be empty";
    if (name.size() > PIXPROTO_NAME_MAX)
        return "a store name has at most " + std::to_string(PIXPROTO_NAME_MAX) + " bytes, this one " +
               std::to_string(name.size());
    if (printable(name) != name)
        return "a store name must be UTF-8 text without control characters";
    if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
        return "a store name cannot contain '/' or '\\'";
    if (name.front() == '.')
        return "a store name cannot start with '.'";
    if (name.front() == '-')
        return "a store name cannot start with '-'";
    if (name.back() == '.')
        return "a store name cannot end with '.'";
    return "";
}

} // namespace pixctl
