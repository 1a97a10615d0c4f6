#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int parse_line(char *s, int lineno, pixd_config_cb cb, void *ctx,
                      char *err, size_t errlen) {
    char *end = s + strlen(s);
    char *eq, *key, *val, *k;

    for (char *c = s; c < end; c++)
        if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\r') {
            snprintf(err, errlen, "line %d: control character in line", lineno);
            return -EINVAL;
        }
    while (is_blank(*s))
        s++;
    while (end > s && is_blank(end[-1]))
        *--end = '\0';
    if (*s == '\0' || *s == '#')
        return 0;
    eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "line %d: expected \"key = value\"", lineno);
        return -EINVAL;
    }
    key = s;
    k = eq;
    while (k > key && is_blank(k[-1]))
        k--;
    *k = '\0';
    val = eq + 1;
    while (is_blank(*val))
        val++;
    if (*key == '\0') {
        snprintf(err, errlen, "line %d: missing key before '='", lineno);
        return -EINVAL;
    }
    for (k = key; *k; k++)
        if (!key_char(*k)) {
            snprintf(err, errlen,
                     "line %d: bad key \"%.40s\" (use option names like "
                     "max-connections)", lineno, key);
            return -EINVAL;
        }
    /* Allow a matching pair of quotes so values may keep edge spaces. */
    size_t vl = strlen(val);
    if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
        val[vl - 1] = '\0';
        val++;
    }
    char reason[256] = "";
    int r = cb(key, val, lineno, ctx, reason, sizeof reason);
    if (r < 0)
        snprintf(err, errlen, "line %d: %s", lineno, reason[0] ? reason : strerror(-r));
    return r;
}

int pixd_config_parse(const char *text, size_t len, pixd_config_cb cb,
                      void *ctx, char *err, size_t errlen) {
    char line[PIXD_CONFIG_MAX_LINE + 1];
    size_t pos = 0;
    int lineno = 0;

    if (len > PIXD_CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "file is larger than %u bytes", PIXD_CONFIG_MAX_BYTES);
        return -EFBIG;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n > PIXD_CONFIG_MAX_LINE) {
            snprintf(err, errlen, "line %d: longer than %d bytes", lineno,
                     PIXD_CONFIG_MAX_LINE);
            return -EINVAL;
        }
        if (memchr(text + pos, '\0', n)) {
            snprintf(err, errlen, "line %d: NUL byte in line", lineno);
            return -EINVAL;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        int r = parse_line(line, lineno, cb, ctx, err, errlen);
        if (r < 0)
            return r;
        pos += n + (nl ? 1 : 0);
    }
    return 0;
}
