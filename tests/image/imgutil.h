/* Test images, made in memory: patterns, and their JPEG, PNG, BMP and
 * WebP files (each written from the format's own library or by hand, not
 * by the code under test). Pixels are BGR(A) or gray, rows packed. Every
 * returned buffer is malloc'd and the caller's; failures abort the test. */
#ifndef PIXD_TEST_IMGUTIL_H
#define PIXD_TEST_IMGUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A photo-like picture: smooth gradients plus pseudo-random noise of the
 * given amplitude (0: none), the same for the same seed. */
uint8_t *tu_pattern(uint32_t w, uint32_t h, int channels, int noise, unsigned seed);
/* Solid colour c (BGR(A) or gray, per channel) in a w x h image. */
uint8_t *tu_solid(uint32_t w, uint32_t h, int channels, const uint8_t *c);
void tu_fill_rect(uint8_t *px, uint32_t w, int channels, uint32_t x0, uint32_t y0,
                  uint32_t x1, uint32_t y1, const uint8_t *c);

/* JPEG with TurboJPEG: 1 (gray) or 3 channels, 4:2:0 for colour. */
uint8_t *tu_jpeg(const uint8_t *px, uint32_t w, uint32_t h, int channels, int quality,
                 size_t *len);
/* The same with TurboJPEG's subsampling (TJSAMP_*), progressive or not. */
uint8_t *tu_jpeg_sub(const uint8_t *px, uint32_t w, uint32_t h, int channels, int quality,
                     int subsamp, int progressive, size_t *len);
/* Decode with TurboJPEG into BGR (or gray when *channels is 1 on
 * return: the JPEG is grayscale). */
uint8_t *tu_unjpeg(const uint8_t *jpg, size_t len, uint32_t *w, uint32_t *h,
                   int *channels);
/* A copy of the JPEG with an EXIF APP1 segment carrying the orientation
 * inserted after SOI. */
uint8_t *tu_with_exif(const uint8_t *jpg, size_t len, int orientation, size_t *out_len);
/* Whether the JPEG has a marker (e.g. 0xe1 APP1, 0xc2 SOF2) before SOS. */
int tu_jpeg_has_marker(const uint8_t *jpg, size_t len, uint8_t marker);

/* PNG by hand with zlib: 1, 3 or 4 channels, depth 8 or 16 (16: each
 * 8-bit value repeated); an eXIf chunk with the orientation when it is
 * nonzero. */
uint8_t *tu_png(const uint8_t *px, uint32_t w, uint32_t h, int channels, int depth,
                int orientation, size_t *len);
/* 24-bit bottom-up BMP by hand. */
uint8_t *tu_bmp(const uint8_t *px, uint32_t w, uint32_t h, size_t *len);

/* Peak signal-to-noise ratio of two same-sized buffers, in dB. */
double tu_psnr(const uint8_t *a, const uint8_t *b, size_t n);

/* n random bytes from seed. */
uint8_t *tu_random(size_t n, unsigned seed);

#endif
