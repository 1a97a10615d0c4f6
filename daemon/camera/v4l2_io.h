/* The V4L2 device layer behind source_v4l2.c.
 *
 * pixd_v4l2_io is the system calls (open, close, ioctl, mmap, munmap) as a
 * table of functions, so the capture logic runs against the kernel and,
 * unchanged, against a scripted fake device (tests/camera/test-v4l2.c).
 * Each returns 0 (open: the fd) or a negative errno; the real ones retry
 * EINTR. pixd__v4l2_dev is one open camera negotiated through that table:
 * format, size, rate and memory-mapped buffers. Loop thread only. */
#ifndef PIXD_V4L2_IO_H
#define PIXD_V4L2_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "source.h"

struct v4l2_buffer;

typedef struct pixd_v4l2_io {
    int (*open)(void *ctx, const char *path);   /* O_RDWR | O_NONBLOCK | O_CLOEXEC */
    int (*close)(void *ctx, int fd);
    int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
    /* Map len bytes of the device at off, shared, read-write. */
    int (*mmap)(void *ctx, int fd, size_t len, off_t off, void **out);
    int (*munmap)(void *ctx, void *addr, size_t len);
    void *ctx;
} pixd_v4l2_io;

/* The kernel's. */
extern const pixd_v4l2_io pixd_v4l2_io_real;

#define PIXD__V4L2_MAX_BUFFERS 32

typedef struct pixd__v4l2_dev {
    const pixd_v4l2_io *io;
    int fd;                 /* -1: closed */
    uint32_t fourcc;        /* V4L2_PIX_FMT_MJPEG, _JPEG or _YUYV */
    unsigned width, height; /* as the driver gave them */
    unsigned fps;           /* as the driver gave it; 0: its own */
    size_t stride;          /* bytes per row (YUYV) */
    struct {
        void *mem;
        size_t len;
        int queued;         /* owned by the driver */
    } bufs[PIXD__V4L2_MAX_BUFFERS];
    unsigned nbufs;
} pixd__v4l2_dev;

/* Open spec->source, check it captures and streams, choose the format
 * (MJPEG when offered unless spec->format is "yuyv", else YUYV), ask for
 * spec's size and rate (defaults 640x480 at 30 fps) and take what the
 * driver gives, and map its buffers (asks 4, works with 2 or more).
 * 0, or a negative errno with the reason in err and nothing left open:
 * -EINVAL for a device pixd cannot use (names the formats it offers),
 * -EAGAIN for an output-only loopback node that may gain a producer. */
int pixd__v4l2_dev_open(pixd__v4l2_dev *d, const pixd_v4l2_io *io,
                        const pixd_camera_spec *spec, char *err, size_t errlen);
/* Unmap and close; accepts a closed device. Stops streaming with it. */
void pixd__v4l2_dev_close(pixd__v4l2_dev *d);
/* Queue every buffer not held elsewhere (skip: -1 or an index), then
 * STREAMON. 0 or a negative errno; *what names the call that failed. */
int pixd__v4l2_stream_on(pixd__v4l2_dev *d, int skip, const char **what);
/* STREAMOFF: every buffer comes back to us. */
void pixd__v4l2_stream_off(pixd__v4l2_dev *d);
int pixd__v4l2_qbuf(pixd__v4l2_dev *d, unsigned index);
/* 0 and *b filled, -EAGAIN when none is ready, or another negative errno
 * (-ENODEV: unplugged). */
int pixd__v4l2_dqbuf(pixd__v4l2_dev *d, struct v4l2_buffer *b);
/* 1 if the driver has written a newer frame into buffer b (dequeued,
 * then copied by us) meanwhile: v4l2loopback lets its producer do that. */
int pixd__v4l2_overwritten(pixd__v4l2_dev *d, const struct v4l2_buffer *b);
/* The buffer's capture time, microseconds since the Unix epoch. */
uint64_t pixd__v4l2_buffer_time(const struct v4l2_buffer *b);
int pixd__v4l2_is_mjpeg(uint32_t fourcc);
/* "MJPG", "YUYV"...: printable, in out. */
const char *pixd__v4l2_fourcc(uint32_t fourcc, char out[5]);

/* pixd_v4l2_find_devices() over dir's video* entries, through io. */
size_t pixd__v4l2_find_devices_in(const pixd_v4l2_io *io, const char *dir,
                                  char paths[][32], size_t max);

/* What pixd_source_v4l2_open() fixes and a test may change. */
typedef struct pixd__v4l2_opts {
    const pixd_v4l2_io *io;
    unsigned retry_min_ms, retry_max_ms; /* reopen back-off: 1000 doubling to 30000 */
    unsigned stall_ms;                   /* streaming, no frame for this long: reopen */
} pixd__v4l2_opts;

extern const pixd__v4l2_opts pixd__v4l2_default_opts;

int pixd__source_v4l2_open_with(pixd_hub *hub, const pixd_camera_spec *spec,
                                const pixd__v4l2_opts *opts, char *err, size_t errlen);

#endif
