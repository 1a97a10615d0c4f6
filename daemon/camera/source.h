/* Camera sources: how each kind of --camera becomes frames in the hub.
 *
 * Every kind has one open function with the same shape. It adds a camera
 * to the hub (pixd_hub_add) with its own pixd_source_ops, and from then on
 * publishes frames (pixd_camera_publish) only while pixd_camera_wanted()
 * says someone watches. A source that loses its device marks the camera
 * PIXD_CAM_OFFLINE and retries with back-off; it never takes pixd down. */
#ifndef PIXD_SOURCE_H
#define PIXD_SOURCE_H

#include <stddef.h>

#include "hub.h"

typedef struct pixd_camera_spec {
    char name[64];
    char source[256];   /* "test", "/dev/video0", "file:PATH", or an OpenCV URL */
    unsigned width, height, fps; /* 0: the source's default */
    char format[8];     /* V4L2: "mjpeg", "yuyv" or "" (prefer MJPEG) */
    int quality;        /* JPEG quality for sources that encode; 0: --jpeg-quality */
    unsigned save_every; /* seconds between snapshots stored, 0: never */
    unsigned linger_ms;  /* capture on this long after the last watcher left */
    unsigned timeout_ms; /* streaming, no frame for this long: reopen; 0: 2 s */
    int always_on;       /* capture even with nobody watching */
} pixd_camera_spec;

/* Parse "NAME=SOURCE[,opt=val...]" (options: width, height, fps, format,
 * quality, save-every, linger, timeout, always-on). Returns 0 or -EINVAL with the reason in err. */
int pixd_camera_spec_parse(const char *arg, pixd_camera_spec *spec, char *err, size_t errlen);

/* Open the source spec names; 0 or a negative errno with a reason. */
int pixd_source_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err, size_t errlen);

/* The kinds (source_test.c, source_v4l2.c, source_file.c). */
int pixd_source_test_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err, size_t errlen);
int pixd_source_v4l2_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err, size_t errlen);
int pixd_source_file_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err, size_t errlen);

/* /dev/video* nodes that can capture, for the default cameras: fills up to
 * max paths (each at most 32 bytes), returns how many. */
size_t pixd_v4l2_find_devices(char paths[][32], size_t max);

#endif
