/* Builders and parsers for the handshake and ERROR messages. */
#include <limits.h>
#include <string.h>

#include "internal.h"

#define MAGIC_LEN 4u

enum { SEEN_A = 1, SEEN_B = 2 };

static long finish(pixproto_buf *b, uint8_t type, uint32_t id, uint8_t **out)
{
    long rc = b->err ? b->err
                     : pixproto_frame_encode(type, 0, id, b->data, b->len, out);

    pixproto_buf_free(b);
    return rc;
}

long pixproto_build_hello(const char *agent, uint8_t **out)
{
    pixproto_buf b = {0};

    pixproto__buf_append(&b, PIXPROTO_MAGIC, MAGIC_LEN);
    pixproto_put_u64(&b, PIXPROTO_TAG_MIN_VERSION, PIXPROTO_MIN_VERSION);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_VERSION, PIXPROTO_VERSION);
    if (agent)
        pixproto_put_str(&b, PIXPROTO_TAG_AGENT, agent);
    return finish(&b, PIXPROTO_T_HELLO, 0, out);
}

long pixproto_build_welcome(uint32_t version, uint32_t max_body,
                            const char *agent, uint8_t **out)
{
    pixproto_buf b = {0};

    pixproto_put_u64(&b, PIXPROTO_TAG_VERSION, version);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_BODY, max_body);
    if (agent)
        pixproto_put_str(&b, PIXPROTO_TAG_AGENT, agent);
    return finish(&b, PIXPROTO_T_WELCOME, 0, out);
}

long pixproto_build_error(uint32_t id, int code, const char *message,
                          uint8_t **out)
{
    pixproto_buf b = {0};

    if (code == 0 || code == INT_MIN)
        return PIXPROTO_EINVALID;
    if (code < 0)
        code = -code;
    if (!message)
        message = pixproto_strerror(code);
    pixproto_put_u64(&b, PIXPROTO_TAG_CODE, (uint64_t)code);
    pixproto_put_str(&b, PIXPROTO_TAG_MESSAGE, message);
    return finish(&b, PIXPROTO_T_ERROR, id, out);
}

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Strings are informational: one too long for its buffer is cut short
 * rather than refused, but one holding a NUL is malformed. */
static int read_str(const pixproto_field *f, char *dst, size_t cap)
{
    int rc = pixproto_field_str(f, dst, cap);

    return rc == PIXPROTO_ETOOBIG ? 0 : rc;
}

static int check_frame(const pixproto_frame *f, uint8_t type, const void *dst)
{
    if (!f || !dst || (!f->body && f->len > 0))
        return PIXPROTO_EINVALID;
    return f->type == type ? 0 : PIXPROTO_EINVALID;
}

int pixproto_parse_hello(const pixproto_frame *f, pixproto_hello *h)
{
    pixproto_reader r;
    pixproto_field fl;
    uint64_t min = 0, max = 0;
    unsigned seen = 0;
    int rc;

    if ((rc = check_frame(f, PIXPROTO_T_HELLO, h)) < 0)
        return rc;
    memset(h, 0, sizeof *h);
    if (f->len < MAGIC_LEN || memcmp(f->body, PIXPROTO_MAGIC, MAGIC_LEN) != 0)
        return PIXPROTO_EBADBODY;
    pixproto_reader_init(&r, f->body + MAGIC_LEN, f->len - MAGIC_LEN);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag == PIXPROTO_TAG_MIN_VERSION) {
            rc = pixproto_field_u64(&fl, &min);
            seen |= SEEN_A;
        } else if (fl.tag == PIXPROTO_TAG_MAX_VERSION) {
            rc = pixproto_field_u64(&fl, &max);
            seen |= SEEN_B;
        } else if (fl.tag == PIXPROTO_TAG_AGENT) {
            rc = read_str(&fl, h->agent, sizeof h->agent);
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (seen != (SEEN_A | SEEN_B) || min > max)
        return PIXPROTO_EBADBODY;
    h->min_version = clamp32(min);
    h->max_version = clamp32(max);
    return 0;
}

int pixproto_negotiate(const pixproto_hello *h)
{
    uint32_t lo, hi;

    if (!h)
        return PIXPROTO_EINVALID;
    lo = h->min_version > PIXPROTO_MIN_VERSION ? h->min_version
                                               : PIXPROTO_MIN_VERSION;
    hi = h->max_version < PIXPROTO_VERSION ? h->max_version : PIXPROTO_VERSION;
    return hi >= lo ? (int)hi : PIXPROTO_EVERSION;
}

int pixproto_parse_welcome(const pixproto_frame *f, pixproto_welcome *w)
{
    pixproto_reader r;
    pixproto_field fl;
    uint64_t version = 0, max_body = 0;
    unsigned seen = 0;
    int rc;

    if ((rc = check_frame(f, PIXPROTO_T_WELCOME, w)) < 0)
        return rc;
    memset(w, 0, sizeof *w);
    pixproto_reader_init(&r, f->body, f->len);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag == PIXPROTO_TAG_VERSION) {
            rc = pixproto_field_u64(&fl, &version);
            seen |= SEEN_A;
        } else if (fl.tag == PIXPROTO_TAG_MAX_BODY) {
            rc = pixproto_field_u64(&fl, &max_body);
            seen |= SEEN_B;
        } else if (fl.tag == PIXPROTO_TAG_AGENT) {
            rc = read_str(&fl, w->agent, sizeof w->agent);
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (seen != (SEEN_A | SEEN_B))
        return PIXPROTO_EBADBODY;
    w->version = clamp32(version);
    w->max_body = clamp32(max_body);
    return 0;
}

int pixproto_parse_error(const pixproto_frame *f, pixproto_error *e)
{
    pixproto_reader r;
    pixproto_field fl;
    uint64_t code = 0;
    int rc;

    if ((rc = check_frame(f, PIXPROTO_T_ERROR, e)) < 0)
        return rc;
    memset(e, 0, sizeof *e);
    pixproto_reader_init(&r, f->body, f->len);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag == PIXPROTO_TAG_CODE)
            rc = pixproto_field_u64(&fl, &code);
        else if (fl.tag == PIXPROTO_TAG_MESSAGE)
            rc = read_str(&fl, e->message, sizeof e->message);
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    /* Codes travel positive and must survive being negated into an int. */
    if (code == 0 || code > INT_MAX)
        return PIXPROTO_EBADBODY;
    e->code = (uint32_t)code;
    return 0;
}
