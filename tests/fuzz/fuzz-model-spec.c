/* libFuzzer target: --model specs and labels files (the first byte picks
 * which). What is accepted is checked against the rules of model_spec.h
 * with code written apart from the parser. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/model_spec.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void spec(const uint8_t *data, size_t size) {
    pixd_model_spec s;
    char err[64], *arg = malloc(size + 1);
    int r;

    CHECK(arg != NULL);
    memcpy(arg, data, size);
    arg[size] = '\0';
    r = pixd_model_spec_parse(arg, &s, err, sizeof err); /* a small err is cut, not overrun */
    CHECK(r == 0 || r == -EINVAL);
    if (r < 0) {
        CHECK(err[0] != '\0' && strlen(err) < sizeof err);
    } else {
        size_t nl = strlen(s.name);
        CHECK(nl >= 1 && nl <= PIXD_MODEL_NAME_MAX && !strncmp(arg, s.name, nl) && arg[nl] == '=');
        for (size_t i = 0; i < nl; i++)
            CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                         s.name[i]) && s.name[i]);
        CHECK(s.path[0] && !strchr(s.path, ','));
        CHECK(!strncmp(arg + nl + 1, s.path, strlen(s.path)));
        CHECK(s.width >= 1 && s.width <= PIXD_MODEL_SIDE_MAX);
        CHECK(s.height >= 1 && s.height <= PIXD_MODEL_SIDE_MAX);
        CHECK(isfinite(s.scale) && s.scale > 0);
        for (int i = 0; i < 3; i++)
            CHECK(isfinite(s.mean[i]));
        CHECK(s.rgb == 0 || s.rgb == 1);
        CHECK(strlen(s.positive) <= PIXD_LABEL_MAX);
        CHECK(!strchr(s.positive, ',') && !strchr(s.labels, ','));
    }
    free(arg);
}

static void labels(const uint8_t *data, size_t size) {
    pixd_labels l;
    char err[128];
    size_t total = 0;
    int r = pixd_labels_parse((const char *)data, size, &l, err, sizeof err);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    if (r < 0) {
        CHECK(l.names == NULL && l.n == 0 && err[0]);
        return;
    }
    CHECK(l.n >= 1 && l.n <= PIXD_LABELS_MAX && !memchr(data, 0, size));
    for (size_t i = 0; i < l.n; i++) {
        size_t n = strlen(l.names[i]);
        CHECK(n >= 1 && n <= PIXD_LABEL_MAX && !strchr(l.names[i], '\n'));
        CHECK(!strchr(" \t\r", l.names[i][0]) && !strchr(" \t\r", l.names[i][n - 1]));
        total += n;
    }
    CHECK(total <= size);
    pixd_labels_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    if (data[0] & 1)
        labels(data + 1, size - 1);
    else
        spec(data + 1, size - 1);
    return 0;
}
