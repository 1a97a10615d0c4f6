/* The floor of bench/resize: what no resizer of this JPEG to W x H can
 * beat. Per image: TurboJPEG decodes the file at 1/8 scale (the entropy
 * decoding of every coefficient cannot be skipped; the 1x1 IDCT is nearly
 * free) and encodes a W x H picture at quality Q (4:2:0), with no
 * resampling at all. The W x H picture is a crop of a 1/4-scale decode,
 * made once before timing, so that the encoder sees real content. Set
 * TJ_OPTIMIZE=1 for optimized Huffman tables, as pixd writes them.
 *
 * Usage: floor FILE COUNT W H Q
 * Prints: seconds COUNT out_bytes peak_rss_kib (VmHWM) cpu_seconds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, tjhandle h) {
    fprintf(stderr, "floor: %s: %s\n", what, h ? tjGetErrorStr2(h) : "failed");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: floor FILE COUNT W H Q\n");
        return 2;
    }
    int count = atoi(argv[2]), w = atoi(argv[3]), h = atoi(argv[4]), q = atoi(argv[5]);
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        die("cannot open the file", NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *jpeg = malloc((size_t)n);
    if (!jpeg || fread(jpeg, 1, (size_t)n, f) != (size_t)n)
        die("cannot read the file", NULL);
    fclose(f);

    tjhandle d = tjInitDecompress(), c = tjInitCompress();
    if (!d || !c)
        die("tjInit", NULL);
    int iw, ih, sub, cs;
    if (tjDecompressHeader3(d, jpeg, (unsigned long)n, &iw, &ih, &sub, &cs) < 0)
        die("header", d);

    /* The picture to encode: the centre of a 1/4-scale decode. */
    int qw = (iw + 3) / 4, qh = (ih + 3) / 4;
    unsigned char *quarter = malloc((size_t)qw * qh * 3), *pic = malloc((size_t)w * h * 3);
    if (!quarter || !pic || qw < w || qh < h)
        die("the image is too small for the target at 1/4 scale", NULL);
    if (tjDecompress2(d, jpeg, (unsigned long)n, quarter, qw, 0, qh, TJPF_BGR, 0) < 0)
        die("decode at 1/4", d);
    for (int y = 0; y < h; y++)
        memcpy(pic + (size_t)y * w * 3, quarter + ((size_t)(y + (qh - h) / 2) * qw + (qw - w) / 2) * 3,
               (size_t)w * 3);

    int ew = (iw + 7) / 8, eh = (ih + 7) / 8;
    unsigned char *eighth = malloc((size_t)ew * eh * 3);
    unsigned long cap = tjBufSize(w, h, TJSAMP_420), outlen = 0;
    unsigned char *out = tjAlloc((int)cap);
    if (!eighth || !out)
        die("out of memory", NULL);

    double t0 = 0, c0 = 0;
    for (int i = -2; i < count; i++) { /* two untimed rounds */
        if (i == 0) {
            t0 = clock_s(CLOCK_MONOTONIC);
            c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        }
        if (tjDecompress2(d, jpeg, (unsigned long)n, eighth, ew, 0, eh, TJPF_BGR, 0) < 0)
            die("decode at 1/8", d);
        outlen = cap;
        if (tjCompress2(c, pic, w, 0, h, TJPF_BGR, &out, &outlen, TJSAMP_420, q, TJFLAG_NOREALLOC) < 0)
            die("encode", c);
    }
    double dt = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    long hwm = 0;
    char line[256];
    FILE *st = fopen("/proc/self/status", "r");
    while (st && fgets(line, sizeof line, st))
        if (sscanf(line, "VmHWM: %ld", &hwm) == 1)
            break;
    if (st)
        fclose(st);
    printf("%.6f %d %lu %ld %.6f\n", dt, count, outlen, hwm, cpu);
    return 0;
}
