/* A captured frame: one reference-counted JPEG buffer shared by every
 * subscriber that is sent it (no copy per subscriber). Loop thread only,
 * except that a worker may fill a frame it alone holds. */
#ifndef PIXD_FRAME_H
#define PIXD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PIXD_FRAME_HEADROOM 32 /* free bytes before data, for frame headers */
#define PIXD_FRAME_MAX (16u << 20) /* largest JPEG frame accepted */

typedef struct pixd_frame {
    unsigned refs;
    uint64_t seq;       /* per camera, from 1 */
    uint64_t ts_us;     /* capture time, microseconds since the Unix epoch */
    uint32_t width, height;
    size_t len;         /* bytes of JPEG at data */
    size_t cap;
    uint8_t *data;      /* = storage + PIXD_FRAME_HEADROOM */
    uint8_t storage[];
} pixd_frame;

/* A frame with room for cap bytes of JPEG, refs = 1; NULL without memory. */
pixd_frame *pixd_frame_new(size_t cap);
pixd_frame *pixd_frame_ref(pixd_frame *f);
void pixd_frame_unref(pixd_frame *f); /* accepts NULL */
/* Microseconds since the Unix epoch, now. */
uint64_t pixd_now_us(void);

#endif
