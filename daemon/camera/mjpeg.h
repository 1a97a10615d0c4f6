/* MJPEG frames as cheap USB cameras send them, judged and mended without
 * decoding a pixel. Pure: no I/O, no allocation, safe on any bytes.
 *
 * A frame is kept when its marker structure is whole: SOI first, marker
 * segments walked to the first SOS, entropy-coded data, then on to EOI.
 * Cut-short frames (no EOI: a USB transfer lost its tail) and tiny garbage
 * are broken. Many cameras leave out the Huffman tables (DHT) and rely on
 * the standard ones (the AVI MJPEG convention); decoders that do not know
 * the convention, browsers among them, then show nothing, so a frame with
 * no DHT before its SOS gets the standard tables inserted before the SOS. */
#ifndef PIXD_MJPEG_H
#define PIXD_MJPEG_H

#include <stddef.h>
#include <stdint.h>

/* Smaller than any real camera frame: what cheap cameras send when a USB
 * transfer went wrong. */
#define PIXD_MJPEG_MIN_BYTES 128

typedef struct pixd_mjpeg_scan {
    size_t len;     /* the JPEG's bytes, SOI to EOI: padding after it is left out */
    size_t sos;     /* offset of the first SOS marker */
    int needs_dht;  /* no DHT before that SOS */
} pixd_mjpeg_scan;

/* The standard DHT segment (ITU-T T.81 Annex K.3, all four tables): */
extern const uint8_t pixd_mjpeg_std_dht[];
extern const size_t pixd_mjpeg_std_dht_len;

/* Judge p (n bytes): 0 and *s filled, or -1 when it is broken (the JPEG
 * under PIXD_MJPEG_MIN_BYTES, no SOI, no SOS, cut short before EOI, bad
 * segment lengths). */
int pixd_mjpeg_check(const uint8_t *p, size_t n, pixd_mjpeg_scan *s);
/* The length of the mended frame: s->len, plus the DHT when it needs one. */
size_t pixd_mjpeg_fixed_len(const pixd_mjpeg_scan *s);
/* Write the mended frame (pixd_mjpeg_fixed_len bytes) to out. */
void pixd_mjpeg_fix(const uint8_t *p, const pixd_mjpeg_scan *s, uint8_t *out);

#endif
