/* Classification over the native protocol: MODELS lists the --model
 * classifiers; CLASSIFY runs one on an image sent in DATA frames, a
 * stored image (SOURCE) or a camera's next frame (CAMERA), answered by
 * CLASSIFIED. See pixd-protocol(7), "CLASSIFICATION". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera/hub.h"
#include "classify/classify.h"
#include "inbuf.h"
#include "native.h"
#include "native_input.h"
#include "server.h"

enum stage { ST_INPUT, ST_READING, ST_FRAME, ST_QUEUED };

typedef struct cjob {
    native_req *req;
    enum stage stage;
    int orphan;              /* detached while the store read was pending */
    const pixd_model *m;
    unsigned top;
    uint8_t *in;
    size_t in_len, in_size;
    pixd_inbuf body;         /* ST_INPUT: the sent image, grown as it arrives */
    pixd_sub *sub;           /* ST_FRAME, until gone() */
    pixd_frame *frame;       /* the camera's frame, from frame() to gone() */
    pixd_classify_req *job;  /* ST_QUEUED */
    pixd_jobs *reserved;     /* a place in the line, held until submitted */
} cjob;

/* The input has arrived: the job takes the place it held in the line. */
static void unreserve(cjob *j) {
    if (j->reserved)
        pixd_jobs_unreserve(j->reserved);
    j->reserved = NULL;
}

static void cjob_free(cjob *j) {
    unreserve(j);
    pixd_inbuf_free(&j->body);
    free(j->in);
    pixd_frame_unref(j->frame);
    free(j);
}

static void fail(cjob *j, int err, const char *msg) {
    native_req *req = j->req;
    if (req->conn)
        pixd__native_error(req->conn, req->id, pixd__native_job_code(err), msg && *msg ? msg : NULL);
    pixd__native_req_done(req);
    cjob_free(j);
}

/* ---- MODELS ---- */

int pixd__native_models(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixproto_buf b = {0};
    const pixd_model *m;
    uint8_t *buf = NULL;
    long n;
    (void)st;

    for (size_t i = 0; (m = pixd_classify_model_at(c->srv->classify, i)); i++) {
        pixproto_buf e = {0};
        pixd_model_info info;
        pixd_model_describe(m, &info);
        pixproto_put_str(&e, PIXPROTO_TAG_NAME, info.name);
        pixproto_put_u64(&e, PIXPROTO_TAG_WIDTH, info.width);
        pixproto_put_u64(&e, PIXPROTO_TAG_HEIGHT, info.height);
        pixproto_put_u64(&e, PIXPROTO_TAG_LABELS, info.labels);
        if (info.positive[0])
            pixproto_put_str(&e, PIXPROTO_TAG_POSITIVE, info.positive);
        if (e.err)
            b.err = e.err;
        else
            pixproto_put_bytes(&b, PIXPROTO_TAG_MODEL_INFO, e.data, e.len);
        pixproto_buf_free(&e);
    }
    n = b.err ? b.err : pixproto_frame_encode(PIXPROTO_T_MODELS_REPLY, 0, f->id, b.data, b.len,
                                              &buf);
    pixproto_buf_free(&b);
    pixd__native_send(c, n, buf);
    return 0;
}

/* ---- CLASSIFY ---- */

static void classified(void *ctx, int err, const char *msg, const pixd_classify_result *r) {
    cjob *j = ctx;
    native_req *req = j->req;
    pixproto_buf b = {0};
    uint8_t *buf = NULL;
    long n;

    j->job = NULL;
    if (err) {
        fail(j, err, msg);
        return;
    }
    pixproto_put_str(&b, PIXPROTO_TAG_MODEL, r->model);
    for (size_t i = 0; i < r->n; i++) {
        pixproto_buf e = {0};
        char score[32];
        snprintf(score, sizeof score, "%.9g", (double)r->top[i].score);
        pixproto_put_str(&e, PIXPROTO_TAG_LABEL, r->top[i].label);
        pixproto_put_str(&e, PIXPROTO_TAG_SCORE, score);
        if (e.err)
            b.err = e.err;
        else
            pixproto_put_bytes(&b, PIXPROTO_TAG_CLASS, e.data, e.len);
        pixproto_buf_free(&e);
    }
    if (r->has_positive)
        pixproto_put_u64(&b, PIXPROTO_TAG_POSITIVE, (uint64_t)r->positive);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_BYTES, j->in_size);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_WIDTH, r->in_width);
    pixproto_put_u64(&b, PIXPROTO_TAG_IN_HEIGHT, r->in_height);
    pixproto_put_str(&b, PIXPROTO_TAG_IN_TYPE, r->in_type);
    pixproto_put_u64(&b, PIXPROTO_TAG_QUEUE_US, r->queue_us);
    pixproto_put_u64(&b, PIXPROTO_TAG_PREPROCESS_US, r->decode_us + r->preprocess_us);
    pixproto_put_u64(&b, PIXPROTO_TAG_INFERENCE_US, r->inference_us);
    n = b.err ? b.err : pixproto_frame_encode(PIXPROTO_T_CLASSIFIED, 0, req->id, b.data, b.len,
                                              &buf);
    pixproto_buf_free(&b);
    pixd__native_send(req->conn, n, buf);
    pixd__native_req_done(req);
    cjob_free(j);
}

static void submit_bytes(cjob *j) {
    pixd_server *srv = j->req->conn->srv;
    uint8_t *in = j->in;
    int r;
    j->in = NULL; /* the job owns it now */
    j->stage = ST_QUEUED;
    unreserve(j);
    r = pixd_classify_submit(srv->classify, j->m, in, j->in_len, j->top, classified, j, &j->job);
    if (r < 0)
        fail(j, r, r == -EBUSY ? pixd__native_busy_msg : NULL);
}

static void source_read(void *ctx, int err, uint8_t *data, size_t len) {
    cjob *j = ctx;
    if (j->orphan) {
        free(data);
        free(j->req);
        cjob_free(j);
        return;
    }
    if (err) {
        fail(j, err, pixd__native_read_error(err));
        return;
    }
    j->in = data;
    j->in_len = j->in_size = len;
    submit_bytes(j);
}

static void cam_frame(void *ctx, pixd_frame *f) {
    cjob *j = ctx;
    pixd_frame_unref(j->frame);
    j->frame = pixd_frame_ref(f);
}

static int cam_ready(void *ctx) { (void)ctx; return 1; }

/* The one-frame subscription is over: classify what came. */
static void cam_gone(void *ctx) {
    cjob *j = ctx;
    pixd_server *srv = j->req->conn->srv;
    int r;
    j->sub = NULL;
    if (!j->frame) {
        fail(j, -ENOENT, "the camera went away before it sent a picture");
        return;
    }
    j->stage = ST_QUEUED;
    j->in_size = j->frame->len;
    unreserve(j);
    r = pixd_classify_submit_frame(srv->classify, j->m, j->frame, j->top, classified, j,
                                   &j->job);
    pixd_frame_unref(j->frame);
    j->frame = NULL;
    if (r < 0)
        fail(j, r, r == -EBUSY ? pixd__native_busy_msg : NULL);
}

static const pixd_sub_ops cam_ops = {.frame = cam_frame, .ready = cam_ready, .gone = cam_gone};

static void classify_cancel(native_req *req) {
    cjob *j = req->job;
    switch (j->stage) {
    case ST_READING:
        j->orphan = 1; /* source_read frees */
        return;
    case ST_FRAME:
        if (j->sub)
            pixd_sub_unsubscribe(j->sub);
        break;
    case ST_QUEUED:
        if (j->job)
            pixd_classify_cancel(j->job);
        break;
    case ST_INPUT:
        break;
    }
    free(req);
    cjob_free(j);
}

static int parse_request(cjob *j, const pixproto_frame *f, const pixd_server *srv, char *source,
                         char *camera, char *why, size_t whylen) {
    char model[PIXD_MODEL_NAME_MAX + 2] = "";
    pixproto_reader r;
    pixproto_field fl;
    uint64_t v;

    j->top = PIXD_CLASSIFY_TOP_DEFAULT;
    pixproto_reader_init(&r, f->body, f->len);
    while (pixproto_field_next(&r, &fl) == 1) {
        switch (fl.tag) {
        case PIXPROTO_TAG_TOP:
        case PIXPROTO_TAG_SIZE:
            if (pixproto_field_u64(&fl, &v) < 0)
                return PIXPROTO_EBADBODY;
            if (fl.tag == PIXPROTO_TAG_TOP && (v < 1 || v > PIXD_CLASSIFY_TOP_MAX)) {
                snprintf(why, whylen, "top must be from 1 to %u", PIXD_CLASSIFY_TOP_MAX);
                return PIXPROTO_EINVALID;
            }
            if (fl.tag == PIXPROTO_TAG_TOP)
                j->top = (unsigned)v;
            else
                j->in_size = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
            break;
        case PIXPROTO_TAG_MODEL:
            if (pixproto_field_str(&fl, model, sizeof model) == PIXPROTO_EBADBODY)
                return PIXPROTO_EBADBODY;
            break;
        case PIXPROTO_TAG_SOURCE:
        case PIXPROTO_TAG_CAMERA:
            if (fl.len > PIXPROTO_NAME_MAX) {
                snprintf(why, whylen, "name is longer than 200 bytes");
                return PIXPROTO_EINVALID;
            }
            if (pixproto_field_str(&fl, fl.tag == PIXPROTO_TAG_SOURCE ? source : camera,
                                   PIXPROTO_NAME_MAX + 1) < 0)
                return PIXPROTO_EBADBODY;
            break;
        default:
            break;
        }
    }
    if (!srv->classify) {
        snprintf(why, whylen, "this pixd has no models; start it with --model NAME=PATH");
        return PIXPROTO_ENOTFOUND;
    }
    if (!model[0]) {
        snprintf(why, whylen, "name a model (see `pixctl models`)");
        return PIXPROTO_EINVALID;
    }
    if (!(j->m = pixd_classify_find(srv->classify, model))) {
        snprintf(why, whylen, "no model named \"%.64s\" (see `pixctl models`)", model);
        return PIXPROTO_ENOTFOUND;
    }
    if (source[0] && camera[0]) {
        snprintf(why, whylen, "give a stored image or a camera, not both");
        return PIXPROTO_EINVALID;
    }
    return 0;
}

int pixd__native_classify(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    pixd_server *srv = c->srv;
    char source[PIXPROTO_NAME_MAX + 1] = "", camera[PIXPROTO_NAME_MAX + 1] = "", why[256] = "";
    native_req *req;
    cjob *j;
    int r;

    if (pixd__native_req_find(st, f->id))
        return PIXPROTO_EDUPID;
    if (!(j = calloc(1, sizeof *j)))
        return PIXPROTO_ENOMEM;
    if ((r = parse_request(j, f, srv, source, camera, why, sizeof why)) < 0) {
        cjob_free(j);
        pixd__native_error(c, f->id, r, why[0] ? why : NULL);
        return 0;
    }
    if (pixd__native_input_admit(c, st, f, j->in_size, !source[0] && !camera[0]) < 0) {
        cjob_free(j);
        return 0;
    }
    j->reserved = &srv->jobs;
    if (!(req = pixd__native_req_new(c, st, f->id, f->type))) {
        cjob_free(j);
        return PIXPROTO_ENOMEM;
    }
    req->job = j;
    req->cancel = classify_cancel;
    j->req = req;
    if (source[0]) {
        j->stage = ST_READING;
        if ((r = pixd_store_read(srv->store, source, pixd__native_input_max(srv), source_read, j)) < 0)
            fail(j, r, r == -EINVAL ? "bad SOURCE name" : pixd__native_read_error(r));
        return 0;
    }
    if (camera[0]) {
        j->stage = ST_FRAME;
        r = srv->hub ? pixd_hub_subscribe(srv->hub, camera, 0, 0, 1, &cam_ops, j, &j->sub)
                     : -ENOENT;
        if (r < 0) {
            snprintf(why, sizeof why, "no camera named \"%.64s\" (see `pixctl cams`)", camera);
            fail(j, r, r == -ENOENT ? why : NULL);
        }
        return 0;
    }
    j->stage = ST_INPUT;
    if (pixd_inbuf_begin(&j->body, j->in_size) < 0)
        fail(j, -ENOMEM, NULL);
    return 0;
}

int pixd__native_classify_data(native_req *req, const pixproto_frame *f) {
    cjob *j = req->job;
    const char *why;
    int r;
    if (j->stage == ST_INPUT && (r = pixd__native_input_data(&j->body, f, &why)) < 0)
        fail(j, r, why);
    return 0;
}

int pixd__native_classify_end(native_req *req, const pixproto_frame *f) {
    cjob *j = req->job;
    const char *why;
    (void)f;
    if (j->stage != ST_INPUT)
        return 0;
    if (!(j->in = pixd__native_input_end(&j->body, &j->in_len, &why)))
        fail(j, -EBADMSG, why);
    else
        submit_bytes(j);
    return 0;
}
