/* The frame hub (see hub.h). */
#include "hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "../jobs.h"
#include "../log.h"

#define VARIANT_QUALITY 80
#define FPS_WINDOW_US 2000000u

typedef struct variant variant;

struct pixd_sub {
    pixd_sub *next;
    pixd_camera *cam;
    variant *var;              /* NULL: full size */
    const pixd_sub_ops *ops;   /* NULL once unsubscribed (freed after publishing) */
    void *ctx;
    uint64_t min_gap_us, last_us;
    unsigned count, sent;
    pixd_frame *pending;       /* newest frame it could not take */
};

/* Subscribers that asked for one width share one resize of each frame. */
struct variant {
    variant *next;
    unsigned width;
    unsigned nsubs;
    int busy;                  /* a resize is on the work queue */
};

struct pixd_camera {
    pixd_camera *next;
    pixd_hub *hub;
    char name[64], source[128];
    const pixd_source_ops *ops;
    void *src;
    enum pixd_cam_state state;
    pixd_sub *subs;
    unsigned nsubs;
    variant *vars;
    uint64_t seq, frames, delivered, dropped;
    uint32_t width, height;
    uint64_t fps_t0, fps_n0;
    uint32_t fps_milli;
    unsigned publishing;       /* depth of deliveries in progress */
    pixd_frame *latest;        /* newest full-size frame, for snapshots */
    uint64_t broken;           /* frames the source found bad */
    uint32_t asked_w, asked_h, asked_fps, got_fps_milli;
    char format[8];
    uint64_t linger_us;        /* keep capturing this long after the last subscriber */
    uint64_t linger_until_us;
    int always_on;             /* capture with nobody watching (,always-on=1) */
    unsigned jobs;             /* resizes in flight */
    int removed, closed;
};

struct pixd_hub {
    uv_loop_t *loop;
    uv_timer_t *kick;          /* delivers frames handed to new subscribers */
    pixd_jobs *jobs;
    pixd_camera *cams;
    unsigned closing;          /* cameras still closing */
    void (*done)(void *ctx);
    void *done_ctx;
};

static void kick_run(uv_timer_t *t);

pixd_hub *pixd_hub_new(uv_loop_t *loop, pixd_jobs *jobs) {
    pixd_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->jobs = jobs;
    /* Allocated apart: its close callback may run after the hub is freed. */
    h->kick = malloc(sizeof *h->kick);
    if (!h->kick) {
        free(h);
        return NULL;
    }
    uv_timer_init(loop, h->kick);
    h->kick->data = h;
    return h;
}

const char *pixd_camera_name(const pixd_camera *cam) { return cam->name; }
uv_loop_t *pixd_camera_loop(const pixd_camera *cam) { return cam->hub->loop; }
pixd_hub *pixd_camera_hub(const pixd_camera *cam) { return cam->hub; }
void pixd_camera_set_linger(pixd_camera *cam, uint64_t us) { cam->linger_us = us; }

void pixd_camera_set_always_on(pixd_camera *cam, int on) {
    cam->always_on = on;
    if (on && cam->ops && cam->ops->wake)
        cam->ops->wake(cam, cam->src);
}
pixd_jobs *pixd_camera_jobs(const pixd_camera *cam) { return cam->hub->jobs; }
void pixd_camera_count_broken(pixd_camera *cam, unsigned n) { cam->broken += n; }
void pixd_camera_count_dropped(pixd_camera *cam, unsigned n) { cam->dropped += n; }

void pixd_camera_set_format(pixd_camera *cam, unsigned asked_w, unsigned asked_h,
                            unsigned asked_fps, unsigned w, unsigned h, unsigned fps_milli,
                            const char *format) {
    cam->asked_w = asked_w;
    cam->asked_h = asked_h;
    cam->asked_fps = asked_fps;
    cam->got_fps_milli = fps_milli;
    snprintf(cam->format, sizeof cam->format, "%s", format ? format : "");
    /* Known before the first frame: listings show the size at once. */
    if (!cam->width) {
        cam->width = w;
        cam->height = h;
    }
}
int pixd_camera_wanted(const pixd_camera *cam) {
    if (cam->removed)
        return 0;
    return cam->always_on || cam->nsubs > 0 || (cam->linger_until_us && pixd_now_us() < cam->linger_until_us);
}

pixd_camera *pixd_hub_find(pixd_hub *hub, const char *name) {
    for (pixd_camera *c = hub->cams; c; c = c->next)
        if (!c->removed && strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int pixd_hub_add(pixd_hub *hub, const char *name, const char *source,
                 const pixd_source_ops *ops, void *src, pixd_camera **out) {
    pixd_camera *c;
    if (pixd_hub_find(hub, name))
        return -EEXIST;
    if (!(c = calloc(1, sizeof *c)))
        return -ENOMEM;
    c->hub = hub;
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->source, sizeof c->source, "%s", source);
    c->ops = ops;
    c->src = src;
    c->state = PIXD_CAM_STARTING;
    c->next = hub->cams;
    hub->cams = c;
    if (out)
        *out = c;
    return 0;
}

/* ---- subscribers ---- */

static void variant_drop(pixd_camera *c, variant *v) {
    variant **p = &c->vars;
    if (!v || --v->nsubs > 0)
        return;
    while (*p && *p != v)
        p = &(*p)->next;
    if (*p)
        *p = v->next;
    /* A resize in flight still points at it: it is freed when that ends. */
    if (v->busy)
        v->nsubs = (unsigned)-1;
    else
        free(v);
}

static void sub_free_later(pixd_camera *c, pixd_sub *s) {
    pixd_frame_unref(s->pending);
    s->pending = NULL;
    s->ops = NULL;
    if (--c->nsubs == 0 && c->linger_us)
        c->linger_until_us = pixd_now_us() + c->linger_us;
    variant_drop(c, s->var);
    s->var = NULL;
}

static void sweep(pixd_camera *c) {
    pixd_sub **p = &c->subs;
    if (c->publishing)
        return;
    while (*p) {
        pixd_sub *s = *p;
        if (!s->ops) {
            *p = s->next;
            free(s);
        } else {
            p = &s->next;
        }
    }
}

void pixd_sub_unsubscribe(pixd_sub *s) {
    pixd_camera *c = s->cam;
    if (!s->ops)
        return;
    sub_free_later(c, s);
    sweep(c);
}

static void end_sub(pixd_sub *s) {
    const pixd_sub_ops *ops = s->ops;
    void *ctx = s->ctx;
    sub_free_later(s->cam, s);
    ops->gone(ctx);
}

static void offer(pixd_sub *s, pixd_frame *f) {
    pixd_camera *c = s->cam;
    uint64_t now = pixd_now_us();
    if (!s->ops)
        return;
    if (s->min_gap_us && s->last_us && now - s->last_us < s->min_gap_us)
        return; /* over its frame-rate cap: not a drop, a choice */
    if (!s->ops->ready(s->ctx)) {
        pixd_frame_unref(s->pending);
        s->pending = pixd_frame_ref(f);
        c->dropped++;
        return;
    }
    s->last_us = now;
    s->sent++;
    c->delivered++;
    s->ops->frame(s->ctx, f);
    if (s->ops && s->count && s->sent >= s->count)
        end_sub(s);
}

void pixd_sub_ready(pixd_sub *s) {
    pixd_frame *f = s->pending;
    pixd_camera *c = s->cam;
    if (!f || !s->ops)
        return;
    s->pending = NULL;
    c->publishing++;
    offer(s, f);
    c->publishing--;
    pixd_frame_unref(f);
    sweep(c);
}

static void deliver(pixd_camera *c, variant *v, pixd_frame *f) {
    c->publishing++;
    for (pixd_sub *s = c->subs; s; s = s->next)
        if (s->ops && s->var == v)
            offer(s, f);
    c->publishing--;
    sweep(c);
}

int pixd_hub_subscribe(pixd_hub *hub, const char *name, unsigned max_fps, unsigned width,
                       unsigned count, const pixd_sub_ops *ops, void *ctx, pixd_sub **out) {
    pixd_camera *c = pixd_hub_find(hub, name);
    pixd_sub *s;
    variant *v = NULL;

    *out = NULL;
    if (!c)
        return -ENOENT;
    if (!(s = calloc(1, sizeof *s)))
        return -ENOMEM;
    if (width && (!c->width || width < c->width)) {
        for (v = c->vars; v && v->width != width; v = v->next)
            ;
        if (!v) {
            if (!(v = calloc(1, sizeof *v))) {
                free(s);
                return -ENOMEM;
            }
            v->width = width;
            v->next = c->vars;
            c->vars = v;
        }
        v->nsubs++;
    }
    s->cam = c;
    s->var = v;
    s->ops = ops;
    s->ctx = ctx;
    s->count = count;
    s->min_gap_us = max_fps ? 1000000u / max_fps : 0;
    /* Allow a little early delivery: frames arrive with jitter, and a cap
     * of exactly the camera's rate must not halve it. */
    s->min_gap_us -= s->min_gap_us / 10;
    s->next = c->subs;
    c->subs = s;
    c->nsubs++;
    *out = s;
    /* A snapshot of the full picture can use the newest frame if it is
     * fresh (two frame intervals, at least 50 ms): handed over from the
     * loop's next turn, never from inside this call. */
    if (!v && count == 1 && c->latest) {
        uint64_t age = pixd_now_us() - c->latest->ts_us;
        uint64_t fresh = c->fps_milli ? 2000000000ull / c->fps_milli : 0;
        if (age <= (fresh > 50000 ? fresh : 50000)) {
            s->pending = pixd_frame_ref(c->latest);
            uv_timer_start(hub->kick, kick_run, 0, 0);
        }
    }
    if (c->ops && c->ops->wake)
        c->ops->wake(c, c->src);
    return 0;
}

/* Offer pending frames to subscribers that can take them (see above). */
static void kick_run(uv_timer_t *t) {
    pixd_hub *hub = t->data;
    if (!hub)
        return;
    for (pixd_camera *c = hub->cams; c; c = c->next) {
        c->publishing++;
        for (pixd_sub *s = c->subs; s; s = s->next)
            if (s->ops && s->pending && !s->sent)
                pixd_sub_ready(s);
        c->publishing--;
        sweep(c);
    }
}

/* ---- publishing ---- */

typedef struct resize_job {
    pixd_job job;
    pixd_camera *cam;
    variant *var;
    pixd_frame *in, *out;
    int err;
} resize_job;

static void resize_work(pixd_job *j) {
    resize_job *rj = (resize_job *)j;
    pixd_resize_params p;
    pixd_resize_result r;
    char err[128];
    pixd_resize_params_default(&p);
    p.width = rj->var->width;
    p.quality = VARIANT_QUALITY;
    rj->err = pixd_image_resize(rj->in->data, rj->in->len, &p, &r, err, sizeof err);
    if (rj->err)
        return;
    rj->out = pixd_frame_new(r.len);
    if (rj->out) {
        memcpy(rj->out->data, r.data, r.len);
        rj->out->len = r.len;
        rj->out->width = r.out_width;
        rj->out->height = r.out_height;
        rj->out->seq = rj->in->seq;
        rj->out->ts_us = rj->in->ts_us;
    }
    free(r.data);
}

static void maybe_freed(pixd_camera *c);

static void resize_done(pixd_job *j, int status) {
    resize_job *rj = (resize_job *)j;
    pixd_camera *c = rj->cam;
    variant *v = rj->var;
    c->jobs--;
    v->busy = 0;
    if (v->nsubs == (unsigned)-1)
        free(v);
    else if (status == 0 && !rj->err && rj->out && !c->removed)
        deliver(c, v, rj->out);
    pixd_frame_unref(rj->in);
    pixd_frame_unref(rj->out);
    free(rj);
    maybe_freed(c);
}

static void measure_fps(pixd_camera *c, uint64_t now) {
    if (!c->fps_t0) {
        c->fps_t0 = now;
        c->fps_n0 = c->frames;
        return;
    }
    if (now - c->fps_t0 >= FPS_WINDOW_US) {
        c->fps_milli = (uint32_t)((c->frames - c->fps_n0) * 1000000000ull / (now - c->fps_t0));
        c->fps_t0 = now;
        c->fps_n0 = c->frames;
    }
}

void pixd_camera_publish(pixd_camera *c, pixd_frame *f) {
    if (c->removed) {
        pixd_frame_unref(f);
        return;
    }
    f->seq = ++c->seq;
    if (!f->ts_us)
        f->ts_us = pixd_now_us();
    c->frames++;
    c->width = f->width;
    c->height = f->height;
    measure_fps(c, f->ts_us);
    if (c->state != PIXD_CAM_ONLINE)
        pixd_camera_set_state(c, PIXD_CAM_ONLINE, NULL);
    for (variant *v = c->vars; v; v = v->next) {
        resize_job *rj;
        if (v->busy) {
            c->dropped += v->nsubs;
            continue;
        }
        if (!(rj = calloc(1, sizeof *rj)))
            continue;
        rj->cam = c;
        rj->var = v;
        rj->in = pixd_frame_ref(f);
        rj->job.work = resize_work;
        rj->job.done = resize_done;
        if (pixd_jobs_submit(c->hub->jobs, &rj->job) < 0) {
            pixd_frame_unref(rj->in);
            free(rj);
            c->dropped += v->nsubs;
            continue;
        }
        v->busy = 1;
        c->jobs++;
    }
    pixd_frame_unref(c->latest);
    c->latest = pixd_frame_ref(f);
    deliver(c, NULL, f);
    pixd_frame_unref(f);
}

void pixd_camera_set_state(pixd_camera *c, enum pixd_cam_state st, const char *why) {
    static const char *const names[] = {"starting", "online", "offline"};
    enum pixd_cam_state was = c->state;
    if (c->state == st)
        return;
    c->state = st;
    if (st == PIXD_CAM_OFFLINE)
        pixd_warn("camera %s (%s) offline: %s", c->name, c->source, why ? why : "no reason given");
    else
        pixd_info("camera %s (%s) %s", c->name, c->source, names[st]);
    if (st == PIXD_CAM_OFFLINE)
        c->fps_milli = 0;
    /* Watchers hear it from pixd, not from a silence they must interpret:
     * offline, and online again after it. A first start is not news. */
    if (st == PIXD_CAM_STARTING || (st == PIXD_CAM_ONLINE && was != PIXD_CAM_OFFLINE))
        return;
    c->publishing++; /* no sweep while walking the list */
    for (pixd_sub *s = c->subs; s; s = s->next)
        if (s->ops && s->ops->state)
            s->ops->state(s->ctx, names[st], st == PIXD_CAM_OFFLINE ? why : NULL);
    c->publishing--;
    sweep(c);
}

/* ---- removal ---- */

static void maybe_freed(pixd_camera *c) {
    pixd_hub *hub = c->hub;
    pixd_camera **p = &hub->cams;
    if (!c->removed || !c->closed || c->jobs)
        return;
    while (*p && *p != c)
        p = &(*p)->next;
    if (*p)
        *p = c->next;
    while (c->vars) {
        variant *v = c->vars;
        c->vars = v->next;
        free(v);
    }
    pixd_frame_unref(c->latest);
    free(c);
    if (hub->closing && --hub->closing == 0 && hub->done)
        hub->done(hub->done_ctx);
}

void pixd_camera_closed(pixd_camera *c) {
    c->closed = 1;
    maybe_freed(c);
}

void pixd_hub_remove(pixd_hub *hub, pixd_camera *c) {
    if (c->removed)
        return;
    c->removed = 1;
    c->publishing++;
    for (pixd_sub *s = c->subs; s; s = s->next)
        if (s->ops)
            end_sub(s);
    c->publishing--;
    sweep(c);
    if (c->ops && c->ops->close)
        c->ops->close(c, c->src);
    else
        pixd_camera_closed(c);
}

static void kick_closed(uv_handle_t *h) { free(h); }

void pixd_hub_close(pixd_hub *hub, void (*done)(void *ctx), void *ctx) {
    unsigned n = 0;
    if (hub->kick) {
        hub->kick->data = NULL;
        uv_close((uv_handle_t *)hub->kick, kick_closed);
        hub->kick = NULL;
    }
    for (pixd_camera *c = hub->cams; c; c = c->next)
        if (!c->removed)
            n++;
    hub->done = done;
    hub->done_ctx = ctx;
    hub->closing = n + 1;
    for (pixd_camera *c = hub->cams, *next; c; c = next) {
        next = c->next;
        if (!c->removed)
            pixd_hub_remove(hub, c);
    }
    /* The extra count keeps done() from running inside the loop above. */
    if (--hub->closing == 0 && done)
        done(ctx);
}

void pixd_hub_free(pixd_hub *hub) {
    if (!hub)
        return;
    while (hub->cams) {
        pixd_camera *c = hub->cams;
        hub->cams = c->next;
        for (pixd_sub *s = c->subs, *n; s; s = n) {
            n = s->next;
            pixd_frame_unref(s->pending);
            free(s);
        }
        while (c->vars) {
            variant *v = c->vars;
            c->vars = v->next;
            free(v);
        }
        pixd_frame_unref(c->latest);
        free(c);
    }
    free(hub);
}

const char *pixd_hub_first(pixd_hub *hub) {
    const char *name = NULL;
    /* The list is newest first: the last one standing was added first. */
    for (pixd_camera *c = hub->cams; c; c = c->next)
        if (!c->removed)
            name = c->name;
    return name;
}

size_t pixd_hub_list(pixd_hub *hub, pixd_cam_info *out, size_t max) {
    size_t n = 0;
    for (pixd_camera *c = hub->cams; c; c = c->next) {
        if (c->removed)
            continue;
        if (n < max) {
            pixd_cam_info *i = &out[n];
            snprintf(i->name, sizeof i->name, "%s", c->name);
            snprintf(i->source, sizeof i->source, "%s", c->source);
            i->state = c->state;
            i->width = c->width;
            i->height = c->height;
            i->fps_milli = c->fps_milli;
            i->subscribers = c->nsubs;
            i->frames = c->frames;
            i->delivered = c->delivered;
            i->dropped = c->dropped;
            i->broken = c->broken;
            i->asked_width = c->asked_w;
            i->asked_height = c->asked_h;
            i->asked_fps = c->asked_fps;
            i->got_fps_milli = c->got_fps_milli;
            snprintf(i->format, sizeof i->format, "%s", c->format);
        }
        n++;
    }
    return n;
}
