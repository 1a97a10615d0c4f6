/* A loop, a hub and a subscriber for the file: and URL camera tests: the
 * watcher decodes each frame and notes its sequence number, arrival time
 * and which frame of the file it is (by its gray level). */
#ifndef PIXD_TEST_FILE_WORLD_H
#define PIXD_TEST_FILE_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "camera/hub.h"

#define MAX_SEEN 512

typedef struct world {
    uv_loop_t loop;
    pixd_jobs jobs;
    pixd_hub *hub;
    uv_timer_t timer;
    int (*until)(struct world *w, void *arg);
    void *until_arg;
    int closed;
    uint64_t closed_ns;
} world;

typedef struct watcher {
    pixd_sub *sub;
    world *w;
    size_t n;
    uint64_t seq[MAX_SEEN], at_ns[MAX_SEEN];
    int idx[MAX_SEEN];
    uint32_t width, height;
    int gone;
    unsigned stall_ms_at3; /* block the loop this long on the third frame */
} watcher;

void subscribe(world *w, watcher *s, const char *name, unsigned fps);
/* Run the loop for ms milliseconds. */
void run_for(world *w, unsigned ms);
/* Run the loop until pred is true (checked every 5 ms) or ms pass; the
 * milliseconds it took. */
unsigned run_until(world *w, int (*pred)(world *, void *), void *arg, unsigned ms);
/* Predicate: the watcher arg has a frame. */
int has_frames(world *w, void *arg);
enum pixd_cam_state state_of(world *w, const char *name);
uint64_t frames_of(world *w, const char *name);
/* Run until the camera is in state st, ms at most; the milliseconds it took. */
unsigned wait_state(world *w, const char *name, enum pixd_cam_state st, unsigned ms);
/* Open the camera of a spec line; arg is a format with dir for its %s. */
int open_camera(world *w, const char *arg, char *err, size_t errlen);
void hub_closed(void *ctx);
int is_closed(world *w, void *arg);
/* Per-test setup and teardown: a world in *state; closed and freed. */
int setup(void **state);
int teardown(void **state);

#endif
