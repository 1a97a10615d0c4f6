/* POST /api/v1/resize: the image is the request body, the resized image
 * the response body, statistics in X-Pixd-* headers (seed 004 over HTTP).
 * The job runs on the same queue as native RESIZE (native_resize.c); this
 * file also serves GET /api/v1/images/NAME?width=... for routes_images.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "../inbuf.h"
#include "../jobs.h"
#include "../server.h"
#include "json.h"
#include "routes.h"
#include "routes_resize.h"

#define INPUT_DEFAULT_MAX (256u << 20) /* without --max-upload, as native_resize.c */
#define OUT_CHUNK (256u << 10)
#define BUSY_TEXT "every worker is busy and the queue is full; try again shortly"

enum stage { ST_INPUT, ST_READING, ST_QUEUED, ST_SENDING };

typedef struct hjob {
    pixd_job job;
    pixd_http_req *r;   /* NULL once the client left: whoever holds j frees it */
    pixd_server *srv;
    enum stage stage;
    pixd_resize_params p;
    uint8_t *in;        /* the whole input once here (from body or the store) */
    size_t in_len, in_size;
    pixd_inbuf body;    /* ST_INPUT: the request body, grown as it arrives */
    pixd_resize_result res;
    int err;
    char msg[256];
    size_t sent;
    int reserved;       /* holds a place in srv->jobs' line until submitted */
} hjob;

static void hjob_free(hjob *j) {
    if (j->reserved)
        pixd_jobs_unreserve(&j->srv->jobs);
    pixd_inbuf_free(&j->body);
    free(j->in);
    free(j->res.data);
    free(j);
}

static size_t input_max(const pixd_server *srv) {
    unsigned long long m = srv->opt->max_upload;
    return m && m < INPUT_DEFAULT_MAX ? (size_t)m : INPUT_DEFAULT_MAX;
}

int pixd__http_error_extra(pixd_http_req *r, int status, const char *msg, const char *extra) {
    pixd_buf b = {0};
    int rc;
    pixd_json_obj_open(&b);
    pixd_json_kstr(&b, "error", pixd_http_reason(status));
    pixd_json_kstr(&b, "message", msg);
    pixd_json_obj_close(&b);
    pixd_buf_add(&b, "\n", 1);
    if (b.err) {
        pixd_buf_free(&b);
        return pixd_http_error(r, status, msg);
    }
    rc = pixd_http_respond(r, status, "application/json", b.data, b.len, extra);
    pixd_buf_free(&b);
    return rc;
}

static int busy(pixd_http_req *r) {
    pixd__http_error_extra(r, 503, BUSY_TEXT, "Retry-After: 1\r\n");
    return 503;
}

/* ---- the query ---- */

static const char *const resize_keys[] = {"width", "height", "mode", "quality", "format",
                                          "sharpen", "enlarge", "progressive", "fast"};

int pixd__http_resize_asked(pixd_http_req *r) {
    char v[sizeof r->query];
    for (size_t i = 0; i < sizeof resize_keys / sizeof resize_keys[0]; i++)
        if (pixd_http_query(r, resize_keys[i], v, sizeof v))
            return 1;
    return 0;
}

/* Decimal digits only (no sign, no spaces), at most max; "" is 0. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    unsigned long v = 0;
    if (!*s) {
        *out = 0;
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int parse_flag(const char *s, int *out) {
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !*s)
        *out = 1;
    else if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int parse_sharpen(const char *s, pixd_resize_params *p) {
    float r, a;
    int t, n = 0, on;
    if (parse_flag(s, &on) == 0) { /* sharpen=1: seed 000's 2,1.5,3 */
        p->sharpen = on;
        return 0;
    }
    if (sscanf(s, "%f,%f,%d%n", &r, &a, &t, &n) != 3 || s[n] || !(r > 0 && r <= 50) ||
        !(a >= 0 && a <= 10) || t < 0 || t > 255)
        return -1;
    p->sharpen = 1;
    p->sharpen_radius = r;
    p->sharpen_amount = a;
    p->sharpen_threshold = t;
    return 0;
}

/* Fill p from the query over the server's defaults: 0, or 400 with why. */
static int parse_params(pixd_http_req *r, const pixd_server *srv, pixd_resize_params *p,
                        char *why, size_t whylen) {
    char v[sizeof r->query]; /* a value that does not fit would read as absent */
    unsigned long n;
    int flag;

    pixd_resize_params_default(p);
    p->quality = (int)srv->opt->jpeg_quality;
    p->max_pixels = srv->opt->max_pixels;
    if (pixd_http_query(r, "width", v, sizeof v)) {
        if (parse_uint(v, PIXD_IMAGE_MAX_SIDE, &n) < 0)
            goto bad_side;
        p->width = (uint32_t)n;
    }
    if (pixd_http_query(r, "height", v, sizeof v)) {
        if (parse_uint(v, PIXD_IMAGE_MAX_SIDE, &n) < 0)
            goto bad_side;
        p->height = (uint32_t)n;
    }
    if (pixd_http_query(r, "quality", v, sizeof v) && *v) {
        if (parse_uint(v, 100, &n) < 0 || n < 1) {
            snprintf(why, whylen, "quality must be a whole number from 1 to 100");
            return 400;
        }
        p->quality = (int)n;
    }
    if (pixd_http_query(r, "mode", v, sizeof v) && *v) {
        if (!strcmp(v, "fit")) p->mode = PIXD_MODE_FIT;
        else if (!strcmp(v, "fill")) p->mode = PIXD_MODE_FILL;
        else if (!strcmp(v, "stretch")) p->mode = PIXD_MODE_STRETCH;
        else {
            snprintf(why, whylen, "mode must be fit, fill or stretch");
            return 400;
        }
    }
    if (pixd_http_query(r, "format", v, sizeof v) && *v) {
        if (!strcmp(v, "jpeg") || !strcmp(v, "jpg")) p->format = PIXD_FMT_JPEG;
        else if (!strcmp(v, "png")) p->format = PIXD_FMT_PNG;
        else if (!strcmp(v, "webp")) p->format = PIXD_FMT_WEBP;
        else {
            snprintf(why, whylen, "format must be jpeg, png or webp");
            return 400;
        }
    }
    if (pixd_http_query(r, "sharpen", v, sizeof v) && parse_sharpen(v, p) < 0) {
        snprintf(why, whylen, "sharpen must be RADIUS,AMOUNT,THRESHOLD as in 2,1.5,3 "
                 "(or 1 for those values, 0 for none)");
        return 400;
    }
    if (pixd_http_query(r, "enlarge", v, sizeof v)) {
        if (parse_flag(v, &flag) < 0)
            goto bad_flag;
        p->enlarge = flag;
    }
    if (pixd_http_query(r, "progressive", v, sizeof v)) {
        if (parse_flag(v, &flag) < 0)
            goto bad_flag;
        p->progressive = flag;
    }
    if (pixd_http_query(r, "fast", v, sizeof v)) {
        if (parse_flag(v, &flag) < 0)
            goto bad_flag;
        p->fast = flag;
    }
    return 0;
bad_side:
    snprintf(why, whylen, "width and height must be whole numbers from 0 to %u "
             "(0 or absent: follow the other side)", PIXD_IMAGE_MAX_SIDE);
    return 400;
bad_flag:
    snprintf(why, whylen, "enlarge, progressive and fast take 1 or 0");
    return 400;
}

/* ---- the job ---- */

static int status_of(int err) {
    switch (err) {
    case -EINVAL: return 400;
    case -ENOENT: return 404;
    case -EFBIG: return 413;
    case -EBADMSG: case -ENOTSUP: return 422;
    case -EBUSY: case -ECANCELED: case -ENOMEM: case -EMFILE: case -ENFILE: return 503;
    default: return 500;
    }
}

/* Answer an error (if the client is still there) and free. */
static void fail(hjob *j, int err, const char *msg) {
    pixd_http_req *r = j->r;
    if (r) {
        r->state = NULL;
        if (err == -EBUSY)
            busy(r);
        else
            pixd_http_error(r, status_of(err), msg && *msg ? msg : NULL);
    }
    hjob_free(j);
}

static void resize_work(pixd_job *pj) {
    hjob *j = (hjob *)pj;
    /* The input is freed once decoded, before the output exists. */
    j->err = pixd_image_resize_owned(j->in, j->in_len, &j->p, &j->res, j->msg, sizeof j->msg);
    j->in = NULL;
}

static const char *out_type(pixd_format f) {
    switch (f) {
    case PIXD_FMT_PNG: return "image/png";
    case PIXD_FMT_WEBP: return "image/webp";
    default: return "image/jpeg";
    }
}

/* Write the result as the connection takes it; resumed by the route. */
static void send_more(hjob *j) {
    pixd_http_req *r = j->r;
    while (j->sent < j->res.len && !pixd_http_congested(r)) {
        size_t n = j->res.len - j->sent < OUT_CHUNK ? j->res.len - j->sent : OUT_CHUNK;
        if (pixd_http_write_copy(r, j->res.data + j->sent, n) < 0)
            return; /* the connection is going; abort() frees j */
        j->sent += n;
    }
    if (j->sent < j->res.len)
        return;
    r->state = NULL;
    j->r = NULL;
    pixd_http_finish(r);
    hjob_free(j);
}

static void resize_done(pixd_job *pj, int status) {
    hjob *j = (hjob *)pj;
    const pixd_resize_result *res = &j->res;
    double queue_ms = (double)(j->job.started_ns - j->job.queued_ns) / 1e6;
    double run_ms = (double)(j->job.finished_ns - j->job.started_ns) / 1e6;
    char extra[640];

    if (!j->r) {
        hjob_free(j);
        return;
    }
    if (status < 0) {
        fail(j, -ECANCELED, "pixd is shutting down; try again later");
        return;
    }
    if (j->err) {
        /* From the image library -ENOENT means its codecs module is
         * missing: the server's fault, not a missing file. */
        fail(j, j->err == -ENOENT ? -EIO : j->err, j->msg);
        return;
    }
    snprintf(extra, sizeof extra,
             "X-Pixd-Input-Bytes: %zu\r\n"
             "X-Pixd-Output-Bytes: %zu\r\n"
             "X-Pixd-Input-Type: %s\r\n"
             "X-Pixd-Input-Size: %ux%u\r\n"
             "X-Pixd-Output-Size: %ux%u\r\n"
             "X-Pixd-Scale: %d/%d\r\n"
             "X-Pixd-Queue-Ms: %.3f\r\n"
             "X-Pixd-Process-Ms: %.3f\r\n"
             "X-Pixd-Ratio: %.2f\r\n",
             j->in_size, res->len, res->in_type[0] ? res->in_type : "unknown",
             res->in_width, res->in_height, res->out_width, res->out_height, res->scale_num,
             res->scale_denom, queue_ms, run_ms,
             res->len ? (double)j->in_size / (double)res->len : 0.0);
    j->stage = ST_SENDING;
    if (pixd_http_start(j->r, 200, out_type(j->p.format), (int64_t)res->len, extra) < 0)
        return; /* the connection is going; abort() frees j */
    if (j->r->method == PIXD_HEAD)
        j->sent = res->len; /* http.c sent the header only */
    send_more(j);
}

static void submit(hjob *j) {
    int r;
    j->stage = ST_QUEUED;
    j->job.work = resize_work;
    j->job.done = resize_done;
    if (j->reserved) {
        pixd_jobs_unreserve(&j->srv->jobs);
        j->reserved = 0;
    }
    if ((r = pixd_jobs_submit(&j->srv->jobs, &j->job)) < 0)
        fail(j, r, r == -EBUSY ? BUSY_TEXT : NULL);
}

static hjob *hjob_new(pixd_http_req *r) {
    hjob *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->r = r;
    j->srv = r->conn->srv;
    r->state = j;
    return j;
}

/* ---- GET /api/v1/images/NAME?width=... ---- */

static void stored_read(void *ctx, int err, uint8_t *data, size_t len) {
    hjob *j = ctx;
    if (!j->r) {
        free(data);
        hjob_free(j);
        return;
    }
    if (err) {
        fail(j, err, err == -EFBIG ? "the stored image is larger than this server takes for "
                                     "a resize job (--max-upload)"
                     : err == -ENOENT ? "no such image in the store (GET /api/v1/images "
                                        "lists them)" : NULL);
        return;
    }
    j->in = data;
    j->in_len = j->in_size = len;
    submit(j);
}

int pixd__http_resize_stored(pixd_http_req *r, const char *name) {
    pixd_server *srv = r->conn->srv;
    char why[256] = "";
    pixd_resize_params p;
    hjob *j;
    int st;

    if ((st = parse_params(r, srv, &p, why, sizeof why)) != 0) {
        pixd_http_error(r, st, why);
        return st;
    }
    if (pixd_jobs_reserve(&srv->jobs) < 0)
        return busy(r);
    if (!(j = hjob_new(r))) {
        pixd_jobs_unreserve(&srv->jobs);
        return pixd_http_error(r, 503, "out of memory; try again shortly"), 503;
    }
    j->reserved = 1;
    j->p = p;
    j->stage = ST_READING;
    if ((st = pixd_store_read(srv->store, name, input_max(srv), stored_read, j)) < 0) {
        r->state = NULL;
        hjob_free(j);
        st = status_of(st);
        pixd_http_error(r, st, NULL);
        return st;
    }
    return 0;
}

void pixd__http_resize_abort(pixd_http_req *r) {
    hjob *j = r->state;
    if (!j)
        return;
    r->state = NULL;
    j->r = NULL;
    switch (j->stage) {
    case ST_READING:
        return; /* stored_read frees */
    case ST_QUEUED:
        /* Waiting: taken off the line now and resize_done frees; running:
         * resize_done frees when it ends. */
        pixd_jobs_cancel(&j->srv->jobs, &j->job);
        return;
    case ST_INPUT:
    case ST_SENDING:
        hjob_free(j);
        return;
    }
}

void pixd__http_resize_resume(pixd_http_req *r) {
    hjob *j = r->state;
    if (j && j->stage == ST_SENDING)
        send_more(j);
}

/* ---- POST /api/v1/resize ---- */

static int resize_begin(pixd_http_req *r) {
    pixd_server *srv = r->conn->srv;
    char why[256] = "";
    pixd_resize_params p;
    hjob *j;
    int st;

    if ((st = parse_params(r, srv, &p, why, sizeof why)) != 0) {
        pixd_http_error(r, st, why);
        return st;
    }
    if (r->chunked || !pixd_http_header(r, "Content-Length")) {
        pixd_http_error(r, 411, "send the image with a Content-Length "
                        "(curl --data-binary @in.jpg does)");
        return 411;
    }
    if (r->content_length == 0) {
        pixd_http_error(r, 400, "send the image as the request body, as in "
                        "curl --data-binary @in.jpg 'http://HOST:7080/api/v1/resize?width=800'");
        return 400;
    }
    if (r->content_length > input_max(srv)) {
        snprintf(why, sizeof why, "image of %llu bytes is over this server's limit of %zu "
                 "bytes for a job", (unsigned long long)r->content_length, input_max(srv));
        pixd_http_error(r, 413, why);
        return 413;
    }
    /* Say "busy" before the client sends its image, not after; the input
     * held meanwhile counts as a queued job. */
    if (pixd_jobs_reserve(&srv->jobs) < 0)
        return busy(r);
    if (!(j = hjob_new(r))) {
        pixd_jobs_unreserve(&srv->jobs);
        return pixd_http_error(r, 503, "out of memory; try again shortly"), 503;
    }
    j->reserved = 1;
    j->p = p;
    j->stage = ST_INPUT;
    j->in_size = (size_t)r->content_length;
    /* Content-Length is not trusted for the first allocation (inbuf.h). */
    if (pixd_inbuf_begin(&j->body, j->in_size) < 0) {
        r->state = NULL;
        hjob_free(j);
        return pixd_http_error(r, 503, "out of memory; try again shortly"), 503;
    }
    return 0;
}

static int resize_body(pixd_http_req *r, const uint8_t *p, size_t n) {
    hjob *j = r->state;
    int rc;
    if (!j || j->stage != ST_INPUT)
        return 0;
    if ((rc = pixd_inbuf_add(&j->body, p, n)) == -EMSGSIZE) {
        fail(j, -EINVAL, "received more image bytes than Content-Length announced");
        return 400;
    }
    if (rc < 0) {
        fail(j, -ENOMEM, "out of memory; try again shortly");
        return 503;
    }
    return 0;
}

static int resize_end(pixd_http_req *r) {
    hjob *j = r->state;
    if (!j || j->stage != ST_INPUT)
        return 0;
    if (!(j->in = pixd_inbuf_take(&j->body, &j->in_len))) {
        fail(j, -EINVAL, "received fewer image bytes than Content-Length announced");
        return 400;
    }
    submit(j);
    return 0;
}

const pixd_http_route pixd_route_resize = {
    .pattern = "/api/v1/resize",
    .methods = PIXD_POST,
    .name = "resize",
    .begin = resize_begin,
    .body = resize_body,
    .end = resize_end,
    .abort = pixd__http_resize_abort,
    .resume = pixd__http_resize_resume,
};
