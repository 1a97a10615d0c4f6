/* Not a test: times resize jobs against the floor, in process, on one
 * core. The floor is TurboJPEG decoding at 1/8 scale plus encoding the
 * output size, which no resizer can beat (entropy decoding cannot be
 * skipped).
 *
 *   bench-image [ITERATIONS [NOISE]]
 *
 * The input is a 4000x3000 photo-like JPEG (gradient and noise, quality
 * 90) made here; the job is 800x600 fit at quality 85. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <turbojpeg.h>

#include "image.h"
#include "imgutil.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 30, noise = argc > 2 ? atoi(argv[2]) : 16;
    uint8_t *px = tu_pattern(4000, 3000, 3, noise, 1), *small = malloc(500 * 375 * 3);
    uint8_t *out600 = tu_pattern(800, 600, 3, noise / 2, 2);
    size_t n;
    uint8_t *jpg = tu_jpeg(px, 4000, 3000, 3, 90, &n);
    pixd_resize_params p;
    tjhandle dec = tjInitDecompress(), enc = tjInitCompress();
    double t, best_pixd = 1e9, sum_pixd = 0, best_floor = 1e9, sum_floor = 0;
    double dsum = 0, rsum = 0, esum = 0;
    size_t out_len = 0;

    free(px);
    pixd_resize_params_default(&p);
    p.width = 800;
    p.height = 600;
    printf("input: 4000x3000, %zu bytes (noise %d), %d iterations\n", n, noise, iters);
    for (int i = -3; i < iters; i++) {
        pixd_resize_result r;
        char err[256];
        t = now_ms();
        if (pixd_image_resize(jpg, n, &p, &r, err, sizeof err) != 0) {
            fprintf(stderr, "resize: %s\n", err);
            return 1;
        }
        t = now_ms() - t;
        out_len = r.len;
        if (i >= 0) {
            sum_pixd += t;
            best_pixd = t < best_pixd ? t : best_pixd;
            dsum += r.decode_ms;
            rsum += r.resize_ms;
            esum += r.encode_ms;
        }
        free(r.data);

        t = now_ms();
        unsigned char *buf = NULL;
        unsigned long len = 0;
        if (tjDecompress2(dec, jpg, (unsigned long)n, small, 500, 0, 375, TJPF_BGR, 0) != 0 ||
            tjCompress2(enc, out600, 800, 0, 600, TJPF_BGR, &buf, &len, TJSAMP_420, 85, 0) != 0) {
            fprintf(stderr, "floor: %s\n", tjGetErrorStr());
            return 1;
        }
        t = now_ms() - t;
        tjFree(buf);
        if (i >= 0) {
            sum_floor += t;
            best_floor = t < best_floor ? t : best_floor;
        }
    }
    printf("pixd_image_resize: %.1f ms/image (best %.1f): decode %.1f, resize %.1f, "
           "encode %.1f; output %zu bytes\n", sum_pixd / iters, best_pixd, dsum / iters,
           rsum / iters, esum / iters, out_len);
    printf("floor (tj 1/8 decode + 800x600 encode): %.1f ms/image (best %.1f)\n",
           sum_floor / iters, best_floor);
    printf("pixd / floor throughput: %.2f\n", sum_floor / sum_pixd);
    tjDestroy(dec);
    tjDestroy(enc);
    free(jpg);
    free(small);
    free(out600);
    return 0;
}
