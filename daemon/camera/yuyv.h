/* YUYV (packed 4:2:2, what USB cameras send when not MJPEG) to JPEG through
 * TurboJPEG's YUV path: the planes are compressed as they are, with no
 * detour through RGB and no chroma resampling. */
#ifndef PIXD_YUYV_H
#define PIXD_YUYV_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Reused buffers and the TurboJPEG handle of one camera. Not shared:
 * one encode at a time, on any thread. */
typedef struct pixd_yuyv_enc {
    void *tj;               /* tjhandle */
    uint8_t *planar;        /* Y, then U, then V */
    size_t planar_cap;
    unsigned char *jpeg;    /* worst-case JPEG for the last size */
    unsigned long jpeg_cap;
} pixd_yuyv_enc;

/* Split w x h YUYV (rows stride bytes apart, w even) into planes:
 * y is w x h, u and v are w/2 x h. */
void pixd_yuyv_to_planar(const uint8_t *src, size_t stride, unsigned w, unsigned h,
                         uint8_t *y, uint8_t *u, uint8_t *v);

/* 0 or -ENOMEM. */
int pixd_yuyv_enc_init(pixd_yuyv_enc *e);
/* Accepts a zeroed or already freed encoder. */
void pixd_yuyv_enc_free(pixd_yuyv_enc *e);

/* JPEG of the YUYV picture at src (read only during the call) at quality
 * 1..100: *out is a new frame (one reference, the caller's) with len,
 * width and height set. 0, -EINVAL (odd width, no size), -ENOMEM or -EIO. */
int pixd_yuyv_encode(pixd_yuyv_enc *e, const uint8_t *src, size_t stride, unsigned w,
                     unsigned h, int quality, pixd_frame **out);

#endif
