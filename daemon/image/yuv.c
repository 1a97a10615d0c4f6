/* The planar path for JPEG to JPEG: decode into Y, Cb and Cr planes at a
 * DCT scale, crop, resample, orient and sharpen each plane, and encode the
 * planes. What it skips, against BGR pixels: YCbCr -> BGR and chroma
 * upsampling in the decoder, BGR -> YCbCr and chroma downsampling in the
 * encoder, and half the bytes in every buffer (1.5 per pixel at 4:2:0).
 *
 * The decoder is TurboJPEG's tjDecompressToYUVPlanes, which decodes
 * chroma at its own resolution (libjpeg's raw data mode, at a DCT scale,
 * decodes 4:2:0 chroma at luma resolution). It is only given images whose
 * header jpeg.c has read and checked (limits, one sequential scan), and it
 * stops at the first warning: anything it does not decode cleanly goes
 * back to the BGR path, whose decoder words the error or lets a harmless
 * warning pass. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <turbojpeg.h>

#include "internal.h"

#define MAX_PLANES 3

typedef struct {
    pixd__pixels p[MAX_PLANES];
    int n;
} planes;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Point the n planes of sizes w[i] x h[i] into one scratch slot. */
static int planes_in(planes *pl, int slot, int n, const uint32_t *w, const uint32_t *h) {
    size_t total = 0, at = 0;
    uint8_t *buf;

    for (int i = 0; i < n; i++)
        total += (size_t)w[i] * h[i];
    if (!(buf = pixd__scratch(slot, total)))
        return -ENOMEM;
    pl->n = n;
    for (int i = 0; i < n; i++) {
        pl->p[i] = (pixd__pixels){buf + at, w[i], h[i], w[i], 1};
        at += (size_t)w[i] * h[i];
    }
    return 0;
}

static int subsamp(const pixd__jpeg_info *info) {
    if (info->channels == 1)
        return TJSAMP_GRAY;
    if (info->h_samp == 2)
        return info->v_samp == 2 ? TJSAMP_420 : TJSAMP_422;
    return info->v_samp == 2 ? TJSAMP_440 : TJSAMP_444;
}

static int decode(const uint8_t *in, size_t n, const pixd__jpeg_info *info, int denom,
                  planes *out) {
    uint32_t dw = (info->width + (uint32_t)denom - 1) / (uint32_t)denom,
             dh = (info->height + (uint32_t)denom - 1) / (uint32_t)denom, w[3], h[3];
    int sub = subsamp(info), np = info->channels == 1 ? 1 : 3, strides[3], rc;
    unsigned char *dst[3];
    tjhandle tj;

    for (int i = 0; i < np; i++) {
        w[i] = (uint32_t)tjPlaneWidth(i, (int)dw, sub);
        h[i] = (uint32_t)tjPlaneHeight(i, (int)dh, sub);
    }
    if (planes_in(out, PIXD__SCRATCH_DECODE, np, w, h) < 0)
        return -ENOMEM;
    for (int i = 0; i < np; i++) {
        dst[i] = out->p[i].data;
        strides[i] = (int)out->p[i].stride;
    }
    if (!(tj = tjInitDecompress()))
        return -ENOMEM;
    /* Given exactly the size at 1/denom, TurboJPEG picks that scale. */
    rc = tjDecompressToYUVPlanes(tj, in, (unsigned long)n, dst, (int)dw, strides, (int)dh,
                                 TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
    tjDestroy(tj);
    return rc < 0 ? -EAGAIN : 0;
}

/* The crop rectangle of the luma plane (dec_w x dec_h) in a plane of
 * pw x ph covering the same picture. */
static pixd_image_rect plane_crop(pixd_image_rect luma, uint32_t dec_w, uint32_t dec_h,
                                  uint32_t pw, uint32_t ph) {
    pixd_image_geometry g = {.crop = luma};
    if (pw == dec_w && ph == dec_h)
        return luma;
    return pixd_image_scale_crop(&g, dec_w, dec_h, pw, ph);
}

static int transform(planes *cur, const pixd_image_geometry *g, uint32_t in_w, uint32_t in_h,
                     int orientation, const pixd_resize_params *p) {
    pixd_image_rect luma = pixd_image_scale_crop(g, in_w, in_h, cur->p[0].width,
                                                 cur->p[0].height);
    uint32_t dec_w = cur->p[0].width, dec_h = cur->p[0].height, w[3], h[3];
    int swaps = pixd_image_orientation_swaps(orientation), rc;
    planes next;

    /* Target sizes before orientation: chroma is 4:2:0 of the output. */
    w[0] = g->resample_width;
    h[0] = g->resample_height;
    w[1] = w[2] = (w[0] + 1) / 2;
    h[1] = h[2] = (h[0] + 1) / 2;
    for (int i = 0; i < cur->n; i++) {
        pixd__pixels *pl = &cur->p[i];
        pixd_image_rect c = plane_crop(luma, dec_w, dec_h, pl->width, pl->height);
        pl->data += (size_t)c.y * pl->stride + c.x;
        pl->width = c.width;
        pl->height = c.height;
    }
    if (planes_in(&next, PIXD__SCRATCH_RESAMPLE, cur->n, w, h) < 0)
        return -ENOMEM;
    for (int i = 0; i < cur->n; i++)
        if ((rc = pixd__cv_resize(&cur->p[i], &next.p[i])) < 0)
            return rc;
    *cur = next;
    if (orientation != 1) {
        uint32_t ow[3], oh[3];
        for (int i = 0; i < cur->n; i++) {
            ow[i] = swaps ? h[i] : w[i];
            oh[i] = swaps ? w[i] : h[i];
        }
        if (planes_in(&next, PIXD__SCRATCH_ORIENT, cur->n, ow, oh) < 0)
            return -ENOMEM;
        for (int i = 0; i < cur->n; i++)
            if ((rc = pixd__cv_orient(&cur->p[i], orientation, &next.p[i])) < 0)
                return rc;
        *cur = next;
    }
    /* Sharpness is seen in luma: sharpening Y alone leaves colours as
     * they are (the BGR path sharpens each channel). */
    if (p->sharpen && (rc = pixd__cv_unsharp(&cur->p[0], p->sharpen_radius,
                                             p->sharpen_amount, p->sharpen_threshold)) < 0)
        return rc;
    return 0;
}

int pixd__yuv_resize(const uint8_t *in, size_t n, const pixd__jpeg_info *info, int denom,
                     const pixd_image_geometry *g, const pixd_resize_params *p,
                     uint8_t **owned, pixd_resize_result *r, char *err, size_t errlen) {
    planes pl;
    double t0 = now_ms(), t1, t2;
    int rc = decode(in, n, info, denom, &pl);

    t1 = now_ms();
    r->decode_ms = t1 - t0;
    if (rc == -EAGAIN)
        return rc;
    free(*owned);
    *owned = NULL;
    if (rc == 0)
        rc = transform(&pl, g, info->width, info->height, info->orientation, p);
    t2 = now_ms();
    r->resize_ms = t2 - t1;
    if (rc == -ENOMEM) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (rc < 0) {
        snprintf(err, errlen, "image processing failed");
        return -EIO;
    }
    r->out_width = pl.p[0].width;
    r->out_height = pl.p[0].height;
    rc = pixd__jpeg_encode_planes(pl.p, pl.n, p->quality, p->progressive, &r->data, &r->len,
                                  err, errlen);
    r->encode_ms = now_ms() - t2;
    return rc;
}
