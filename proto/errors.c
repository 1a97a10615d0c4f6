/* Names and texts of error codes and message types, from the header's
 * X-macro lists so that they cannot drift from the enums. */
#include <limits.h>
#include <stddef.h>

#include "pixproto.h"

struct entry {
    const char *name;
    const char *text;
};

static const struct entry errors[] = {
#define ERR_ENTRY(name, code, text) [code] = {#name, text},
    PIXPROTO_ERRNO_MAP(ERR_ENTRY)
#undef ERR_ENTRY
};

static const char *const types[256] = {
#define TYPE_ENTRY(name, code, str) [code] = str,
    PIXPROTO_TYPE_MAP(TYPE_ENTRY)
#undef TYPE_ENTRY
};

static const struct entry *lookup(int code)
{
    /* Library returns are negative and wire codes positive; both name the
     * same entry. INT_MIN has no positive counterpart. */
    if (code == INT_MIN)
        return NULL;
    if (code < 0)
        code = -code;
    if (code <= 0 || (size_t)code >= sizeof errors / sizeof errors[0])
        return NULL;
    return errors[code].name ? &errors[code] : NULL;
}

const char *pixproto_strerror(int code)
{
    const struct entry *e = lookup(code);

    if (e)
        return e->text;
    return code == 0 ? "success" : "unknown error";
}

const char *pixproto_errname(int code)
{
    const struct entry *e = lookup(code);

    return e ? e->name : NULL;
}

const char *pixproto_type_name(int type)
{
    if (type < 0 || type > 0xff)
        return NULL;
    return types[type];
}

int pixproto_type_known(int type)
{
    return pixproto_type_name(type) != NULL;
}
