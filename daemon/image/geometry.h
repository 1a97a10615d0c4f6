/* Resize geometry: output size, crop and DCT scale, from the input size,
 * its EXIF orientation and the request. Pure integer arithmetic, so that
 * the limiting side of the box comes out exact. */
#ifndef PIXD_IMAGE_GEOMETRY_H
#define PIXD_IMAGE_GEOMETRY_H

#include <stdint.h>

#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pixd_image_rect {
    uint32_t x, y, width, height;
} pixd_image_rect;

typedef struct pixd_image_geometry {
    /* The output as written: orientation applied, so the box of the
     * request applies to it. Never 0. */
    uint32_t out_width, out_height;
    /* The rest is in the input as stored (before orientation): the part
     * of it to keep (all of it but for fill), and the size that part is
     * resampled to (out_width x out_height, swapped for orientations
     * 5..8, which turn the picture by 90 degrees). */
    pixd_image_rect crop;
    uint32_t resample_width, resample_height;
} pixd_image_geometry;

/* Orientations 5..8 swap width and height. Anything outside 1..8 is 1. */
int pixd_image_orientation_swaps(int orientation);

/* Compute the geometry of resizing a stored in_w x in_h image (both > 0)
 * with the given EXIF orientation to the box box_w x box_h in mode. The
 * box of 0 x 0 keeps the size. Returns 0, or -EINVAL for a 0 input side
 * or an unknown mode. */
int pixd_image_geometry_compute(uint32_t in_w, uint32_t in_h, int orientation,
                                uint32_t box_w, uint32_t box_h,
                                pixd_resize_mode mode, int enlarge,
                                pixd_image_geometry *g);

/* The denominator (8, 4, 2 or 1) of the smallest JPEG DCT scale 1/d at
 * which the crop of the decoded image (libjpeg rounds a scaled side up)
 * is still at least the resample size (fast) or twice it (!fast). */
int pixd_image_dct_scale(uint32_t in_w, uint32_t in_h, const pixd_image_geometry *g,
                         int fast);

/* The crop rectangle of g, in an image decoded at dec_w x dec_h from the
 * in_w x in_h input: scaled, rounded, never empty, inside the image. */
pixd_image_rect pixd_image_scale_crop(const pixd_image_geometry *g, uint32_t in_w,
                                      uint32_t in_h, uint32_t dec_w, uint32_t dec_h);

#ifdef __cplusplus
}
#endif

#endif
