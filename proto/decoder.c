/* Incremental frame decoder: bytes in any split in, whole frames out. */
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "bytes.h"
#include "pixproto.h"

struct pixproto_decoder {
    size_t max_body;
    int err;                           /* sticky once set */
    uint8_t hdr[PIXPROTO_HEADER_SIZE];
    size_t hdr_fill;
    uint8_t type, flags;
    uint32_t id;
    size_t body_len;                   /* as on the wire */
    size_t body_fill;
    uint8_t *body;                     /* wire body, reused across frames */
    size_t body_cap;
    uint8_t *plain;                    /* inflated body, reused likewise */
    size_t plain_cap;
    z_stream z;
    int z_ready;
};

/* Something to point an empty body at, so that callers never see NULL. */
static const uint8_t empty_body[1];

pixproto_decoder *pixproto_decoder_new(size_t max_body)
{
    pixproto_decoder *d = calloc(1, sizeof *d);

    if (!d)
        return NULL;
    if (max_body == 0 || max_body > PIXPROTO_MAX_BODY)
        max_body = PIXPROTO_MAX_BODY;
    d->max_body = max_body;
    return d;
}

void pixproto_decoder_free(pixproto_decoder *d)
{
    if (!d)
        return;
    if (d->z_ready)
        inflateEnd(&d->z);
    free(d->body);
    free(d->plain);
    free(d);
}

uint8_t *pixproto_decoder_take_body(pixproto_decoder *d, const pixproto_frame *f)
{
    uint8_t *body;

    if (!d || !f || !d->body || f->body != d->body || f->len == 0)
        return NULL;
    body = d->body;
    d->body = NULL;
    d->body_cap = 0;
    return body;
}

static int fail(pixproto_decoder *d, int err);
static int grow(uint8_t **buf, size_t *cap, size_t need);

int pixproto_decoder_window(pixproto_decoder *d, uint8_t **p, size_t *len)
{
    int rc;

    if (!d || !p || !len)
        return PIXPROTO_EINVALID;
    *p = NULL;
    *len = 0;
    if (d->err)
        return d->err;
    if (d->hdr_fill < PIXPROTO_HEADER_SIZE || d->body_fill >= d->body_len)
        return 0;
    if ((rc = grow(&d->body, &d->body_cap, d->body_len)) < 0)
        return fail(d, rc);
    *p = d->body + d->body_fill;
    *len = d->body_len - d->body_fill;
    return 0;
}

int pixproto_decoder_commit(pixproto_decoder *d, size_t n)
{
    if (!d)
        return PIXPROTO_EINVALID;
    if (d->err)
        return d->err;
    if (n == 0)
        return 0;
    if (d->hdr_fill < PIXPROTO_HEADER_SIZE || !d->body || n > d->body_len - d->body_fill)
        return fail(d, PIXPROTO_EINVALID);
    d->body_fill += n;
    return 0;
}

size_t pixproto_decoder_pending(const pixproto_decoder *d)
{
    return d ? d->hdr_fill + d->body_fill : 0;
}

static int fail(pixproto_decoder *d, int err)
{
    d->err = err;
    return err;
}

static int parse_header(pixproto_decoder *d)
{
    const uint8_t *h = d->hdr;

    d->type = h[0];
    d->flags = h[1];
    d->id = pixproto__get_be32(h + 4);
    d->body_len = pixproto__get_be32(h + 8);
    d->body_fill = 0;
    if (pixproto__get_be16(h + 2) != 0 || (d->flags & ~PIXPROTO_F_ALL))
        return PIXPROTO_EBADFRAME;
    if (d->body_len > d->max_body)
        return PIXPROTO_ETOOBIG;
    if ((d->flags & PIXPROTO_F_ZLIB) && d->body_len == 0)
        return PIXPROTO_EZLIB;
    return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p;

    if (need <= *cap)
        return 0;
    p = realloc(*buf, need);
    if (!p)
        return PIXPROTO_ENOMEM;
    *buf = p;
    *cap = need;
    return 0;
}

/* Inflates src into d->plain. The buffer may grow to max_body + 1 bytes:
 * filling that last byte is how a body that inflates too far is caught
 * without inflating any further. */
static int inflate_body(pixproto_decoder *d, const uint8_t *src, size_t n,
                        size_t *plain_len)
{
    const size_t ceiling = d->max_body + 1;
    z_stream *z = &d->z;
    int rc;

    if (!d->z_ready) {
        memset(z, 0, sizeof *z);
        if (inflateInit(z) != Z_OK)
            return PIXPROTO_ENOMEM;
        d->z_ready = 1;
    } else if (inflateReset(z) != Z_OK) {
        return PIXPROTO_EZLIB;
    }
    z->next_in = src;
    z->avail_in = (uInt)n;
    z->next_out = d->plain;
    z->avail_out = (uInt)d->plain_cap;
    for (;;) {
        if (z->avail_out == 0) {
            size_t have = z->total_out;
            size_t want = d->plain_cap ? d->plain_cap * 2 : 4 * n + 64;

            if (have >= ceiling)
                return PIXPROTO_ETOOBIG;
            if (want > ceiling)
                want = ceiling;
            if (grow(&d->plain, &d->plain_cap, want) < 0)
                return PIXPROTO_ENOMEM;
            z->next_out = d->plain + have;
            z->avail_out = (uInt)(d->plain_cap - have);
        }
        rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_OK || (rc == Z_BUF_ERROR && z->avail_out == 0))
            continue;
        /* Z_BUF_ERROR with room left means the input ran out mid-stream. */
        return rc == Z_MEM_ERROR ? PIXPROTO_ENOMEM : PIXPROTO_EZLIB;
    }
    if (z->total_out > d->max_body)
        return PIXPROTO_ETOOBIG;
    if (z->avail_in != 0)
        return PIXPROTO_EZLIB;
    *plain_len = z->total_out;
    return 0;
}

/* Hands out the frame whose body is src[0..n): d->body, or for a zlib body
 * possibly the caller's input, since inflating copies it anyway. */
static int emit(pixproto_decoder *d, const uint8_t *src, size_t n,
                pixproto_frame *out)
{
    size_t len = n;
    int rc;

    d->hdr_fill = 0;
    d->body_fill = 0;
    if (d->flags & PIXPROTO_F_ZLIB) {
        if ((rc = inflate_body(d, src, n, &len)) < 0)
            return fail(d, rc);
        src = d->plain;
    }
    out->type = d->type;
    out->flags = d->flags & (uint8_t)~PIXPROTO_F_ZLIB;
    out->id = d->id;
    out->body = len > 0 ? src : empty_body;
    out->len = len;
    return 1;
}

/* Moves up to want bytes of input to dst (or skips them when dst is NULL);
 * returns how many. */
static size_t take(uint8_t *dst, const uint8_t **in, size_t *inlen,
                   size_t want)
{
    size_t n = want < *inlen ? want : *inlen;

    if (n == 0)
        return 0;
    if (dst)
        memcpy(dst, *in, n);
    *in += n;
    *inlen -= n;
    return n;
}

int pixproto_decoder_next(pixproto_decoder *d, const uint8_t **in,
                          size_t *inlen, pixproto_frame *out)
{
    int rc;

    if (!d || !in || !inlen || !out || (!*in && *inlen > 0))
        return PIXPROTO_EINVALID;
    if (d->err)
        return d->err;
    if (d->hdr_fill < PIXPROTO_HEADER_SIZE) {
        d->hdr_fill += take(d->hdr + d->hdr_fill, in, inlen,
                            PIXPROTO_HEADER_SIZE - d->hdr_fill);
        if (d->hdr_fill < PIXPROTO_HEADER_SIZE)
            return 0;
        if ((rc = parse_header(d)) < 0)
            return fail(d, rc);
    }
    if ((d->flags & PIXPROTO_F_ZLIB) && d->body_fill == 0 &&
        *inlen >= d->body_len) {
        const uint8_t *src = *in;

        take(NULL, in, inlen, d->body_len);
        return emit(d, src, d->body_len, out);
    }
    if (d->body_len == 0)
        return emit(d, empty_body, 0, out);
    if ((rc = grow(&d->body, &d->body_cap, d->body_len)) < 0)
        return fail(d, rc);
    d->body_fill += take(d->body + d->body_fill, in, inlen,
                         d->body_len - d->body_fill);
    if (d->body_fill < d->body_len)
        return 0;
    return emit(d, d->body, d->body_len, out);
}
