/* v4l2-capture: capture from real V4L2 devices through pixd's V4L2 source
 * and frame hub, and say what came. Run inside ../shared/tools/v4l2-vm by
 * run-in-vm.sh.
 *
 *   v4l2-capture [--seconds N] [--pause] [--until FILE] [--out DIR] [--log-level L] SPEC...
 *
 * SPEC is a --camera value (cam=/dev/video0,width=640,height=360,fps=15).
 * Every second it prints one line per camera; at the end
 *   NAME frames=N fps=F size=WxH bad=B distinct=D seq=ok|bad state=S
 * (bad: frames that are not a JPEG of the announced size; distinct: frames
 * whose bytes differ from the one before). --pause unsubscribes for a
 * second in the middle and checks that no frame comes meanwhile (the
 * device stops streaming) and that frames come again after. --out writes
 * each camera's last frame to DIR/NAME.jpg. --until FILE ends the run (at
 * the latest after --seconds) once FILE exists and every camera has given
 * a frame since, online (faults injected meanwhile were recovered from),
 * however slow the machine. Exit 0 when every camera gave
 * frames and none was bad. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "camera/hub.h"
#include "camera/source.h"
#include "jobs.h"
#include "log.h"

#define MAX_CAMS 8

typedef struct cam {
    pixd_hub *hub;
    char name[64];
    pixd_sub *sub;
    uint64_t frames, bad, distinct, last_seq, last_hash, lat_us;
    uint64_t pause_mark, paused_frames; /* frames the hub got while nobody watched */
    uint64_t resumed_at;                /* frames when watched again */
    uint64_t until_mark;                /* frames when the --until file appeared */
    uint32_t w, h;
    int seq_bad;
    pixd_frame *last;
    tjhandle tj;
} cam;

static cam cams[MAX_CAMS];
static size_t ncams;
static unsigned seconds = 5, elapsed;
static int pause_test;
static const char *out_dir, *until_file;
static int until_seen, until_met;
static uv_timer_t tick;

static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603u;
    while (n--)
        h = (h ^ *p++) * 1099511628211u;
    return h;
}

static void on_frame(void *ctx, pixd_frame *f) {
    cam *c = ctx;
    int w, h, ss, cs;
    uint64_t hash = fnv(f->data, f->len);

    c->frames++;
    if (tjDecompressHeader3(c->tj, f->data, (unsigned long)f->len, &w, &h, &ss, &cs) < 0 ||
        (uint32_t)w != f->width || (uint32_t)h != f->height) {
        c->bad++;
        fprintf(stderr, "%s: frame %" PRIu64 " is not a %ux%u JPEG (%s)\n", c->name, f->seq,
                f->width, f->height, tjGetErrorStr2(c->tj));
    }
    if (hash != c->last_hash)
        c->distinct++;
    c->last_hash = hash;
    if (f->seq <= c->last_seq)
        c->seq_bad = 1;
    c->last_seq = f->seq;
    c->w = f->width;
    c->h = f->height;
    c->lat_us = pixd_now_us() - f->ts_us;
    pixd_frame_unref(c->last);
    c->last = pixd_frame_ref(f);
}

static int ready(void *ctx) { return 1; }
static void gone(void *ctx) { ((cam *)ctx)->sub = NULL; }
static const pixd_sub_ops ops = {on_frame, ready, gone, NULL};

static const pixd_cam_info *info_of(cam *c) {
    static pixd_cam_info info[MAX_CAMS];
    size_t n = pixd_hub_list(c->hub, info, MAX_CAMS);
    for (size_t i = 0; i < n && i < MAX_CAMS; i++)
        if (!strcmp(info[i].name, c->name))
            return &info[i];
    return NULL;
}

static const char *state_of(cam *c) {
    const pixd_cam_info *i = info_of(c);
    if (!i)
        return "gone";
    return i->state == PIXD_CAM_ONLINE ? "online" : i->state == PIXD_CAM_OFFLINE ? "offline"
                                                                                 : "starting";
}

static void subscribe(cam *c) {
    if (pixd_hub_subscribe(c->hub, c->name, 0, 0, 0, &ops, c, &c->sub) < 0)
        fprintf(stderr, "%s: cannot subscribe\n", c->name);
}

static void on_tick(uv_timer_t *t) {
    elapsed++;
    for (size_t i = 0; i < ncams; i++) {
        cam *c = &cams[i];
        printf("t=%u %s frames=%" PRIu64 " state=%s latency_ms=%.1f\n", elapsed, c->name,
               c->frames, state_of(c), c->lat_us / 1000.0);
        /* --pause: nobody watches for two seconds from the middle; the
         * hub must get no frame in the second of them (the first leaves
         * time for a frame already being encoded). */
        if (pause_test && elapsed == seconds / 2 && c->sub) {
            pixd_sub_unsubscribe(c->sub);
            c->sub = NULL;
        } else if (pause_test && elapsed == seconds / 2 + 1) {
            c->pause_mark = info_of(c)->frames;
        } else if (pause_test && elapsed == seconds / 2 + 2) {
            c->paused_frames = info_of(c)->frames - c->pause_mark;
            c->resumed_at = c->frames;
            subscribe(c);
        }
    }
    fflush(stdout);
    if (until_file && !until_seen && access(until_file, F_OK) == 0) {
        until_seen = 1;
        for (size_t i = 0; i < ncams; i++)
            cams[i].until_mark = cams[i].frames;
    } else if (until_seen) {
        until_met = 1;
        for (size_t i = 0; i < ncams; i++)
            until_met &= cams[i].frames > cams[i].until_mark && !strcmp(state_of(&cams[i]), "online");
    }
    if (elapsed >= seconds || until_met)
        uv_timer_stop(t);
}

static void hub_closed(void *ctx) { *(int *)ctx = 1; }

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"seconds", required_argument, NULL, 's'}, {"pause", no_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},     {"log-level", required_argument, NULL, 'l'},
        {"until", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}};
    uv_loop_t loop;
    pixd_jobs jobs;
    pixd_hub *hub;
    int opt, fail = 0, closed = 0;

    pixd_log_init();
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 's')
            seconds = (unsigned)atoi(optarg);
        else if (opt == 'p')
            pause_test = 1;
        else if (opt == 'o')
            out_dir = optarg;
        else if (opt == 'u')
            until_file = optarg;
        else if (opt == 'l' && pixd_log_parse_level(optarg) >= 0)
            pixd_log_set_level((enum pixd_log_level)pixd_log_parse_level(optarg));
        else
            return 2;
    }
    if (optind >= argc || argc - optind > MAX_CAMS || seconds < 1 || (pause_test && seconds < 6)) {
        fprintf(stderr, "usage: v4l2-capture [--seconds N] [--pause] [--until FILE] [--out DIR] SPEC...\n");
        return 2;
    }
    uv_loop_init(&loop);
    pixd_jobs_init(&jobs, &loop, 2, 8);
    hub = pixd_hub_new(&loop, &jobs);
    for (int i = optind; i < argc; i++) {
        pixd_camera_spec spec;
        char err[256];
        cam *c = &cams[ncams];
        if (pixd_camera_spec_parse(argv[i], &spec, err, sizeof err) < 0 ||
            pixd_source_v4l2_open(hub, &spec, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            fail = 1;
            continue;
        }
        c->hub = hub;
        c->tj = tjInitDecompress();
        snprintf(c->name, sizeof c->name, "%s", spec.name);
        subscribe(c);
        ncams++;
    }
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 1000, 1000);
    while (uv_is_active((uv_handle_t *)&tick) && uv_run(&loop, UV_RUN_ONCE))
        ;
    for (size_t i = 0; i < ncams; i++) {
        cam *c = &cams[i];
        int ok = c->frames > 0 && !c->bad && !c->seq_bad && !c->paused_frames &&
                 (!pause_test || c->frames > c->resumed_at) && (!until_file || until_met);
        printf("%s frames=%" PRIu64 " fps=%.1f size=%ux%u bad=%" PRIu64 " distinct=%" PRIu64
               " seq=%s paused_frames=%" PRIu64 " state=%s %s\n", c->name, c->frames,
               (double)c->frames / elapsed, c->w, c->h, c->bad, c->distinct,
               c->seq_bad ? "bad" : "ok", c->paused_frames, state_of(c), ok ? "OK" : "FAIL");
        fail |= !ok;
        if (out_dir && c->last) {
            char path[512];
            FILE *f;
            snprintf(path, sizeof path, "%s/%s.jpg", out_dir, c->name);
            if ((f = fopen(path, "wb"))) {
                fwrite(c->last->data, 1, c->last->len, f);
                fclose(f);
            }
        }
        if (c->sub)
            pixd_sub_unsubscribe(c->sub);
        pixd_frame_unref(c->last);
        tjDestroy(c->tj);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    pixd_hub_close(hub, hub_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    pixd_hub_free(hub);
    if (!closed || uv_loop_close(&loop) != 0) {
        fprintf(stderr, "v4l2-capture: handles still open at exit\n");
        fail = 1;
    }
    return fail;
}
