/* Image resizing: one synchronous call turns the bytes of an image into
 * the bytes of a resized one.
 *
 * Thread-safe and meant to run on a worker thread, one job per call: no
 * state is shared between calls except what is loaded once (the codecs
 * module) and a pool of scratch buffers, lent to a thread for one call and
 * reused by the next job on any thread, so that there are only as many
 * sets as calls ever ran at once (see pixd_image_thread_release()).
 *
 * JPEG input is decoded by libjpeg-turbo at a reduced DCT scale, resampled
 * by OpenCV (INTER_AREA) and encoded by libjpeg-turbo; JPEG to JPEG as
 * YCbCr planes when the input allows (yuv.c), else as BGR pixels. Other formats, and
 * PNG or WebP output, go through OpenCV's imgcodecs in the module
 * pixd-codecs.so, loaded with dlopen on first use so that the always-loaded
 * daemon does not map imgcodecs and its ~140 libraries (ARCHITECTURE.md,
 * "Memory budget"). The module is looked for in $PIXD_MODULE_DIR, else in
 * the directory pixd was built for (PIXD_MODULE_DIR at build time).
 *
 * Output carries no metadata: EXIF orientation is applied to the pixels. */
#ifndef PIXD_IMAGE_H
#define PIXD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PIXD_MODE_FIT, PIXD_MODE_FILL, PIXD_MODE_STRETCH } pixd_resize_mode;
typedef enum { PIXD_FMT_JPEG, PIXD_FMT_PNG, PIXD_FMT_WEBP } pixd_format;

/* Largest width or height asked for, and the largest JPEG and WebP can
 * hold. */
#define PIXD_IMAGE_MAX_SIDE 65500u
#define PIXD_IMAGE_MAX_WEBP_SIDE 16383u

typedef struct pixd_resize_params {
    /* Target box. One may be 0: that side follows the aspect of the
     * other. Both 0: keep the size. */
    uint32_t width, height;
    /* fit: inside the box, aspect kept; fill: cover the box, then crop
     * its centre; stretch: exactly width x height. */
    pixd_resize_mode mode;
    /* 0: never make the output larger than the input (fit and fill keep
     * the input size when it is already smaller; stretch clamps each side
     * to the input's). */
    int enlarge;
    int quality; /* 1..100, JPEG and WebP */
    pixd_format format;
    int progressive; /* JPEG */
    /* 1: the DCT scale keeps the decoded image at least the target size;
     * 0: at least twice the target (sharper, as libvips does). */
    int fast;
    /* Unsharp mask on the output (Pillow's UnsharpMask): where
     * |pixel - gaussian(pixel, radius)| >= threshold, pixel += amount *
     * (pixel - blurred). Seed 000 uses radius 2, amount 1.5, threshold 3. */
    int sharpen;
    float sharpen_radius, sharpen_amount;
    int sharpen_threshold;
    /* Inputs with more pixels are refused from their header, before any
     * pixel buffer exists; so are outputs with more. 0: no limit. */
    uint64_t max_pixels;
} pixd_resize_params;

typedef struct pixd_resize_result {
    uint8_t *data; /* the output image, malloc'd: the caller frees it */
    size_t len;
    uint32_t in_width, in_height;   /* as stored, before orientation */
    uint32_t out_width, out_height; /* as written */
    int scale_num, scale_denom;     /* DCT scale used; 1/1 for non-JPEG */
    int orientation;                /* EXIF orientation applied, 1..8 */
    char in_type[8];                /* "jpeg", "png", "webp", "bmp", "gif" */
    int planar; /* 1: JPEG to JPEG through YCbCr planes, not BGR pixels */
    double decode_ms, resize_ms, encode_ms;
} pixd_resize_result;

/* fit, no enlarging, quality 85, JPEG (baseline), fast, no sharpening
 * (but seed 000's radius, amount and threshold filled in), 50 MP. */
void pixd_resize_params_default(pixd_resize_params *p);

/* Resize the n bytes at in (owned by the caller, only read, and not kept
 * after the call). On success returns 0 and fills *r; r->data is the
 * caller's to free(). On failure returns a negative errno, leaves r->data
 * NULL, and writes in err (errlen bytes, may be 0) a sentence for the end
 * user saying what went wrong:
 *   -EINVAL   bad parameters
 *   -EFBIG    the input has more pixels than max_pixels, or needs more
 *             decoder memory than they allow
 *   -EBADMSG  a corrupt or truncated image
 *   -ENOTSUP  not an image, or a format or variant not supported
 *   -ENOMEM   out of memory
 *   -ENOENT   the codecs module is needed but was not found
 *   -EIO      anything else (the message says what) */
int pixd_image_resize(const uint8_t *in, size_t n, const pixd_resize_params *p,
                      pixd_resize_result *r, char *err, size_t errlen);

/* The same, but in is malloc'd and becomes the call's: it is freed as soon
 * as the image is decoded (before resampling and encoding, so that a job
 * does not hold its input and its output buffers at once), and in every
 * case before the call returns. */
int pixd_image_resize_owned(uint8_t *in, size_t n, const pixd_resize_params *p,
                            pixd_resize_result *r, char *err, size_t errlen);

/* Free the scratch buffers now: the calling thread's and every idle set in
 * the pool (they are kept between jobs to avoid page faults on every
 * image). Call it only when no other thread is inside this library. */
void pixd_image_thread_release(void);

/* ---- decoding for analysis (classification) ---- */

/* Decoded pixels: 1 (gray), 3 (BGR) or 4 (BGRA) channels, in scratch
 * buffers lent to the calling thread, valid until its next call into this
 * library (pixd_image_decode_done() included). */
typedef struct pixd_image_pixels {
    const uint8_t *data;
    uint32_t width, height;
    size_t stride;
    int channels;
    uint32_t in_width, in_height; /* as stored, before orientation */
    char in_type[8];              /* "jpeg", "png", ... */
} pixd_image_pixels;

/* Decode the n bytes at in (the caller's, only read) upright (EXIF
 * orientation applied), JPEG at the smallest DCT scale that keeps at least
 * min_w x min_h of the upright image. Inputs over max_pixels (0: no limit)
 * are refused from their header. Returns 0 or a negative errno with err
 * set, as pixd_image_resize. */
int pixd_image_decode(const uint8_t *in, size_t n, uint32_t min_w, uint32_t min_h,
                      uint64_t max_pixels, pixd_image_pixels *out, char *err, size_t errlen);

/* The caller is done with the pixels of pixd_image_decode(): their buffers
 * go back to the pool for the next job on any thread. */
void pixd_image_decode_done(void);

#ifdef __cplusplus
}
#endif

#endif
