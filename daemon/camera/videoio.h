/* The interface between file/URL cameras (source_file.c) and their module,
 * pixd-videoio.so: OpenCV videoio (FFmpeg), which maps ~244 libraries and
 * ~63 MB, so it is kept out of the always-loaded daemon (ARCHITECTURE.md,
 * "Memory budget") and loaded with dlopen when such a camera is configured.
 *
 * The module exports one symbol, PIXD_VIDEOIO_SYMBOL, a table of functions
 * whose first field is the ABI version; the loader refuses any other. A
 * pixd_video is used by one thread at a time (its camera's capture thread);
 * different videos may be used from different threads at once. */
#ifndef PIXD_CAMERA_VIDEOIO_H
#define PIXD_CAMERA_VIDEOIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIXD_VIDEOIO_ABI 1
#define PIXD_VIDEOIO_SYMBOL "pixd_videoio_v1"
#define PIXD_VIDEOIO_FILE "pixd-videoio.so"

typedef struct pixd_video pixd_video;

/* What next() made: JPEG bytes owned by the video, valid until the next
 * call on it. */
typedef struct pixd_video_frame {
    const uint8_t *jpeg;
    size_t len;
    uint32_t width, height;
} pixd_video_frame;

typedef struct pixd_videoio {
    int abi; /* PIXD_VIDEOIO_ABI */
    /* Open url (the caller's, only read until return) with FFmpeg: a file
     * or an image-sequence pattern (img_%04d.jpg) when is_file, else a
     * stream URL (rtsp://, http://...), and decode its first frame to know
     * it works. *fps is the rate the source declares, 0 when it does not.
     * Returns 0, or -ENOENT / -EIO / -ENOMEM with the reason in err. */
    int (*open)(const char *url, int is_file, pixd_video **out, double *fps, char *err,
                size_t errlen);
    /* The next frame, scaled to width x height (0 x 0: as it is; one of
     * them 0: that side follows the aspect ratio) with INTER_AREA and
     * JPEG-encoded at quality 1..100 into *out. A file starts over after
     * its last frame. With skip set, the frame is read and dropped (a
     * stream read faster than wanted): *out is left alone. Returns 0, or
     * -EPIPE (a stream ended or failed) / -EIO / -ENOMEM with err; the
     * caller then closes the video and opens it again later. */
    int (*next)(pixd_video *v, int skip, unsigned width, unsigned height, int quality,
                pixd_video_frame *out, char *err, size_t errlen);
    void (*close)(pixd_video *v); /* accepts NULL */
} pixd_videoio;

#ifdef __cplusplus
}
#endif

#endif
