#include "server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "camera/source.h"
#include "classify/classify.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "timelapse.h"
#include "watchdog.h"
#include "tls.h"

/* How long in-flight work may take to finish after SIGTERM. */
#define STOP_GRACE_MS 3000

uint64_t pixd_server_uptime_ms(const pixd_server *srv) {
    return (uv_hrtime() - srv->start_hr) / 1000000u;
}

static void force_close_all(pixd_server *srv) {
    while (srv->conns)
        pixd_conn_close(srv->conns);
}

static void on_stop_timer(uv_timer_t *t) {
    pixd_server *srv = t->data;
    if (srv->conns)
        pixd_notice("closing connections that did not finish in time");
    force_close_all(srv);
}

static void stop_timelapses(pixd_server *srv) {
    for (size_t i = 0; i < PIXD_MAX_CAMERAS; i++) {
        pixd_timelapse_stop(srv->timelapse[i]);
        srv->timelapse[i] = NULL;
    }
}

void pixd_server_stop(pixd_server *srv) {
    if (srv->stopping) {
        force_close_all(srv);
        return;
    }
    srv->stopping = 1;
    pixd_notify("STOPPING=1");
    pixd_info("shutting down: %llu connection(s) to finish",
              (unsigned long long)srv->n_conns);
    pixd_listen_close_all(srv);
    stop_timelapses(srv);
    if (srv->hub)
        pixd_hub_close(srv->hub, NULL, NULL);
    for (pixd_conn *c = srv->conns, *n; c; c = n) {
        n = c->next;
        pixd_conn_goodbye(c, PIXD_BYE_SHUTDOWN);
    }
    /* Unreferenced: the loop ends as soon as the last connection closes,
     * and the timer only matters if one does not. */
    uv_timer_start(&srv->stop_timer, on_stop_timer, STOP_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&srv->stop_timer);
}

static void reload(pixd_server *srv) {
    pixd_notify("RELOADING=1");
    /* Later: other reloadable state hooks in here. */
    if (srv->opt->keys[0])
        pixd_auth_reload(srv);
    else
        pixd_info("SIGHUP: reloaded (nothing reloadable is configured)");
    pixd_notify("READY=1");
}

static void on_signal(uv_signal_t *h, int signum) {
    pixd_server *srv = h->data;
    if (signum == SIGHUP) {
        reload(srv);
        return;
    }
    if (srv->stopping)
        pixd_notice("second %s: closing everything now", strsignal(signum));
    else
        pixd_info("%s received", strsignal(signum));
    pixd_server_stop(srv);
}

static int start_signals(pixd_server *srv) {
    static const int signums[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(srv->loop, &srv->sig[i]);
        srv->sig[i].data = srv;
        int r = uv_signal_start(&srv->sig[i], on_signal, signums[i]);
        if (r < 0)
            return r;
        /* Signals never keep the loop alive by themselves. */
        uv_unref((uv_handle_t *)&srv->sig[i]);
    }
    return 0;
}

/* Each connection costs a descriptor; the default soft limit (1024) is
 * far below what a daemon serving many clients needs. */
static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int open_systemd_sockets(pixd_server *srv, int *n_out) {
    char **names = NULL;
    int n = pixd_notify_listen_fds(&names), r = 0;

    *n_out = n > 0 ? n : 0;
    if (n < 0) {
        pixd_err("socket activation: %s", strerror(-n));
        return n;
    }
    for (int i = 0; i < n && r == 0; i++) {
        const char *name = names && names[i] ? names[i] : "";
        const pixd_handler *h = pixd_handler_find(name);
        if (!h) {
            /* systemd names sockets "unknown" or after the unit unless
             * FileDescriptorName= says otherwise. */
            if (name[0] && strcmp(name, "unknown") != 0)
                pixd_notice("socket from systemd named \"%s\" matches no handler; "
                            "serving the native protocol on it", name);
            h = pixd_handlers[PIXD_H_NATIVE];
        }
        r = pixd_listen_fd_open(srv, h, 3 + i);
    }
    pixd_notify_free_names(names);
    return r;
}

/* --camera, or every V4L2 capture device, or a test pattern. */
static int open_cameras(pixd_server *srv) {
    const pixd_options *o = srv->opt;
    char err[256], paths[16][32];
    pixd_camera_spec spec;
    size_t n;
    int r;

    if (!(srv->hub = pixd_hub_new(srv->loop, &srv->jobs)))
        return -ENOMEM;
    for (size_t i = 0; i < o->n_cameras; i++) {
        if ((r = pixd_source_open(srv->hub, &o->cameras[i], err, sizeof err)) < 0) {
            pixd_err("camera %s: %s", o->cameras[i].name, err);
            return r;
        }
        if (o->cameras[i].linger_ms || o->cameras[i].always_on) {
            pixd_camera *cam = pixd_hub_find(srv->hub, o->cameras[i].name);
            if (cam && o->cameras[i].linger_ms)
                pixd_camera_set_linger(cam, (uint64_t)o->cameras[i].linger_ms * 1000u);
            if (cam && o->cameras[i].always_on)
                pixd_camera_set_always_on(cam, 1);
        }
        if (o->cameras[i].save_every &&
            (r = pixd_timelapse_start(srv->loop, srv->hub, srv->store, o->cameras[i].name,
                                      o->cameras[i].save_every, &srv->timelapse[i])) < 0)
            return r;
    }
    if (o->n_cameras)
        return 0;
    n = pixd_v4l2_find_devices(paths, 16);
    for (size_t i = 0; i < n; i++) {
        memset(&spec, 0, sizeof spec);
        snprintf(spec.name, sizeof spec.name, "video%s", paths[i] + strlen("/dev/video"));
        snprintf(spec.source, sizeof spec.source, "%s", paths[i]);
        if (pixd_source_open(srv->hub, &spec, err, sizeof err) < 0)
            pixd_warn("camera %s: %s", paths[i], err);
    }
    if (n)
        return 0;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.name, sizeof spec.name, "test");
    snprintf(spec.source, sizeof spec.source, "test");
    return pixd_source_open(srv->hub, &spec, err, sizeof err);
}

static int open_listeners(pixd_server *srv) {
    const pixd_options *o = srv->opt;
    int n_sd = 0, r;

    if ((r = open_systemd_sockets(srv, &n_sd)) < 0)
        return r;
    for (size_t i = 0; i < o->n_listens; i++)
        if ((r = pixd_listen_spec_open(srv, &o->listens[i])) < 0)
            return r;
    if (o->n_listens || n_sd)
        return 0;
    for (int i = 0; i < PIXD_H_COUNT_; i++) {
        const pixd_handler *h = pixd_handlers[i];
        pixd_listen_spec spec = {0};
        if (!h || !h->default_listen)
            continue;
        snprintf(spec.handler, sizeof spec.handler, "%s", h->name);
        snprintf(spec.addr, sizeof spec.addr, "%s", h->default_listen);
        if ((r = pixd_listen_spec_open(srv, &spec)) < 0)
            return r;
    }
    return 0;
}

/* Every as=NAME of --listen names a key of --keys (a typo would lock
 * the listener's clients out, silently). */
static int check_listener_keys(pixd_server *srv) {
    const pixd_options *o = srv->opt;
    for (size_t i = 0; i < o->n_listens; i++) {
        const char *as = o->listens[i].as;
        if (!as[0])
            continue;
        if (!srv->keys) {
            pixd_err("--listen %s=%s: as=%s needs --keys FILE (without keys every client "
                     "may do everything)", o->listens[i].handler, o->listens[i].addr, as);
            return -EINVAL;
        }
        if (!pixd_keys_find(srv->keys, as)) {
            pixd_err("--listen %s=%s: as=%s: no such key in %s", o->listens[i].handler,
                     o->listens[i].addr, as, o->keys);
            return -EINVAL;
        }
    }
    return 0;
}

int pixd_server_start(pixd_server *srv, uv_loop_t *loop, const pixd_options *opt) {
    int r;

    srv->loop = loop;
    srv->opt = opt;
    srv->start_hr = uv_hrtime();
    if ((r = pixd_hosts_init(&srv->hosts)) < 0)
        return r;
    if ((r = pixd_auth_start(srv)) < 0)
        return r;
    if ((r = check_listener_keys(srv)) < 0)
        return r;
    /* --conn-rate N: bursts of N, then one every 1/N s. */
    if ((r = pixd_ratelimit_init(&srv->connrate, 4096, opt->conn_rate,
                                 opt->conn_rate ? 1000 / opt->conn_rate : 0)) < 0)
        return r;
    uv_timer_init(loop, &srv->stop_timer);
    srv->stop_timer.data = srv;
    uv_unref((uv_handle_t *)&srv->stop_timer);
    raise_fd_limit();
    {
        unsigned w = opt->workers ? opt->workers : pixd_jobs_default_workers();
        /* A short line per worker: enough to keep every core busy between
         * requests, short enough that "busy" comes quickly under overload. */
        pixd_jobs_init(&srv->jobs, loop, w, w * 8);
    }
    {
        char dir[4096], err[512];
        const char *path = pixd_options_store_dir(opt, dir, sizeof dir);
        if ((r = pixd_store_open(&srv->store, loop, path, opt->max_upload, opt->max_store,
                                 err, sizeof err)) < 0) {
            pixd_err("%s; choose another with --store DIR", err);
            return r;
        }
        pixd_store_set_verify_images(srv->store, opt->verify_images);
        pixd_info("store: %s (%llu bytes)", path,
                  (unsigned long long)pixd_store_bytes(srv->store));
    }
    if ((r = start_signals(srv)) < 0) {
        pixd_err("cannot handle signals: %s", uv_strerror(r));
        return r;
    }
    if (opt->n_models) {
        char err[1024];
        if ((r = pixd_classify_open(&srv->classify, opt->models, opt->n_models, &srv->jobs,
                                    opt->max_pixels, err, sizeof err)) < 0) {
            pixd_err("%s", err);
            return r;
        }
        for (size_t i = 0; i < opt->n_models; i++)
            pixd_info("model %s: %s", opt->models[i].name, opt->models[i].path);
    }
    if (opt->tls_cert[0] || opt->tls_key[0]) {
        char err[700];
        if (!opt->tls_cert[0] || !opt->tls_key[0]) {
            pixd_err("TLS needs both --tls-cert FILE and --tls-key FILE");
            return -EINVAL;
        }
        if ((r = pixd_tls_ctx_new(opt->tls_cert, opt->tls_key, &srv->tls_ctx, err,
                                  sizeof err)) < 0) {
            pixd_err("%s", err);
            return r;
        }
        pixd_info("TLS on every TCP listener (certificate %s)", opt->tls_cert);
    }
    if ((r = open_cameras(srv)) < 0)
        return r;
    if ((r = open_listeners(srv)) < 0)
        return r;
    if (!srv->listeners) {
        pixd_err("nothing to listen on: give --listen PROTO=ADDR");
        return -EINVAL;
    }
    pixd_notify("READY=1");
    pixd_watchdog_start(loop, &srv->watchdog);
    return 0;
}

static void closed_nothing(uv_handle_t *h) { (void)h; }

void pixd_server_free(pixd_server *srv) {
    pixd_listen_close_all(srv);
    stop_timelapses(srv);
    if (srv->hub)
        pixd_hub_close(srv->hub, NULL, NULL);
    force_close_all(srv);
    for (int i = 0; i < 3; i++)
        if (srv->sig[i].loop && !uv_is_closing((uv_handle_t *)&srv->sig[i]))
            uv_close((uv_handle_t *)&srv->sig[i], closed_nothing);
    if (srv->stop_timer.loop && !uv_is_closing((uv_handle_t *)&srv->stop_timer))
        uv_close((uv_handle_t *)&srv->stop_timer, closed_nothing);
    pixd_watchdog_stop(&srv->watchdog);
    /* Let the close callbacks run so every handle's memory is released. */
    if (srv->loop)
        uv_run(srv->loop, UV_RUN_DEFAULT);
    pixd_hosts_free(&srv->hosts);
    pixd_auth_stop(srv);
    pixd_ratelimit_free(&srv->connrate);
    pixd_tls_ctx_free(srv->tls_ctx);
    srv->tls_ctx = NULL;
    pixd_store_free(srv->store);
    srv->store = NULL;
    pixd_hub_free(srv->hub);
    srv->hub = NULL;
    pixd_classify_free(srv->classify);
    srv->classify = NULL;
}
