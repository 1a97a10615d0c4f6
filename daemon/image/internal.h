/* What the files of the image library share, and nothing else includes.
 * C and C++ (resample.cpp, codecs.cpp) alike. */
#ifndef PIXD_IMAGE_INTERNAL_H
#define PIXD_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 8-bit pixels, row after row: 1 channel (gray), 3 (BGR, as OpenCV) or 4
 * (BGRA). Whoever fills one in says who owns data and until when. */
typedef struct pixd__pixels {
    uint8_t *data;
    uint32_t width, height;
    size_t stride;
    int channels;
} pixd__pixels;

/* Scratch buffers, one per stage of a job, kept from job to job (a fresh
 * multi-megabyte buffer per image costs thousands of page faults). A
 * thread's first call borrows a set from a process-wide pool (scratch.c);
 * pixd__scratch_done() gives it back. Returns NULL when out of memory. The
 * buffer is the calling thread's until its next call for the same slot or
 * pixd__scratch_done(). */
enum {
    PIXD__SCRATCH_DECODE,
    PIXD__SCRATCH_RESAMPLE,
    PIXD__SCRATCH_ORIENT,
    PIXD__SCRATCH_BLUR,
    PIXD__SCRATCH_FLAT,
    PIXD__SCRATCH_ROW,
    PIXD__SCRATCH_COUNT
};
uint8_t *pixd__scratch(int slot, size_t n);
/* Point px at a w x h x channels image in a scratch slot: 0 or -ENOMEM. */
int pixd__scratch_pixels(pixd__pixels *px, int slot, uint32_t w, uint32_t h, int channels);
/* After a job: free the buffers larger than keep bytes, so that one huge
 * image does not pin its memory for the process's life, and give the set
 * back to the pool (a no-op when the thread holds none). */
void pixd__scratch_done(size_t keep);
/* What jobs keep: enough for a 12 MP photo decoded at 1/2, not for a 50 MP
 * one at 1/1. */
#define PIXD__SCRATCH_KEEP ((size_t)16 << 20)

/* jpeg.c: libjpeg-turbo. A decoder is opened on the caller's bytes (which
 * must outlive it), reports the header, then decodes at a DCT scale into
 * the DECODE scratch slot. Errors are negative errno with err set. */
typedef struct pixd__jpeg_dec pixd__jpeg_dec;
typedef struct pixd__jpeg_info {
    uint32_t width, height;
    int orientation; /* 1..8 */
    int channels;    /* of the decoded pixels: 1 or 3 */
    /* 1: the planar path (yuv.c) can decode it: gray, or YCbCr with the
     * luma sampled h_samp x v_samp (1 or 2 each) and chroma 1x1, in one
     * sequential scan. */
    int planar;
    int h_samp, v_samp;
} pixd__jpeg_info;
int pixd__jpeg_open(pixd__jpeg_dec **out, const uint8_t *in, size_t n,
                    uint64_t max_pixels, pixd__jpeg_info *info, char *err, size_t errlen);
int pixd__jpeg_decode(pixd__jpeg_dec *d, int denom, pixd__pixels *out, char *err,
                      size_t errlen);
void pixd__jpeg_close(pixd__jpeg_dec *d); /* accepts NULL */
/* Encode 1 or 3 channels; *out is malloc'd, the caller frees it. */
int pixd__jpeg_encode(const pixd__pixels *px, int quality, int progressive,
                      uint8_t **out, size_t *len, char *err, size_t errlen);

/* Encode n planes: 1 (gray) or 3 (Y, then Cb and Cr of (width + 1) / 2 x
 * (height + 1) / 2: 4:2:0), as libjpeg's raw data. */
int pixd__jpeg_encode_planes(const pixd__pixels *planes, int n, int quality, int progressive,
                             uint8_t **out, size_t *len, char *err, size_t errlen);

/* yuv.c: the planar path for JPEG to JPEG. The n bytes at in (whose header
 * gave info, planar set) are decoded at 1/denom by TurboJPEG into Y, Cb
 * and Cr planes; each plane is cropped, resampled, turned upright and (Y
 * only) sharpened, then encoded as 4:2:0 (gray stays gray). No colour
 * conversion and no chroma up- or downsampling on the way, and the
 * buffers are half those of BGR pixels. *owned (when not NULL) is freed
 * and set to NULL once decoded. Fills data, len, out_width,
 * out_height and the times of r. Returns 0; -EAGAIN when TurboJPEG would
 * not decode the image without a warning (the caller then takes the BGR
 * path, whose decoder tells corrupt data from harmless oddities); or
 * another negative errno with err set. */
int pixd__yuv_resize(const uint8_t *in, size_t n, const pixd__jpeg_info *info, int denom,
                     const pixd_image_geometry *g, const pixd_resize_params *p,
                     uint8_t **owned, pixd_resize_result *r, char *err, size_t errlen);

/* resample.cpp: OpenCV core/imgproc, never throwing into C. Each returns
 * 0 or a negative errno. dst is allocated by the caller. */
void pixd__cv_init(void); /* once per process: OpenCV threads off */
/* src (a crop is a view: data offset, same stride) to dst's size. */
int pixd__cv_resize(const pixd__pixels *src, pixd__pixels *dst);
/* dst is src turned upright for EXIF orientation 2..8 (dims swapped for
 * 5..8). */
int pixd__cv_orient(const pixd__pixels *src, int orientation, pixd__pixels *dst);
/* In place, with a scratch blur image of the same size. */
int pixd__cv_unsharp(pixd__pixels *img, float radius, float amount, int threshold);

/* alpha.c: BGRA helpers, in place or into a 3-channel dst. */
void pixd__premultiply(pixd__pixels *px);
void pixd__unpremultiply(pixd__pixels *px);
void pixd__flatten_white(const pixd__pixels *premultiplied, pixd__pixels *dst);

#ifdef __cplusplus
}
#endif

#endif
