/* Alpha is premultiplied before resampling, so that the colour of
 * transparent pixels (often black) does not bleed into their neighbours,
 * and undone (PNG, WebP) or composited on white (JPEG) after it. */
#include "internal.h"

void pixd__premultiply(pixd__pixels *px) {
    for (uint32_t y = 0; y < px->height; y++) {
        uint8_t *p = px->data + y * px->stride;
        for (uint32_t x = 0; x < px->width; x++, p += 4) {
            unsigned a = p[3];
            if (a == 255)
                continue;
            for (int c = 0; c < 3; c++)
                p[c] = (uint8_t)((p[c] * a + 127) / 255);
        }
    }
}

void pixd__unpremultiply(pixd__pixels *px) {
    for (uint32_t y = 0; y < px->height; y++) {
        uint8_t *p = px->data + y * px->stride;
        for (uint32_t x = 0; x < px->width; x++, p += 4) {
            unsigned a = p[3];
            if (a == 255)
                continue;
            for (int c = 0; c < 3; c++) {
                unsigned v = a ? (p[c] * 255u + a / 2) / a : 0;
                p[c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

void pixd__flatten_white(const pixd__pixels *src, pixd__pixels *dst) {
    for (uint32_t y = 0; y < src->height; y++) {
        const uint8_t *p = src->data + y * src->stride;
        uint8_t *q = dst->data + y * dst->stride;
        for (uint32_t x = 0; x < src->width; x++, p += 4, q += 3) {
            /* Premultiplied colour over white: c + (1 - a) * 255. */
            unsigned white = 255u - p[3];
            for (int c = 0; c < 3; c++) {
                unsigned v = p[c] + white;
                q[c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}
