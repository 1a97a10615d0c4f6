#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 63u

void pixd_buf_free(pixd_buf *b) {
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *pixd_buf_steal(pixd_buf *b, size_t *len) {
    char *p = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

/* Room for n more bytes plus the NUL. */
static int reserve(pixd_buf *b, size_t n) {
    size_t cap;
    char *p;
    if (b->err)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    if (!(p = realloc(b->data, cap)))
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->err = -ENOMEM;
    return -1;
}

void pixd_buf_add(pixd_buf *b, const void *p, size_t n) {
    if (reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pixd_buf_puts(pixd_buf *b, const char *s) { pixd_buf_add(b, s, strlen(s)); }

void pixd_buf_printf(pixd_buf *b, const char *fmt, ...) {
    va_list ap;
    int n;
    if (b->err)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = -EINVAL;
        return;
    }
    if (b->data && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return;
    }
    if (reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- JSON ---- */

/* Before a value or key: a comma unless it is the first of its container
 * or the value of the key just written. */
static void sep(pixd_buf *b) {
    uint64_t bit;
    if (b->after_key) {
        b->after_key = 0;
        return;
    }
    if (b->depth == 0)
        return;
    bit = (uint64_t)1 << (b->depth - 1);
    if (b->used & bit)
        pixd_buf_add(b, ",", 1);
    b->used |= bit;
}

static void open_c(pixd_buf *b, char c) {
    sep(b);
    pixd_buf_add(b, &c, 1);
    if (b->depth >= MAX_DEPTH) {
        b->err = -EINVAL; /* a programming error: pixd writes flat documents */
        return;
    }
    b->depth++;
    b->used &= ~((uint64_t)1 << (b->depth - 1));
}

static void close_c(pixd_buf *b, char c) {
    if (b->depth)
        b->depth--;
    b->after_key = 0;
    pixd_buf_add(b, &c, 1);
}

void pixd_json_obj_open(pixd_buf *b) { open_c(b, '{'); }
void pixd_json_obj_close(pixd_buf *b) { close_c(b, '}'); }
void pixd_json_arr_open(pixd_buf *b) { open_c(b, '['); }
void pixd_json_arr_close(pixd_buf *b) { close_c(b, ']'); }

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0 if it is not. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    size_t len, i;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void pixd_json_escape(pixd_buf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        size_t k;
        /* Copy the longest stretch that needs no escaping in one go. */
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && (k = utf8_len(p, (size_t)(end - p))))
            p += k;
        pixd_buf_add(b, run, (size_t)(p - run));
        if (p >= end)
            break;
        switch (*p) {
        case '"': pixd_buf_add(b, "\\\"", 2); break;
        case '\\': pixd_buf_add(b, "\\\\", 2); break;
        case '\n': pixd_buf_add(b, "\\n", 2); break;
        case '\r': pixd_buf_add(b, "\\r", 2); break;
        case '\t': pixd_buf_add(b, "\\t", 2); break;
        default:
            if (*p < 0x20)
                pixd_buf_printf(b, "\\u%04x", *p);
            else
                pixd_buf_add(b, "\\ufffd", 6); /* not UTF-8 */
        }
        p++;
    }
}

void pixd_json_key(pixd_buf *b, const char *key) {
    sep(b);
    pixd_buf_add(b, "\"", 1);
    pixd_json_escape(b, key, strlen(key));
    pixd_buf_add(b, "\":", 2);
    b->after_key = 1;
}

void pixd_json_str_n(pixd_buf *b, const char *s, size_t n) {
    sep(b);
    pixd_buf_add(b, "\"", 1);
    pixd_json_escape(b, s, n);
    pixd_buf_add(b, "\"", 1);
}

void pixd_json_str(pixd_buf *b, const char *s) {
    if (!s)
        pixd_json_null(b);
    else
        pixd_json_str_n(b, s, strlen(s));
}

void pixd_json_u64(pixd_buf *b, uint64_t v) {
    sep(b);
    pixd_buf_printf(b, "%" PRIu64, v);
}

void pixd_json_i64(pixd_buf *b, int64_t v) {
    sep(b);
    pixd_buf_printf(b, "%" PRId64, v);
}

void pixd_json_double(pixd_buf *b, double v) {
    if (!isfinite(v)) {
        pixd_json_null(b);
        return;
    }
    sep(b);
    pixd_buf_printf(b, "%.6g", v);
}

void pixd_json_bool(pixd_buf *b, int v) {
    sep(b);
    pixd_buf_puts(b, v ? "true" : "false");
}

void pixd_json_null(pixd_buf *b) {
    sep(b);
    pixd_buf_puts(b, "null");
}

void pixd_json_kstr(pixd_buf *b, const char *key, const char *s) {
    pixd_json_key(b, key);
    pixd_json_str(b, s);
}

void pixd_json_ku64(pixd_buf *b, const char *key, uint64_t v) {
    pixd_json_key(b, key);
    pixd_json_u64(b, v);
}
