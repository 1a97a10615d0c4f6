/* The scripted fake V4L2 device the camera tests drive the source with,
 * and a rig around it: a loop, a hub and a subscriber. Every loop test ends
 * with all handles closed and uv_loop_close() == 0 (rig_close checks). */
#ifndef PIXD_TEST_V4L2_FAKE_H
#define PIXD_TEST_V4L2_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "camera/hub.h"
#include "camera/source.h"
#include "camera/v4l2_io.h"

/* ---- the fake device ---- */

#define FAKE_BUFS 8
#define FAKE_BUFLEN 65536

/* EV_REUSED: the driver writes another frame into the buffer after it was
 * dequeued, as v4l2loopback does to a slow reader. */
enum { EV_FRAME, EV_BADFLAG, EV_REUSED, EV_ERROR };

typedef struct fevent {
    int kind;
    int err;                /* EV_ERROR: what DQBUF says */
    const uint8_t *data;    /* EV_FRAME: the bytes the "camera" sends */
    size_t len;
} fevent;

typedef struct fake {
    /* the script */
    int present;            /* 0: unplugged, open() says ENOENT */
    uint32_t formats[8];
    unsigned nformats;
    unsigned max_w, max_h;  /* S_FMT clamps to these (0: no limit) */
    unsigned max_fps;       /* 0: the driver cannot set the rate */
    unsigned give_bufs;     /* REQBUFS answers this count */
    unsigned streamon_fails; /* STREAMON says EIO this many times */
    int stamp_age_us;       /* > 0: stamp buffers, monotonic, this long ago */
    int deaf;               /* poll never says readable (v4l2loopback, at times) */
    int node;               /* 0 capture, 1 output only (a loopback before its
                               producer writes), 2 metadata only */
    /* the device's state */
    int fd, gone, signalled, streaming;
    uint32_t fourcc;
    unsigned w, h, fps;
    unsigned nbufs, asked_bufs;
    struct {
        uint8_t *mem;
        int queued;
        uint32_t sequence;  /* of the last frame written into it */
    } bufs[FAKE_BUFS];
    uint32_t sequence;
    fevent q[64];
    unsigned qh, qt;
    /* counters */
    unsigned opens, closes, streamons, streamoffs, maps, unmaps;
} fake;

void fake_push(fake *f, int kind, int err, const uint8_t *data, size_t len);
/* Buffers queued with the driver right now. */
unsigned fake_queued(const fake *f);

/* ---- a loop, a hub and a subscriber ---- */

typedef struct rig {
    uv_loop_t loop;
    pixd_jobs jobs;
    pixd_hub *hub;
    fake dev;
    pixd_v4l2_io io;
    pixd__v4l2_opts opts;
    pixd_camera_spec spec;
    pixd_sub *sub;
    unsigned frames;
    int gone;
    char states[64]; /* what the subscriber was told: "offline,online," */
    pixd_frame *last;
    char err[256];
} rig;

void rig_init(rig *r, uint32_t fmt0, uint32_t fmt1);
int rig_open(rig *r);
void rig_subscribe(rig *r, unsigned count);
/* Run the loop until pred holds, ms at most; whether it holds. */
int run_until(rig *r, int (*pred)(rig *), unsigned ms);
void run_for(rig *r, unsigned ms);
enum pixd_cam_state cam_state(rig *r);
/* Predicates for run_until; got_frames waits for want_frames frames. */
extern unsigned want_frames;
int got_frames(rig *r);
int is_offline(rig *r);
int is_streaming(rig *r);
int stopped(rig *r);
void rig_close(rig *r);

/* ---- frames to send ---- */

/* A w x h JPEG as a camera would send it (tjFree it). */
uint8_t *make_jpeg(unsigned w, unsigned h, unsigned seed, size_t *len);
void jpeg_size(const pixd_frame *f, int *w, int *h);

#endif
