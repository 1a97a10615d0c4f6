/* libFuzzer target: MJPEG frame checks and Huffman-table insertion on the
 * bytes a camera's buffer may hold. A frame judged whole must mend into one
 * that is whole too, needs no more tables, and keeps every byte it had. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camera/mjpeg.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixd_mjpeg_scan s, s2;
    uint8_t *out;
    size_t n;

    if (pixd_mjpeg_check(data, size, &s) < 0)
        return 0;
    CHECK(s.len >= PIXD_MJPEG_MIN_BYTES && s.len <= size);
    CHECK(s.sos >= 2 && s.sos < s.len);
    CHECK(data[s.sos] == 0xFF && data[s.sos + 1] == 0xDA);
    n = pixd_mjpeg_fixed_len(&s);
    CHECK(n == s.len + (s.needs_dht ? pixd_mjpeg_std_dht_len : 0));
    out = malloc(n);
    CHECK(out);
    pixd_mjpeg_fix(data, &s, out);
    CHECK(pixd_mjpeg_check(out, n, &s2) == 0);
    CHECK(s2.len == n && !s2.needs_dht);
    CHECK(memcmp(out, data, s.sos) == 0);
    CHECK(memcmp(out + n - (s.len - s.sos), data + s.sos, s.len - s.sos) == 0);
    free(out);
    return 0;
}
