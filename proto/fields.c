/* Message bodies as fields: u16 tag, u32 length, value. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "internal.h"

#define FIELD_HEAD 6u

void pixproto_buf_free(pixproto_buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Records err unless an earlier error is already recorded; returns the
 * error that sticks. */
static int set_err(pixproto_buf *b, int err)
{
    if (!b)
        return PIXPROTO_EINVALID;
    if (!b->err)
        b->err = err;
    return b->err;
}

/* Makes room for n more bytes. */
static int reserve(pixproto_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 64;
    uint8_t *p;

    if (n > SIZE_MAX - b->len)
        return PIXPROTO_ETOOBIG;
    if (b->len + n <= b->cap)
        return 0;
    while (cap < b->len + n)
        cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return PIXPROTO_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Appends head_len bytes of field head, then n value bytes. */
static int append(pixproto_buf *b, const uint8_t *head, size_t head_len,
                  const void *p, size_t n)
{
    int rc;

    if (!b || b->err)
        return set_err(b, 0);
    if (!p && n > 0)
        return set_err(b, PIXPROTO_EINVALID);
    if (n > SIZE_MAX - head_len)
        return set_err(b, PIXPROTO_ETOOBIG);
    if ((rc = reserve(b, head_len + n)) < 0)
        return set_err(b, rc);
    if (head_len > 0)
        memcpy(b->data + b->len, head, head_len);
    if (n > 0)
        memcpy(b->data + b->len + head_len, p, n);
    b->len += head_len + n;
    return 0;
}

int pixproto__buf_append(pixproto_buf *b, const void *p, size_t n)
{
    return append(b, NULL, 0, p, n);
}

int pixproto_put_bytes(pixproto_buf *b, uint16_t tag, const void *p, size_t n)
{
    uint8_t head[FIELD_HEAD];

    if (n > UINT32_MAX)
        return set_err(b, PIXPROTO_ETOOBIG);
    pixproto__put_be16(head, tag);
    pixproto__put_be32(head + 2, (uint32_t)n);
    return append(b, head, sizeof head, p, n);
}

int pixproto_put_u64(pixproto_buf *b, uint16_t tag, uint64_t v)
{
    uint8_t be[8];

    pixproto__put_be64(be, v);
    return pixproto_put_bytes(b, tag, be, sizeof be);
}

int pixproto_put_str(pixproto_buf *b, uint16_t tag, const char *s)
{
    if (!s)
        return set_err(b, PIXPROTO_EINVALID);
    return pixproto_put_bytes(b, tag, s, strlen(s));
}

void pixproto_reader_init(pixproto_reader *r, const void *body, size_t len)
{
    r->p = body;
    r->left = body ? len : 0;
}

int pixproto_field_next(pixproto_reader *r, pixproto_field *f)
{
    uint32_t len;

    if (r->left == 0)
        return 0;
    /* A truncated field leaves the reader where it is, so every later call
     * reports the same error rather than a clean end. */
    if (r->left < FIELD_HEAD)
        return PIXPROTO_EBADBODY;
    len = pixproto__get_be32(r->p + 2);
    if (len > r->left - FIELD_HEAD)
        return PIXPROTO_EBADBODY;
    f->tag = pixproto__get_be16(r->p);
    f->value = r->p + FIELD_HEAD;
    f->len = len;
    r->p += FIELD_HEAD + len;
    r->left -= FIELD_HEAD + len;
    return 1;
}

int pixproto_field_u64(const pixproto_field *f, uint64_t *v)
{
    if (f->len != 8)
        return PIXPROTO_EBADBODY;
    *v = pixproto__get_be64(f->value);
    return 0;
}

int pixproto_field_str(const pixproto_field *f, char *dst, size_t cap)
{
    size_t n = f->len;

    if (cap == 0)
        return PIXPROTO_ETOOBIG;
    dst[0] = '\0';
    if (n > 0 && memchr(f->value, 0, n))
        return PIXPROTO_EBADBODY;
    if (n >= cap) {
        n = cap - 1;
        /* Cut before a UTF-8 continuation byte, never inside a character. */
        while (n > 0 && (f->value[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, f->value, n);
    dst[n] = '\0';
    return n == f->len ? 0 : PIXPROTO_ETOOBIG;
}
