/* Decoding for analysis: the first half of a resize job, stopping at
 * upright pixels a little larger than what a network looks at. */
#include "image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "codecs.h"
#include "exif.h"
#include "imghdr.h"
#include "internal.h"

static int too_many(uint32_t w, uint32_t h, uint64_t max, char *err, size_t errlen) {
    uint64_t px = (uint64_t)w * h;
    if (!max || px <= max)
        return 0;
    snprintf(err, errlen, "image is %" PRIu32 "x%" PRIu32 " (%.1f MP), over --max-pixels "
             "%.1f MP", w, h, (double)px / 1e6, (double)max / 1e6);
    return -EFBIG;
}

/* Largest DCT denominator whose scaled sides (rounded up, as libjpeg
 * does) stay at least min_w x min_h. */
static int dct_denom(uint32_t w, uint32_t h, uint32_t min_w, uint32_t min_h) {
    for (int d = 8; d > 1; d /= 2)
        if ((w + (uint32_t)d - 1) / (uint32_t)d >= min_w &&
            (h + (uint32_t)d - 1) / (uint32_t)d >= min_h)
            return d;
    return 1;
}

/* px upright into the ORIENT slot (or left as it is for orientation 1). */
static int upright(pixd__pixels *px, int orientation, char *err, size_t errlen) {
    pixd__pixels next;
    int swap = orientation >= 5;
    if (orientation <= 1 || orientation > 8)
        return 0;
    if (pixd__scratch_pixels(&next, PIXD__SCRATCH_ORIENT, swap ? px->height : px->width,
                             swap ? px->width : px->height, px->channels) < 0 ||
        pixd__cv_orient(px, orientation, &next) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *px = next;
    return 0;
}

static int decode_jpeg(const uint8_t *in, size_t n, uint32_t min_w, uint32_t min_h,
                       uint64_t max, pixd__pixels *px, pixd_image_pixels *out, char *err,
                       size_t errlen) {
    pixd__jpeg_dec *d = NULL;
    pixd__jpeg_info info;
    int rc, denom;

    strcpy(out->in_type, "jpeg");
    rc = pixd__jpeg_open(&d, in, n, max, &info, err, errlen);
    if (rc == 0) {
        out->in_width = info.width;
        out->in_height = info.height;
        rc = too_many(info.width, info.height, max, err, errlen);
    }
    if (rc == 0) {
        /* The network sees the upright image: swap what it needs when the
         * stored one lies on its side. */
        int side = info.orientation >= 5;
        denom = dct_denom(info.width, info.height, side ? min_h : min_w, side ? min_w : min_h);
        rc = pixd__jpeg_decode(d, denom, px, err, errlen);
    }
    pixd__jpeg_close(d);
    return rc < 0 ? rc : upright(px, info.orientation, err, errlen);
}

static int decode_other(const uint8_t *in, size_t n, uint64_t max, pixd__pixels *px,
                        pixd_image_pixels *out, char *err, size_t errlen) {
    const pixd_codecs *codecs;
    pixd__pixels got, copy;
    pixd_imghdr h;
    void *handle = NULL;
    int rc = pixd_imghdr_probe(in, n, &h), o = 1;

    if (rc == -ENOENT) {
        snprintf(err, errlen, "not an image, or not a format pixd reads (JPEG, PNG, WebP, BMP)");
        return -ENOTSUP;
    }
    snprintf(out->in_type, sizeof out->in_type, "%s", h.type);
    if (rc < 0 || h.width == 0 || h.height == 0) {
        snprintf(err, errlen, "corrupt %s: malformed or truncated header", h.type);
        return -EBADMSG;
    }
    if (strcmp(h.type, "png") != 0 && strcmp(h.type, "webp") != 0 && strcmp(h.type, "bmp") != 0) {
        snprintf(err, errlen, "%s input is not supported", h.type);
        return -ENOTSUP;
    }
    out->in_width = h.width;
    out->in_height = h.height;
    if ((rc = too_many(h.width, h.height, max, err, errlen)) < 0 ||
        (rc = pixd__codecs_get(&codecs, err, errlen)) < 0 ||
        (rc = codecs->decode(in, n, &got, &handle, err, errlen)) < 0)
        return rc;
    if (got.width != h.width || got.height != h.height) {
        codecs->release(handle);
        snprintf(err, errlen, "corrupt %s: decoded size differs from its header", h.type);
        return -EBADMSG;
    }
    /* Into scratch, so that the module's image can go now. */
    if (pixd__scratch_pixels(&copy, PIXD__SCRATCH_RESAMPLE, got.width, got.height,
                             got.channels) < 0) {
        codecs->release(handle);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (uint32_t y = 0; y < got.height; y++)
        memcpy(copy.data + (size_t)y * copy.stride, got.data + (size_t)y * got.stride,
               (size_t)got.width * (size_t)got.channels);
    codecs->release(handle);
    *px = copy;
    if (strcmp(h.type, "png") == 0)
        o = pixd_exif_orientation_png(in, n);
    else if (strcmp(h.type, "webp") == 0)
        o = pixd_exif_orientation_webp(in, n);
    return upright(px, o ? o : 1, err, errlen);
}

int pixd_image_decode(const uint8_t *in, size_t n, uint32_t min_w, uint32_t min_h,
                      uint64_t max_pixels, pixd_image_pixels *out, char *err, size_t errlen) {
    pixd__pixels px;
    int rc;

    memset(out, 0, sizeof *out);
    pixd__cv_init();
    if (n >= 3 && in[0] == 0xff && in[1] == 0xd8 && in[2] == 0xff)
        rc = decode_jpeg(in, n, min_w, min_h, max_pixels, &px, out, err, errlen);
    else
        rc = decode_other(in, n, max_pixels, &px, out, err, errlen);
    if (rc < 0) {
        pixd__scratch_done(PIXD__SCRATCH_KEEP);
        return rc;
    }
    out->data = px.data;
    out->width = px.width;
    out->height = px.height;
    out->stride = px.stride;
    out->channels = px.channels;
    return 0;
}

void pixd_image_decode_done(void) { pixd__scratch_done(PIXD__SCRATCH_KEEP); }
