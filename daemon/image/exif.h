/* EXIF orientation, read from untrusted bytes: every read bounds-checked,
 * nothing allocated, and only IFD0 visited (where the tag lives), so
 * offsets that point back or out of bounds cannot make it loop or read
 * outside the n bytes. */
#ifndef PIXD_IMAGE_EXIF_H
#define PIXD_IMAGE_EXIF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The orientation tag (0x0112) of IFD0 in the n bytes at p: a TIFF
 * structure ("II*\0" or "MM\0*", then IFD0's offset), optionally after
 * the "Exif\0\0" of a JPEG APP1 segment's payload or a WebP EXIF chunk.
 * Returns 1..8, or 0 when there is no such tag, its value is not 1..8, or
 * the structure is malformed or cut short. */
int pixd_exif_orientation(const uint8_t *p, size_t n);

/* The same, from a whole PNG file (its eXIf chunk) or WebP file (its EXIF
 * chunk): chunks are walked from the start, each length checked against
 * n. 1..8, or 0 when there is none or the file is malformed. */
int pixd_exif_orientation_png(const uint8_t *p, size_t n);
int pixd_exif_orientation_webp(const uint8_t *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
