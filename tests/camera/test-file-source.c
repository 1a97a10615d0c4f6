/* file: and URL cameras on a real loop and hub, with files made here: a
 * JPEG image sequence, an MJPEG AVI written by hand, and an MJPEG-over-HTTP
 * stream served from loopback. Each frame is a flat gray whose level says
 * which frame of the file it is, so order, looping and skipping show.
 * Run with "missing" as argument (and PIXD_MODULE_DIR pointing nowhere),
 * it checks the error when the module is not installed instead. */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera/hub.h"
#include "camera/source.h"
#include "camera/videoio.h"
#include "file-media.h"
#include "file-world.h"

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
