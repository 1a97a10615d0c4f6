/* GET and HEAD of a small stored file answered from the store's hot cache
 * (store_cache.h) on the loop thread: no trip through the work queue, and
 * the body is the cached block itself, referenced until written. The
 * answers are those routes_images.c gives from the disk: validators,
 * 304, Range (206 and 416). */
#include <inttypes.h>
#include <stdio.h>

#include "../server.h"
#include "../store_cache.h"
#include "entity.h"
#include "routes_images_hot.h"
#include "routes_resize.h"

int pixd__http_serve_hot(pixd_http_req *r, const char *name) {
    pixd_hot *h = pixd_store_hot(r->conn->srv->store, name);
    const pixproto_entry *e;
    char hdrs[512], extra[640];
    uint64_t off = 0, len;
    int status = 200;
    uv_buf_t b;

    if (!h)
        return 0;
    e = &h->e;
    pixd__http_entity_headers(e, hdrs, sizeof hdrs);
    len = e->size;
    if (pixd__http_not_modified(r, e)) {
        pixd_http_respond(r, 304, NULL, NULL, 0, hdrs);
        pixd_hot_unref(h);
        return 1;
    }
    switch (r->method == PIXD_GET ? pixd__http_range(r, e, &off, &len) : PIXD_RANGE_NONE) {
    case PIXD_RANGE_UNSATISFIABLE:
        snprintf(extra, sizeof extra, "Content-Range: bytes */%" PRIu64 "\r\n%s", e->size, hdrs);
        pixd__http_error_extra(r, 416, "the range asked for is outside the file; its size is "
                               "in Content-Range", extra);
        pixd_hot_unref(h);
        return 1;
    case PIXD_RANGE_OK:
        status = 206;
        snprintf(extra, sizeof extra, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                 "\r\nAccept-Ranges: bytes\r\n%s", off, off + len - 1, e->size, hdrs);
        break;
    case PIXD_RANGE_NONE:
        snprintf(extra, sizeof extra, "Accept-Ranges: bytes\r\n%s", hdrs);
        break;
    }
    b = uv_buf_init((char *)h->data + off, (unsigned)len);
    /* The header and the body leave in one write; h is released after it. */
    if (pixd_http_start_body(r, status, pixd__http_content_type(e->type), &b,
                             len ? 1 : 0, extra, pixd_hot_unref, h) == 0)
        pixd_http_finish(r);
    return 1;
}
