/* The frame hub: cameras by name, and their subscribers.
 *
 * A source publishes frames into its camera; the hub hands each frame to
 * every subscriber that can take it now and is under its frame-rate cap.
 * A subscriber that cannot keep up keeps only the newest frame it missed
 * (one reference), so a slow client never delays others and never makes
 * pixd buffer more than one frame for it. Subscribers asking for a smaller
 * size share one resize per distinct width. Loop thread only. */
#ifndef PIXD_HUB_H
#define PIXD_HUB_H

#include <stdint.h>
#include <uv.h>

#include "frame.h"

typedef struct pixd_hub pixd_hub;
typedef struct pixd_camera pixd_camera;
typedef struct pixd_sub pixd_sub;
struct pixd_jobs;

enum pixd_cam_state { PIXD_CAM_STARTING, PIXD_CAM_ONLINE, PIXD_CAM_OFFLINE };

/* What a source tells the hub about itself, and what the hub calls. */
typedef struct pixd_source_ops {
    /* Someone wants frames (a subscriber arrived or a snapshot is asked):
     * start producing. Called again whenever demand appears. May be NULL. */
    void (*wake)(pixd_camera *cam, void *src);
    /* The camera is being removed: stop, release everything, and call
     * pixd_camera_closed() when done (possibly later, from a callback). */
    void (*close)(pixd_camera *cam, void *src);
} pixd_source_ops;

typedef struct pixd_cam_info {
    char name[64];
    char source[128];
    enum pixd_cam_state state;
    uint32_t width, height;
    uint32_t fps_milli;       /* measured over the last few seconds */
    unsigned subscribers;
    uint64_t frames, delivered, dropped;
    uint64_t broken;          /* frames the source found bad and skipped */
    /* Set by sources that negotiate (V4L2): what was asked; 0 when unknown.
     * format: the camera's pixel format ("MJPG", "YUYV"), "" when unknown. */
    uint32_t asked_width, asked_height, asked_fps;
    uint32_t got_fps_milli;   /* the rate the driver promised, 0: its own */
    char format[8];
} pixd_cam_info;

pixd_hub *pixd_hub_new(uv_loop_t *loop, struct pixd_jobs *jobs);
/* Close every camera; done() runs when all have released their sources. */
void pixd_hub_close(pixd_hub *hub, void (*done)(void *ctx), void *ctx);
void pixd_hub_free(pixd_hub *hub);

/* Add a camera; -EEXIST if the name is taken. The source's state is src. */
int pixd_hub_add(pixd_hub *hub, const char *name, const char *source,
                 const pixd_source_ops *ops, void *src, pixd_camera **out);
/* Remove a camera: subscribers are told it is gone, the source closed. */
void pixd_hub_remove(pixd_hub *hub, pixd_camera *cam);
pixd_camera *pixd_hub_find(pixd_hub *hub, const char *name);
/* The name of the camera added first (the first --camera), or NULL. */
const char *pixd_hub_first(pixd_hub *hub);
/* Fill up to max infos (newest camera first); returns how many there are. */
size_t pixd_hub_list(pixd_hub *hub, pixd_cam_info *out, size_t max);

/* ---- for sources ---- */
/* Publish a frame (the hub takes the caller's reference). Sets seq. */
void pixd_camera_publish(pixd_camera *cam, pixd_frame *f);
void pixd_camera_set_state(pixd_camera *cam, enum pixd_cam_state st, const char *why);
/* 1 while anyone wants frames: sources skip capture/encoding otherwise. */
int pixd_camera_wanted(const pixd_camera *cam);
void pixd_camera_closed(pixd_camera *cam);
const char *pixd_camera_name(const pixd_camera *cam);
uv_loop_t *pixd_camera_loop(const pixd_camera *cam);
pixd_hub *pixd_camera_hub(const pixd_camera *cam);
/* Keep the source capturing us microseconds after the last subscriber left
 * (--camera ...,linger=SEC), so back-to-back snapshots find a fresh frame. */
void pixd_camera_set_linger(pixd_camera *cam, uint64_t us);
/* Keep capturing with nobody watching (--camera ...,always-on=1): a
 * dashboard's first frame is instant, at the cost of a busy USB bus. */
void pixd_camera_set_always_on(pixd_camera *cam, int on);
struct pixd_jobs *pixd_camera_jobs(const pixd_camera *cam);
/* Counts a source reports: frames it found broken (bad buffer, truncated
 * JPEG) and frames it had to drop (encoder behind, out of memory); dropped
 * adds to the same count as frames slow subscribers skipped. */
void pixd_camera_count_broken(pixd_camera *cam, unsigned n);
void pixd_camera_count_dropped(pixd_camera *cam, unsigned n);
/* What the source asked of its device and what the driver gave (w, h and
 * fps_milli, 0 if it sets its own rate), and its pixel format ("MJPG"). */
void pixd_camera_set_format(pixd_camera *cam, unsigned asked_w, unsigned asked_h,
                            unsigned asked_fps, unsigned w, unsigned h, unsigned fps_milli,
                            const char *format);

/* ---- for subscribers ---- */
typedef struct pixd_sub_ops {
    /* A frame for this subscriber: take a reference to keep it past the
     * call (e.g. until the socket write completes). */
    void (*frame)(void *ctx, pixd_frame *f);
    /* 1 if the subscriber can take a frame now (its socket is not backed
     * up). When it was not, call pixd_sub_ready() once it is again. */
    int (*ready)(void *ctx);
    /* The camera went away; the subscription is over (do not unsubscribe). */
    void (*gone)(void *ctx);
    /* The camera went offline (why says how) or came back online; frames
     * pause meanwhile, the subscription stays. May be NULL. */
    void (*state)(void *ctx, const char *state, const char *why);
} pixd_sub_ops;

/* max_fps 0: the camera's rate; width 0: full size (else a smaller copy,
 * aspect kept, never larger than the camera's). count 0: forever, else
 * the subscription ends by itself after count frames (gone() is called). */
int pixd_hub_subscribe(pixd_hub *hub, const char *name, unsigned max_fps, unsigned width,
                       unsigned count, const pixd_sub_ops *ops, void *ctx, pixd_sub **out);
void pixd_sub_unsubscribe(pixd_sub *s);
/* The subscriber can take frames again: it gets the newest it missed. */
void pixd_sub_ready(pixd_sub *s);

#endif
