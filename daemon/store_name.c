#include "store_name.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at p (at most left bytes), or 0 if it is not
 * a well-formed one (RFC 3629, table 3-7 of the Unicode standard). The
 * second byte's range is what rules out overlong forms (E0, F0),
 * surrogates (ED) and code points past U+10FFFF (F4); C0, C1 and F5..FF
 * never start a sequence. *cp receives the code point. */
static size_t utf8_seq(const unsigned char *p, size_t left, uint32_t *cp) {
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        *cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        *cp = c & 0x0fu;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        *cp = c & 0x07u;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (left < len)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    *cp = (*cp << 6) | (p[1] & 0x3fu);
    for (size_t i = 2; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3fu);
    }
    return len;
}

/* snprintf into a caller's buffer that may be NULL with errlen 0. */
#define FAIL(...)                                                              \
    do {                                                                       \
        if (errlen > 0)                                                        \
            snprintf(err, errlen, __VA_ARGS__);                                \
        return -EINVAL;                                                        \
    } while (0)

/* The rules, for both entry points; on_disk refuses spaces instead of
 * normalising them. Writes nothing to out (which may be NULL). */
static int check(const unsigned char *p, size_t n, int on_disk, char *err,
                 size_t errlen) {
    if (n == 0)
        FAIL("name is empty");
    if (n > PIXPROTO_NAME_MAX)
        FAIL("name is longer than %d bytes", PIXPROTO_NAME_MAX);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(p + i, n - i, &cp);
        if (len == 0)
            FAIL("name is not valid UTF-8 (at byte offset %zu)", i);
        if (cp == 0)
            FAIL("name must not contain a NUL byte (at byte offset %zu)", i);
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            FAIL("name must not contain control characters "
                 "(U+%04X at byte offset %zu)", (unsigned)cp, i);
        if (cp == '/')
            FAIL("name must not contain '/'");
        if (cp == '\\')
            FAIL("name must not contain '\\'");
        if (cp == ' ' && on_disk)
            FAIL("name must not contain spaces");
        i += len;
    }
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        FAIL("name must not be '.' or '..'");
    if (p[0] == '.')
        FAIL("name must not start with '.'");
    if (p[0] == '-')
        FAIL("name must not start with '-'");
    if (p[n - 1] == '.')
        FAIL("name must not end with '.'");
    return 0;
}

int pixd_store_name_check_n(const char *p, size_t n, char *out, size_t outlen,
                            char *err, size_t errlen) {
    int r = check((const unsigned char *)p, n, 0, err, errlen);
    if (r < 0)
        return r;
    if (outlen <= n) {
        if (errlen > 0)
            snprintf(err, errlen, "name buffer too small");
        return -ERANGE;
    }
    /* memmove: out may be the name itself; the mapping is byte for byte. */
    memmove(out, p, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (out[i] == ' ')
            out[i] = '_';
    return 0;
}

int pixd_store_name_check(const char *name, char *out, size_t outlen,
                          char *err, size_t errlen) {
    /* Bounded: a name past the limit is refused without reading all of it. */
    size_t n = strnlen(name, PIXPROTO_NAME_MAX + 1);
    return pixd_store_name_check_n(name, n, out, outlen, err, errlen);
}

int pixd_store_name_is_valid(const char *name) {
    size_t n = strnlen(name, PIXPROTO_NAME_MAX + 1);
    return check((const unsigned char *)name, n, 1, NULL, 0) == 0;
}
