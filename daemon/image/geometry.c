#include "geometry.h"

#include <errno.h>

/* a / b rounded to nearest (halves up), at least 1: no side is ever 0. */
static uint32_t rdiv(uint64_t a, uint64_t b) {
    uint64_t q = (2 * a + b) / (2 * b);
    return q == 0 ? 1 : q > UINT32_MAX ? UINT32_MAX : (uint32_t)q;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

int pixd_image_orientation_swaps(int orientation) {
    return orientation >= 5 && orientation <= 8;
}

/* Fit W x H inside the box; a 0 side of the box is free. */
static void fit(uint32_t w, uint32_t h, uint32_t bw, uint32_t bh, int enlarge,
                uint32_t *ow, uint32_t *oh) {
    *ow = w;
    *oh = h;
    if (bw == 0 && bh == 0)
        return;
    if (bh == 0 || (bw != 0 && (uint64_t)bw * h <= (uint64_t)bh * w)) {
        /* The width limits. */
        if (!enlarge && bw >= w)
            return;
        *ow = bw;
        *oh = rdiv((uint64_t)h * bw, w);
    } else {
        if (!enlarge && bh >= h)
            return;
        *ow = rdiv((uint64_t)w * bh, h);
        *oh = bh;
    }
}

/* Cover the box, keeping the centre: the crop (cw x ch of the input) has
 * the box's aspect. Without enlarging, a box larger than the image on the
 * covering side crops to the image and the box, unscaled. */
static void fill(uint32_t w, uint32_t h, uint32_t bw, uint32_t bh, int enlarge,
                 uint32_t *ow, uint32_t *oh, uint32_t *cw, uint32_t *ch) {
    int by_width = (uint64_t)bw * h >= (uint64_t)bh * w;

    if (!enlarge && (by_width ? bw > w : bh > h)) {
        *ow = *cw = min32(bw, w);
        *oh = *ch = min32(bh, h);
        return;
    }
    *ow = bw;
    *oh = bh;
    if (by_width) {
        *cw = w;
        *ch = min32(rdiv((uint64_t)bh * w, bw), h);
    } else {
        *cw = min32(rdiv((uint64_t)bw * h, bh), w);
        *ch = h;
    }
}

int pixd_image_geometry_compute(uint32_t in_w, uint32_t in_h, int orientation,
                                uint32_t box_w, uint32_t box_h,
                                pixd_resize_mode mode, int enlarge,
                                pixd_image_geometry *g) {
    int swaps = pixd_image_orientation_swaps(orientation);
    /* The request is about the picture as seen, after orientation. */
    uint32_t w = swaps ? in_h : in_w, h = swaps ? in_w : in_h;
    uint32_t cw = w, ch = h;
    int one_side = box_w == 0 || box_h == 0;

    if (in_w == 0 || in_h == 0)
        return -EINVAL;
    switch (mode) {
    case PIXD_MODE_FIT:
        fit(w, h, box_w, box_h, enlarge, &g->out_width, &g->out_height);
        break;
    case PIXD_MODE_FILL:
        if (one_side)
            fit(w, h, box_w, box_h, enlarge, &g->out_width, &g->out_height);
        else
            fill(w, h, box_w, box_h, enlarge, &g->out_width, &g->out_height, &cw, &ch);
        break;
    case PIXD_MODE_STRETCH:
        if (one_side) {
            fit(w, h, box_w, box_h, enlarge, &g->out_width, &g->out_height);
        } else {
            g->out_width = enlarge ? box_w : min32(box_w, w);
            g->out_height = enlarge ? box_h : min32(box_h, h);
        }
        break;
    default:
        return -EINVAL;
    }
    /* Back to the stored image. A centred crop stays centred under any
     * flip or quarter turn, so only its sides swap. */
    g->crop.width = swaps ? ch : cw;
    g->crop.height = swaps ? cw : ch;
    g->crop.x = (in_w - g->crop.width) / 2;
    g->crop.y = (in_h - g->crop.height) / 2;
    g->resample_width = swaps ? g->out_height : g->out_width;
    g->resample_height = swaps ? g->out_width : g->out_height;
    return 0;
}

static uint32_t ceil_div(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a + b - 1) / b); }

int pixd_image_dct_scale(uint32_t in_w, uint32_t in_h, const pixd_image_geometry *g,
                         int fast) {
    uint64_t f = fast ? 1 : 2;

    for (uint32_t d = 8; d > 1; d /= 2) {
        /* The crop, decoded at 1/d, is dec * crop / in pixels wide. */
        uint64_t dw = ceil_div(in_w, d), dh = ceil_div(in_h, d);
        if (dw * g->crop.width >= f * g->resample_width * in_w &&
            dh * g->crop.height >= f * g->resample_height * in_h)
            return (int)d;
    }
    return 1;
}

/* [pos, pos+len) of an in-pixel axis, scaled to dec pixels. */
static void scale_span(uint32_t pos, uint32_t len, uint32_t in, uint32_t dec,
                       uint32_t *out_pos, uint32_t *out_len) {
    uint32_t a, b;

    if (pos == 0 && len == in) {
        *out_pos = 0;
        *out_len = dec;
        return;
    }
    a = (uint32_t)(((uint64_t)pos * dec * 2 + in) / (2 * (uint64_t)in));
    b = (uint32_t)(((uint64_t)(pos + len) * dec * 2 + in) / (2 * (uint64_t)in));
    if (b > dec)
        b = dec;
    if (a >= b)
        b = a + 1;
    if (b > dec) {
        b = dec;
        a = dec - 1;
    }
    *out_pos = a;
    *out_len = b - a;
}

pixd_image_rect pixd_image_scale_crop(const pixd_image_geometry *g, uint32_t in_w,
                                      uint32_t in_h, uint32_t dec_w, uint32_t dec_h) {
    pixd_image_rect r;
    scale_span(g->crop.x, g->crop.width, in_w, dec_w, &r.x, &r.width);
    scale_span(g->crop.y, g->crop.height, in_h, dec_h, &r.y, &r.height);
    return r;
}
