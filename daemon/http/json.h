/* A small JSON writer into a growable buffer, for HTTP replies.
 *
 * Enough for pixd's flat objects and arrays: the writer places commas
 * itself (one bit per nesting level), escapes strings per RFC 8259 and
 * replaces bytes that are not valid UTF-8 with U+FFFD, so whatever text
 * reaches it (a file name, a library's error message) yields valid JSON.
 * Allocation failure is sticky: b->err becomes -ENOMEM, later calls do
 * nothing, and the caller checks once at the end. The buffer doubles as a
 * plain text builder (pixd_buf_printf) for the metrics page. */
#ifndef PIXD_HTTP_JSON_H
#define PIXD_HTTP_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct pixd_buf {
    char *data;     /* malloc'd, NUL-terminated once anything was written */
    size_t len, cap;
    int err;        /* 0 or -ENOMEM */
    /* JSON state: depth of open containers (at most 63), a bit per level
     * set once that level holds a member, and whether a key was just
     * written (its value needs no comma). */
    unsigned depth;
    uint64_t used;
    int after_key;
} pixd_buf;

/* A zeroed pixd_buf is empty and ready; free releases data (accepts NULL). */
void pixd_buf_free(pixd_buf *b);
/* Take the bytes: the caller owns *data (free()) and b is empty again. */
char *pixd_buf_steal(pixd_buf *b, size_t *len);

void pixd_buf_add(pixd_buf *b, const void *p, size_t n);
void pixd_buf_puts(pixd_buf *b, const char *s);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void pixd_buf_printf(pixd_buf *b, const char *fmt, ...);

/* ---- JSON ---- */
void pixd_json_obj_open(pixd_buf *b);
void pixd_json_obj_close(pixd_buf *b);
void pixd_json_arr_open(pixd_buf *b);
void pixd_json_arr_close(pixd_buf *b);
/* A member name inside an object; the next value call writes its value. */
void pixd_json_key(pixd_buf *b, const char *key);
void pixd_json_str(pixd_buf *b, const char *s);           /* NULL writes null */
void pixd_json_str_n(pixd_buf *b, const char *s, size_t n);
void pixd_json_u64(pixd_buf *b, uint64_t v);
void pixd_json_i64(pixd_buf *b, int64_t v);
void pixd_json_double(pixd_buf *b, double v);             /* NaN, inf: null */
void pixd_json_bool(pixd_buf *b, int v);
void pixd_json_null(pixd_buf *b);

/* Shorthands: key and value in one call. */
void pixd_json_kstr(pixd_buf *b, const char *key, const char *s);
void pixd_json_ku64(pixd_buf *b, const char *key, uint64_t v);

/* Just the escaped body of a JSON string (no quotes); exposed for tests. */
void pixd_json_escape(pixd_buf *b, const char *s, size_t n);

#endif
