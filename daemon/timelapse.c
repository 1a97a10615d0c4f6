#include "timelapse.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct pixd_timelapse {
    uv_timer_t timer;
    pixd_hub *hub;
    pixd_store *store;
    char camera[64];
    pixd_sub *sub;       /* waiting for the next frame */
    pixd_upload *up;     /* storing the last one */
    unsigned saved;
};

static void stored(void *ctx, int err, const char *msg, const pixproto_entry *e) {
    pixd_timelapse *t = ctx;
    t->up = NULL;
    if (err)
        pixd_warn("camera %s: time-lapse snapshot not stored: %s", t->camera,
                  msg ? msg : strerror(-err));
    else
        t->saved++;
}

static void no_hold(void *ctx, int hold) { (void)ctx; (void)hold; }

static const pixd_upload_ops store_ops = {.done = stored, .hold = no_hold};

static void got_frame(void *ctx, pixd_frame *f) {
    pixd_timelapse *t = ctx;
    char name[128], err[256];
    uint8_t sha[32];
    struct tm tm;
    time_t secs = (time_t)(f->ts_us / 1000000u);

    if (t->up)
        return; /* the disk is slower than the interval: skip this one */
    gmtime_r(&secs, &tm);
    snprintf(name, sizeof name, "%s-%04d%02d%02d-%02d%02d%02d.jpg", t->camera,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    EVP_Digest(f->data, f->len, sha, NULL, EVP_sha256(), NULL);
    if (pixd_upload_begin(t->store, name, f->len, sha, &store_ops, t, &t->up, err,
                          sizeof err) < 0) {
        pixd_warn("camera %s: time-lapse snapshot not stored: %s", t->camera, err);
        t->up = NULL;
        return;
    }
    /* data() copies, so the shared frame is not held while the disk works. */
    if (pixd_upload_data(t->up, f->data, f->len) == 0)
        pixd_upload_end(t->up, NULL);
}

static int always_ready(void *ctx) { (void)ctx; return 1; }

static void sub_gone(void *ctx) {
    pixd_timelapse *t = ctx;
    t->sub = NULL;
}

static const pixd_sub_ops snap_ops = {.frame = got_frame, .ready = always_ready,
                                      .gone = sub_gone};

static void tick(uv_timer_t *h) {
    pixd_timelapse *t = h->data;
    if (t->sub)
        return; /* still waiting for a frame (camera offline?) */
    if (pixd_hub_subscribe(t->hub, t->camera, 0, 0, 1, &snap_ops, t, &t->sub) < 0)
        t->sub = NULL;
}

int pixd_timelapse_start(uv_loop_t *loop, pixd_hub *hub, pixd_store *store, const char *camera,
                         unsigned every_sec, pixd_timelapse **out) {
    pixd_timelapse *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->hub = hub;
    t->store = store;
    snprintf(t->camera, sizeof t->camera, "%s", camera);
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, tick, (uint64_t)every_sec * 1000u, (uint64_t)every_sec * 1000u);
    *out = t;
    return 0;
}

static void closed(uv_handle_t *h) { free(h->data); }

void pixd_timelapse_stop(pixd_timelapse *t) {
    if (!t)
        return;
    if (t->sub)
        pixd_sub_unsubscribe(t->sub);
    if (t->up)
        pixd_upload_abort(t->up);
    uv_close((uv_handle_t *)&t->timer, closed);
}
