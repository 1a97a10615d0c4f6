/* libFuzzer target: EXIF orientation from untrusted bytes, bare or inside
 * PNG and WebP files. */
#include <stdint.h>
#include <stdlib.h>

#include "exif.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int o = pixd_exif_orientation(data, size);
    int png = pixd_exif_orientation_png(data, size);
    int webp = pixd_exif_orientation_webp(data, size);

    CHECK(o >= 0 && o <= 8);
    CHECK(png >= 0 && png <= 8);
    CHECK(webp >= 0 && webp <= 8);
    /* At most one container matches a given file. */
    CHECK(png == 0 || webp == 0);
    CHECK(pixd_exif_orientation(data, size) == o);
    return 0;
}
