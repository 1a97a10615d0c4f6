/* pixctl-video.so: what pixctl needs from OpenCV, behind a C table.
 *
 * `pixctl push` reads cameras, video files and URLs with OpenCV videoio and
 * `pixctl view` shows windows with highgui. Linking those into pixctl would
 * map ~260 libraries (FFmpeg, GStreamer, Qt) before main() of every
 * command, `pixctl ping` included: ~0.15 s here, more on a small board. So
 * they live in this module, which pixctl loads with dlopen only for push
 * and view (video_load.cpp), as pixd does with its own modules.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure, with a message in err (errlen bytes, NUL-terminated) that says
 * what went wrong in words a user can act on. No C++ exception crosses this
 * boundary. Not thread-safe: one thread uses the module. */
#ifndef PIXCTL_VIDEO_H
#define PIXCTL_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIXCTL_VIDEO_ABI 1
#define PIXCTL_VIDEO_FILE "pixctl-video.so"
#define PIXCTL_VIDEO_SYMBOL "pixctl_video_module"

typedef struct pixctl_capture pixctl_capture;

typedef struct pixctl_capture_info {
    unsigned width, height; /* of the frames encode() makes */
    double fps;             /* the source's own rate, 0 if it does not say */
    int live;               /* 1: a camera or stream, read() waits for its
                               next frame; 0: a file or the test pattern,
                               read() returns at once (the caller paces) */
} pixctl_capture_info;

typedef struct pixctl_video {
    unsigned abi; /* PIXCTL_VIDEO_ABI */

    /* Opens source: "test" (a moving pattern labelled with label), a
     * "/dev/videoN" device, "file:PATH" (a video or image sequence, looped)
     * or any URL OpenCV can read. width and height (0: the source's own)
     * are asked of a camera and the frames are scaled to them if the source
     * gives another size; fps (0: the source's own) is asked of a camera.
     * The capture is the caller's until capture_close(). */
    int (*capture_open)(const char *source, const char *label, unsigned width, unsigned height,
                        unsigned fps, pixctl_capture **out, pixctl_capture_info *info,
                        char *err, size_t errlen);
    /* Takes the next frame from the source, without encoding it (so that a
     * live source can be drained of frames that will not be sent). 1 with a
     * frame, 0 at the end of a source that does not loop, or -errno. */
    int (*capture_read)(pixctl_capture *c, char *err, size_t errlen);
    /* JPEG-encodes the frame read last. *jpeg (len bytes) is owned by the
     * capture and valid until the next call on it. */
    int (*capture_encode)(pixctl_capture *c, int quality, const uint8_t **jpeg, size_t *len,
                          char *err, size_t errlen);
    /* Accepts NULL. */
    void (*capture_close)(pixctl_capture *c);

    /* 0 when windows can be opened here; otherwise a message saying why
     * not. Safe to call without a display: the check runs in a child
     * process, because Qt aborts the process that fails to open one. */
    int (*display_check)(char *err, size_t errlen);
    /* Opens a window titled title at x, y on the screen (a later call with
     * the same title reuses it). */
    int (*window_open)(const char *title, int x, int y, char *err, size_t errlen);
    /* Decodes jpeg and shows it in the window titled title. */
    int (*window_show)(const char *title, const uint8_t *jpeg, size_t len, char *err,
                       size_t errlen);
    /* Handles window events for up to wait_ms (at least 1) and returns the
     * key pressed in any window (its code, e.g. 'q' or 27 for Esc), or -1. */
    int (*window_key)(int wait_ms);
    /* 1 while the window titled title is open, 0 once the user closed it. */
    int (*window_visible)(const char *title);
    void (*window_close_all)(void);
} pixctl_video;

#ifdef __cplusplus
}
#endif
#endif
