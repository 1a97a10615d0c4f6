/* libFuzzer target: whole resize jobs on arbitrary bytes, with a 1 MP
 * limit and a 64x64 box so that each stays fast. Anything that is not a
 * JPEG stops at the header probe: the codecs module (OpenCV imgcodecs, not
 * ours to fuzz) is kept out unless PIXD_MODULE_DIR is set. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("PIXD_MODULE_DIR", "/nonexistent", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const pixd_resize_mode modes[] = {PIXD_MODE_FIT, PIXD_MODE_FILL,
                                             PIXD_MODE_STRETCH};
    pixd_resize_params p;
    pixd_resize_result r;
    char err[256];
    int rc;

    pixd_resize_params_default(&p);
    p.width = 64;
    p.height = 64;
    p.max_pixels = 1000000;
    /* Vary the options with the size, so every path gets inputs. */
    p.mode = modes[size % 3];
    p.fast = !(size & 4);
    p.sharpen = (size & 8) != 0;
    p.progressive = (size & 16) != 0;

    memset(&r, 0xa5, sizeof r);
    rc = pixd_image_resize(data, size, &p, &r, err, sizeof err);
    CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (rc == 0) {
        CHECK(r.data != NULL && r.len > 4);
        CHECK(r.data[0] == 0xff && r.data[1] == 0xd8);
        CHECK(r.out_width >= 1 && r.out_width <= 64);
        CHECK(r.out_height >= 1 && r.out_height <= 64);
        CHECK((uint64_t)r.in_width * r.in_height <= p.max_pixels);
        CHECK(r.orientation >= 1 && r.orientation <= 8);
        free(r.data);
    } else {
        CHECK(rc == -EFBIG || rc == -EBADMSG || rc == -ENOTSUP || rc == -ENOMEM ||
              rc == -ENOENT);
        CHECK(r.data == NULL && err[0] != '\0');
    }
    return 0;
}
