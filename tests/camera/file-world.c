/* A loop, a hub and a subscriber for the file: and URL camera tests (see
 * file-world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/source.h"
#include "file-media.h"
#include "file-world.h"
#include "imgutil.h"

/* ---- a loop, a hub, a subscriber ---- */

static void w_frame(void *ctx, pixd_frame *f) {
    watcher *s = ctx;
    uint32_t fw, fh;
    int ch;
    uint8_t *px;
    assert_true(f->len > 4 && f->data[0] == 0xff && f->data[1] == 0xd8);
    px = tu_unjpeg(f->data, f->len, &fw, &fh, &ch);
    assert_int_equal(fw, f->width);
    assert_int_equal(fh, f->height);
    if (s->n < MAX_SEEN) {
        s->seq[s->n] = f->seq;
        s->at_ns[s->n] = uv_hrtime();
        s->idx[s->n] = (px[(fh / 2 * fw + fw / 2) * 3] - 5 + 3) / 6;
        s->n++;
    }
    s->width = fw;
    s->height = fh;
    free(px);
    if (s->n == 3 && s->stall_ms_at3)
        usleep(s->stall_ms_at3 * 1000);
}
static int w_ready(void *ctx) { return 1; }
static void w_gone(void *ctx) { ((watcher *)ctx)->gone = 1; }
static const pixd_sub_ops watch_ops = {w_frame, w_ready, w_gone, NULL};

void subscribe(world *w, watcher *s, const char *name, unsigned fps) {
    memset(s, 0, sizeof *s);
    s->w = w;
    assert_int_equal(pixd_hub_subscribe(w->hub, name, fps, 0, 0, &watch_ops, s, &s->sub), 0);
}

static void tick(uv_timer_t *t) {
    world *w = t->data;
    if (w->until && w->until(w, w->until_arg))
        uv_stop(&w->loop);
}
static void stop_now(uv_timer_t *t) { uv_stop(t->loop); }

/* Run the loop for ms milliseconds. */
void run_for(world *w, unsigned ms) {
    uv_timer_start(&w->timer, stop_now, ms, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&w->timer);
}

/* Run the loop until pred is true (checked every 5 ms) or ms pass; the
 * milliseconds it took. */
unsigned run_until(world *w, int (*pred)(world *, void *), void *arg, unsigned ms) {
    uint64_t t0 = uv_hrtime();
    uv_timer_t limit;
    w->until = pred;
    w->until_arg = arg;
    if (!pred(w, arg)) {
        uv_timer_init(&w->loop, &limit);
        limit.data = w;
        uv_timer_start(&limit, stop_now, ms, 0);
        uv_timer_start(&w->timer, tick, 5, 5);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_timer_stop(&w->timer);
        uv_close((uv_handle_t *)&limit, NULL);
        uv_run(&w->loop, UV_RUN_NOWAIT);
    }
    w->until = NULL;
    return (unsigned)((uv_hrtime() - t0) / 1000000u);
}

int has_frames(world *w, void *arg) {
    watcher *s = arg;
    return s->n >= 1;
}

enum pixd_cam_state state_of(world *w, const char *name) {
    pixd_cam_info info[8];
    size_t n = pixd_hub_list(w->hub, info, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (!strcmp(info[i].name, name))
            return info[i].state;
    fail_msg("no camera %s", name);
    return PIXD_CAM_STARTING;
}

uint64_t frames_of(world *w, const char *name) {
    pixd_cam_info info[8];
    size_t n = pixd_hub_list(w->hub, info, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (!strcmp(info[i].name, name))
            return info[i].frames;
    return 0;
}

static const char *want_name;
static enum pixd_cam_state want_state;
static int in_state(world *w, void *arg) { return state_of(w, want_name) == want_state; }
unsigned wait_state(world *w, const char *name, enum pixd_cam_state st, unsigned ms) {
    want_name = name;
    want_state = st;
    return run_until(w, in_state, NULL, ms);
}

int open_camera(world *w, const char *arg, char *err, size_t errlen) {
    pixd_camera_spec spec;
    char line[512];
    snprintf(line, sizeof line, arg, dir);
    assert_int_equal(pixd_camera_spec_parse(line, &spec, err, errlen), 0);
    return pixd_source_file_open(w->hub, &spec, err, errlen);
}

void hub_closed(void *ctx) {
    world *w = ctx;
    w->closed = 1;
    w->closed_ns = uv_hrtime();
}

int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(uv_loop_init(&w->loop), 0);
    pixd_jobs_init(&w->jobs, &w->loop, 1, 4);
    w->hub = pixd_hub_new(&w->loop, &w->jobs);
    assert_non_null(w->hub);
    uv_timer_init(&w->loop, &w->timer);
    w->timer.data = w;
    *state = w;
    return 0;
}

int is_closed(world *w, void *arg) { return w->closed; }

int teardown(void **state) {
    world *w = *state;
    pixd_hub_close(w->hub, hub_closed, w);
    run_until(w, is_closed, NULL, 5000);
    assert_true(w->closed);
    pixd_hub_free(w->hub);
    uv_close((uv_handle_t *)&w->timer, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    free(w);
    return 0;
}
