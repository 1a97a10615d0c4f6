#include "frame.h"

#include <stdlib.h>
#include <time.h>

pixd_frame *pixd_frame_new(size_t cap) {
    pixd_frame *f;
    if (cap > PIXD_FRAME_MAX)
        return NULL;
    f = malloc(sizeof *f + PIXD_FRAME_HEADROOM + cap);
    if (!f)
        return NULL;
    f->refs = 1;
    f->seq = f->ts_us = 0;
    f->width = f->height = 0;
    f->len = 0;
    f->cap = cap;
    f->data = f->storage + PIXD_FRAME_HEADROOM;
    return f;
}

pixd_frame *pixd_frame_ref(pixd_frame *f) {
    f->refs++;
    return f;
}

void pixd_frame_unref(pixd_frame *f) {
    if (f && --f->refs == 0)
        free(f);
}

uint64_t pixd_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
