/* libFuzzer target: --listen parameter parsing (params.c) on arbitrary
 * text, with every accessor run over what it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const known[] = {"camera", "quality", "unsharp", "prefix", NULL};
    char *s = malloc(size + 1), err[200];
    pixd_params p;
    size_t at;
    unsigned v;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    at = pixd_params_split(s);
    if (at > strlen(s))
        abort();
    if (pixd_params_parse(s[at] ? s + at + 1 : s + at, &p, err, sizeof err) == 0) {
        if (p.n > PIXD_PARAMS_MAX)
            abort();
        for (unsigned i = 0; i < p.n; i++) {
            if (!p.p[i].value[0] || pixd_params_get(&p, p.p[i].key) != p.p[i].value)
                abort();
            pixd_params_uint(&p, p.p[i].key, 1, 100, 7, &v, err, sizeof err);
        }
        pixd_params_check_known(&p, known, "fuzz", err, sizeof err);
        pixd_params_check_known(&p, NULL, "fuzz", err, sizeof err);
    }
    free(s);
    return 0;
}
