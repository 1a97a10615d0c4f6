/* --model NAME=PATH[,labels=FILE][,size=WxH][,mean=R,G,B][,scale=S]
 *                   [,rgb=0|1][,positive=LABEL]
 * and the labels file it names: parsers only, no I/O. */
#ifndef PIXD_CLASSIFY_MODEL_SPEC_H
#define PIXD_CLASSIFY_MODEL_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define PIXD_MAX_MODELS 8
#define PIXD_MODEL_NAME_MAX 63
#define PIXD_MODEL_SIDE_MAX 4096u
#define PIXD_LABEL_MAX 127
#define PIXD_LABELS_MAX 100000u

typedef struct pixd_model_spec {
    char name[PIXD_MODEL_NAME_MAX + 1]; /* [A-Za-z0-9._-]+ */
    char path[4096];                    /* the ONNX file */
    char labels[4096];                  /* "": scores are named by index */
    uint32_t width, height;             /* network input, default 224x224 */
    float mean[3];                      /* R, G, B subtracted first (default 0) */
    float scale;                        /* then multiplied (default 1/255) */
    int rgb;                            /* 1 (default): the network takes RGB; 0: BGR */
    char positive[PIXD_LABEL_MAX + 1];  /* "": no yes/no answer */
} pixd_model_spec;

/* Parse arg into *spec (defaults filled in first). 0, or -EINVAL with a
 * sentence for the user in err. PATH ends at the first comma. */
int pixd_model_spec_parse(const char *arg, pixd_model_spec *spec, char *err, size_t errlen);

/* A labels file: one label per line (UTF-8, at most PIXD_LABEL_MAX bytes,
 * no NUL), "\r\n" or "\n", surrounding blanks trimmed, a last newline
 * optional; blank lines and more than PIXD_LABELS_MAX labels are refused. */
typedef struct pixd_labels {
    char **names;   /* n pointers into block */
    size_t n;
    char *block;    /* the labels, NUL-terminated */
} pixd_labels;

/* Parse the n bytes at text (the caller's, only read). 0, -EINVAL with err
 * naming the line, or -ENOMEM. */
int pixd_labels_parse(const char *text, size_t n, pixd_labels *out, char *err, size_t errlen);
void pixd_labels_free(pixd_labels *l); /* accepts NULL and a zeroed struct */
/* Index of label in l, or -1. */
long pixd_labels_find(const pixd_labels *l, const char *label);

#endif
