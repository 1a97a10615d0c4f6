/* libFuzzer target: legacy/gunzip.c on arbitrary bytes, under a small cap
 * so that bombs are found quickly. */
#include <stdint.h>
#include <stdlib.h>

#include "legacy/gunzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *out = NULL;
    size_t len = 0;
    char err[100];
    int r = pixd_gunzip(data, size, 1 << 16, &out, &len, err, sizeof err);
    if ((r == 0) != (out != NULL) || len > (1 << 16))
        abort();
    free(out);
    return 0;
}
