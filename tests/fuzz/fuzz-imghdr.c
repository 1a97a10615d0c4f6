/* libFuzzer target: image header probing, fed whole inputs and prefixes of
 * them (callers pass the first part of a file). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imghdr.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known_type(const char *t) {
    return strcmp(t, "jpeg") == 0 || strcmp(t, "png") == 0 ||
           strcmp(t, "webp") == 0 || strcmp(t, "gif") == 0 ||
           strcmp(t, "bmp") == 0;
}

static int probe(const uint8_t *data, size_t size, pixd_imghdr *h) {
    int r;
    memset(h, 0xa5, sizeof *h);
    r = pixd_imghdr_probe(data, size, h);
    CHECK(memchr(h->type, '\0', sizeof h->type) != NULL);
    if (r == 0) {
        CHECK(known_type(h->type));
        /* Either both dimensions are known or neither is, except GIF,
         * whose logical screen may say 0 for either. */
        CHECK((h->width == 0) == (h->height == 0) || strcmp(h->type, "gif") == 0);
    } else if (r == -EINVAL) {
        CHECK(known_type(h->type) && h->width == 0 && h->height == 0);
    } else {
        CHECK(r == -ENOENT && h->type[0] == '\0' && h->width == 0 && h->height == 0);
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixd_imghdr full, part;
    int r = probe(data, size, &full);

    /* A good header stays good when cut: a prefix is the same type, with
     * the same size or none yet, or too short to be recognised at all. */
    for (size_t k = size / 2; k < size; k += (size - k + 1) / 2) {
        uint8_t *c = malloc(k ? k : 1);
        int rk;
        CHECK(c != NULL);
        memcpy(c, data, k);
        rk = probe(c, k, &part);
        free(c);
        if (r == 0 && rk != -ENOENT) {
            CHECK(rk == 0 && strcmp(part.type, full.type) == 0);
            CHECK((part.width == 0 && part.height == 0) ||
                  (part.width == full.width && part.height == full.height));
        }
        if (rk == 0 || rk == -EINVAL)
            CHECK(r != -ENOENT); /* more bytes never unmake a signature */
    }
    return 0;
}
