/* file:PATH and OpenCV URL cameras: frames decoded by the pixd-videoio
 * module (loaded on first use) on one capture thread per camera, handed to
 * the loop through a one-frame mailbox and a uv_async.
 *
 * Threads: the capture thread owns the pixd_video and the frames it makes
 * until they are in the mailbox; everything under `mu` is shared; the rest
 * of file_src is the loop's. A newer frame replaces an unconsumed one in
 * the mailbox, so a busy loop costs dropped frames, never memory. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../module.h"
#include "source.h"
#include "videoio.h"


#define DEFAULT_FPS 25
#define DEFAULT_QUALITY 80
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

typedef struct file_src {
    pixd_camera *cam;
    const pixd_videoio *vio;
    /* Read-only once the thread runs. */
    char url[256];
    int is_file;
    unsigned width, height, fps;
    int quality;

    uv_thread_t thread;
    uv_async_t async;
    uv_mutex_t mu;
    uv_cond_t cond; /* stop, want and the end of a pacing or back-off wait */
    /* Set by the loop when a frame is wanted, cleared by the loop when one
     * arrives that nobody wants; the thread only reads it. */
    atomic_int want;
    /* Under mu. */
    int stop, exited;
    pixd_frame *slot;
    int state_posted;
    enum pixd_cam_state state;
    char why[256];
    /* Loop only. */
    int have_async, have_thread, closing;
} file_src;

/* ---- the module, loaded once per process ---- */

/* Written once under pthread_once, read-only after. */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const pixd_videoio *videoio;
static int load_rc;
static char load_err[512];

static void load(void) {
    const pixd_videoio *v = pixd_module_load(PIXD_VIDEOIO_FILE, PIXD_VIDEOIO_SYMBOL,
                                             "video module", &load_rc, load_err,
                                             sizeof load_err);
    if (v && v->abi != PIXD_VIDEOIO_ABI) {
        load_rc = -EIO;
        snprintf(load_err, sizeof load_err, "the video module is from another version of "
                 "pixd (ABI %d, want %d)", v->abi, PIXD_VIDEOIO_ABI);
        return;
    }
    videoio = v;
}

static int videoio_get(const pixd_videoio **out, char *err, size_t errlen) {
    pthread_once(&load_once, load);
    *out = videoio;
    if (!videoio && errlen)
        snprintf(err, errlen, "%s", load_err);
    return videoio ? 0 : load_rc;
}

/* ---- the capture thread ---- */

static int stopping(file_src *s) {
    int stop;
    uv_mutex_lock(&s->mu);
    stop = s->stop;
    uv_mutex_unlock(&s->mu);
    return stop;
}

/* Wait until uv_hrtime() reaches deadline; 1 if told to stop first. */
static int sleep_until(file_src *s, uint64_t deadline) {
    int stop;
    uv_mutex_lock(&s->mu);
    for (;;) {
        uint64_t now = uv_hrtime();
        if (s->stop || now >= deadline)
            break;
        uv_cond_timedwait(&s->cond, &s->mu, deadline - now);
    }
    stop = s->stop;
    uv_mutex_unlock(&s->mu);
    return stop;
}

/* Idle without spinning until a frame is wanted; 1 if told to stop. */
static int wait_wanted(file_src *s) {
    int stop;
    uv_mutex_lock(&s->mu);
    while (!s->stop && !atomic_load(&s->want))
        uv_cond_wait(&s->cond, &s->mu);
    stop = s->stop;
    uv_mutex_unlock(&s->mu);
    return stop;
}

static void post_state(file_src *s, enum pixd_cam_state st, const char *why) {
    uv_mutex_lock(&s->mu);
    s->state = st;
    snprintf(s->why, sizeof s->why, "%s", why);
    s->state_posted = 1;
    uv_mutex_unlock(&s->mu);
    uv_async_send(&s->async);
}

static void post_frame(file_src *s, pixd_frame *f) {
    pixd_frame *old;
    uv_mutex_lock(&s->mu);
    old = s->slot;
    s->slot = f;
    uv_mutex_unlock(&s->mu);
    /* Never published, so this thread holds its only reference. */
    pixd_frame_unref(old);
    uv_async_send(&s->async);
}

/* Post a failure once per distinct reason (retries repeat it), close the
 * video, and wait the back-off; 1 if told to stop meanwhile. */
static int fail(file_src *s, pixd_video **v, const char *why, char *last, size_t lastlen,
                unsigned *backoff_ms) {
    s->vio->close(*v);
    *v = NULL;
    if (strcmp(last, why) != 0) {
        snprintf(last, lastlen, "%s", why);
        post_state(s, PIXD_CAM_OFFLINE, why);
    }
    if (sleep_until(s, uv_hrtime() + (uint64_t)*backoff_ms * 1000000u))
        return 1;
    *backoff_ms = *backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff_ms * 2;
    return 0;
}

static void capture(void *arg) {
    file_src *s = arg;
    const pixd_videoio *vio = s->vio;
    pixd_video *v = NULL;
    pixd_video_frame out;
    pixd_frame *f;
    uint64_t period = 0, next = 0, now, ts;
    unsigned backoff_ms = BACKOFF_MIN_MS, got = 0;
    int checked = 0, online = 0, skip;
    char err[256], last[256] = ""; /* last: the failure posted, "" if none */
    double fps;

    while (!stopping(s)) {
        if (!v) {
            /* A stream is opened at start (and after a failure, until it
             * works) to know its state, then only while watched: unread,
             * its frames would queue up. */
            if (!s->is_file && checked && !last[0] && !atomic_load(&s->want)) {
                if (wait_wanted(s))
                    break;
                continue;
            }
            if (vio->open(s->url, s->is_file, &v, &fps, err, sizeof err) < 0) {
                if (fail(s, &v, err, last, sizeof last, &backoff_ms))
                    break;
                continue;
            }
            checked = 1;
            if (last[0] || !online) {
                last[0] = '\0';
                online = 1;
                post_state(s, PIXD_CAM_ONLINE, "");
            }
            period = (uint64_t)(1e9 / (s->fps ? s->fps : fps > 0 ? fps : DEFAULT_FPS));
            next = 0;
            got = 0;
        }
        if (!atomic_load(&s->want)) {
            if (!s->is_file) {
                vio->close(v);
                v = NULL;
            } else if (wait_wanted(s)) {
                break;
            }
            next = 0;
            continue;
        }
        /* A file is read at its rate by the clock (it would decode far
         * faster); a stream paces itself, and with fps set, frames beyond
         * that rate are read and dropped. */
        skip = 0;
        now = uv_hrtime();
        if (s->is_file && next > now) {
            if (sleep_until(s, next))
                break;
            if (!atomic_load(&s->want))
                continue;
            now = uv_hrtime();
        } else if (!s->is_file && s->fps && next > now) {
            skip = 1;
        }
        if (!skip) /* late by more than a period: start afresh, no burst */
            next = next && now - next < period ? next + period : now + period;

        ts = pixd_now_us();
        if (vio->next(v, skip, s->width, s->height, s->quality, &out, err, sizeof err) < 0) {
            if (fail(s, &v, err, last, sizeof last, &backoff_ms))
                break;
            continue;
        }
        /* The first frame was decoded by open(): only a second one shows
         * the source works, so one failing after it still backs off. */
        if (++got == 2)
            backoff_ms = BACKOFF_MIN_MS;
        if (skip)
            continue;
        if (!(f = pixd_frame_new(out.len)))
            continue; /* over PIXD_FRAME_MAX or out of memory: skip it */
        memcpy(f->data, out.jpeg, out.len);
        f->len = out.len;
        f->width = out.width;
        f->height = out.height;
        f->ts_us = ts;
        post_frame(s, f);
    }
    vio->close(v);
    uv_mutex_lock(&s->mu);
    s->exited = 1;
    uv_mutex_unlock(&s->mu);
    uv_async_send(&s->async);
}

/* ---- the loop side ---- */

static void destroy(file_src *s) {
    pixd_frame_unref(s->slot);
    uv_cond_destroy(&s->cond);
    uv_mutex_destroy(&s->mu);
    free(s);
}

static void on_closed(uv_handle_t *h) {
    file_src *s = h->data;
    pixd_camera *cam = s->cam;
    destroy(s);
    pixd_camera_closed(cam);
}

static void on_async(uv_async_t *a) {
    file_src *s = a->data;
    pixd_frame *f;
    enum pixd_cam_state st = PIXD_CAM_STARTING;
    char why[sizeof s->why] = "";
    int posted, exited;

    uv_mutex_lock(&s->mu);
    f = s->slot;
    s->slot = NULL;
    posted = s->state_posted;
    if (posted) {
        st = s->state;
        memcpy(why, s->why, sizeof why);
        s->state_posted = 0;
    }
    exited = s->exited;
    uv_mutex_unlock(&s->mu);

    if (s->closing) {
        pixd_frame_unref(f);
        if (exited) {
            /* The thread has left its loop; this returns at once. */
            uv_thread_join(&s->thread);
            uv_close((uv_handle_t *)&s->async, on_closed);
        }
        return;
    }
    /* The frame first: it was made before any state posted with it, and
     * publishing marks the camera online. */
    if (f) {
        if (pixd_camera_wanted(s->cam)) {
            pixd_camera_publish(s->cam, f);
        } else {
            atomic_store(&s->want, 0); /* the thread idles after this frame */
            pixd_frame_unref(f);
        }
    }
    if (posted) /* the hub logs the change */
        pixd_camera_set_state(s->cam, st, st == PIXD_CAM_OFFLINE ? why : NULL);
}

static void file_wake(pixd_camera *cam, void *src) {
    file_src *s = src;
    atomic_store(&s->want, 1);
    uv_mutex_lock(&s->mu);
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mu);
}

/* Does not block the loop: the thread may be inside a stream's open or
 * read (up to the module's timeout). It posts once it has left, and the
 * join and the handle's close happen then, in on_async. */
static void file_close(pixd_camera *cam, void *src) {
    file_src *s = src;
    s->closing = 1;
    if (!s->have_async) {
        destroy(s);
        pixd_camera_closed(cam);
    } else if (!s->have_thread) {
        uv_close((uv_handle_t *)&s->async, on_closed);
    } else {
        uv_mutex_lock(&s->mu);
        s->stop = 1;
        uv_cond_signal(&s->cond);
        uv_mutex_unlock(&s->mu);
    }
}

int pixd_source_file_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err,
                          size_t errlen) {
    static const pixd_source_ops ops = {.wake = file_wake, .close = file_close};
    const char *url = spec->source;
    const pixd_videoio *vio;
    pixd_camera *cam;
    file_src *s;
    int is_file = 0, rc;

    if (!strncmp(url, "file:", 5)) {
        url += 5;
        is_file = 1;
        if (!*url) {
            snprintf(err, errlen, "file: needs a path, as in file:/videos/a.mp4 or "
                     "file:/frames/img_%%04d.jpg");
            return -EINVAL;
        }
    } else if (!strstr(url, "://")) {
        snprintf(err, errlen, "unknown source \"%.100s\" (test, /dev/videoN, file:PATH, "
                 "or a URL such as rtsp://host/path)", url);
        return -EINVAL;
    }
    if ((rc = videoio_get(&vio, err, errlen)) < 0)
        return rc;
    if (!(s = calloc(1, sizeof *s))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->vio = vio;
    snprintf(s->url, sizeof s->url, "%s", url);
    s->is_file = is_file;
    s->width = spec->width;
    s->height = spec->height;
    s->fps = spec->fps;
    s->quality = spec->quality > 0 ? spec->quality : DEFAULT_QUALITY;
    atomic_init(&s->want, 0);
    if ((rc = uv_mutex_init(&s->mu)) < 0) {
        free(s);
        snprintf(err, errlen, "%s", uv_strerror(rc));
        return rc;
    }
    if ((rc = uv_cond_init(&s->cond)) < 0) {
        uv_mutex_destroy(&s->mu);
        free(s);
        snprintf(err, errlen, "%s", uv_strerror(rc));
        return rc;
    }
    if ((rc = pixd_hub_add(hub, spec->name, spec->source, &ops, s, &cam)) < 0) {
        destroy(s);
        if (rc == -EEXIST)
            snprintf(err, errlen, "the name is already in use");
        else
            snprintf(err, errlen, "%s", strerror(-rc));
        return rc;
    }
    s->cam = cam;
    if ((rc = uv_async_init(pixd_camera_loop(cam), &s->async, on_async)) == 0) {
        s->async.data = s;
        s->have_async = 1;
        if ((rc = uv_thread_create(&s->thread, capture, s)) == 0)
            s->have_thread = 1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot start its capture thread: %s", uv_strerror(rc));
        pixd_hub_remove(hub, cam); /* closes the half-built source */
        return rc;
    }
    return 0;
}
