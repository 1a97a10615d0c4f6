/* The test camera's picture, drawn with OpenCV imgproc (pattern.cpp). */
#ifndef PIXD_PATTERN_H
#define PIXD_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Draw frame number seq of a moving pattern with its number and the time
 * ts_us into bgr (width * height * 3 bytes, owned by the caller). */
void pixd_pattern_draw(uint8_t *bgr, unsigned width, unsigned height, uint64_t seq,
                       uint64_t ts_us, const char *label);

#ifdef __cplusplus
}
#endif
#endif
