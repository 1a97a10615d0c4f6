/* One resize job: decode (at a reduced DCT scale for JPEG), crop and
 * resample, orient, sharpen, encode. Limits are checked from headers
 * before any pixel buffer exists. JPEG to JPEG goes through YCbCr planes
 * when it can (yuv.c), everything else through BGR(A) pixels. */
#include "image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codecs.h"
#include "exif.h"
#include "geometry.h"
#include "imghdr.h"
#include "internal.h"

typedef struct job {
    const pixd_resize_params *p;
    pixd_resize_result *r;
    char *err;
    size_t errlen;
    uint8_t *owned; /* the input, to free once decoded (NULL: the caller's) */
    const pixd_codecs *codecs; /* when needed */
    pixd__jpeg_dec *jpeg;
    void *handle; /* the codecs module's decoded image */
    pixd__pixels src;
    pixd_image_geometry g;
} job;

__attribute__((format(printf, 2, 3))) static int say(job *j, const char *fmt, ...) {
    va_list ap;
    if (j->errlen) {
        va_start(ap, fmt);
        vsnprintf(j->err, j->errlen, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void pixd_resize_params_default(pixd_resize_params *p) {
    memset(p, 0, sizeof *p);
    p->mode = PIXD_MODE_FIT;
    p->quality = 85;
    p->format = PIXD_FMT_JPEG;
    p->fast = 1;
    p->sharpen_radius = 2.0f;
    p->sharpen_amount = 1.5f;
    p->sharpen_threshold = 3;
    p->max_pixels = 50000000;
}

static int check_params(job *j) {
    const pixd_resize_params *p = j->p;

    if (p->mode != PIXD_MODE_FIT && p->mode != PIXD_MODE_FILL && p->mode != PIXD_MODE_STRETCH)
        return say(j, "unknown resize mode %d", (int)p->mode), -EINVAL;
    if (p->format != PIXD_FMT_JPEG && p->format != PIXD_FMT_PNG && p->format != PIXD_FMT_WEBP)
        return say(j, "unknown output format %d", (int)p->format), -EINVAL;
    if (p->quality < 1 || p->quality > 100)
        return say(j, "quality must be 1 to 100, not %d", p->quality), -EINVAL;
    if (p->width > PIXD_IMAGE_MAX_SIDE || p->height > PIXD_IMAGE_MAX_SIDE)
        return say(j, "width and height must be at most %u", PIXD_IMAGE_MAX_SIDE), -EINVAL;
    if (p->sharpen &&
        (!(p->sharpen_radius > 0.0f && p->sharpen_radius <= 50.0f) ||
         !(p->sharpen_amount >= 0.0f && p->sharpen_amount <= 20.0f) ||
         p->sharpen_threshold < 0 || p->sharpen_threshold > 255))
        return say(j, "sharpen needs radius 0 to 50, amount 0 to 20 (percent 0 to 2000) "
                      "and threshold 0 to 255"), -EINVAL;
    return 0;
}

static int check_pixels(job *j, uint32_t w, uint32_t h) {
    uint64_t px = (uint64_t)w * h, max = j->p->max_pixels;
    if (max && px > max)
        return say(j, "image is %" PRIu32 "x%" PRIu32 " (%.1f MP), over --max-pixels %.1f MP",
                   w, h, (double)px / 1e6, (double)max / 1e6), -EFBIG;
    return 0;
}

/* The geometry of the stored w x h input, and whether its output fits. */
static int plan(job *j, uint32_t w, uint32_t h) {
    const pixd_resize_params *p = j->p;
    pixd_image_geometry *g = &j->g;
    uint64_t out;

    if (pixd_image_geometry_compute(w, h, j->r->orientation, p->width, p->height, p->mode,
                                    p->enlarge, g) < 0)
        return say(j, "image has no pixels"), -EBADMSG;
    out = (uint64_t)g->out_width * g->out_height;
    if (g->out_width > PIXD_IMAGE_MAX_SIDE || g->out_height > PIXD_IMAGE_MAX_SIDE)
        return say(j, "output of %" PRIu32 "x%" PRIu32 " is too large (at most %u pixels a "
                      "side)", g->out_width, g->out_height, PIXD_IMAGE_MAX_SIDE), -EINVAL;
    if (p->max_pixels && out > p->max_pixels)
        return say(j, "output of %" PRIu32 "x%" PRIu32 " is too large (%.1f MP, over "
                      "--max-pixels %.1f MP)", g->out_width, g->out_height, (double)out / 1e6,
                   (double)p->max_pixels / 1e6), -EINVAL;
    if (p->format == PIXD_FMT_WEBP && (g->out_width > PIXD_IMAGE_MAX_WEBP_SIDE ||
                                       g->out_height > PIXD_IMAGE_MAX_WEBP_SIDE))
        return say(j, "WebP images are at most %u pixels wide and high",
                   PIXD_IMAGE_MAX_WEBP_SIDE), -EINVAL;
    return 0;
}

static int load_codecs(job *j) {
    return j->codecs ? 0 : pixd__codecs_get(&j->codecs, j->err, j->errlen);
}

static int decode_jpeg(job *j, const uint8_t *in, size_t n) {
    pixd__jpeg_info info;
    int rc, denom;

    strcpy(j->r->in_type, "jpeg");
    rc = pixd__jpeg_open(&j->jpeg, in, n, j->p->max_pixels, &info, j->err, j->errlen);
    if (rc < 0)
        return rc;
    j->r->in_width = info.width;
    j->r->in_height = info.height;
    j->r->orientation = info.orientation;
    if ((rc = check_pixels(j, info.width, info.height)) < 0 ||
        (rc = plan(j, info.width, info.height)) < 0)
        return rc;
    denom = pixd_image_dct_scale(info.width, info.height, &j->g, j->p->fast);
    j->r->scale_num = 1;
    j->r->scale_denom = denom;
    if (info.planar && j->p->format == PIXD_FMT_JPEG) {
        rc = pixd__yuv_resize(in, n, &info, denom, &j->g, j->p, &j->owned, j->r, j->err,
                              j->errlen);
        if (rc != -EAGAIN)
            return rc < 0 ? rc : 1;
    }
    return pixd__jpeg_decode(j->jpeg, denom, &j->src, j->err, j->errlen);
}

static int decode_other(job *j, const uint8_t *in, size_t n) {
    pixd_imghdr h;
    int rc = pixd_imghdr_probe(in, n, &h), o = 0;

    if (rc == -ENOENT)
        return say(j, "not an image, or not a format pixd reads (JPEG, PNG, WebP, BMP)"),
               -ENOTSUP;
    snprintf(j->r->in_type, sizeof j->r->in_type, "%s", h.type);
    if (rc < 0)
        return say(j, "corrupt %s: malformed header", h.type), -EBADMSG;
    /* What OpenCV reads here; GIF it does not (before 4.11). */
    if (strcmp(h.type, "png") != 0 && strcmp(h.type, "webp") != 0 && strcmp(h.type, "bmp") != 0)
        return say(j, "%s input is not supported", h.type), -ENOTSUP;
    if (h.width == 0 || h.height == 0)
        return say(j, "truncated %s: the header is incomplete", h.type), -EBADMSG;
    j->r->in_width = h.width;
    j->r->in_height = h.height;
    if (strcmp(h.type, "png") == 0)
        o = pixd_exif_orientation_png(in, n);
    else if (strcmp(h.type, "webp") == 0)
        o = pixd_exif_orientation_webp(in, n);
    j->r->orientation = o ? o : 1;
    j->r->scale_num = j->r->scale_denom = 1;
    if ((rc = check_pixels(j, h.width, h.height)) < 0 ||
        (rc = plan(j, h.width, h.height)) < 0 || (rc = load_codecs(j)) < 0)
        return rc;
    rc = j->codecs->decode(in, n, &j->src, &j->handle, j->err, j->errlen);
    if (rc < 0)
        return rc;
    /* OpenCV read the same header; anything else is a decoder we do not
     * understand, and the limits were checked against the header. */
    if (j->src.width != h.width || j->src.height != h.height)
        return say(j, "corrupt %s: decoded %" PRIu32 "x%" PRIu32 ", header says %" PRIu32
                      "x%" PRIu32, h.type, j->src.width, j->src.height, h.width, h.height),
               -EBADMSG;
    return 0;
}

static int nomem(job *j) { return say(j, "out of memory"), -ENOMEM; }

static int cv_failed(job *j, int rc) {
    if (rc == -ENOMEM)
        return nomem(j);
    return say(j, "image processing failed"), -EIO;
}

/* Crop and resample, orient, sharpen; *out ends up in scratch, or is a
 * view into the decoded pixels when nothing else changes. */
static int transform(job *j, pixd__pixels *out) {
    const pixd_resize_params *p = j->p;
    const pixd_image_geometry *g = &j->g;
    pixd_image_rect crop = pixd_image_scale_crop(g, j->r->in_width, j->r->in_height,
                                                 j->src.width, j->src.height);
    pixd__pixels cur = j->src, next;
    int alpha = cur.channels == 4, rc;

    /* The crop first, as a view into the decoded pixels. */
    cur.data += (size_t)crop.y * cur.stride + (size_t)crop.x * (size_t)cur.channels;
    cur.width = crop.width;
    cur.height = crop.height;
    if (alpha)
        pixd__premultiply(&cur);
    if (cur.width != g->resample_width || cur.height != g->resample_height) {
        if (pixd__scratch_pixels(&next, PIXD__SCRATCH_RESAMPLE, g->resample_width,
                                 g->resample_height, cur.channels) < 0)
            return nomem(j);
        if ((rc = pixd__cv_resize(&cur, &next)) < 0)
            return cv_failed(j, rc);
        cur = next;
    }
    if (j->r->orientation != 1) {
        if (pixd__scratch_pixels(&next, PIXD__SCRATCH_ORIENT, g->out_width, g->out_height,
                                 cur.channels) < 0)
            return nomem(j);
        if ((rc = pixd__cv_orient(&cur, j->r->orientation, &next)) < 0)
            return cv_failed(j, rc);
        cur = next;
    }
    if (p->sharpen && (rc = pixd__cv_unsharp(&cur, p->sharpen_radius, p->sharpen_amount,
                                              p->sharpen_threshold)) < 0)
        return cv_failed(j, rc);
    if (alpha && p->format == PIXD_FMT_JPEG) {
        /* JPEG has no alpha: composite on white. */
        if (pixd__scratch_pixels(&next, PIXD__SCRATCH_FLAT, cur.width, cur.height, 3) < 0)
            return nomem(j);
        pixd__flatten_white(&cur, &next);
        cur = next;
    } else if (alpha) {
        pixd__unpremultiply(&cur);
    }
    *out = cur;
    return 0;
}

static int encode(job *j, const pixd__pixels *px) {
    const pixd_resize_params *p = j->p;
    int rc;

    if (p->format == PIXD_FMT_JPEG)
        return pixd__jpeg_encode(px, p->quality, p->progressive, &j->r->data, &j->r->len,
                                 j->err, j->errlen);
    if ((rc = load_codecs(j)) < 0)
        return rc;
    return j->codecs->encode(px, p->format, p->quality, &j->r->data, &j->r->len, j->err,
                             j->errlen);
}

static int resize(const uint8_t *in, size_t n, uint8_t *owned, const pixd_resize_params *p,
                  pixd_resize_result *r, char *err, size_t errlen) {
    job j = {.p = p, .r = r, .err = err, .errlen = errlen, .owned = owned};
    pixd__pixels out;
    double t0, t1, t2;
    int rc;

    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    if ((rc = check_params(&j)) == 0 && !in && n)
        rc = (say(&j, "no input"), -EINVAL);
    if (rc < 0) {
        free(j.owned);
        return rc;
    }
    pixd__cv_init();

    t0 = now_ms();
    if (n >= 3 && in[0] == 0xff && in[1] == 0xd8 && in[2] == 0xff)
        rc = decode_jpeg(&j, in, n);
    else
        rc = decode_other(&j, in, n);
    if (rc == 1) { /* the planar path did the whole job */
        r->planar = 1;
        rc = 0;
        goto done;
    }
    /* The decoded pixels (or the codecs module's image) are all that is
     * read from here on. */
    free(j.owned);
    j.owned = NULL;
    t1 = now_ms();
    r->decode_ms = t1 - t0;
    if (rc == 0)
        rc = transform(&j, &out);
    t2 = now_ms();
    r->resize_ms = t2 - t1;
    if (rc == 0) {
        r->out_width = out.width;
        r->out_height = out.height;
        rc = encode(&j, &out);
        r->encode_ms = now_ms() - t2;
    }

done:
    free(j.owned);
    pixd__jpeg_close(j.jpeg);
    if (j.handle)
        j.codecs->release(j.handle);
    pixd__scratch_done(PIXD__SCRATCH_KEEP);
    if (rc < 0) {
        free(r->data);
        r->data = NULL;
        r->len = 0;
        if (errlen && !err[0])
            snprintf(err, errlen, "image processing failed (error %d)", -rc);
    }
    return rc;
}

int pixd_image_resize(const uint8_t *in, size_t n, const pixd_resize_params *p,
                      pixd_resize_result *r, char *err, size_t errlen) {
    return resize(in, n, NULL, p, r, err, errlen);
}

int pixd_image_resize_owned(uint8_t *in, size_t n, const pixd_resize_params *p,
                            pixd_resize_result *r, char *err, size_t errlen) {
    return resize(in, n, in, p, r, err, errlen);
}
