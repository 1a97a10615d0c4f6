/* The V4L2 device layer: the kernel's calls, and negotiating a camera
 * through whichever pixd_v4l2_io is given. */
#include "v4l2_io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "../log.h"
#include "frame.h"

#define WANT_BUFFERS 4

/* ---- the kernel's calls ---- */

static int real_open(void *ctx, const char *path) {
    int fd;
    do
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

static int real_close(void *ctx, int fd) {
    /* Linux releases the descriptor even when close() says EINTR. */
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static int real_ioctl(void *ctx, int fd, unsigned long req, void *arg) {
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static int real_mmap(void *ctx, int fd, size_t len, off_t off, void **out) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
    if (p == MAP_FAILED)
        return -errno;
    *out = p;
    return 0;
}

static int real_munmap(void *ctx, void *addr, size_t len) {
    return munmap(addr, len) < 0 ? -errno : 0;
}

const pixd_v4l2_io pixd_v4l2_io_real = {
    .open = real_open,
    .close = real_close,
    .ioctl = real_ioctl,
    .mmap = real_mmap,
    .munmap = real_munmap,
};

/* ---- helpers ---- */

const char *pixd__v4l2_fourcc(uint32_t f, char out[5]) {
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        out[i] = isprint((unsigned char)c) ? c : '?';
    }
    out[4] = '\0';
    return out;
}

int pixd__v4l2_is_mjpeg(uint32_t f) {
    return f == V4L2_PIX_FMT_MJPEG || f == V4L2_PIX_FMT_JPEG;
}

static int xioctl(pixd__v4l2_dev *d, unsigned long req, void *arg) {
    return d->io->ioctl(d->io->ctx, d->fd, req, arg);
}

static int querycap(const pixd_v4l2_io *io, int fd, char *err, size_t errlen) {
    struct v4l2_capability cap;
    uint32_t caps;
    int r;
    memset(&cap, 0, sizeof cap);
    if ((r = io->ioctl(io->ctx, fd, VIDIOC_QUERYCAP, &cap)) < 0) {
        snprintf(err, errlen, "%s", r == -ENOTTY ? "not a V4L2 device" : strerror(-r));
        return r == -ENOTTY ? -EINVAL : r;
    }
    /* A node of a multi-node device says what it does in device_caps;
     * capabilities is the whole device's. */
    caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
        /* A loopback device (v4l2loopback exclusive_caps) offers capture
         * only once its producer writes: worth waiting for. */
        if (caps & V4L2_CAP_VIDEO_OUTPUT) {
            snprintf(err, errlen, "an output device (a loopback without its producer yet?)");
            return -EAGAIN;
        }
        snprintf(err, errlen, "not a video capture device");
        return -EINVAL;
    }
    if (!(caps & V4L2_CAP_STREAMING)) {
        snprintf(err, errlen, "the driver cannot stream (no V4L2_CAP_STREAMING)");
        return -EINVAL;
    }
    return 0;
}

/* ---- negotiation ---- */

static int choose_format(pixd__v4l2_dev *d, const pixd_camera_spec *spec, uint32_t *out,
                         char *err, size_t errlen) {
    uint32_t mjpeg = 0;
    int yuyv = 0, want_yuyv = !strcmp(spec->format, "yuyv");
    char offered[160] = "", cc[5];
    size_t n = 0;

    for (unsigned i = 0; i < 64; i++) {
        struct v4l2_fmtdesc f;
        memset(&f, 0, sizeof f);
        f.index = i;
        f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(d, VIDIOC_ENUM_FMT, &f) < 0)
            break;
        if (pixd__v4l2_is_mjpeg(f.pixelformat) && !mjpeg)
            mjpeg = f.pixelformat;
        yuyv |= f.pixelformat == V4L2_PIX_FMT_YUYV;
        if (n + 7 < sizeof offered)
            n += (size_t)snprintf(offered + n, sizeof offered - n, "%s%s", n ? ", " : "",
                                  pixd__v4l2_fourcc(f.pixelformat, cc));
    }
    if (mjpeg && !want_yuyv) {
        *out = mjpeg;
        return 0;
    }
    if (yuyv) {
        if (!strcmp(spec->format, "mjpeg"))
            pixd_notice("camera %s: %s offers no MJPEG; capturing YUYV", spec->name,
                        spec->source);
        *out = V4L2_PIX_FMT_YUYV;
        return 0;
    }
    snprintf(err, errlen, "no %s format (the camera offers: %s)",
             want_yuyv ? "YUYV" : "MJPEG or YUYV", n ? offered : "nothing");
    return -EINVAL;
}

static int set_format(pixd__v4l2_dev *d, const pixd_camera_spec *spec, uint32_t want,
                      char *err, size_t errlen) {
    struct v4l2_format f;
    unsigned aw = spec->width ? spec->width : 640, ah = spec->height ? spec->height : 480;
    char cc[5];
    int r;

    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = aw;
    f.fmt.pix.height = ah;
    f.fmt.pix.pixelformat = want;
    f.fmt.pix.field = V4L2_FIELD_ANY;
    if ((r = xioctl(d, VIDIOC_S_FMT, &f)) < 0) {
        if (r == -EBUSY) {
            snprintf(err, errlen, "busy (another program is capturing from it)");
            return r;
        }
        /* Some drivers (v4l2loopback) keep the format their producer set:
         * use that if pixd can read it. */
        pixd_info("camera %s: VIDIOC_S_FMT: %s; using the current format", spec->name,
                  strerror(-r));
    }
    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if ((r = xioctl(d, VIDIOC_G_FMT, &f)) < 0) {
        snprintf(err, errlen, "VIDIOC_G_FMT: %s", strerror(-r));
        return r;
    }
    d->fourcc = f.fmt.pix.pixelformat;
    d->width = f.fmt.pix.width;
    d->height = f.fmt.pix.height;
    d->stride = f.fmt.pix.bytesperline;
    if (!pixd__v4l2_is_mjpeg(d->fourcc) && d->fourcc != V4L2_PIX_FMT_YUYV) {
        snprintf(err, errlen, "the driver chose format %s, which pixd cannot read",
                 pixd__v4l2_fourcc(d->fourcc, cc));
        return -EINVAL;
    }
    if (!d->width || !d->height || d->width > 16384 || d->height > 16384) {
        snprintf(err, errlen, "the driver gave a %ux%u picture", d->width, d->height);
        return -EINVAL;
    }
    if (d->fourcc == V4L2_PIX_FMT_YUYV) {
        if (d->width & 1) {
            snprintf(err, errlen, "YUYV with an odd width (%u)", d->width);
            return -EINVAL;
        }
        if (d->stride < (size_t)d->width * 2)
            d->stride = (size_t)d->width * 2;
    }
    if (d->width != aw || d->height != ah)
        pixd_notice("camera %s: asked %ux%u, the driver gives %ux%u", spec->name, aw, ah,
                    d->width, d->height);
    return 0;
}

/* Ask for the frame rate; the driver may round it or not let it be set. */
static void set_rate(pixd__v4l2_dev *d, const pixd_camera_spec *spec) {
    struct v4l2_streamparm p;
    struct v4l2_fract *t = &p.parm.capture.timeperframe;
    unsigned want = spec->fps ? spec->fps : 30;

    d->fps = 0;
    memset(&p, 0, sizeof p);
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(d, VIDIOC_G_PARM, &p) < 0 ||
        !(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
        pixd_info("camera %s: the driver sets its own frame rate", spec->name);
        return;
    }
    t->numerator = 1;
    t->denominator = want;
    if (xioctl(d, VIDIOC_S_PARM, &p) < 0) {
        pixd_info("camera %s: the driver refused %u fps", spec->name, want);
        return;
    }
    if (t->numerator && t->denominator)
        d->fps = (t->denominator + t->numerator / 2) / t->numerator;
    if (d->fps != want)
        pixd_notice("camera %s: asked %u fps, the driver gives %u/%u", spec->name, want,
                    t->denominator, t->numerator);
}

static int map_buffers(pixd__v4l2_dev *d, char *err, size_t errlen) {
    struct v4l2_requestbuffers rb;
    int r;

    memset(&rb, 0, sizeof rb);
    rb.count = WANT_BUFFERS;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    if ((r = xioctl(d, VIDIOC_REQBUFS, &rb)) < 0) {
        snprintf(err, errlen, "VIDIOC_REQBUFS: %s", strerror(-r));
        return r;
    }
    if (rb.count < 2) {
        snprintf(err, errlen, "the driver gave %u buffer(s); streaming needs 2", rb.count);
        return -ENOMEM;
    }
    /* Buffers past our table stay with us, never queued: harmless. */
    d->nbufs = rb.count < PIXD__V4L2_MAX_BUFFERS ? rb.count : PIXD__V4L2_MAX_BUFFERS;
    for (unsigned i = 0; i < d->nbufs; i++) {
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.index = i;
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        if ((r = xioctl(d, VIDIOC_QUERYBUF, &b)) < 0 ||
            (r = d->io->mmap(d->io->ctx, d->fd, b.length, (off_t)b.m.offset,
                             &d->bufs[i].mem)) < 0) {
            snprintf(err, errlen, "buffer %u: %s", i, strerror(-r));
            return r;
        }
        d->bufs[i].len = b.length;
    }
    return 0;
}

int pixd__v4l2_dev_open(pixd__v4l2_dev *d, const pixd_v4l2_io *io,
                        const pixd_camera_spec *spec, char *err, size_t errlen) {
    uint32_t fourcc;
    char cc[5];
    int r;

    memset(d, 0, sizeof *d);
    d->io = io;
    d->fd = -1;
    if ((r = io->open(io->ctx, spec->source)) < 0) {
        snprintf(err, errlen, "%s", strerror(-r));
        return r;
    }
    d->fd = r;
    if ((r = querycap(io, d->fd, err, errlen)) < 0 ||
        (r = choose_format(d, spec, &fourcc, err, errlen)) < 0 ||
        (r = set_format(d, spec, fourcc, err, errlen)) < 0) {
        pixd__v4l2_dev_close(d);
        return r;
    }
    set_rate(d, spec);
    if ((r = map_buffers(d, err, errlen)) < 0) {
        pixd__v4l2_dev_close(d);
        return r;
    }
    pixd_info("camera %s: %s %s %ux%u, %u fps, %u buffers", spec->name, spec->source,
              pixd__v4l2_fourcc(d->fourcc, cc), d->width, d->height, d->fps, d->nbufs);
    return 0;
}

void pixd__v4l2_dev_close(pixd__v4l2_dev *d) {
    if (d->fd < 0)
        return;
    for (unsigned i = 0; i < d->nbufs; i++)
        if (d->bufs[i].mem)
            d->io->munmap(d->io->ctx, d->bufs[i].mem, d->bufs[i].len);
    /* Closing the last handle of a device stops its streaming and frees
     * its buffers in the driver. */
    d->io->close(d->io->ctx, d->fd);
    d->fd = -1;
    d->nbufs = 0;
    memset(d->bufs, 0, sizeof d->bufs);
}

/* ---- streaming ---- */

int pixd__v4l2_qbuf(pixd__v4l2_dev *d, unsigned index) {
    struct v4l2_buffer b;
    int r;
    memset(&b, 0, sizeof b);
    b.index = index;
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    if ((r = xioctl(d, VIDIOC_QBUF, &b)) == 0)
        d->bufs[index].queued = 1;
    return r;
}

int pixd__v4l2_dqbuf(pixd__v4l2_dev *d, struct v4l2_buffer *b) {
    int r;
    memset(b, 0, sizeof *b);
    b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b->memory = V4L2_MEMORY_MMAP;
    if ((r = xioctl(d, VIDIOC_DQBUF, b)) < 0)
        return r;
    if (b->index >= d->nbufs)
        return -EINVAL;
    d->bufs[b->index].queued = 0;
    return 0;
}

int pixd__v4l2_stream_on(pixd__v4l2_dev *d, int skip, const char **what) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, r;
    *what = "VIDIOC_QBUF";
    for (unsigned i = 0; i < d->nbufs; i++)
        if (!d->bufs[i].queued && (int)i != skip && (r = pixd__v4l2_qbuf(d, i)) < 0)
            return r;
    *what = "VIDIOC_STREAMON";
    return xioctl(d, VIDIOC_STREAMON, &type);
}

void pixd__v4l2_stream_off(pixd__v4l2_dev *d) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (d->fd < 0)
        return;
    xioctl(d, VIDIOC_STREAMOFF, &type);
    for (unsigned i = 0; i < d->nbufs; i++)
        d->bufs[i].queued = 0;
}

int pixd__v4l2_overwritten(pixd__v4l2_dev *d, const struct v4l2_buffer *b) {
    struct v4l2_buffer now;
    memset(&now, 0, sizeof now);
    now.index = b->index;
    now.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    now.memory = V4L2_MEMORY_MMAP;
    /* Only a newer sequence counts: drivers that leave it 0 never lose
     * a frame to this check. */
    return xioctl(d, VIDIOC_QUERYBUF, &now) == 0 && now.sequence > b->sequence;
}

/* ---- what buffers hold ---- */

uint64_t pixd__v4l2_buffer_time(const struct v4l2_buffer *b) {
    struct timespec ts;
    uint64_t now_mono, stamp;
    /* Drivers stamp buffers with the monotonic clock when the frame was
     * taken, before any queueing delay; move that to the wall clock. */
    if ((b->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ||
        (!b->timestamp.tv_sec && !b->timestamp.tv_usec))
        return pixd_now_us();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_mono = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    stamp = (uint64_t)b->timestamp.tv_sec * 1000000u + (uint64_t)b->timestamp.tv_usec;
    if (stamp > now_mono || now_mono - stamp > 10000000u)
        return pixd_now_us();
    return pixd_now_us() - (now_mono - stamp);
}

/* ---- finding cameras ---- */

/* "videoN" -> N, or -1. */
static long video_number(const char *name) {
    char *end;
    long n;
    if (strncmp(name, "video", 5) || !isdigit((unsigned char)name[5]))
        return -1;
    n = strtol(name + 5, &end, 10);
    return *end || n > 99999 ? -1 : n;
}

/* A capture node offering a format pixd reads (metadata nodes of UVC
 * cameras, and output-only nodes, are left out). */
static int usable(const pixd_v4l2_io *io, const char *path) {
    char err[96];
    int fd = io->open(io->ctx, path), ok = 0;
    if (fd < 0)
        return 0;
    if (querycap(io, fd, err, sizeof err) == 0) {
        for (unsigned i = 0; i < 64 && !ok; i++) {
            struct v4l2_fmtdesc f;
            memset(&f, 0, sizeof f);
            f.index = i;
            f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            if (io->ioctl(io->ctx, fd, VIDIOC_ENUM_FMT, &f) < 0)
                break;
            ok = pixd__v4l2_is_mjpeg(f.pixelformat) || f.pixelformat == V4L2_PIX_FMT_YUYV;
        }
    }
    io->close(io->ctx, fd);
    return ok;
}

static int by_number(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

size_t pixd__v4l2_find_devices_in(const pixd_v4l2_io *io, const char *dir,
                                  char paths[][32], size_t max) {
    long nums[256];
    size_t n = 0, found = 0;
    struct dirent *e;
    DIR *dp = opendir(dir);

    if (!dp)
        return 0;
    while ((e = readdir(dp)) && n < sizeof nums / sizeof nums[0]) {
        long k = video_number(e->d_name);
        if (k >= 0)
            nums[n++] = k;
    }
    closedir(dp);
    qsort(nums, n, sizeof nums[0], by_number);
    for (size_t i = 0; i < n && found < max; i++) {
        char path[32];
        int len = snprintf(path, sizeof path, "%s/video%ld", dir, nums[i]);
        if (len < 0 || len >= (int)sizeof path)
            continue;
        if (usable(io, path))
            memcpy(paths[found++], path, sizeof path);
    }
    return found;
}

size_t pixd_v4l2_find_devices(char paths[][32], size_t max) {
    return pixd__v4l2_find_devices_in(&pixd_v4l2_io_real, "/dev", paths, max);
}
