/* The image store over HTTP: GET /api/v1/images (the list as JSON) and
 * GET|HEAD|PUT|DELETE /api/v1/images/NAME, streamed both ways with the
 * same integrity and durability rules as the native store (native_store.c
 * is the twin of this file). GET with ?width=... answers a resized copy
 * (routes_resize.c). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server.h"
#include "../store_name.h"
#include "entity.h"
#include "json.h"
#include "routes.h"
#include "routes_images_hot.h"
#include "routes_resize.h"

#define NO_SUCH_TEXT "no such image in the store (GET /api/v1/images lists them)"

static int status_of(int err) {
    switch (err) {
    case -EINVAL: return 400;
    case -ENOENT: return 404;
    case -EFBIG: return 413;
    case -EBADMSG: return 422;
    case -ENOSPC: case -EDQUOT: return 507;
    case -ECANCELED: case -ENOMEM: case -EBUSY: case -EMFILE: case -ENFILE: return 503;
    default: return 500;
    }
}

static const char *default_text(int err) {
    switch (err) {
    case -ENOENT: return NO_SUCH_TEXT;
    case -ENOSPC: case -EDQUOT: return "no space left in the store; delete files first";
    case -ECANCELED: return "pixd is shutting down; try again later";
    case -ENOMEM: return "out of memory; try again shortly";
    case -EMFILE: case -ENFILE:
        return "pixd is out of file descriptors; try again later "
               "(or raise its limit: LimitNOFILE=, ulimit -n)";
    default: return NULL;
    }
}

/* ---- formatting an entry ---- */

/* "2024-05-01T12:34:56.789Z" */
static void iso_time(uint64_t ms, char out[80]) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void json_entry(pixd_buf *b, const pixproto_entry *e) {
    char t[80], sha[65];
    iso_time(e->mtime_ms, t);
    pixd_json_obj_open(b);
    pixd_json_kstr(b, "name", e->name);
    pixd_json_ku64(b, "size", e->size);
    pixd_json_kstr(b, "mtime", t);
    pixd_json_ku64(b, "mtime_ms", e->mtime_ms);
    pixd_json_kstr(b, "type", e->type[0] ? e->type : "data");
    pixd_json_ku64(b, "width", e->width);
    pixd_json_ku64(b, "height", e->height);
    pixd_json_key(b, "sha256");
    if (e->has_sha256) {
        pixd__http_hex(e->sha256, 32, sha);
        pixd_json_str(b, sha);
    } else {
        pixd_json_null(b);
    }
    pixd_json_obj_close(b);
}

static int respond_json(pixd_http_req *r, int status, pixd_buf *b, const char *extra) {
    int rc;
    pixd_buf_add(b, "\n", 1);
    if (b->err)
        rc = pixd_http_error(r, 503, "out of memory; try again shortly");
    else
        rc = pixd_http_respond(r, status, "application/json", b->data, b->len, extra);
    pixd_buf_free(b);
    return rc;
}

/* The name from the path: 0 with the stored form in norm, or 400 answered. */
static int path_name(pixd_http_req *r, char norm[PIXPROTO_NAME_MAX + 1]) {
    char why[160];
    if (strlen(r->param) > PIXPROTO_NAME_MAX) {
        pixd_http_error(r, 400, "name is longer than 200 bytes");
        return 400;
    }
    if (pixd_store_name_check(r->param, norm, PIXPROTO_NAME_MAX + 1, why, sizeof why) < 0) {
        pixd_http_error(r, 400, why);
        return 400;
    }
    return 0;
}

/* ---- one-shot operations: list, stat (HEAD), delete ----
 * The store cannot cancel them, so a client that leaves only unhooks the
 * request; the callback frees. */

typedef struct oneshot {
    pixd_http_req *r; /* NULL once the client left */
    pixd_buf out;     /* the list's JSON, sent as the connection takes it */
    size_t sent;
} oneshot;

static oneshot *oneshot_new(pixd_http_req *r) {
    oneshot *s = calloc(1, sizeof *s);
    if (s) {
        s->r = r;
        r->state = s;
    }
    return s;
}

/* The client of s, unhooked from it; NULL if it left. s is freed. */
static pixd_http_req *oneshot_take(oneshot *s) {
    pixd_http_req *r = s->r;
    if (r)
        r->state = NULL;
    pixd_buf_free(&s->out);
    free(s);
    return r;
}

static void oneshot_abort(pixd_http_req *r) {
    oneshot *s = r->state;
    if (!s)
        return;
    r->state = NULL;
    s->r = NULL;
    if (s->out.data) /* sending: the store is done with s */
        oneshot_take(s);
}

/* A large store lists to more than the connection may queue (conn.h,
 * PIXD_CONN_WQ_MAX), so the JSON goes out in slices. */
#define LIST_SLICE (256u << 10)

static void list_send_more(oneshot *s) {
    pixd_http_req *r = s->r;
    while (s->sent < s->out.len && !pixd_http_congested(r)) {
        size_t n = s->out.len - s->sent < LIST_SLICE ? s->out.len - s->sent : LIST_SLICE;
        if (pixd_http_write_copy(r, s->out.data + s->sent, n) < 0)
            return; /* the connection is going: abort() frees s */
        s->sent += n;
    }
    if (s->sent == s->out.len)
        pixd_http_finish(oneshot_take(s));
}

static void list_resume(pixd_http_req *r) {
    oneshot *s = r->state;
    if (s && s->out.data)
        list_send_more(s);
}

static void list_done(void *ctx, int err, const pixproto_entry *v, size_t n) {
    oneshot *s = ctx;
    pixd_buf *b = &s->out;
    if (!s->r) {
        oneshot_take(s);
        return;
    }
    if (err) {
        pixd_http_error(oneshot_take(s), status_of(err), default_text(err));
        return;
    }
    pixd_json_arr_open(b);
    for (size_t i = 0; i < n; i++)
        json_entry(b, &v[i]);
    pixd_json_arr_close(b);
    pixd_buf_add(b, "\n", 1);
    if (b->err) {
        pixd_http_error(oneshot_take(s), 503, default_text(-ENOMEM));
        return;
    }
    if (pixd_http_start(s->r, 200, "application/json", (int64_t)b->len,
                        "Cache-Control: no-cache\r\n") < 0)
        return; /* the connection is going: abort() frees s */
    list_send_more(s);
}

static int list_begin(pixd_http_req *r) {
    oneshot *s = oneshot_new(r);
    int err;
    if (!s)
        return pixd_http_error(r, 503, default_text(-ENOMEM)), 503;
    if ((err = pixd_store_list(r->conn->srv->store, list_done, s)) < 0) {
        oneshot_take(s);
        pixd_http_error(r, status_of(err), default_text(err));
        return status_of(err);
    }
    return 0;
}

/* The answer comes from list_done; a request body, if any, is ignored. */
static int list_end(pixd_http_req *r) {
    (void)r;
    return 0;
}

const pixd_http_route pixd_route_images = {
    .pattern = "/api/v1/images",
    .methods = PIXD_GET,
    .name = "images",
    .begin = list_begin,
    .end = list_end,
    .abort = oneshot_abort,
    .resume = list_resume,
};

/* A 304 carries the validators and no body. */
static void answer_not_modified(pixd_http_req *r, const char *hdrs) {
    pixd_http_respond(r, 304, NULL, NULL, 0, hdrs);
}

/* ---- GET: a streamed download ---- */

typedef struct dl {
    pixd_http_req *r;
    pixd_download *d;
} dl;

static void dl_free(dl *s) {
    if (s->r)
        s->r->state = NULL;
    free(s);
}

static void dl_begin(void *ctx, int err, const pixproto_entry *e) {
    dl *s = ctx;
    pixd_http_req *r = s->r;
    char hdrs[512], extra[640];
    uint64_t off = 0, len;
    int status = 200;

    if (err) {
        s->d = NULL; /* the download is over */
        dl_free(s);
        pixd_http_error(r, status_of(err), default_text(err));
        return;
    }
    pixd__http_entity_headers(e, hdrs, sizeof hdrs);
    len = e->size;
    if (pixd__http_not_modified(r, e)) {
        pixd_download_abort(s->d);
        dl_free(s);
        answer_not_modified(r, hdrs);
        return;
    }
    switch (pixd__http_range(r, e, &off, &len)) {
    case PIXD_RANGE_UNSATISFIABLE:
        pixd_download_abort(s->d);
        dl_free(s);
        snprintf(extra, sizeof extra, "Content-Range: bytes */%" PRIu64 "\r\n%s", e->size, hdrs);
        pixd__http_error_extra(r, 416, "the range asked for is outside the file; its size is "
                               "in Content-Range", extra);
        return;
    case PIXD_RANGE_OK:
        status = 206;
        pixd_download_set_range(s->d, off, len);
        snprintf(extra, sizeof extra, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                 "\r\nAccept-Ranges: bytes\r\n%s", off, off + len - 1, e->size, hdrs);
        break;
    case PIXD_RANGE_NONE:
        snprintf(extra, sizeof extra, "Accept-Ranges: bytes\r\n%s", hdrs);
        break;
    }
    if (pixd_http_start(r, status, pixd__http_content_type(e->type), (int64_t)len, extra) < 0) {
        /* The connection is going: abort() will stop the download. */
        return;
    }
}

static void dl_chunk(void *ctx, uint8_t *block, size_t n) {
    dl *s = ctx;
    uv_buf_t b = uv_buf_init((char *)block + PIXD_STORE_HEADROOM, (unsigned)n);
    pixd_http_write(s->r, &b, 1, free, block);
}

static int dl_ready(void *ctx) {
    dl *s = ctx;
    return !pixd_http_congested(s->r);
}

static void dl_end(void *ctx, int err) {
    dl *s = ctx;
    pixd_http_req *r = s->r;
    s->d = NULL;
    dl_free(s);
    if (err) {
        /* Midway through the body the status is long gone: closing the
         * connection short of Content-Length is how HTTP/1.1 says the
         * response is incomplete. */
        pixd_conn_close(r->conn);
        return;
    }
    pixd_http_finish(r);
}

static int dl_file(void *ctx, int fd, uint64_t off, size_t n, void (*release)(void *),
                   void *rctx) {
    dl *s = ctx;
    return pixd_http_sendfile(s->r, fd, off, n, release, rctx);
}

static const pixd_download_ops dl_ops = {
    .begin = dl_begin, .chunk = dl_chunk, .ready = dl_ready, .end = dl_end, .file = dl_file};

static int get_begin(pixd_http_req *r, const char *name) {
    dl *s = calloc(1, sizeof *s);
    int err;
    if (!s)
        return pixd_http_error(r, 503, default_text(-ENOMEM)), 503;
    s->r = r;
    r->state = s;
    if ((err = pixd_download_begin(r->conn->srv->store, name, &dl_ops, s, &s->d)) < 0) {
        dl_free(s);
        pixd_http_error(r, status_of(err), default_text(err));
        return status_of(err);
    }
    return 0;
}

static void dl_abort(pixd_http_req *r) {
    dl *s = r->state;
    if (!s)
        return;
    if (s->d)
        pixd_download_abort(s->d);
    s->r = NULL;
    r->state = NULL;
    free(s);
}

static void dl_resume(pixd_http_req *r) {
    dl *s = r->state;
    if (s && s->d)
        pixd_download_resume(s->d);
}

/* ---- HEAD: the headers a GET would have, from the store's stat ---- */

static void head_done(void *ctx, int err, const pixproto_entry *e) {
    pixd_http_req *r = oneshot_take(ctx);
    char hdrs[512], extra[640];
    if (!r)
        return;
    if (err) {
        pixd_http_error(r, status_of(err), default_text(err));
        return;
    }
    pixd__http_entity_headers(e, hdrs, sizeof hdrs);
    if (pixd__http_not_modified(r, e)) {
        answer_not_modified(r, hdrs);
        return;
    }
    snprintf(extra, sizeof extra, "Accept-Ranges: bytes\r\n%s", hdrs);
    if (pixd_http_start(r, 200, pixd__http_content_type(e->type), (int64_t)e->size, extra) == 0)
        pixd_http_finish(r);
}

/* ---- DELETE ---- */

static void delete_done(void *ctx, int err, const pixproto_entry *e) {
    pixd_http_req *r = oneshot_take(ctx);
    (void)e;
    if (!r)
        return;
    if (err)
        pixd_http_error(r, status_of(err), default_text(err));
    else
        pixd_http_respond(r, 204, NULL, NULL, 0, NULL);
}

static int oneshot_begin(pixd_http_req *r, const char *name, int del) {
    pixd_store *st = r->conn->srv->store;
    oneshot *s = oneshot_new(r);
    int err;
    if (!s)
        return pixd_http_error(r, 503, default_text(-ENOMEM)), 503;
    err = del ? pixd_store_delete(st, name, delete_done, s)
              : pixd_store_stat(st, name, head_done, s);
    if (err < 0) {
        oneshot_take(s);
        pixd_http_error(r, status_of(err), default_text(err));
        return status_of(err);
    }
    return 0;
}

/* ---- PUT: a streamed upload ---- */

typedef struct up {
    pixd_http_req *r;
    pixd_upload *u;
    EVP_MD_CTX *md; /* the client sent no digest: hash here (loop thread) */
} up;

static void up_free(up *s) {
    if (s->r)
        s->r->state = NULL;
    EVP_MD_CTX_free(s->md);
    free(s);
}

/* Percent-encode a store name for a Location header. */
static void url_path_escape(const char *s, char *out, size_t len) {
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = digits[c >> 4];
            out[o++] = digits[c & 15];
        }
    }
    out[o] = '\0';
}

static void up_done(void *ctx, int err, const char *msg, const pixproto_entry *e) {
    up *s = ctx;
    pixd_http_req *r = s->r;
    char loc[3 * PIXPROTO_NAME_MAX + 1], hdrs[512], extra[1300];
    pixd_buf b = {0};

    s->u = NULL;
    up_free(s);
    if (err) {
        int st = status_of(err);
        if (err == -EBADMSG && msg && strstr(msg, "SHA-256"))
            msg = "the SHA-256 of the received data does not match the Digest or "
                  "X-Content-SHA256 header; nothing was stored";
        pixd_http_error(r, st, msg && *msg ? msg : default_text(err));
        return;
    }
    url_path_escape(e->name, loc, sizeof loc);
    pixd__http_entity_headers(e, hdrs, sizeof hdrs);
    snprintf(extra, sizeof extra, "Location: /api/v1/images/%s\r\n%s", loc, hdrs);
    json_entry(&b, e);
    respond_json(r, 201, &b, extra);
}

static void up_hold(void *ctx, int hold) {
    up *s = ctx;
    pixd_http_hold(s->r, hold);
}

static const pixd_upload_ops up_ops = {.done = up_done, .hold = up_hold};

static int put_begin(pixd_http_req *r, const char *name) {
    pixd_server *srv = r->conn->srv;
    uint8_t sha[32];
    char why[256] = "";
    up *s;
    int have, err;

    if (r->chunked) {
        pixd_http_error(r, 411, "send the file with a Content-Length: the store reserves its "
                        "size before the first byte (curl -T FILE does)");
        return 411;
    }
    if ((have = pixd__http_client_sha256(r, sha, why, sizeof why)) < 0) {
        pixd_http_error(r, 400, why);
        return 400;
    }
    if (!(s = calloc(1, sizeof *s)))
        return pixd_http_error(r, 503, default_text(-ENOMEM)), 503;
    s->r = r;
    r->state = s;
    if (!have && (!(s->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL))) {
        up_free(s);
        return pixd_http_error(r, 503, default_text(-ENOMEM)), 503;
    }
    err = pixd_upload_begin(srv->store, name, r->content_length, have ? sha : NULL, &up_ops, s,
                            &s->u, why, sizeof why);
    if (err < 0) {
        up_free(s);
        pixd_http_error(r, status_of(err), why[0] ? why : default_text(err));
        return status_of(err);
    }
    return 0;
}

static int put_body(pixd_http_req *r, const uint8_t *p, size_t n) {
    up *s = r->state;
    if (!s || !s->u)
        return 0;
    if (s->md)
        EVP_DigestUpdate(s->md, p, n);
    /* On failure the store has called up_done, which answered and freed s. */
    pixd_upload_data(s->u, p, n);
    return 0;
}

static int put_end(pixd_http_req *r) {
    up *s = r->state;
    uint8_t sha[32];
    if (!s || !s->u)
        return 0;
    if (s->md)
        EVP_DigestFinal_ex(s->md, sha, NULL);
    pixd_upload_end(s->u, s->md ? sha : NULL); /* up_done answers */
    return 0;
}

static void put_abort(pixd_http_req *r) {
    up *s = r->state;
    if (!s)
        return;
    if (s->u)
        pixd_upload_abort(s->u);
    s->r = NULL;
    r->state = NULL;
    up_free(s);
}

/* ---- the route ---- */

static int image_begin(pixd_http_req *r) {
    char name[PIXPROTO_NAME_MAX + 1];
    int st;
    if ((st = path_name(r, name)) != 0)
        return st;
    switch (r->method) {
    case PIXD_GET:
    case PIXD_HEAD:
        if (pixd__http_resize_asked(r))
            return pixd__http_resize_stored(r, name);
        if (pixd__http_serve_hot(r, name))
            return 0;
        return r->method == PIXD_GET ? get_begin(r, name) : oneshot_begin(r, name, 0);
    case PIXD_PUT:
        return put_begin(r, name);
    case PIXD_DELETE:
        return oneshot_begin(r, name, 1);
    default:
        return 405;
    }
}

static int image_body(pixd_http_req *r, const uint8_t *p, size_t n) {
    return r->method == PIXD_PUT ? put_body(r, p, n) : 0;
}

static int image_end(pixd_http_req *r) {
    return r->method == PIXD_PUT ? put_end(r) : 0;
}

static void image_abort(pixd_http_req *r) {
    if (!r->state)
        return;
    if (r->method & (PIXD_GET | PIXD_HEAD) && pixd__http_resize_asked(r))
        pixd__http_resize_abort(r);
    else if (r->method == PIXD_GET)
        dl_abort(r);
    else if (r->method == PIXD_PUT)
        put_abort(r);
    else
        oneshot_abort(r);
}

static void image_resume(pixd_http_req *r) {
    if (!r->state)
        return;
    if (r->method & (PIXD_GET | PIXD_HEAD) && pixd__http_resize_asked(r))
        pixd__http_resize_resume(r);
    else if (r->method == PIXD_GET)
        dl_resume(r);
}

const pixd_http_route pixd_route_image = {
    .pattern = "/api/v1/images/*",
    .methods = PIXD_GET | PIXD_HEAD | PIXD_PUT | PIXD_DELETE,
    .name = "image",
    .begin = image_begin,
    .body = image_body,
    .end = image_end,
    .abort = image_abort,
    .resume = image_resume,
};
