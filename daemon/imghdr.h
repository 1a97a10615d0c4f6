/* Image headers: which image format a file holds, and its dimensions, read
 * from its first bytes without decoding anything.
 *
 * The bytes are untrusted (any upload): every read is bounds-checked
 * against n, nothing is allocated, and the work is linear in n at worst.
 * Formats: JPEG (markers walked from SOI to the first SOFn), PNG (IHDR),
 * WebP (VP8, VP8L, VP8X), GIF (87a/89a logical screen) and BMP
 * (BITMAPCOREHEADER, BITMAPINFOHEADER and its later versions).
 */
#ifndef PIXD_IMGHDR_H
#define PIXD_IMGHDR_H

#include <stddef.h>
#include <stdint.h>

typedef struct pixd_imghdr {
    char type[8]; /* "jpeg", "png", "webp", "gif", "bmp" or "" */
    uint32_t width, height; /* pixels; 0 when not known */
} pixd_imghdr;

/* Identify the image in the n bytes at p (the start of a file, often not
 * all of it: a caller typically passes the first 256 KiB, since JPEG's
 * EXIF segments can be large; p may be NULL when n is 0). Returns:
 *   0        the format was recognised; width and height are filled in
 *            when the header that holds them lies within the n bytes, and
 *            are 0 otherwise (a GIF's logical screen may also say 0);
 *   -ENOENT  not one of the formats above (out->type is "");
 *   -EINVAL  the format's signature is there but its header is malformed
 *            (out->type names the format, width and height are 0).
 * Dimensions are reported as the header states them, however large; the
 * limits are the caller's. The caller keeps ownership of p. */
int pixd_imghdr_probe(const uint8_t *p, size_t n, pixd_imghdr *out);

#endif
