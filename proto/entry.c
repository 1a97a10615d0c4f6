/* Store entries: the fields that describe one file of pixd's store. */
#include <string.h>

#include "internal.h"

int pixproto_put_entry(pixproto_buf *b, const pixproto_entry *e) {
    pixproto_put_str(b, PIXPROTO_TAG_NAME, e->name);
    pixproto_put_u64(b, PIXPROTO_TAG_SIZE, e->size);
    if (e->has_sha256)
        pixproto_put_bytes(b, PIXPROTO_TAG_SHA256, e->sha256, sizeof e->sha256);
    if (e->mtime_ms)
        pixproto_put_u64(b, PIXPROTO_TAG_MTIME_MS, e->mtime_ms);
    if (e->type[0])
        pixproto_put_str(b, PIXPROTO_TAG_TYPE, e->type);
    if (e->width && e->height) {
        pixproto_put_u64(b, PIXPROTO_TAG_WIDTH, e->width);
        pixproto_put_u64(b, PIXPROTO_TAG_HEIGHT, e->height);
    }
    return b->err;
}

int pixproto_put_entry_nested(pixproto_buf *b, const pixproto_entry *e) {
    pixproto_buf inner = {0};
    int r = pixproto_put_entry(&inner, e);
    if (r == 0)
        r = pixproto_put_bytes(b, PIXPROTO_TAG_ENTRY, inner.data, inner.len);
    pixproto_buf_free(&inner);
    return r ? r : b->err;
}

int pixproto_parse_entry(const void *body, size_t len, pixproto_entry *e) {
    pixproto_reader r;
    pixproto_field f;
    uint64_t v;
    int rc, have_name = 0;

    memset(e, 0, sizeof *e);
    pixproto_reader_init(&r, body, len);
    while ((rc = pixproto_field_next(&r, &f)) == 1) {
        switch (f.tag) {
        case PIXPROTO_TAG_NAME:
            if (pixproto_field_str(&f, e->name, sizeof e->name) < 0)
                return PIXPROTO_EBADBODY;
            have_name = 1;
            break;
        case PIXPROTO_TAG_SIZE:
            if (pixproto_field_u64(&f, &e->size) < 0)
                return PIXPROTO_EBADBODY;
            break;
        case PIXPROTO_TAG_SHA256:
            if (f.len != sizeof e->sha256)
                return PIXPROTO_EBADBODY;
            memcpy(e->sha256, f.value, f.len);
            e->has_sha256 = 1;
            break;
        case PIXPROTO_TAG_MTIME_MS:
            if (pixproto_field_u64(&f, &e->mtime_ms) < 0)
                return PIXPROTO_EBADBODY;
            break;
        case PIXPROTO_TAG_TYPE:
            /* A longer type name from a newer peer is cut, not refused. */
            if (pixproto_field_str(&f, e->type, sizeof e->type) == PIXPROTO_EBADBODY)
                return PIXPROTO_EBADBODY;
            break;
        case PIXPROTO_TAG_WIDTH:
        case PIXPROTO_TAG_HEIGHT:
            if (pixproto_field_u64(&f, &v) < 0 || v > UINT32_MAX)
                return PIXPROTO_EBADBODY;
            if (f.tag == PIXPROTO_TAG_WIDTH)
                e->width = (uint32_t)v;
            else
                e->height = (uint32_t)v;
            break;
        default:
            break;
        }
    }
    if (rc < 0 || !have_name)
        return PIXPROTO_EBADBODY;
    return 0;
}

long pixproto_build_name(uint8_t type, uint32_t id, const char *name, uint8_t **out) {
    pixproto_buf b = {0};
    long rc;
    pixproto_put_str(&b, PIXPROTO_TAG_NAME, name);
    rc = b.err ? b.err : pixproto_frame_encode(type, 0, id, b.data, b.len, out);
    pixproto_buf_free(&b);
    return rc;
}
