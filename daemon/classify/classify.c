/* The models named by --model, and classification jobs on the job queue.
 * See classify.h. */
#include "classify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../camera/frame.h"
#include "../image/image.h"
#include "../jobs.h"
#include "net.h"

#define LABELS_FILE_MAX ((size_t)16 << 20)

struct pixd_model {
    pixd_model_spec spec;
    pixd_labels labels;
    void *net;        /* the module's */
    long positive;    /* index of spec.positive, -1 */
};

struct pixd_classifier {
    const pixd_net_ops *ops;
    struct pixd_jobs *jobs;
    uint64_t max_pixels;
    size_t n;
    pixd_model models[PIXD_MAX_MODELS];
};

struct pixd_classify_req {
    pixd_job job;           /* first: jobs.c hands it back */
    pixd_classifier *c;
    const pixd_model *m;
    pixd_classify_cb cb;    /* NULL once cancelled */
    void *ctx;
    uint8_t *owned;         /* free()d at the end, or */
    pixd_frame *frame;      /* unref'd at the end (loop thread) */
    const uint8_t *in;
    size_t len;
    unsigned k;
    float *scores;          /* labels.n of them */
    pixd_class_score top[PIXD_CLASSIFY_TOP_MAX];
    pixd_classify_result r;
    int err;
    char msg[300];
};

/* ---- loading ---- */

static int read_labels(pixd_model *m, char *err, size_t errlen) {
    const char *path = m->spec.labels;
    char why[200];
    struct stat st;
    char *text;
    FILE *f = fopen(path, "rb");
    size_t got;
    int r;

    if (!f || fstat(fileno(f), &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "model %s: cannot read the labels file %s: %s", m->spec.name,
                 path, strerror(e));
        if (f)
            fclose(f);
        return -e;
    }
    if ((size_t)st.st_size > LABELS_FILE_MAX) {
        fclose(f);
        snprintf(err, errlen, "model %s: the labels file %s is over 16 MiB", m->spec.name, path);
        return -EFBIG;
    }
    if (!(text = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        return -ENOMEM;
    }
    got = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    r = pixd_labels_parse(text, got, &m->labels, why, sizeof why);
    free(text);
    if (r < 0)
        snprintf(err, errlen, "model %s: %s: %s", m->spec.name, path, why);
    return r;
}

/* Without a labels file the scores are named by their index. */
static int index_labels(pixd_model *m, size_t n) {
    size_t len = 0;
    char *p;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(NULL, 0, "%zu", i) + 1;
    m->labels.names = calloc(n, sizeof *m->labels.names);
    m->labels.block = malloc(len);
    if (!m->labels.names || !m->labels.block)
        return -ENOMEM;
    p = m->labels.block;
    for (size_t i = 0; i < n; i++) {
        m->labels.names[i] = p;
        p += sprintf(p, "%zu", i) + 1;
    }
    m->labels.n = n;
    return 0;
}

static int load_model(pixd_classifier *c, pixd_model *m, char *err, size_t errlen) {
    const pixd_model_spec *s = &m->spec;
    pixd_net_params p = {.width = s->width, .height = s->height, .scale = s->scale,
                         .rgb = s->rgb};
    char why[400];
    size_t outputs = 0;
    int r;

    memcpy(p.mean, s->mean, sizeof p.mean);
    m->positive = -1;
    if (s->labels[0] && (r = read_labels(m, err, errlen)) < 0)
        return r;
    if ((r = c->ops->load(s->path, &p, &m->net, &outputs, why, sizeof why)) < 0) {
        snprintf(err, errlen, "model %s: cannot load %s: %s", s->name, s->path, why);
        return r;
    }
    if (!s->labels[0] && (r = index_labels(m, outputs)) < 0) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    if (outputs != m->labels.n) {
        snprintf(err, errlen, "model %s: %s gives %zu scores but the labels file %s has %zu "
                 "labels; they must match", s->name, s->path, outputs, s->labels, m->labels.n);
        return -EINVAL;
    }
    if (s->positive[0] && (m->positive = pixd_labels_find(&m->labels, s->positive)) < 0) {
        snprintf(err, errlen, "model %s: positive=%s is not one of its labels%s", s->name,
                 s->positive, s->labels[0] ? "" : " (without a labels file they are 0, 1, ...)");
        return -EINVAL;
    }
    return 0;
}

int pixd_classify_open(pixd_classifier **out, const pixd_model_spec *specs, size_t n,
                       struct pixd_jobs *jobs, uint64_t max_pixels, char *err, size_t errlen) {
    pixd_classifier *c;
    int r;

    *out = NULL;
    if (n > PIXD_MAX_MODELS) {
        snprintf(err, errlen, "at most %d models", PIXD_MAX_MODELS);
        return -E2BIG;
    }
    if (!(c = calloc(1, sizeof *c)))
        return -ENOMEM;
    c->jobs = jobs;
    c->max_pixels = max_pixels;
    if ((r = pixd__net_get(&c->ops, err, errlen)) < 0) {
        free(c);
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++)
            if (!strcmp(specs[k].name, specs[i].name)) {
                snprintf(err, errlen, "--model: the name \"%s\" is used twice", specs[i].name);
                pixd_classify_free(c);
                return -EINVAL;
            }
        c->models[i].spec = specs[i];
        c->n = i + 1;
        if ((r = load_model(c, &c->models[i], err, errlen)) < 0) {
            pixd_classify_free(c);
            return r;
        }
    }
    *out = c;
    return 0;
}

void pixd_classify_free(pixd_classifier *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        c->ops->free(c->models[i].net);
        pixd_labels_free(&c->models[i].labels);
    }
    free(c);
}

const pixd_model *pixd_classify_model_at(const pixd_classifier *c, size_t i) {
    return c && i < c->n ? &c->models[i] : NULL;
}

const pixd_model *pixd_classify_find(const pixd_classifier *c, const char *name) {
    for (size_t i = 0; c && i < c->n; i++)
        if (!strcmp(c->models[i].spec.name, name))
            return &c->models[i];
    return NULL;
}

void pixd_model_describe(const pixd_model *m, pixd_model_info *info) {
    info->name = m->spec.name;
    info->width = m->spec.width;
    info->height = m->spec.height;
    info->labels = m->labels.n;
    info->positive = m->spec.positive;
}

/* ---- jobs ---- */

/* NaN ranks below everything, so that a broken output cannot win. */
static int better(float a, float b) {
    return !isnan(a) && (isnan(b) || a > b);
}

/* The k best of n scores, best first: insertion into a sorted list of at
 * most k, O(n k) at worst. */
static size_t pick_top(const pixd_model *m, const float *s, unsigned k, pixd_class_score *top) {
    size_t n = m->labels.n, got = 0;
    for (size_t i = 0; i < n; i++) {
        size_t at = got;
        if (got == k && !better(s[i], top[k - 1].score))
            continue;
        while (at > 0 && better(s[i], top[at - 1].score))
            at--;
        if (got < k)
            got++;
        memmove(&top[at + 1], &top[at], (got - 1 - at) * sizeof *top);
        top[at].index = (uint32_t)i;
        top[at].score = s[i];
        top[at].label = m->labels.names[i];
    }
    return got;
}

static void classify_work(pixd_job *pj) {
    pixd_classify_req *q = (pixd_classify_req *)pj;
    const pixd_model *m = q->m;
    pixd_image_pixels px;
    pixd_net_pixels np;
    double pre = 0, infer = 0;
    uint64_t t0 = uv_hrtime();

    q->err = pixd_image_decode(q->in, q->len, m->spec.width, m->spec.height,
                               q->c->max_pixels, &px, q->msg, sizeof q->msg);
    q->r.decode_us = (uv_hrtime() - t0) / 1000u;
    q->r.in_width = px.in_width;
    q->r.in_height = px.in_height;
    memcpy(q->r.in_type, px.in_type, sizeof q->r.in_type);
    if (q->err < 0)
        return;
    np = (pixd_net_pixels){px.data, px.width, px.height, px.stride, px.channels};
    q->err = q->c->ops->run(m->net, &np, q->scores, m->labels.n, &pre, &infer, q->msg,
                            sizeof q->msg);
    pixd_image_decode_done();
    q->r.preprocess_us = (uint64_t)(pre * 1000.0);
    q->r.inference_us = (uint64_t)(infer * 1000.0);
    if (q->err < 0)
        return;
    q->r.n = pick_top(m, q->scores, q->k, q->top);
    q->r.positive = m->positive >= 0 && q->r.n && q->top[0].index == (uint32_t)m->positive;
}

static void req_free(pixd_classify_req *q) {
    free(q->owned);
    pixd_frame_unref(q->frame);
    free(q->scores);
    free(q);
}

static void classify_done(pixd_job *pj, int status) {
    pixd_classify_req *q = (pixd_classify_req *)pj;
    if (q->cb) {
        if (status < 0)
            q->cb(q->ctx, status, "pixd is shutting down", NULL);
        else if (q->err < 0)
            q->cb(q->ctx, q->err, q->msg, NULL);
        else {
            q->r.queue_us = (q->job.started_ns - q->job.queued_ns) / 1000u;
            q->cb(q->ctx, 0, NULL, &q->r);
        }
    }
    req_free(q);
}

static pixd_classify_req *req_new(pixd_classifier *c, const pixd_model *m, unsigned top,
                                  pixd_classify_cb cb, void *ctx) {
    pixd_classify_req *q = calloc(1, sizeof *q);
    if (!q || !(q->scores = calloc(m->labels.n, sizeof *q->scores))) {
        free(q);
        return NULL;
    }
    q->c = c;
    q->m = m;
    q->cb = cb;
    q->ctx = ctx;
    q->k = top < 1 ? 1 : top > PIXD_CLASSIFY_TOP_MAX ? PIXD_CLASSIFY_TOP_MAX : top;
    q->r.model = m->spec.name;
    q->r.top = q->top;
    q->r.has_positive = m->positive >= 0;
    q->job.work = classify_work;
    q->job.done = classify_done;
    return q;
}

static int submit(pixd_classify_req *q, pixd_classify_req **out) {
    int r = pixd_jobs_submit(q->c->jobs, &q->job);
    if (r < 0) {
        req_free(q);
        return r;
    }
    if (out)
        *out = q;
    return 0;
}

int pixd_classify_submit(pixd_classifier *c, const pixd_model *m, uint8_t *data, size_t len,
                         unsigned top, pixd_classify_cb cb, void *ctx, pixd_classify_req **out) {
    pixd_classify_req *q = req_new(c, m, top, cb, ctx);
    if (!q) {
        free(data);
        return -ENOMEM;
    }
    q->owned = data;
    q->in = data;
    q->len = len;
    return submit(q, out);
}

int pixd_classify_submit_frame(pixd_classifier *c, const pixd_model *m, pixd_frame *f,
                               unsigned top, pixd_classify_cb cb, void *ctx,
                               pixd_classify_req **out) {
    pixd_classify_req *q = req_new(c, m, top, cb, ctx);
    if (!q)
        return -ENOMEM;
    q->frame = pixd_frame_ref(f);
    q->in = f->data;
    q->len = f->len;
    return submit(q, out);
}

void pixd_classify_cancel(pixd_classify_req *q) {
    q->cb = NULL;
    /* Waiting: off the line now (done frees it); running: done frees it. */
    pixd_jobs_cancel(q->job.q, &q->job);
}

