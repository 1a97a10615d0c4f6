/* Image jobs over the native protocol: RESIZE with the image in DATA
 * frames (or a stored image named by SOURCE), run on the job queue,
 * answered by RESIZED with statistics and the result in DATA frames (or
 * stored under STORE_AS). See pixd-protocol(7), "JOBS". */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "inbuf.h"
#include "jobs.h"
#include "log.h"
#include "native.h"
#include "native_input.h"
#include "server.h"

#define OUT_CHUNK PIXPROTO_CHUNK

enum stage { ST_INPUT, ST_READING, ST_QUEUED, ST_SENDING, ST_STORING };

typedef struct rjob {
    pixd_job job;
    native_req *req;
    enum stage stage;
    int orphan;                 /* the request was detached while we waited */
    pixd_resize_params p;
    char store_as[PIXPROTO_NAME_MAX + 1];
    uint8_t *in;                /* the whole input once here (from body or the store) */
    size_t in_len, in_size;
    pixd_inbuf body;            /* ST_INPUT: the sent image, grown as it arrives */
    pixd_resize_result res;
    uint8_t sha256[32];
    int err;
    char msg[256];
    size_t sent;
    pixd_upload *up;
    pixd_jobs *reserved;        /* holds a place in this line until submitted */
} rjob;

static void rjob_free(rjob *j) {
    if (j->reserved)
        pixd_jobs_unreserve(j->reserved);
    pixd_inbuf_free(&j->body);
    free(j->in);
    free(j->res.data);
    free(j);
}

/* Fail the request: reply to the client (if still there) and free. */
static void fail(rjob *j, int err, const char *msg) {
    native_req *req = j->req;
    if (req->conn)
        pixd__native_error(req->conn, req->id, pixd__native_job_code(err), msg && *msg ? msg : NULL);
    pixd__native_req_done(req);
    rjob_free(j);
}

/* ---- parsing the request ---- */

static int parse_sharpen(const char *s, pixd_resize_params *p) {
    float r, a;
    int t, n = 0;
    if (sscanf(s, "%f,%f,%d%n", &r, &a, &t, &n) != 3 || s[n] || !(r > 0 && r <= 50) ||
        !(a >= 0 && a <= 10) || t < 0 || t > 255)
        return -1;
    p->sharpen = 1;
    p->sharpen_radius = r;
    p->sharpen_amount = a;
    p->sharpen_threshold = t;
    return 0;
}

static int parse_request(rjob *j, const pixproto_frame *f, const pixd_server *srv,
                         char *source, char *why, size_t whylen) {
    pixproto_reader r;
    pixproto_field fl;
    char s[64];
    uint64_t v;

    pixd_resize_params_default(&j->p);
    j->p.quality = (int)srv->opt->jpeg_quality;
    j->p.max_pixels = srv->opt->max_pixels;
    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        switch (fl.tag) {
        case PIXPROTO_TAG_WIDTH:
        case PIXPROTO_TAG_HEIGHT:
        case PIXPROTO_TAG_QUALITY:
        case PIXPROTO_TAG_ENLARGE:
        case PIXPROTO_TAG_PROGRESSIVE:
        case PIXPROTO_TAG_FAST:
        case PIXPROTO_TAG_SIZE:
            if (pixproto_field_u64(&fl, &v) < 0)
                return PIXPROTO_EBADBODY;
            if ((fl.tag == PIXPROTO_TAG_WIDTH || fl.tag == PIXPROTO_TAG_HEIGHT) && v > 65535) {
                snprintf(why, whylen, "target width and height must be at most 65535");
                return PIXPROTO_EINVALID;
            }
            if (fl.tag == PIXPROTO_TAG_QUALITY && (v < 1 || v > 100)) {
                snprintf(why, whylen, "quality must be from 1 to 100");
                return PIXPROTO_EINVALID;
            }
            if (fl.tag == PIXPROTO_TAG_WIDTH) j->p.width = (uint32_t)v;
            if (fl.tag == PIXPROTO_TAG_HEIGHT) j->p.height = (uint32_t)v;
            if (fl.tag == PIXPROTO_TAG_QUALITY) j->p.quality = (int)v;
            if (fl.tag == PIXPROTO_TAG_ENLARGE) j->p.enlarge = v != 0;
            if (fl.tag == PIXPROTO_TAG_PROGRESSIVE) j->p.progressive = v != 0;
            if (fl.tag == PIXPROTO_TAG_FAST) j->p.fast = v != 0;
            if (fl.tag == PIXPROTO_TAG_SIZE) j->in_size = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
            break;
        case PIXPROTO_TAG_MODE:
        case PIXPROTO_TAG_FORMAT:
        case PIXPROTO_TAG_SHARPEN:
            if (pixproto_field_str(&fl, s, sizeof s) < 0)
                return PIXPROTO_EBADBODY;
            if (fl.tag == PIXPROTO_TAG_MODE) {
                if (!strcmp(s, "fit")) j->p.mode = PIXD_MODE_FIT;
                else if (!strcmp(s, "fill")) j->p.mode = PIXD_MODE_FILL;
                else if (!strcmp(s, "stretch")) j->p.mode = PIXD_MODE_STRETCH;
                else {
                    snprintf(why, whylen, "mode must be fit, fill or stretch");
                    return PIXPROTO_EINVALID;
                }
            } else if (fl.tag == PIXPROTO_TAG_FORMAT) {
                if (!strcmp(s, "jpeg") || !strcmp(s, "jpg")) j->p.format = PIXD_FMT_JPEG;
                else if (!strcmp(s, "png")) j->p.format = PIXD_FMT_PNG;
                else if (!strcmp(s, "webp")) j->p.format = PIXD_FMT_WEBP;
                else {
                    snprintf(why, whylen, "format must be jpeg, png or webp");
                    return PIXPROTO_EINVALID;
                }
            } else if (parse_sharpen(s, &j->p) < 0) {
                snprintf(why, whylen, "sharpen must be RADIUS,AMOUNT,THRESHOLD as in 2,1.5,3");
                return PIXPROTO_EINVALID;
            }
            break;
        case PIXPROTO_TAG_SOURCE:
        case PIXPROTO_TAG_STORE_AS:
            if (fl.len > PIXPROTO_NAME_MAX) {
                snprintf(why, whylen, "name is longer than 200 bytes");
                return PIXPROTO_EINVALID;
            }
            if (pixproto_field_str(&fl, fl.tag == PIXPROTO_TAG_SOURCE ? source : j->store_as,
                                   PIXPROTO_NAME_MAX + 1) < 0)
                return PIXPROTO_EBADBODY;
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- the job ---- */

static void resize_work(pixd_job *pj) {
    rjob *j = (rjob *)pj;
    /* The input is freed once decoded, before the output exists. */
    j->err = pixd_image_resize_owned(j->in, j->in_len, &j->p, &j->res, j->msg, sizeof j->msg);
    j->in = NULL;
    if (j->err == 0 && j->store_as[0])
        EVP_Digest(j->res.data, j->res.len, j->sha256, NULL, EVP_sha256(), NULL);
}

static void send_stats(rjob *j, uint8_t type, uint8_t flags, const pixproto_entry *stored) {
    const pixd_resize_result *r = &j->res;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    char scale[24];
    long n;

    snprintf(scale, sizeof scale, "%d/%d", r->scale_num, r->scale_denom);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_BYTES, j->in_size);
    pixproto_put_u64(&b, PIXPROTO_TAG_OUT_BYTES, r->len);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_WIDTH, r->in_width);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_HEIGHT, r->in_height);
    pixproto_put_u64(&b, PIXPROTO_TAG_OUT_WIDTH, r->out_width);
    pixproto_put_u64(&b, PIXPROTO_TAG_OUT_HEIGHT, r->out_height);
    pixproto_put_str(&b, PIXPROTO_TAG_SCALE, scale);
    pixproto_put_str(&b, PIXPROTO_TAG_IN_TYPE, r->in_type);
    pixproto_put_u64(&b, PIXPROTO_TAG_QUEUE_US, (j->job.started_ns - j->job.queued_ns) / 1000);
    pixproto_put_u64(&b, PIXPROTO_TAG_PROCESS_US, (j->job.finished_ns - j->job.started_ns) / 1000);
    if (stored)
        pixproto_put_entry(&b, stored);
    n = b.err ? b.err : pixproto_frame_encode(type, flags, j->req->id, b.data, b.len, &buf);
    pixproto_buf_free(&b);
    pixd__native_send(j->req->conn, n, buf);
}

/* Send the result as the connection takes it; resumed on drain. */
static void send_more(native_req *req) {
    rjob *j = req->job;
    pixd_conn *c = req->conn;
    uint8_t *buf = NULL;
    long n;

    while (j->sent < j->res.len && !pixd_conn_congested(c)) {
        size_t len = j->res.len - j->sent < OUT_CHUNK ? j->res.len - j->sent : OUT_CHUNK;
        n = pixproto_frame_encode(PIXPROTO_T_DATA, PIXPROTO_F_MORE, req->id,
                                  j->res.data + j->sent, len, &buf);
        pixd__native_send(c, n, buf);
        j->sent += len;
    }
    if (j->sent < j->res.len || c->cstate == PIXD_CONN_CLOSING)
        return;
    n = pixproto_frame_encode(PIXPROTO_T_END, 0, req->id, NULL, 0, &buf);
    pixd__native_send(c, n, buf);
    pixd__native_req_done(req);
    rjob_free(j);
}

static void stored_done(void *ctx, int err, const char *msg, const pixproto_entry *e) {
    rjob *j = ctx;
    j->up = NULL;
    if (err) {
        fail(j, err, msg);
        return;
    }
    send_stats(j, PIXPROTO_T_RESIZED, 0, e);
    pixd__native_req_done(j->req);
    rjob_free(j);
}

static void stored_hold(void *ctx, int hold) { (void)ctx; (void)hold; }

static const pixd_upload_ops store_result_ops = {.done = stored_done, .hold = stored_hold};

static void resize_done(pixd_job *pj, int status) {
    rjob *j = (rjob *)pj;
    native_req *req = j->req;
    char why[256] = "";
    int r;

    if (j->orphan || status < 0) {
        if (!j->orphan)
            fail(j, status, "pixd is shutting down");
        else {
            free(req);
            rjob_free(j);
        }
        return;
    }
    if (j->err) {
        fail(j, j->err, j->msg);
        return;
    }
    if (j->store_as[0]) {
        j->stage = ST_STORING;
        r = pixd_upload_begin(req->conn->srv->store, j->store_as, j->res.len, j->sha256,
                              &store_result_ops, j, &j->up, why, sizeof why);
        if (r == 0 && (r = pixd_upload_data(j->up, j->res.data, j->res.len)) == 0)
            r = pixd_upload_end(j->up, NULL);
        if (r < 0 && r != -EPIPE)
            fail(j, r, why);
        return;
    }
    j->stage = ST_SENDING;
    send_stats(j, PIXPROTO_T_RESIZED, PIXPROTO_F_MORE, NULL);
    send_more(req);
}

static void submit(rjob *j) {
    pixd_server *srv = j->req->conn->srv;
    int r;
    j->stage = ST_QUEUED;
    j->job.work = resize_work;
    j->job.done = resize_done;
    if (j->reserved) {
        pixd_jobs_unreserve(j->reserved);
        j->reserved = NULL;
    }
    r = pixd_jobs_submit(&srv->jobs, &j->job);
    if (r < 0)
        fail(j, r, r == -EBUSY ? pixd__native_busy_msg : NULL);
}

static void source_read(void *ctx, int err, uint8_t *data, size_t len) {
    rjob *j = ctx;
    if (j->orphan) {
        free(data);
        free(j->req);
        rjob_free(j);
        return;
    }
    if (err) {
        fail(j, err, pixd__native_read_error(err));
        return;
    }
    j->in = data;
    j->in_len = j->in_size = len;
    submit(j);
}

static void send_more_resume(native_req *req) {
    rjob *j = req->job;
    if (j->stage == ST_SENDING)
        send_more(req);
}

static void resize_cancel(native_req *req) {
    rjob *j = req->job;
    switch (j->stage) {
    case ST_READING:
        j->orphan = 1; /* source_read frees */
        return;
    case ST_QUEUED:
        j->orphan = 1;
        /* Not started: taken off the line now (done frees); running: done frees. */
        pixd_jobs_cancel(j->job.q, &j->job);
        return;
    case ST_STORING:
        if (j->up)
            pixd_upload_abort(j->up);
        break;
    case ST_INPUT:
    case ST_SENDING:
        break;
    }
    free(req);
    rjob_free(j);
}

int pixd__native_resize(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixd_server *srv = c->srv;
    char source[PIXPROTO_NAME_MAX + 1] = "", why[256] = "";
    native_req *req;
    rjob *j;
    int r;

    if (pixd__native_req_find(st, f->id))
        return PIXPROTO_EDUPID;
    if (!(j = calloc(1, sizeof *j)))
        return PIXPROTO_ENOMEM;
    if ((r = parse_request(j, f, srv, source, why, sizeof why)) < 0) {
        rjob_free(j);
        pixd__native_error(c, f->id, r, why[0] ? why : NULL);
        return 0;
    }
    if (pixd__native_input_admit(c, st, f, j->in_size, !source[0]) < 0) {
        rjob_free(j);
        return 0;
    }
    j->reserved = &srv->jobs;
    if (!(req = pixd__native_req_new(c, st, f->id, f->type))) {
        rjob_free(j);
        return PIXPROTO_ENOMEM;
    }
    req->job = j;
    req->cancel = resize_cancel;
    req->resume = send_more_resume;
    j->req = req;
    if (source[0]) {
        j->stage = ST_READING;
        if ((r = pixd_store_read(srv->store, source, pixd__native_input_max(srv), source_read, j)) < 0)
            fail(j, r, r == -EINVAL ? "bad SOURCE name" : pixd__native_read_error(r));
        return 0;
    }
    j->stage = ST_INPUT;
    if (pixd_inbuf_begin(&j->body, j->in_size) < 0)
        fail(j, -ENOMEM, NULL);
    return 0;
}

int pixd__native_resize_data(native_req *req, const pixproto_frame *f) {
    rjob *j = req->job;
    const char *why;
    int r;
    if (j->stage == ST_INPUT && (r = pixd__native_input_data(&j->body, f, &why)) < 0)
        fail(j, r, why);
    return 0;
}

int pixd__native_resize_end(native_req *req, const pixproto_frame *f) {
    rjob *j = req->job;
    const char *why;
    if (j->stage != ST_INPUT)
        return 0;
    if (!(j->in = pixd__native_input_end(&j->body, &j->in_len, &why)))
        fail(j, -EBADMSG, why);
    else
        submit(j);
    return 0;
}
