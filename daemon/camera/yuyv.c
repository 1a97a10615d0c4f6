/* YUYV -> planar 4:2:2 -> JPEG. */
#include "yuyv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

void pixd_yuyv_to_planar(const uint8_t *src, size_t stride, unsigned w, unsigned h,
                         uint8_t *y, uint8_t *u, uint8_t *v) {
    unsigned cw = w / 2;
    for (unsigned row = 0; row < h; row++) {
        const uint8_t *s = src + (size_t)row * stride;
        uint8_t *yr = y + (size_t)row * w, *ur = u + (size_t)row * cw, *vr = v + (size_t)row * cw;
        for (unsigned x = 0; x < cw; x++) {
            yr[2 * x] = s[4 * x];
            ur[x] = s[4 * x + 1];
            yr[2 * x + 1] = s[4 * x + 2];
            vr[x] = s[4 * x + 3];
        }
    }
}

int pixd_yuyv_enc_init(pixd_yuyv_enc *e) {
    memset(e, 0, sizeof *e);
    e->tj = tjInitCompress();
    return e->tj ? 0 : -ENOMEM;
}

void pixd_yuyv_enc_free(pixd_yuyv_enc *e) {
    if (e->tj)
        tjDestroy(e->tj);
    free(e->planar);
    tjFree(e->jpeg);
    memset(e, 0, sizeof *e);
}

int pixd_yuyv_encode(pixd_yuyv_enc *e, const uint8_t *src, size_t stride, unsigned w,
                     unsigned h, int quality, pixd_frame **out) {
    size_t ysize = (size_t)w * h, csize = ysize / 2;
    unsigned long bound, len;
    const unsigned char *planes[3];
    int strides[3];
    pixd_frame *f;

    *out = NULL;
    if (!w || !h || (w & 1) || w > 16384 || h > 16384 || stride < (size_t)w * 2)
        return -EINVAL;
    if (ysize + 2 * csize > e->planar_cap) {
        uint8_t *p = realloc(e->planar, ysize + 2 * csize);
        if (!p)
            return -ENOMEM;
        e->planar = p;
        e->planar_cap = ysize + 2 * csize;
    }
    /* A worst-case output buffer, kept across frames, so TurboJPEG never
     * reallocates and each frame is then copied out at its real size. */
    bound = tjBufSize((int)w, (int)h, TJSAMP_422);
    if (bound == (unsigned long)-1)
        return -EINVAL;
    if (bound > e->jpeg_cap) {
        tjFree(e->jpeg);
        e->jpeg_cap = 0;
        if (!(e->jpeg = tjAlloc((int)bound)))
            return -ENOMEM;
        e->jpeg_cap = bound;
    }
    pixd_yuyv_to_planar(src, stride, w, h, e->planar, e->planar + ysize,
                        e->planar + ysize + csize);
    planes[0] = e->planar;
    planes[1] = e->planar + ysize;
    planes[2] = e->planar + ysize + csize;
    strides[0] = (int)w;
    strides[1] = strides[2] = (int)(w / 2);
    len = e->jpeg_cap;
    if (tjCompressFromYUVPlanes(e->tj, planes, (int)w, strides, (int)h, TJSAMP_422, &e->jpeg,
                                &len, quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) < 0)
        return -EIO;
    if (!(f = pixd_frame_new(len)))
        return -ENOMEM;
    memcpy(f->data, e->jpeg, len);
    f->len = len;
    f->width = w;
    f->height = h;
    *out = f;
    return 0;
}
