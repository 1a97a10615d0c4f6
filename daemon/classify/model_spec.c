/* --model and labels files: see model_spec.h. */
#include "model_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_LABELS 1u
#define SEEN_SIZE 2u
#define SEEN_MEAN 4u
#define SEEN_SCALE 8u
#define SEEN_RGB 16u
#define SEEN_POSITIVE 32u

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* A decimal number spanning all of s, finite. */
static int real(const char *s, float *out) {
    char *end;
    double v;
    if (!*s || *s == ' ')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || fabs(v) > 1e6)
        return -1;
    *out = (float)v;
    return 0;
}

static int side(const char *s, const char **end, uint32_t *out) {
    unsigned long v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && v <= PIXD_MODEL_SIDE_MAX)
        v = v * 10 + (unsigned long)(*p++ - '0');
    if (p == s || v == 0 || v > PIXD_MODEL_SIDE_MAX)
        return -1;
    *end = p;
    *out = (uint32_t)v;
    return 0;
}

static int bad(char *err, size_t errlen, const char *name, const char *fmt, const char *what) {
    char msg[300];
    snprintf(msg, sizeof msg, fmt, what);
    snprintf(err, errlen, "--model %s: %s", name[0] ? name : "?", msg);
    return -EINVAL;
}

/* One opt=val; val runs to the next comma, except mean's three numbers. */
static int option(pixd_model_spec *s, const char **pp, unsigned *seen, char *err,
                  size_t errlen) {
    const char *p = *pp, *eq = strchr(p, '='), *comma;
    char key[16], val[4200];
    size_t kl, vl;
    unsigned bit;

    kl = strcspn(p, "=,");
    if (!eq || p[kl] != '=')
        return bad(err, errlen, s->name, "option \"%.40s\" needs a value (opt=val)", p);
    if (kl == 0 || kl >= sizeof key)
        return bad(err, errlen, s->name, "unknown option \"%.40s\"; options are labels, "
                   "size, mean, scale, rgb and positive", p);
    memcpy(key, p, kl);
    key[kl] = '\0';
    p = eq + 1;
    comma = strchr(p, ',');
    if (!strcmp(key, "mean")) {
        /* R,G,B: the value's own commas. */
        const char *c1 = comma ? strchr(comma + 1, ',') : NULL;
        comma = c1 ? strchr(c1 + 1, ',') : NULL;
    }
    vl = comma ? (size_t)(comma - p) : strlen(p);
    if (vl >= sizeof val)
        return bad(err, errlen, s->name, "the value of %s is too long", key);
    memcpy(val, p, vl);
    val[vl] = '\0';
    *pp = p + vl; /* at the comma before the next option, or the end */

    if (!strcmp(key, "labels")) bit = SEEN_LABELS;
    else if (!strcmp(key, "size")) bit = SEEN_SIZE;
    else if (!strcmp(key, "mean")) bit = SEEN_MEAN;
    else if (!strcmp(key, "scale")) bit = SEEN_SCALE;
    else if (!strcmp(key, "rgb")) bit = SEEN_RGB;
    else if (!strcmp(key, "positive")) bit = SEEN_POSITIVE;
    else
        return bad(err, errlen, s->name, "unknown option \"%.20s\"; options are labels, "
                   "size, mean, scale, rgb and positive", key);
    if (*seen & bit)
        return bad(err, errlen, s->name, "option %s is given twice", key);
    *seen |= bit;

    switch (bit) {
    case SEEN_LABELS:
        if (!val[0] || vl >= sizeof s->labels)
            return bad(err, errlen, s->name, "%s", "labels needs a file name");
        memcpy(s->labels, val, vl + 1);
        return 0;
    case SEEN_SIZE: {
        const char *e;
        if (side(val, &e, &s->width) < 0 || (*e != 'x' && *e != 'X') ||
            side(e + 1, &e, &s->height) < 0 || *e)
            return bad(err, errlen, s->name, "size must be WIDTHxHEIGHT with each side from "
                       "1 to 4096, as in 224x224, not \"%.40s\"", val);
        return 0;
    }
    case SEEN_MEAN: {
        char *a = val, *b = strchr(a, ','), *c = b ? strchr(b + 1, ',') : NULL;
        if (!c)
            return bad(err, errlen, s->name, "mean must be three numbers R,G,B, as in "
                       "123.7,116.3,103.5, not \"%.40s\"", val);
        *b++ = '\0';
        *c++ = '\0';
        if (real(a, &s->mean[0]) < 0 || real(b, &s->mean[1]) < 0 || real(c, &s->mean[2]) < 0)
            return bad(err, errlen, s->name, "%s", "mean must be three numbers R,G,B, as in "
                       "123.7,116.3,103.5");
        return 0;
    }
    case SEEN_SCALE:
        if (real(val, &s->scale) < 0 || !(s->scale > 0))
            return bad(err, errlen, s->name, "scale must be a number above 0, as in "
                       "0.00392 (1/255), not \"%.40s\"", val);
        return 0;
    case SEEN_RGB:
        if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
            return bad(err, errlen, s->name, "rgb must be 1 (the network takes RGB) or 0 "
                       "(BGR), not \"%.40s\"", val);
        s->rgb = val[0] == '1';
        return 0;
    default: /* SEEN_POSITIVE */
        if (!val[0] || vl > PIXD_LABEL_MAX)
            return bad(err, errlen, s->name, "%s", "positive must name a label (1 to 127 "
                       "bytes)");
        memcpy(s->positive, val, vl + 1);
        return 0;
    }
}

int pixd_model_spec_parse(const char *arg, pixd_model_spec *s, char *err, size_t errlen) {
    const char *eq = strchr(arg, '='), *p;
    size_t nl = eq ? (size_t)(eq - arg) : 0, pl;
    unsigned seen = 0;
    int r;

    memset(s, 0, sizeof *s);
    s->width = s->height = 224;
    s->scale = 1.0f / 255.0f;
    s->rgb = 1;
    if (!eq || nl == 0) {
        snprintf(err, errlen, "--model: \"%.60s\" must be NAME=PATH[,opt=val...], as in "
                 "cats=/var/lib/pixd/cats.onnx,labels=/var/lib/pixd/cats.txt", arg);
        return -EINVAL;
    }
    for (size_t i = 0; i < nl; i++)
        if (!name_char(arg[i]) || nl > PIXD_MODEL_NAME_MAX) {
            snprintf(err, errlen, "--model: the name \"%.*s\" must be 1 to 63 letters, "
                     "digits, '.', '_' or '-'", (int)(nl > 63 ? 63 : nl), arg);
            return -EINVAL;
        }
    memcpy(s->name, arg, nl);
    p = eq + 1;
    pl = strcspn(p, ",");
    if (pl == 0 || pl >= sizeof s->path) {
        snprintf(err, errlen, "--model %s: %s", s->name, pl ? "the model path is too long"
                 : "the path of the ONNX file is missing (NAME=PATH)");
        return -EINVAL;
    }
    memcpy(s->path, p, pl);
    p += pl;
    while (*p == ',') {
        p++;
        if ((r = option(s, &p, &seen, err, errlen)) < 0)
            return r;
    }
    return 0;
}

/* ---- labels ---- */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int pixd_labels_parse(const char *text, size_t n, pixd_labels *out, char *err,
                      size_t errlen) {
    size_t lines = 0, pos = 0, k = 0;

    memset(out, 0, sizeof *out);
    if (memchr(text, '\0', n)) {
        snprintf(err, errlen, "labels file holds a NUL byte: it must be text, one label a "
                 "line");
        return -EINVAL;
    }
    /* Count lines first so that the pointer array is one allocation. */
    for (size_t i = 0; i < n; i++)
        if (text[i] == '\n')
            lines++;
    if (n && text[n - 1] != '\n')
        lines++;
    if (lines == 0) {
        snprintf(err, errlen, "labels file is empty: give one label a line");
        return -EINVAL;
    }
    if (lines > PIXD_LABELS_MAX) {
        snprintf(err, errlen, "labels file has %zu lines; at most %u labels", lines,
                 PIXD_LABELS_MAX);
        return -EINVAL;
    }
    out->names = calloc(lines, sizeof *out->names);
    out->block = malloc(n + 1);
    if (!out->names || !out->block) {
        pixd_labels_free(out);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(out->block, text, n);
    out->block[n] = '\0';
    while (pos < n) {
        char *b = out->block;
        size_t end = pos, s, e;
        while (end < n && b[end] != '\n')
            end++;
        s = pos;
        e = end;
        while (s < e && is_blank(b[s]))
            s++;
        while (e > s && is_blank(b[e - 1]))
            e--;
        if (s == e || e - s > PIXD_LABEL_MAX) {
            snprintf(err, errlen, "labels file, line %zu: %s", k + 1, s == e
                     ? "empty; give one label a line" : "longer than 127 bytes");
            pixd_labels_free(out);
            return -EINVAL;
        }
        b[e] = '\0';
        out->names[k++] = b + s;
        pos = end + 1;
    }
    out->n = k;
    return 0;
}

void pixd_labels_free(pixd_labels *l) {
    if (!l)
        return;
    free(l->names);
    free(l->block);
    memset(l, 0, sizeof *l);
}

long pixd_labels_find(const pixd_labels *l, const char *label) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->names[i], label))
            return (long)i;
    return -1;
}
