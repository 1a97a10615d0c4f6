#include "imgutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>
#include <zlib.h>

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static uint32_t hash(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

uint8_t *tu_pattern(uint32_t w, uint32_t h, int channels, int noise, unsigned seed) {
    uint8_t *p = xmalloc((size_t)w * h * channels);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * channels;
            uint32_t r = hash(seed ^ (y * 65599u + x));
            for (int c = 0; c < channels; c++) {
                int v;
                if (c == 3) {
                    q[c] = 255;
                    continue;
                }
                v = c == 0 ? (int)(x * 255 / w)
                  : c == 1 ? (int)(y * 255 / h)
                           : (int)((x + y) * 255 / (w + h));
                if (noise)
                    v += (int)((r >> (8 * c)) % (2u * noise + 1)) - noise;
                q[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    return p;
}

uint8_t *tu_solid(uint32_t w, uint32_t h, int channels, const uint8_t *c) {
    uint8_t *p = xmalloc((size_t)w * h * channels);
    tu_fill_rect(p, w, channels, 0, 0, w, h, c);
    return p;
}

void tu_fill_rect(uint8_t *px, uint32_t w, int channels, uint32_t x0, uint32_t y0,
                  uint32_t x1, uint32_t y1, const uint8_t *c) {
    for (uint32_t y = y0; y < y1; y++)
        for (uint32_t x = x0; x < x1; x++)
            memcpy(px + ((size_t)y * w + x) * channels, c, (size_t)channels);
}

uint8_t *tu_jpeg(const uint8_t *px, uint32_t w, uint32_t h, int channels, int quality,
                 size_t *len) {
    return tu_jpeg_sub(px, w, h, channels, quality, channels == 1 ? TJSAMP_GRAY : TJSAMP_420,
                       0, len);
}

uint8_t *tu_jpeg_sub(const uint8_t *px, uint32_t w, uint32_t h, int channels, int quality,
                     int subsamp, int progressive, size_t *len) {
    tjhandle tj = tjInitCompress();
    unsigned char *buf = NULL;
    unsigned long n = 0;
    uint8_t *out;
    if (!tj || tjCompress2(tj, px, (int)w, 0, (int)h, channels == 1 ? TJPF_GRAY : TJPF_BGR,
                           &buf, &n, subsamp, quality,
                           progressive ? TJFLAG_PROGRESSIVE : 0) != 0) {
        fprintf(stderr, "tjCompress2: %s\n", tjGetErrorStr2(tj));
        abort();
    }
    out = xmalloc(n);
    memcpy(out, buf, n);
    *len = n;
    tjFree(buf);
    tjDestroy(tj);
    return out;
}

uint8_t *tu_unjpeg(const uint8_t *jpg, size_t len, uint32_t *w, uint32_t *h,
                   int *channels) {
    tjhandle tj = tjInitDecompress();
    int iw, ih, sub, cs;
    uint8_t *p;
    if (!tj || tjDecompressHeader3(tj, jpg, (unsigned long)len, &iw, &ih, &sub, &cs) != 0) {
        fprintf(stderr, "tjDecompressHeader3: %s\n", tjGetErrorStr2(tj));
        abort();
    }
    *channels = cs == TJCS_GRAY ? 1 : 3;
    p = xmalloc((size_t)iw * ih * *channels);
    if (tjDecompress2(tj, jpg, (unsigned long)len, p, iw, 0, ih,
                      *channels == 1 ? TJPF_GRAY : TJPF_BGR, 0) != 0) {
        fprintf(stderr, "tjDecompress2: %s\n", tjGetErrorStr2(tj));
        abort();
    }
    tjDestroy(tj);
    *w = (uint32_t)iw;
    *h = (uint32_t)ih;
    return p;
}

uint8_t *tu_with_exif(const uint8_t *jpg, size_t len, int orientation, size_t *out_len) {
    /* APP1: "Exif\0\0", big-endian TIFF, IFD0 with one SHORT entry. */
    static const uint8_t tmpl[] = {
        0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0,
        'M', 'M', 0, 42, 0, 0, 0, 8,
        0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0 /* value */, 0, 0,
        0, 0, 0, 0,
    };
    uint8_t *out = xmalloc(len + sizeof tmpl);
    memcpy(out, jpg, 2);
    memcpy(out + 2, tmpl, sizeof tmpl);
    out[2 + 29] = (uint8_t)orientation;
    memcpy(out + 2 + sizeof tmpl, jpg + 2, len - 2);
    *out_len = len + sizeof tmpl;
    return out;
}

int tu_jpeg_has_marker(const uint8_t *jpg, size_t len, uint8_t marker) {
    size_t pos = 2;
    while (pos + 4 <= len && jpg[pos] == 0xff) {
        uint8_t m = jpg[pos + 1];
        if (m == marker)
            return 1;
        if (m == 0xda)
            return 0;
        pos += 2 + ((size_t)jpg[pos + 2] << 8 | jpg[pos + 3]);
    }
    return 0;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t n) {
    be32(out, n);
    memcpy(out + 4, type, 4);
    if (n)
        memcpy(out + 8, data, n);
    /* (crc32 with a NULL buffer would restart at its initial value.) */
    be32(out + 8 + n, (uint32_t)crc32(crc32(0, out + 4, 4), out + 8, n));
    return 12 + (size_t)n;
}

uint8_t *tu_png(const uint8_t *px, uint32_t w, uint32_t h, int channels, int depth,
                int orientation, size_t *len) {
    int bpc = depth / 8;
    size_t row = 1 + (size_t)w * channels * bpc, raw_n = row * h;
    uint8_t *raw = xmalloc(raw_n), ihdr[13];
    uLongf z_n = compressBound((uLong)raw_n);
    uint8_t *z = xmalloc(z_n), *out;
    size_t pos = 8;
    static const uint8_t exif_tmpl[] = {
        'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    uint8_t exif[sizeof exif_tmpl];

    for (uint32_t y = 0; y < h; y++) {
        uint8_t *r = raw + y * row;
        r[0] = 0; /* no filter */
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *s = px + ((size_t)y * w + x) * channels;
            for (int c = 0; c < channels; c++) {
                /* PNG is RGB(A): swap B and R. */
                int sc = channels >= 3 && c < 3 ? 2 - c : c;
                for (int b = 0; b < bpc; b++)
                    r[1 + ((size_t)x * channels + c) * bpc + b] = s[sc];
            }
        }
    }
    if (compress2(z, &z_n, raw, (uLong)raw_n, 6) != Z_OK)
        abort();
    out = xmalloc(8 + 25 + 12 + sizeof exif + 12 + z_n + 12);
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    be32(ihdr, w);
    be32(ihdr + 4, h);
    ihdr[8] = (uint8_t)depth;
    ihdr[9] = channels == 1 ? 0 : channels == 3 ? 2 : 6;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    pos += chunk(out + pos, "IHDR", ihdr, 13);
    if (orientation) {
        memcpy(exif, exif_tmpl, sizeof exif);
        exif[19] = (uint8_t)orientation;
        pos += chunk(out + pos, "eXIf", exif, sizeof exif);
    }
    pos += chunk(out + pos, "IDAT", z, (uint32_t)z_n);
    pos += chunk(out + pos, "IEND", NULL, 0);
    free(raw);
    free(z);
    *len = pos;
    return out;
}

static void le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint8_t *tu_bmp(const uint8_t *px, uint32_t w, uint32_t h, size_t *len) {
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3, n = 54 + row * h;
    uint8_t *out = xmalloc(n);
    memset(out, 0, 54);
    out[0] = 'B';
    out[1] = 'M';
    le32(out + 2, (uint32_t)n);
    le32(out + 10, 54);
    le32(out + 14, 40);
    le32(out + 18, w);
    le32(out + 22, h);
    out[26] = 1;
    out[28] = 24;
    le32(out + 34, (uint32_t)(row * h));
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *r = out + 54 + (size_t)(h - 1 - y) * row;
        memset(r, 0, row);
        memcpy(r, px + (size_t)y * w * 3, (size_t)w * 3);
    }
    *len = n;
    return out;
}

double tu_psnr(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    if (se == 0)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

uint8_t *tu_random(size_t n, unsigned seed) {
    uint8_t *p = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)hash(seed + (uint32_t)i);
    return p;
}
