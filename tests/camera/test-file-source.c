/* file: and URL cameras on a real loop and hub, with files made here: a
 * JPEG image sequence, an MJPEG AVI written by hand, and an MJPEG-over-HTTP
 * stream served from loopback. Each frame is a flat gray whose level says
 * which frame of the file it is, so order, looping and skipping show.
 * Run with "missing" as argument (and PIXD_MODULE_DIR pointing nowhere),
 * it checks the error when the module is not installed instead. */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/hub.h"
#include "camera/source.h"
#include "camera/videoio.h"
#include "imgutil.h"
#include "jobs.h"

#define W 160
#define H 120
#define SEQ_LEN 40 /* frames in the image sequence and the video */
#define MAX_SEEN 512

static char dir[64];

/* ---- test media ---- */

static uint8_t level(int i) { return (uint8_t)(5 + 6 * (i % SEQ_LEN)); }

static uint8_t *gray_jpeg(int i, size_t *len) {
    uint8_t c[3] = {level(i), level(i), level(i)};
    uint8_t *px = tu_solid(W, H, 3, c), *jpg = tu_jpeg(px, W, H, 3, 90, len);
    free(px);
    return jpg;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void make_sequence(const char *pattern, int n) {
    char path[128];
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *jpg = gray_jpeg(i, &len);
        snprintf(path, sizeof path, pattern, dir, i);
        write_file(path, jpg, len);
        free(jpg);
    }
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) {
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, le, 4);
}
static void put16(buf *b, uint16_t v) {
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, le, 2);
}
static void set32(buf *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * i));
}
/* Starts a RIFF or LIST chunk; returns where its size goes. */
static size_t open_list(buf *b, const char *id, const char *type) {
    size_t at;
    put(b, id, 4);
    at = b->n;
    put32(b, 0);
    put(b, type, 4);
    return at;
}
static void close_list(buf *b, size_t at) { set32(b, at, (uint32_t)(b->n - at - 4)); }

/* An MJPEG AVI by hand (RIFF, avih, strh, strf, movi, idx1) that declares
 * fps, so the test does not read it with the code under test's library. */
static void make_avi(const char *path, int n, unsigned fps) {
    buf b = {0}, idx = {0};
    size_t riff, hdrl, strl, movi;
    riff = open_list(&b, "RIFF", "AVI ");
    hdrl = open_list(&b, "LIST", "hdrl");
    put(&b, "avih", 4);
    put32(&b, 56);
    put32(&b, 1000000 / fps); /* microseconds per frame */
    put32(&b, 0);
    put32(&b, 0);
    put32(&b, 0x10); /* AVIF_HASINDEX */
    put32(&b, (uint32_t)n);
    put32(&b, 0);
    put32(&b, 1); /* streams */
    put32(&b, 0);
    put32(&b, W);
    put32(&b, H);
    for (int i = 0; i < 4; i++)
        put32(&b, 0);
    strl = open_list(&b, "LIST", "strl");
    put(&b, "strh", 4);
    put32(&b, 56);
    put(&b, "vids", 4);
    put(&b, "MJPG", 4);
    put32(&b, 0);
    put16(&b, 0);
    put16(&b, 0);
    put32(&b, 0);
    put32(&b, 1);   /* scale */
    put32(&b, fps); /* rate: fps = rate / scale */
    put32(&b, 0);
    put32(&b, (uint32_t)n);
    put32(&b, 0);
    put32(&b, 0xffffffffu);
    put32(&b, 0);
    put16(&b, 0);
    put16(&b, 0);
    put16(&b, W);
    put16(&b, H);
    put(&b, "strf", 4);
    put32(&b, 40);
    put32(&b, 40);
    put32(&b, W);
    put32(&b, H);
    put16(&b, 1);
    put16(&b, 24);
    put(&b, "MJPG", 4);
    put32(&b, W * H * 3);
    for (int i = 0; i < 4; i++)
        put32(&b, 0);
    close_list(&b, strl);
    close_list(&b, hdrl);
    movi = open_list(&b, "LIST", "movi");
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *jpg = gray_jpeg(i, &len);
        put(&idx, "00dc", 4);
        put32(&idx, 0x10); /* AVIIF_KEYFRAME */
        put32(&idx, (uint32_t)(b.n - (movi + 4)));
        put32(&idx, (uint32_t)len);
        put(&b, "00dc", 4);
        put32(&b, (uint32_t)len);
        put(&b, jpg, len);
        if (len & 1)
            put(&b, "", 1);
        free(jpg);
    }
    close_list(&b, movi);
    put(&b, "idx1", 4);
    put32(&b, (uint32_t)idx.n);
    put(&b, idx.p, idx.n);
    close_list(&b, riff);
    write_file(path, b.p, b.n);
    free(b.p);
    free(idx.p);
}

/* ---- a loop, a hub, a subscriber ---- */

typedef struct world {
    uv_loop_t loop;
    pixd_jobs jobs;
    pixd_hub *hub;
    uv_timer_t timer;
    int (*until)(struct world *w, void *arg);
    void *until_arg;
    int closed;
    uint64_t closed_ns;
} world;

typedef struct watcher {
    pixd_sub *sub;
    world *w;
    size_t n;
    uint64_t seq[MAX_SEEN], at_ns[MAX_SEEN];
    int idx[MAX_SEEN];
    uint32_t width, height;
    int gone;
    unsigned stall_ms_at3; /* block the loop this long on the third frame */
} watcher;

static void w_frame(void *ctx, pixd_frame *f) {
    watcher *s = ctx;
    uint32_t fw, fh;
    int ch;
    uint8_t *px;
    assert_true(f->len > 4 && f->data[0] == 0xff && f->data[1] == 0xd8);
    px = tu_unjpeg(f->data, f->len, &fw, &fh, &ch);
    assert_int_equal(fw, f->width);
    assert_int_equal(fh, f->height);
    if (s->n < MAX_SEEN) {
        s->seq[s->n] = f->seq;
        s->at_ns[s->n] = uv_hrtime();
        s->idx[s->n] = (px[(fh / 2 * fw + fw / 2) * 3] - 5 + 3) / 6;
        s->n++;
    }
    s->width = fw;
    s->height = fh;
    free(px);
    if (s->n == 3 && s->stall_ms_at3)
        usleep(s->stall_ms_at3 * 1000);
}
static int w_ready(void *ctx) { return 1; }
static void w_gone(void *ctx) { ((watcher *)ctx)->gone = 1; }
static const pixd_sub_ops watch_ops = {w_frame, w_ready, w_gone};

static void subscribe(world *w, watcher *s, const char *name, unsigned fps) {
    memset(s, 0, sizeof *s);
    s->w = w;
    assert_int_equal(pixd_hub_subscribe(w->hub, name, fps, 0, 0, &watch_ops, s, &s->sub), 0);
}

static void tick(uv_timer_t *t) {
    world *w = t->data;
    if (w->until && w->until(w, w->until_arg))
        uv_stop(&w->loop);
}
static void stop_now(uv_timer_t *t) { uv_stop(t->loop); }

/* Run the loop for ms milliseconds. */
static void run_for(world *w, unsigned ms) {
    uv_timer_start(&w->timer, stop_now, ms, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&w->timer);
}

/* Run the loop until pred is true (checked every 5 ms) or ms pass; the
 * milliseconds it took. */
static unsigned run_until(world *w, int (*pred)(world *, void *), void *arg, unsigned ms) {
    uint64_t t0 = uv_hrtime();
    uv_timer_t limit;
    w->until = pred;
    w->until_arg = arg;
    if (!pred(w, arg)) {
        uv_timer_init(&w->loop, &limit);
        limit.data = w;
        uv_timer_start(&limit, stop_now, ms, 0);
        uv_timer_start(&w->timer, tick, 5, 5);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_timer_stop(&w->timer);
        uv_close((uv_handle_t *)&limit, NULL);
        uv_run(&w->loop, UV_RUN_NOWAIT);
    }
    w->until = NULL;
    return (unsigned)((uv_hrtime() - t0) / 1000000u);
}

static int has_frames(world *w, void *arg) {
    watcher *s = arg;
    return s->n >= 1;
}

static enum pixd_cam_state state_of(world *w, const char *name) {
    pixd_cam_info info[8];
    size_t n = pixd_hub_list(w->hub, info, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (!strcmp(info[i].name, name))
            return info[i].state;
    fail_msg("no camera %s", name);
    return PIXD_CAM_STARTING;
}

static uint64_t frames_of(world *w, const char *name) {
    pixd_cam_info info[8];
    size_t n = pixd_hub_list(w->hub, info, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (!strcmp(info[i].name, name))
            return info[i].frames;
    return 0;
}

static const char *want_name;
static enum pixd_cam_state want_state;
static int in_state(world *w, void *arg) { return state_of(w, want_name) == want_state; }
static unsigned wait_state(world *w, const char *name, enum pixd_cam_state st, unsigned ms) {
    want_name = name;
    want_state = st;
    return run_until(w, in_state, NULL, ms);
}

static int open_camera(world *w, const char *arg, char *err, size_t errlen) {
    pixd_camera_spec spec;
    char line[512];
    snprintf(line, sizeof line, arg, dir);
    assert_int_equal(pixd_camera_spec_parse(line, &spec, err, errlen), 0);
    return pixd_source_file_open(w->hub, &spec, err, errlen);
}

static void hub_closed(void *ctx) {
    world *w = ctx;
    w->closed = 1;
    w->closed_ns = uv_hrtime();
}

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(uv_loop_init(&w->loop), 0);
    pixd_jobs_init(&w->jobs, &w->loop, 1, 4);
    w->hub = pixd_hub_new(&w->loop, &w->jobs);
    assert_non_null(w->hub);
    uv_timer_init(&w->loop, &w->timer);
    w->timer.data = w;
    *state = w;
    return 0;
}

static int is_closed(world *w, void *arg) { return w->closed; }

static int teardown(void **state) {
    world *w = *state;
    pixd_hub_close(w->hub, hub_closed, w);
    run_until(w, is_closed, NULL, 5000);
    assert_true(w->closed);
    pixd_hub_free(w->hub);
    uv_close((uv_handle_t *)&w->timer, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    free(w);
    return 0;
}

/* ---- memory: the module stays out until a camera needs it ---- */

static long rss_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Distinct shared objects mapped, and whether videoio is one of them. */
static int libraries(int *videoio) {
    char line[1024], seen[600][128];
    int n = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    *videoio = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strchr(line, '/'), *nl;
        int dup = 0;
        if (!p || !strstr(p, ".so"))
            continue;
        if ((nl = strchr(p, '\n')))
            *nl = '\0';
        if (strstr(p, "libopencv_videoio"))
            *videoio = 1;
        for (int i = 0; i < n && !dup; i++)
            dup = !strncmp(seen[i], p, sizeof seen[i] - 1);
        if (!dup && n < 600)
            snprintf(seen[n++], sizeof seen[0], "%s", p);
    }
    fclose(f);
    return n;
}

static void file_source_loads_module_on_first_use(void **state) {
    world *w = *state;
    watcher s;
    char err[256];
    int vio_before, vio_after, libs_before, libs_after, libs_used;
    long rss_before, rss_after, rss_used;

    libs_before = libraries(&vio_before);
    rss_before = rss_kib();
    assert_false(vio_before); /* never linked: only ever dlopen'd */
    assert_int_equal(open_camera(w, "seq=file:%s/img_%%04d.jpg,fps=25", err, sizeof err), 0);
    libs_after = libraries(&vio_after);
    rss_after = rss_kib();
    assert_true(vio_after);
    subscribe(w, &s, "seq", 0);
    run_until(w, has_frames, &s, 3000);
    run_for(w, 500);
    assert_true(s.n > 1);
    libs_used = libraries(&vio_after);
    rss_used = rss_kib();
    pixd_sub_unsubscribe(s.sub);
    print_message("      video module: %d -> %d shared objects, RSS %ld -> %ld KiB on "
                  "loading, %ld KiB once decoding %dx%d\n", libs_before, libs_after,
                  rss_before, rss_after, rss_used, W, H);
    (void)libs_used;
}

/* ---- frames ---- */

static void assert_consecutive(const watcher *s) {
    for (size_t i = 1; i < s->n; i++)
        assert_int_equal(s->seq[i], s->seq[i - 1] + 1);
}

/* Mean gap between frames, in ms, skipping the first (it comes at once). */
static double mean_gap_ms(const watcher *s) {
    if (s->n < 3)
        return 0;
    return (double)(s->at_ns[s->n - 1] - s->at_ns[1]) / 1e6 / (double)(s->n - 2);
}

static void file_source_sequence_paced_and_looped(void **state) {
    world *w = *state;
    watcher s;
    char err[256];
    size_t wraps = 0;

    assert_int_equal(open_camera(w, "seq=file:%s/img_%%04d.jpg,fps=20", err, sizeof err), 0);
    subscribe(w, &s, "seq", 0);
    run_until(w, has_frames, &s, 3000);
    run_for(w, 2500); /* 50 frames: past the end of the 40 */
    assert_int_equal(state_of(w, "seq"), PIXD_CAM_ONLINE);
    assert_int_equal(s.width, W);
    assert_int_equal(s.height, H);
    assert_consecutive(&s);
    /* Paced by the clock at 20 fps, not as fast as it decodes. */
    assert_in_range(s.n, 40, 56);
    print_message("      sequence at fps=20: %zu frames in 2.5 s, mean gap %.1f ms\n", s.n,
                  mean_gap_ms(&s));
    assert_true(mean_gap_ms(&s) > 45 && mean_gap_ms(&s) < 56);
    /* The file's frames in order, starting over after the last. A busy
     * machine may make the mailbox replace one (newest wins, by design), so
     * a step of up to 3 frames is allowed, never a step back. */
    assert_true(s.idx[0] < 3);
    for (size_t i = 1; i < s.n; i++) {
        size_t step = (s.idx[i] + SEQ_LEN - s.idx[i - 1]) % SEQ_LEN;
        assert_true(step >= 1 && step <= 3);
        wraps += s.idx[i] < s.idx[i - 1];
    }
    assert_int_equal(wraps, 1);
    pixd_sub_unsubscribe(s.sub);
}

static void file_source_video_rate_from_file(void **state) {
    world *w = *state;
    watcher s;
    char err[256];

    /* The AVI declares 10 fps; without fps= that is the rate (not 25). */
    assert_int_equal(open_camera(w, "avi=file:%s/clip.avi", err, sizeof err), 0);
    subscribe(w, &s, "avi", 0);
    run_until(w, has_frames, &s, 3000);
    run_for(w, 1500);
    assert_consecutive(&s);
    print_message("      AVI at its 10 fps: %zu frames in 1.5 s, mean gap %.1f ms\n", s.n,
                  mean_gap_ms(&s));
    assert_in_range(s.n, 12, 19);
    for (size_t i = 1; i < s.n; i++)
        assert_int_equal(s.idx[i], (s.idx[i - 1] + 1) % SEQ_LEN);
    pixd_sub_unsubscribe(s.sub);
}

static void file_source_resizes(void **state) {
    world *w = *state;
    watcher a, b;
    char err[256];

    assert_int_equal(open_camera(w, "half=file:%s/clip.avi,fps=30,width=80", err, sizeof err),
                     0);
    assert_int_equal(open_camera(w, "sq=file:%s/clip.avi,fps=30,width=64,height=64,quality=50",
                                 err, sizeof err), 0);
    subscribe(w, &a, "half", 0);
    subscribe(w, &b, "sq", 0);
    run_until(w, has_frames, &a, 3000);
    run_until(w, has_frames, &b, 3000);
    assert_int_equal(a.width, 80); /* the height follows the aspect */
    assert_int_equal(a.height, 60);
    assert_int_equal(b.width, 64);
    assert_int_equal(b.height, 64);
    pixd_sub_unsubscribe(a.sub);
    pixd_sub_unsubscribe(b.sub);
}

static double cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void file_source_idle_without_watchers(void **state) {
    world *w = *state;
    watcher s;
    char err[256];
    uint64_t before;
    double cpu;

    assert_int_equal(open_camera(w, "seq=file:%s/img_%%04d.jpg,fps=50", err, sizeof err), 0);
    /* Nobody has watched yet: online, and nothing decoded or published. */
    wait_state(w, "seq", PIXD_CAM_ONLINE, 3000);
    assert_int_equal(state_of(w, "seq"), PIXD_CAM_ONLINE);
    assert_int_equal(frames_of(w, "seq"), 0);

    subscribe(w, &s, "seq", 0);
    run_until(w, has_frames, &s, 3000);
    run_for(w, 300);
    pixd_sub_unsubscribe(s.sub);
    run_for(w, 100); /* at most one frame was on its way */
    before = frames_of(w, "seq");
    cpu = cpu_ms();
    run_for(w, 1000);
    cpu = cpu_ms() - cpu;
    print_message("      idle: %.1f ms of CPU in 1 s\n", cpu);
    assert_int_equal(frames_of(w, "seq"), before);
    assert_true(cpu < 50);

    /* Watched again: it resumes where it stopped. */
    subscribe(w, &s, "seq", 0);
    run_until(w, has_frames, &s, 3000);
    assert_true(s.seq[0] == before + 1);
    pixd_sub_unsubscribe(s.sub);
}

/* A loop that stalls gets the newest frame afterwards, not a backlog. */
static void file_source_slow_loop_gets_newest(void **state) {
    world *w = *state;
    watcher s;
    char err[256];
    size_t burst = 0;

    assert_int_equal(open_camera(w, "seq=file:%s/img_%%04d.jpg,fps=20", err, sizeof err), 0);
    subscribe(w, &s, "seq", 0);
    s.stall_ms_at3 = 400;
    run_until(w, has_frames, &s, 3000);
    run_for(w, 900);
    assert_true(s.n >= 6);
    assert_consecutive(&s);
    /* ~8 frames were made during the stall; only the last was kept. */
    print_message("      after a 400 ms stall: file frame %d -> %d\n", s.idx[2], s.idx[3]);
    assert_true((s.idx[3] - s.idx[2] + SEQ_LEN) % SEQ_LEN >= 5);
    /* And no backlog after it (that would be ~8 frames at once): in the
     * next 100 ms, that frame and the two or so made meanwhile. */
    for (size_t i = 3; i < s.n; i++)
        burst += s.at_ns[i] - s.at_ns[3] <= 100000000u;
    assert_in_range(burst, 1, 4);
    pixd_sub_unsubscribe(s.sub);
}

/* ---- failures ---- */

static void file_source_missing_is_offline_then_retried(void **state) {
    world *w = *state;
    watcher other, s;
    char err[256], path[128], from[128];
    unsigned ms;

    /* Another camera goes on regardless. */
    assert_int_equal(open_camera(w, "seq=file:%s/img_%%04d.jpg,fps=20", err, sizeof err), 0);
    subscribe(w, &other, "seq", 0);
    assert_int_equal(open_camera(w, "late=file:%s/late.avi", err, sizeof err), 0);
    subscribe(w, &s, "late", 0);
    wait_state(w, "late", PIXD_CAM_OFFLINE, 2000);
    assert_int_equal(state_of(w, "late"), PIXD_CAM_OFFLINE);
    run_for(w, 1200); /* the first retry (after 1 s) fails too */
    assert_int_equal(state_of(w, "late"), PIXD_CAM_OFFLINE);
    assert_int_equal(s.n, 0);
    /* The file appears: the next retry (2 s after the first) finds it. */
    snprintf(path, sizeof path, "%s/late.avi", dir);
    snprintf(from, sizeof from, "%s/clip.avi", dir);
    assert_int_equal(link(from, path), 0);
    ms = wait_state(w, "late", PIXD_CAM_ONLINE, 4000);
    assert_int_equal(state_of(w, "late"), PIXD_CAM_ONLINE);
    print_message("      missing file: online %u ms after it appeared\n", ms);
    run_until(w, has_frames, &s, 3000);
    assert_true(s.n >= 1);
    assert_true(other.n > 40); /* 20 fps all along */
    assert_consecutive(&other);
    pixd_sub_unsubscribe(s.sub);
    pixd_sub_unsubscribe(other.sub);
    unlink(path);
}

static void file_source_reasons(void **state) {
    const char *mdir = getenv("PIXD_MODULE_DIR");
    char path[512], err[256];
    const pixd_videoio *vio;
    pixd_video *v;
    double fps;
    void *h;

    (void)state;
    assert_non_null(mdir);
    snprintf(path, sizeof path, "%s/%s", mdir, PIXD_VIDEOIO_FILE);
    assert_non_null(h = dlopen(path, RTLD_NOW | RTLD_LOCAL));
    assert_non_null(vio = dlsym(h, PIXD_VIDEOIO_SYMBOL));
    assert_int_equal(vio->abi, PIXD_VIDEOIO_ABI);

    snprintf(path, sizeof path, "%s/nothing.avi", dir);
    assert_int_equal(vio->open(path, 1, &v, &fps, err, sizeof err), -ENOENT);
    assert_null(v);
    assert_non_null(strstr(err, "No such file or directory"));
    snprintf(path, sizeof path, "%s/garbage.avi", dir);
    assert_int_equal(vio->open(path, 1, &v, &fps, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "not a video"));
    assert_int_equal(vio->open(dir, 1, &v, &fps, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "a directory"));
    snprintf(path, sizeof path, "%s/nothing_%%04d.jpg", dir);
    assert_int_equal(vio->open(path, 1, &v, &fps, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "no image sequence"));

    /* Nothing listens on port 1; the reason must not show the password. */
    assert_int_equal(vio->open("http://cam:secret@127.0.0.1:1/live", 0, &v, &fps, err,
                               sizeof err), -ENOENT);
    assert_non_null(strstr(err, "http://cam:***@127.0.0.1:1/live"));
    assert_null(strstr(err, "secret"));

    snprintf(path, sizeof path, "%s/clip.avi", dir);
    assert_int_equal(vio->open(path, 1, &v, &fps, err, sizeof err), 0);
    assert_true(fps > 9.99 && fps < 10.01);
    vio->close(v);
    dlclose(h);
}

static void file_source_bad_specs(void **state) {
    world *w = *state;
    char err[256];
    assert_int_equal(open_camera(w, "a=%s/clip.avi", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "unknown source"));
    assert_int_equal(open_camera(w, "a=file:", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "needs a path"));
    assert_int_equal(open_camera(w, "a=file:%s/clip.avi", err, sizeof err), 0);
    assert_int_equal(open_camera(w, "a=file:%s/clip.avi", err, sizeof err), -EEXIST);
    assert_non_null(strstr(err, "already in use"));
}

/* Removal while streaming slowly: the thread leaves its wait at once. */
static void file_source_closes_promptly(void **state) {
    world *w = *state;
    watcher s;
    char err[256];
    uint64_t t0;

    assert_int_equal(open_camera(w, "slow=file:%s/clip.avi,fps=1", err, sizeof err), 0);
    subscribe(w, &s, "slow", 0);
    run_until(w, has_frames, &s, 3000);
    run_for(w, 50);
    t0 = uv_hrtime();
    pixd_hub_close(w->hub, hub_closed, w);
    run_until(w, is_closed, NULL, 3000);
    assert_true(w->closed);
    assert_true(s.gone);
    print_message("      closed in %.1f ms\n", (double)(w->closed_ns - t0) / 1e6);
    assert_true(w->closed_ns - t0 < 100000000u);
    w->closed = 0; /* teardown closes the (now empty) hub again */
}

/* ---- a stream: multipart MJPEG over HTTP from loopback ---- */

typedef struct server {
    int fd, port;
    unsigned fps, per_connection;
    atomic_int stop, connections;
    uv_thread_t thread;
} server;

static int send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Serve each connection per_connection frames at fps, then hang up, as a
 * camera that restarts would. */
static void serve(void *arg) {
    server *sv = arg;
    int frame = 0;
    while (!sv->stop) {
        struct pollfd p = {.fd = sv->fd, .events = POLLIN};
        char req[2048];
        const char *hdr = "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;"
                          "boundary=pixdframe\r\n\r\n";
        int c;
        if (poll(&p, 1, 50) <= 0)
            continue;
        if ((c = accept(sv->fd, NULL, NULL)) < 0)
            continue;
        sv->connections++;
        if (recv(c, req, sizeof req, 0) <= 0 || send_all(c, hdr, strlen(hdr)) < 0) {
            close(c);
            continue;
        }
        for (unsigned i = 0; i < sv->per_connection && !sv->stop; i++, frame++) {
            char part[128];
            size_t len;
            uint8_t *jpg = gray_jpeg(frame, &len);
            int n = snprintf(part, sizeof part, "--pixdframe\r\nContent-Type: image/jpeg\r\n"
                             "Content-Length: %zu\r\n\r\n", len);
            int bad = send_all(c, part, (size_t)n) < 0 || send_all(c, jpg, len) < 0 ||
                      send_all(c, "\r\n", 2) < 0;
            free(jpg);
            if (bad)
                break;
            usleep(1000000 / sv->fps);
        }
        close(c);
    }
}

static void server_start(server *sv, unsigned fps, unsigned per_connection) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    memset(sv, 0, sizeof *sv);
    sv->fps = fps;
    sv->per_connection = per_connection;
    assert_true((sv->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->fd, 4), 0);
    assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(uv_thread_create(&sv->thread, serve, sv), 0);
}

static void server_stop(server *sv) {
    sv->stop = 1;
    uv_thread_join(&sv->thread);
    close(sv->fd);
}

static int has_n(world *w, void *arg) {
    watcher *s = arg;
    return s->n >= 12;
}

static void file_source_stream_reconnects(void **state) {
    world *w = *state;
    server sv;
    watcher s;
    char spec[128], err[256];
    unsigned ms;

    /* 40 fps served, 10 fps wanted: the rest are read and dropped. */
    server_start(&sv, 40, 80);
    snprintf(spec, sizeof spec, "net=http://127.0.0.1:%d/stream,fps=10", sv.port);
    assert_int_equal(open_camera(w, spec, err, sizeof err), 0);
    wait_state(w, "net", PIXD_CAM_ONLINE, 5000);
    assert_int_equal(state_of(w, "net"), PIXD_CAM_ONLINE);
    subscribe(w, &s, "net", 0);
    run_until(w, has_frames, &s, 5000);
    run_for(w, 1000);
    print_message("      stream at fps=10 from 40: %zu frames in ~1 s, mean gap %.1f ms\n",
                  s.n, mean_gap_ms(&s));
    assert_in_range(s.n, 7, 13);
    assert_consecutive(&s);
    /* The server hangs up after 2 s of frames: offline, then back. */
    wait_state(w, "net", PIXD_CAM_OFFLINE, 5000);
    assert_int_equal(state_of(w, "net"), PIXD_CAM_OFFLINE);
    ms = wait_state(w, "net", PIXD_CAM_ONLINE, 5000);
    assert_int_equal(state_of(w, "net"), PIXD_CAM_ONLINE);
    print_message("      stream: back online %u ms after it ended\n", ms);
    run_until(w, has_n, &s, 5000);
    assert_true(s.n >= 12);
    assert_true(sv.connections >= 3); /* the check at start, the watch, the reconnection */
    pixd_sub_unsubscribe(s.sub);
    /* Unwatched, a stream is not kept open. */
    run_for(w, 300);
    pixd_hub_close(w->hub, hub_closed, w);
    run_until(w, is_closed, NULL, 5000);
    assert_true(w->closed);
    w->closed = 0;
    server_stop(&sv);
}

/* ---- without the module ---- */

static void file_source_missing_module(void **state) {
    world *w = *state;
    char err[256];
    int rc = open_camera(w, "a=file:%s/clip.avi", err, sizeof err);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(err, "video module not found in /nonexistent"));
    assert_non_null(strstr(err, "PIXD_MODULE_DIR"));
    assert_null(pixd_hub_find(w->hub, "a"));
}

static int make_media(void **state) {
    char path[128];
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pixd-test-file-XXXXXX");
    assert_non_null(mkdtemp(dir));
    make_sequence("%s/img_%04d.jpg", SEQ_LEN);
    snprintf(path, sizeof path, "%s/clip.avi", dir);
    make_avi(path, SEQ_LEN, 10);
    snprintf(path, sizeof path, "%s/garbage.avi", dir);
    write_file(path, "RIFF\0\0\0\0AVI nonsense that is not a video at all", 48);
    return 0;
}

static int remove_media(void **state) {
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(file_source_loads_module_on_first_use, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(file_source_sequence_paced_and_looped, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_video_rate_from_file, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_resizes, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_idle_without_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_slow_loop_gets_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_missing_is_offline_then_retried, setup,
                                        teardown),
        cmocka_unit_test(file_source_reasons),
        cmocka_unit_test_setup_teardown(file_source_bad_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_closes_promptly, setup, teardown),
        cmocka_unit_test_setup_teardown(file_source_stream_reconnects, setup, teardown),
    };
    const struct CMUnitTest missing[] = {
        cmocka_unit_test_setup_teardown(file_source_missing_module, setup, teardown),
    };
    if (argc > 1 && strcmp(argv[1], "missing") == 0)
        return cmocka_run_group_tests(missing, make_media, remove_media);
    return cmocka_run_group_tests(tests, make_media, remove_media);
}
