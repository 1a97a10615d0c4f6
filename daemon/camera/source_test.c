/* The `test` camera: a moving pattern drawn and JPEG-encoded on the work
 * queue at the configured rate, only while someone watches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "../log.h"
#include "pattern.h"
#include "source.h"

typedef struct test_src {
    pixd_camera *cam;
    uv_timer_t timer;
    uv_work_t work;
    unsigned width, height, fps;
    int quality;
    int busy;            /* a frame is being drawn */
    int closing;
    uint64_t seq;
    /* Owned by the one job in flight. */
    uint8_t *bgr;
    tjhandle tj;
    pixd_frame *out;
    char label[64];
} test_src;

static void draw_work(uv_work_t *req) {
    test_src *t = req->data;
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    uint64_t ts = pixd_now_us();

    t->out = NULL;
    pixd_pattern_draw(t->bgr, t->width, t->height, t->seq + 1, ts, t->label);
    if (tjCompress2(t->tj, t->bgr, (int)t->width, 0, (int)t->height, TJPF_BGR, &jpeg, &len,
                    TJSAMP_420, t->quality, TJFLAG_FASTDCT) < 0)
        return;
    t->out = pixd_frame_new(len);
    if (t->out) {
        memcpy(t->out->data, jpeg, len);
        t->out->len = len;
        t->out->width = t->width;
        t->out->height = t->height;
        t->out->ts_us = ts;
    }
    tjFree(jpeg);
}

static void timer_closed(uv_handle_t *h) {
    test_src *t = h->data;
    pixd_camera *cam = t->cam;
    tjDestroy(t->tj);
    free(t->bgr);
    free(t);
    pixd_camera_closed(cam);
}

static void finish_close(test_src *t) {
    uv_close((uv_handle_t *)&t->timer, timer_closed);
}

static void draw_done(uv_work_t *req, int status) {
    test_src *t = req->data;
    t->busy = 0;
    if (t->closing) {
        pixd_frame_unref(t->out);
        finish_close(t);
        return;
    }
    if (status == 0 && t->out) {
        t->seq++;
        pixd_camera_publish(t->cam, t->out);
    }
    t->out = NULL;
}

static void tick(uv_timer_t *h) {
    test_src *t = h->data;
    if (!pixd_camera_wanted(t->cam)) {
        uv_timer_stop(&t->timer); /* wake() starts it again */
        return;
    }
    if (t->busy)
        return; /* drawing is slower than the rate: skip this tick */
    t->busy = 1;
    t->work.data = t;
    if (uv_queue_work(pixd_camera_loop(t->cam), &t->work, draw_work, draw_done) < 0)
        t->busy = 0;
}

static void wake(pixd_camera *cam, void *src) {
    test_src *t = src;
    if (!uv_is_active((uv_handle_t *)&t->timer))
        uv_timer_start(&t->timer, tick, 0, 1000 / t->fps ? 1000 / t->fps : 1);
}

static void close_src(pixd_camera *cam, void *src) {
    test_src *t = src;
    t->closing = 1;
    uv_timer_stop(&t->timer);
    if (!t->busy)
        finish_close(t);
}

static const pixd_source_ops test_ops = {.wake = wake, .close = close_src};

int pixd_source_test_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err,
                          size_t errlen) {
    test_src *t = calloc(1, sizeof *t);
    int r;

    if (!t)
        return -ENOMEM;
    t->width = spec->width ? spec->width : 640;
    t->height = spec->height ? spec->height : 480;
    t->fps = spec->fps ? spec->fps : 15;
    t->quality = spec->quality ? spec->quality : 80;
    snprintf(t->label, sizeof t->label, "%s", spec->name);
    t->bgr = malloc((size_t)t->width * t->height * 3);
    t->tj = tjInitCompress();
    if (!t->bgr || !t->tj) {
        if (t->tj)
            tjDestroy(t->tj);
        free(t->bgr);
        free(t);
        return -ENOMEM;
    }
    if ((r = pixd_hub_add(hub, spec->name, spec->source, &test_ops, t, &t->cam)) < 0) {
        snprintf(err, errlen, "camera name \"%s\" is used twice", spec->name);
        tjDestroy(t->tj);
        free(t->bgr);
        free(t);
        return r;
    }
    uv_timer_init(pixd_camera_loop(t->cam), &t->timer);
    t->timer.data = t;
    pixd_camera_set_state(t->cam, PIXD_CAM_ONLINE, NULL);
    return 0;
}
