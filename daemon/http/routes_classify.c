/* Classification over HTTP: GET /api/v1/models lists the --model
 * classifiers; POST /api/v1/classify?model=M&top=K classifies the image in
 * the body and answers JSON. The HTTP twin of native_classify.c, on the
 * same job API (classify/classify.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../classify/classify.h"
#include "../inbuf.h"
#include "../server.h"
#include "json.h"
#include "routes.h"
#include "routes_resize.h"

#define INPUT_DEFAULT_MAX (256u << 20) /* without --max-upload, as native_classify.c */
#define BUSY_TEXT "every worker is busy and the queue is full; try again shortly"

enum stage { ST_INPUT, ST_QUEUED };

typedef struct cjob {
    pixd_http_req *r;
    enum stage stage;
    const pixd_model *m;
    unsigned top;
    size_t in_size;
    pixd_inbuf body;     /* ST_INPUT: the request body, grown as it arrives */
    pixd_classify_req *job;
    pixd_jobs *reserved; /* a place in the line while the body arrives */
} cjob;

static void unreserve(cjob *j) {
    if (j->reserved)
        pixd_jobs_unreserve(j->reserved);
    j->reserved = NULL;
}

static void cjob_free(cjob *j) {
    unreserve(j);
    pixd_inbuf_free(&j->body);
    free(j);
}

static size_t input_max(const pixd_server *srv) {
    unsigned long long m = srv->opt->max_upload;
    return m && m < INPUT_DEFAULT_MAX ? (size_t)m : INPUT_DEFAULT_MAX;
}

static int status_of(int err) {
    switch (err) {
    case -EINVAL: return 400;
    case -EFBIG: return 413;
    case -EBADMSG: case -ENOTSUP: return 422;
    case -EBUSY: case -ECANCELED: case -ENOMEM: return 503;
    default: return 500;
    }
}

static int respond_json(pixd_http_req *r, pixd_buf *b) {
    pixd_buf_add(b, "\n", 1);
    if (b->err) {
        pixd_buf_free(b);
        return pixd_http_error(r, 500, "out of memory"), 500;
    }
    pixd_http_respond(r, 200, "application/json", b->data, b->len, "Cache-Control: no-store\r\n");
    pixd_buf_free(b);
    return 0;
}

/* ---- GET /api/v1/models ---- */

static int models_begin(pixd_http_req *r) {
    const pixd_classifier *c = r->conn->srv->classify;
    const pixd_model *m;
    pixd_buf b = {0};

    pixd_json_arr_open(&b);
    for (size_t i = 0; (m = pixd_classify_model_at(c, i)); i++) {
        pixd_model_info info;
        pixd_model_describe(m, &info);
        pixd_json_obj_open(&b);
        pixd_json_kstr(&b, "name", info.name);
        pixd_json_ku64(&b, "width", info.width);
        pixd_json_ku64(&b, "height", info.height);
        pixd_json_ku64(&b, "labels", info.labels);
        pixd_json_key(&b, "positive");
        pixd_json_str(&b, info.positive[0] ? info.positive : NULL);
        pixd_json_obj_close(&b);
    }
    pixd_json_arr_close(&b);
    return respond_json(r, &b);
}

static int no_body_end(pixd_http_req *r) {
    (void)r;
    return 0;
}

const pixd_http_route pixd_route_models = {
    .pattern = "/api/v1/models",
    .methods = PIXD_GET,
    .name = "models",
    .begin = models_begin,
    .end = no_body_end,
};

/* ---- POST /api/v1/classify ---- */

static void classified(void *ctx, int err, const char *msg, const pixd_classify_result *res) {
    cjob *j = ctx;
    pixd_http_req *r = j->r;
    pixd_buf b = {0};

    r->state = NULL;
    if (err) {
        if (err == -EBUSY || err == -ECANCELED)
            pixd__http_error_extra(r, 503, err == -EBUSY ? BUSY_TEXT : msg, "Retry-After: 1\r\n");
        else
            pixd_http_error(r, status_of(err), msg && *msg ? msg : NULL);
        cjob_free(j);
        return;
    }
    pixd_json_obj_open(&b);
    pixd_json_kstr(&b, "model", res->model);
    pixd_json_key(&b, "top");
    pixd_json_arr_open(&b);
    for (size_t i = 0; i < res->n; i++) {
        pixd_json_obj_open(&b);
        pixd_json_kstr(&b, "label", res->top[i].label);
        pixd_json_key(&b, "score");
        pixd_json_double(&b, (double)res->top[i].score);
        pixd_json_obj_close(&b);
    }
    pixd_json_arr_close(&b);
    if (res->has_positive) {
        pixd_json_key(&b, "positive");
        pixd_json_bool(&b, res->positive);
    }
    pixd_json_ku64(&b, "input_bytes", j->in_size);
    pixd_json_kstr(&b, "input_type", res->in_type);
    pixd_json_ku64(&b, "input_width", res->in_width);
    pixd_json_ku64(&b, "input_height", res->in_height);
    pixd_json_ku64(&b, "queue_us", res->queue_us);
    pixd_json_ku64(&b, "preprocess_us", res->decode_us + res->preprocess_us);
    pixd_json_ku64(&b, "inference_us", res->inference_us);
    pixd_json_obj_close(&b);
    respond_json(r, &b);
    cjob_free(j);
}

static int classify_begin(pixd_http_req *r) {
    pixd_server *srv = r->conn->srv;
    char v[sizeof r->query], why[256];
    unsigned long top = PIXD_CLASSIFY_TOP_DEFAULT;
    const pixd_model *m;
    cjob *j;

    if (!srv->classify) {
        pixd_http_error(r, 404, "this pixd has no models; start it with --model NAME=PATH");
        return 404;
    }
    if (!pixd_http_query(r, "model", v, sizeof v) || !*v) {
        pixd_http_error(r, 400, "name a model: /api/v1/classify?model=NAME "
                        "(GET /api/v1/models lists them)");
        return 400;
    }
    if (!(m = pixd_classify_find(srv->classify, v))) {
        snprintf(why, sizeof why, "no model named \"%.64s\" (GET /api/v1/models lists them)", v);
        pixd_http_error(r, 404, why);
        return 404;
    }
    if (pixd_http_query(r, "top", v, sizeof v)) {
        char *end;
        top = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
        if (top < 1 || top > PIXD_CLASSIFY_TOP_MAX || *end) {
            snprintf(why, sizeof why, "top must be a whole number from 1 to %u",
                     PIXD_CLASSIFY_TOP_MAX);
            pixd_http_error(r, 400, why);
            return 400;
        }
    }
    if (r->chunked || !pixd_http_header(r, "Content-Length") || r->content_length == 0) {
        pixd_http_error(r, 411, "send the image as the body with a Content-Length, as in "
                        "curl --data-binary @in.jpg 'http://HOST:7080/api/v1/classify?model=M'");
        return 411;
    }
    if (r->content_length > input_max(srv)) {
        snprintf(why, sizeof why, "image of %llu bytes is over this server's limit of %zu "
                 "bytes for a job", (unsigned long long)r->content_length, input_max(srv));
        pixd_http_error(r, 413, why);
        return 413;
    }
    /* Say "busy" before the client sends its image, not after; the body
     * holds a place in the line while it arrives (jobs.h). */
    if (pixd_jobs_reserve(&srv->jobs) < 0) {
        pixd__http_error_extra(r, 503, BUSY_TEXT, "Retry-After: 1\r\n");
        return 503;
    }
    if (!(j = calloc(1, sizeof *j))) {
        pixd_jobs_unreserve(&srv->jobs);
        return pixd_http_error(r, 503, "out of memory; try again shortly"), 503;
    }
    j->reserved = &srv->jobs;
    j->r = r;
    j->m = m;
    j->top = (unsigned)top;
    j->stage = ST_INPUT;
    j->in_size = (size_t)r->content_length;
    /* Content-Length is not trusted for the first allocation (inbuf.h). */
    if (pixd_inbuf_begin(&j->body, j->in_size) < 0) {
        cjob_free(j);
        return pixd_http_error(r, 503, "out of memory; try again shortly"), 503;
    }
    r->state = j;
    return 0;
}

static void fail_input(cjob *j, int status, const char *msg) {
    pixd_http_req *r = j->r;
    r->state = NULL;
    pixd_http_error(r, status, msg);
    cjob_free(j);
}

static int classify_body(pixd_http_req *r, const uint8_t *p, size_t n) {
    cjob *j = r->state;
    int rc;
    if (!j || j->stage != ST_INPUT)
        return 0;
    if ((rc = pixd_inbuf_add(&j->body, p, n)) == -EMSGSIZE) {
        fail_input(j, 400, "received more image bytes than Content-Length announced");
        return 400;
    }
    if (rc < 0) {
        fail_input(j, 503, "out of memory; try again shortly");
        return 503;
    }
    return 0;
}

static int classify_end(pixd_http_req *r) {
    cjob *j = r->state;
    size_t len;
    uint8_t *in;
    int rc;
    if (!j || j->stage != ST_INPUT)
        return 0;
    if (!(in = pixd_inbuf_take(&j->body, &len))) {
        fail_input(j, 400, "received fewer image bytes than Content-Length announced");
        return 400;
    }
    j->stage = ST_QUEUED;
    unreserve(j);
    /* in is the job's from here, freed by it even if submitting fails. */
    rc = pixd_classify_submit(r->conn->srv->classify, j->m, in, len, j->top, classified,
                              j, &j->job);
    if (rc < 0) {
        r->state = NULL;
        if (rc == -EBUSY)
            pixd__http_error_extra(r, 503, BUSY_TEXT, "Retry-After: 1\r\n");
        else
            pixd_http_error(r, status_of(rc), NULL);
        cjob_free(j);
        return 0;
    }
    return 0;
}

static void classify_abort(pixd_http_req *r) {
    cjob *j = r->state;
    if (!j)
        return;
    r->state = NULL;
    if (j->stage == ST_QUEUED)
        pixd_classify_cancel(j->job);
    cjob_free(j);
}

const pixd_http_route pixd_route_classify = {
    .pattern = "/api/v1/classify",
    .methods = PIXD_POST,
    .name = "classify",
    .begin = classify_begin,
    .body = classify_body,
    .end = classify_end,
    .abort = classify_abort,
};
