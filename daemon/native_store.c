/* The image store over the native protocol: PUT/DATA/END uploads, GET
 * downloads, LIST, STAT and DELETE (pixd-protocol(7), "STORE"). The store
 * (store*.c) does the file work; this file translates frames and errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "native.h"
#include "server.h"
#include "store_name.h"

#define LIST_FRAME_BYTES (768u << 10) /* under PIXPROTO_MAX_BODY with room to spare */

static int wire_code(int err) {
    switch (err) {
    case -EINVAL: return PIXPROTO_EINVALID;
    case -ENOENT: return PIXPROTO_ENOTFOUND;
    case -EFBIG: return PIXPROTO_ETOOBIG;
    case -ENOSPC: case -EDQUOT: return PIXPROTO_ENOSPACE;
    case -EBADMSG: return PIXPROTO_EINTEGRITY;
    case -ENOMEM: return PIXPROTO_ENOMEM;
    case -ECANCELED: return PIXPROTO_ESHUTDOWN;
    case -EMFILE: case -ENFILE: return PIXPROTO_EBUSY;
    default: return PIXPROTO_EINTERNAL;
    }
}

static const char *default_text(int err) {
    switch (err) {
    case -ENOENT: return "no such file in the store (see `pixctl ls`)";
    case -ENOSPC: return "no space left in the store";
    case -EMFILE: case -ENFILE:
        return "pixd is out of file descriptors; try again later "
               "(or raise its limit: LimitNOFILE=, ulimit -n)";
    default: return NULL;
    }
}

static void reply_entry(pixd_conn *c, uint8_t type, uint8_t flags, uint32_t id,
                        const pixproto_entry *e) {
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    long n;
    pixproto_put_entry(&b, e);
    n = b.err ? b.err : pixproto_frame_encode(type, flags, id, b.data, b.len, &buf);
    pixproto_buf_free(&b);
    pixd__native_send(c, n, buf);
}

/* The NAME field of a request. An over-long name is a bad name (INVALID,
 * with the limit in the message), not a malformed frame. */
static int read_name(pixd_conn *c, const pixproto_frame *f, char *name, size_t cap) {
    pixproto_reader r;
    pixproto_field fl;
    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        if (fl.tag != PIXPROTO_TAG_NAME)
            continue;
        if (fl.len > PIXPROTO_NAME_MAX) {
            pixd__native_error(c, f->id, PIXPROTO_EINVALID,
                               "name is longer than 200 bytes");
            return 1;
        }
        if (pixproto_field_str(&fl, name, cap) < 0)
            return PIXPROTO_EBADBODY;
        /* Check here too, so the client hears why a name is refused. */
        char norm[PIXPROTO_NAME_MAX + 1], why[160];
        if (pixd_store_name_check(name, norm, sizeof norm, why, sizeof why) < 0) {
            pixd__native_error(c, f->id, PIXPROTO_EINVALID, why);
            return 1;
        }
        return 0;
    }
    return PIXPROTO_EBADBODY;
}

static int new_request(pixd_conn *c, native_state *st, const pixproto_frame *f,
                       native_req **out) {
    if (pixd__native_req_find(st, f->id))
        return PIXPROTO_EDUPID;
    *out = pixd__native_req_new(c, st, f->id, f->type);
    return *out ? 0 : PIXPROTO_ENOMEM;
}

/* Detached (CANCEL or connection gone): stop the transfer; no callbacks
 * follow an abort, so the request goes now. */
static void store_cancel(native_req *req) {
    if (req->up)
        pixd_upload_abort(req->up);
    if (req->down)
        pixd_download_abort(req->down);
    free(req);
}

/* ---- uploads ---- */

static void up_done(void *ctx, int err, const char *msg, const pixproto_entry *e) {
    native_req *req = ctx;
    pixd_conn *c = req->conn;
    req->up = NULL;
    if (c) {
        if (err)
            pixd__native_error(c, req->id, wire_code(err), msg ? msg : default_text(err));
        else
            reply_entry(c, PIXPROTO_T_STORED, 0, req->id, e);
    }
    pixd__native_req_done(req);
}

static void up_hold(void *ctx, int hold) {
    pixd__native_req_hold(ctx, hold);
}

static const pixd_upload_ops upload_ops = {.done = up_done, .hold = up_hold};

int pixd__native_put(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixproto_entry e;
    native_req *req;
    char why[256] = "";
    int r;

    if ((r = read_name(c, f, e.name, sizeof e.name)) != 0)
        return r > 0 ? 0 : r;
    if (pixproto_parse_entry(f->body, f->len, &e) < 0)
        return PIXPROTO_EBADBODY;
    if ((r = new_request(c, st, f, &req)) < 0)
        return r;
    req->cancel = store_cancel;
    r = pixd_upload_begin(c->srv->store, e.name, e.size, e.has_sha256 ? e.sha256 : NULL,
                          &upload_ops, req, &req->up, why, sizeof why);
    if (r < 0) {
        pixd__native_req_done(req);
        pixd__native_error(c, f->id, wire_code(r), why[0] ? why : default_text(r));
    }
    return 0;
}

/* DATA and END for an id with no upload in progress are dropped: after an
 * early ERROR the client may still have frames of that request in flight. */
int pixd__native_data(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    native_req *req = pixd__native_req_find(st, f->id);
    if (req && req->up) {
        /* The frame's body becomes the upload's chunk as it is. */
        uint8_t *block = pixproto_decoder_take_body(st->dec, f);
        if (block)
            pixd_upload_data_owned(req->up, block, block, f->len);
        else
            pixd_upload_data(req->up, f->body, f->len);
    }
    else if (req && req->type == PIXPROTO_T_RESIZE)
        return pixd__native_resize_data(req, f);
    else if (req && req->type == PIXPROTO_T_PUSH)
        return pixd__native_push_data(req, f);
    else if (req && req->type == PIXPROTO_T_CLASSIFY)
        return pixd__native_classify_data(req, f);
    return 0;
}

int pixd__native_end(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    native_req *req = pixd__native_req_find(st, f->id);
    pixproto_reader r;
    pixproto_field fl;
    const uint8_t *sha = NULL;

    if (req && req->type == PIXPROTO_T_RESIZE)
        return pixd__native_resize_end(req, f);
    if (req && req->type == PIXPROTO_T_CLASSIFY)
        return pixd__native_classify_end(req, f);
    if (!req || !req->up)
        return 0;
    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        if (fl.tag != PIXPROTO_TAG_SHA256)
            continue;
        if (fl.len != 32) {
            pixd__native_req_detach(req);
            pixd__native_error(c, f->id, PIXPROTO_EBADBODY,
                               "SHA256 must be 32 raw bytes");
            return 0;
        }
        sha = fl.value;
    }
    pixd_upload_end(req->up, sha);
    return 0;
}

/* ---- downloads ---- */

static void down_begin(void *ctx, int err, const pixproto_entry *e) {
    native_req *req = ctx;
    if (err) {
        req->down = NULL;
        if (req->conn)
            pixd__native_error(req->conn, req->id, wire_code(err), default_text(err));
        pixd__native_req_done(req);
        return;
    }
    reply_entry(req->conn, PIXPROTO_T_FILE, PIXPROTO_F_MORE, req->id, e);
}

static void down_chunk(void *ctx, uint8_t *block, size_t n) {
    native_req *req = ctx;
    uint8_t *frame = block + PIXD_STORE_HEADROOM - PIXPROTO_HEADER_SIZE;
    uv_buf_t b = uv_buf_init((char *)frame, (unsigned)(PIXPROTO_HEADER_SIZE + n));
    pixproto_header_encode(frame, PIXPROTO_T_DATA, PIXPROTO_F_MORE, req->id, n);
    pixd_conn_write(req->conn, &b, 1, free, block);
}

static int down_ready(void *ctx) {
    native_req *req = ctx;
    return !pixd_conn_congested(req->conn);
}

static void down_end(void *ctx, int err) {
    native_req *req = ctx;
    uint8_t *buf = NULL;
    req->down = NULL;
    if (err) {
        pixd__native_error(req->conn, req->id, PIXPROTO_EINTERNAL,
                           "reading the file failed midway; try again");
    } else {
        long n = pixproto_frame_encode(PIXPROTO_T_END, 0, req->id, NULL, 0, &buf);
        pixd__native_send(req->conn, n, buf);
    }
    pixd__native_req_done(req);
}

static void download_resume(native_req *req) {
    if (req->down)
        pixd_download_resume(req->down);
}

/* A DATA frame whose body the connection sends from the file (sendfile):
 * its header is written first, the range is queued right behind it. */
static int down_file(void *ctx, int fd, uint64_t off, size_t n, void (*release)(void *),
                     void *rctx) {
    native_req *req = ctx;
    uint8_t *h;
    int r;
    if (!pixd_conn_can_sendfile(req->conn))
        return -ENOTSUP;
    if (!(h = malloc(PIXPROTO_HEADER_SIZE))) {
        release(rctx);
        return -ENOMEM;
    }
    pixproto_header_encode(h, PIXPROTO_T_DATA, PIXPROTO_F_MORE, req->id, n);
    if ((r = pixd_conn_write_owned(req->conn, h, PIXPROTO_HEADER_SIZE)) < 0) {
        release(rctx);
        return r;
    }
    return pixd_conn_sendfile(req->conn, fd, off, n, release, rctx);
}

static const pixd_download_ops download_ops = {
    .begin = down_begin, .chunk = down_chunk, .ready = down_ready, .end = down_end,
    .file = down_file};

int pixd__native_get(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    char name[PIXPROTO_NAME_MAX + 1];
    native_req *req;
    int r;

    if ((r = read_name(c, f, name, sizeof name)) != 0)
        return r > 0 ? 0 : r;
    if ((r = new_request(c, st, f, &req)) < 0)
        return r;
    req->cancel = store_cancel;
    req->resume = download_resume;
    if ((r = pixd_download_begin(c->srv->store, name, &download_ops, req, &req->down)) < 0) {
        pixd__native_req_done(req);
        return wire_code(r);
    }
    return 0;
}


/* ---- one-shot: stat, delete, list ---- */

static void entry_done(void *ctx, int err, const pixproto_entry *e) {
    native_req *req = ctx;
    if (req->conn) {
        if (err)
            pixd__native_error(req->conn, req->id, wire_code(err), default_text(err));
        else if (req->type == PIXPROTO_T_DELETE) {
            uint8_t *buf = NULL;
            long n = pixproto_build_name(PIXPROTO_T_DELETED, req->id, e->name, &buf);
            pixd__native_send(req->conn, n, buf);
        } else
            reply_entry(req->conn, PIXPROTO_T_STAT_REPLY, 0, req->id, e);
    }
    pixd__native_req_done(req);
}

static int one_shot(pixd_conn *c, native_state *st, const pixproto_frame *f, int del) {
    char name[PIXPROTO_NAME_MAX + 1];
    native_req *req;
    int r;

    if ((r = read_name(c, f, name, sizeof name)) != 0)
        return r > 0 ? 0 : r;
    if ((r = new_request(c, st, f, &req)) < 0)
        return r;
    r = del ? pixd_store_delete(c->srv->store, name, entry_done, req)
            : pixd_store_stat(c->srv->store, name, entry_done, req);
    if (r < 0) {
        pixd__native_req_done(req);
        return wire_code(r);
    }
    return 0;
}

int pixd__native_stat(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    return one_shot(c, st, f, 0);
}

int pixd__native_delete(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    return one_shot(c, st, f, 1);
}

static void list_done(void *ctx, int err, const pixproto_entry *v, size_t n) {
    native_req *req = ctx;
    pixd_conn *c = req->conn;
    pixproto_buf b = {0};
    size_t i = 0;

    if (c && err)
        pixd__native_error(c, req->id, wire_code(err), default_text(err));
    while (c && !err) {
        uint8_t *buf = NULL;
        long len;
        for (; i < n && b.len < LIST_FRAME_BYTES; i++)
            pixproto_put_entry_nested(&b, &v[i]);
        len = b.err ? b.err
                    : pixproto_frame_encode(PIXPROTO_T_LIST_REPLY, i < n ? PIXPROTO_F_MORE : 0,
                                            req->id, b.data, b.len, &buf);
        pixproto_buf_free(&b);
        memset(&b, 0, sizeof b);
        pixd__native_send(c, len, buf);
        if (i >= n || len < 0)
            break;
    }
    pixd__native_req_done(req);
}

int pixd__native_list(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    native_req *req;
    int r;
    if ((r = new_request(c, st, f, &req)) < 0)
        return r;
    if ((r = pixd_store_list(c->srv->store, list_done, req)) < 0) {
        pixd__native_req_done(req);
        return wire_code(r);
    }
    return 0;
}
