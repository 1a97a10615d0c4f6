/* Classification jobs: the models named by --model and a job that turns an
 * image's bytes into the top labels of one of them.
 *
 * The models are loaded at start through the pixd-classify module (OpenCV
 * dnn, dlopen'ed only when --model is given); each job runs on the capped
 * job queue (jobs.c) beside resize jobs; a job borrows a network from its
 * model's pool (never more than ran at once). For every handler: native_classify.c,
 * http/routes_classify.c and the legacy predict protocol. Loop thread only,
 * except where it says otherwise. */
#ifndef PIXD_CLASSIFY_H
#define PIXD_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "model_spec.h"

struct pixd_jobs;
struct pixd_frame;
typedef struct pixd_classifier pixd_classifier;
typedef struct pixd_model pixd_model;
typedef struct pixd_classify_req pixd_classify_req;

#define PIXD_CLASSIFY_TOP_MAX 100u
#define PIXD_CLASSIFY_TOP_DEFAULT 5u

/* Load every model in specs (n > 0) and check each against its labels.
 * Returns 0, or a negative errno with err naming the model, the file and
 * the reason (OpenCV's for a model it cannot run). */
int pixd_classify_open(pixd_classifier **out, const pixd_model_spec *specs, size_t n,
                       struct pixd_jobs *jobs, uint64_t max_pixels, char *err, size_t errlen);
void pixd_classify_free(pixd_classifier *c); /* accepts NULL; no job may be in flight */

/* Models in --model order; NULL past the end or for c NULL. */
const pixd_model *pixd_classify_model_at(const pixd_classifier *c, size_t i);
const pixd_model *pixd_classify_find(const pixd_classifier *c, const char *name);

typedef struct pixd_model_info {
    const char *name;
    uint32_t width, height; /* network input */
    size_t labels;          /* = scores per image */
    const char *positive;   /* "" when the model has none */
} pixd_model_info;
void pixd_model_describe(const pixd_model *m, pixd_model_info *info);

typedef struct pixd_class_score {
    const char *label; /* the model's, valid while pixd runs */
    uint32_t index;
    float score;       /* as the network outputs it */
} pixd_class_score;

typedef struct pixd_classify_result {
    const char *model;
    size_t n;                 /* top-k, best first */
    const pixd_class_score *top;
    int has_positive;         /* the model names a positive label */
    int positive;             /* ... and it won */
    uint32_t in_width, in_height;
    char in_type[8];
    /* Where a job's time went: decode + preprocess is "preprocessing". */
    uint64_t queue_us, decode_us, preprocess_us, inference_us;
} pixd_classify_result;

/* Called once on the loop thread: err 0 and r, or a negative errno
 * (-EFBIG, -EBADMSG, -ENOTSUP, -ENOMEM, -EIO, -ECANCELED at shutdown) and
 * a sentence for the user. r and its strings live only during the call. */
typedef void (*pixd_classify_cb)(void *ctx, int err, const char *msg,
                                 const pixd_classify_result *r);

/* Classify the len bytes at data, which the job takes: free()d when it
 * ends (also on failure). top: 1..PIXD_CLASSIFY_TOP_MAX (clamped to the
 * labels). Returns 0 (cb will be called unless cancelled; *out set), or
 * -EBUSY (queue full) / -ENOMEM, cb never called. */
int pixd_classify_submit(pixd_classifier *c, const pixd_model *m, uint8_t *data, size_t len,
                         unsigned top, pixd_classify_cb cb, void *ctx, pixd_classify_req **out);
/* The same on a camera frame, holding a reference to it (no copy). */
int pixd_classify_submit_frame(pixd_classifier *c, const pixd_model *m, struct pixd_frame *f,
                               unsigned top, pixd_classify_cb cb, void *ctx,
                               pixd_classify_req **out);
/* The caller no longer wants the answer: cb will not be called, the job
 * is taken off the line or its result dropped when it ends. */
void pixd_classify_cancel(pixd_classify_req *r);

#endif
