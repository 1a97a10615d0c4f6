/* GET /metrics: Prometheus text exposition format 0.0.4.
 *
 * Everything is read from counters the loop already keeps (server, job
 * queue, hub, store, HTTP routes); building the page allocates only its
 * text, so scraping often costs little. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../server.h"
#include "json.h"
#include "pixd-config.h"
#include "routes.h"

#define CTYPE "text/plain; version=0.0.4; charset=utf-8"

static void family(pixd_buf *b, const char *name, const char *type, const char *help) {
    pixd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and line feed escaped. */
static void label_value(pixd_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\')
            pixd_buf_add(b, "\\\\", 2);
        else if (*s == '"')
            pixd_buf_add(b, "\\\"", 2);
        else if (*s == '\n')
            pixd_buf_add(b, "\\n", 2);
        else
            pixd_buf_add(b, s, 1);
    }
}

static void sample_l(pixd_buf *b, const char *name, const char *label, const char *value,
                     uint64_t v) {
    pixd_buf_printf(b, "%s{%s=\"", name, label);
    label_value(b, value);
    pixd_buf_printf(b, "\"} %" PRIu64 "\n", v);
}

static void gauge(pixd_buf *b, const char *name, const char *help, uint64_t v) {
    family(b, name, "gauge", help);
    pixd_buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void counter(pixd_buf *b, const char *name, const char *help, uint64_t v) {
    family(b, name, "counter", help);
    pixd_buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void histogram(pixd_buf *b, const char *name, const char *help,
                      const pixd_jobs_hist *h) {
    uint64_t cum = 0;
    family(b, name, "histogram", help);
    for (unsigned i = 0; i < PIXD_JOBS_HIST_N; i++) {
        cum += h->bucket[i];
        if (i < PIXD_JOBS_HIST_N - 1)
            pixd_buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
                            pixd_jobs_hist_bounds_ms[i] / 1000.0, cum);
        else
            pixd_buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    }
    pixd_buf_printf(b, "%s_sum %.9f\n%s_count %" PRIu64 "\n", name, h->sum_ns / 1e9, name,
                    h->count);
}

static void server_metrics(pixd_buf *b, const pixd_server *srv) {
    uint64_t in = 0, out = 0;

    family(b, "pixd_connections", "gauge", "Connections open now, by protocol handler.");
    for (int i = 0; i < PIXD_H_COUNT_; i++)
        sample_l(b, "pixd_connections", "handler", pixd_handlers[i]->name,
                 srv->n_by_handler[i]);
    counter(b, "pixd_connections_accepted_total", "Connections accepted.", srv->accepted);
    counter(b, "pixd_connections_refused_total",
            "Connections refused by --max-connections or --max-per-host.", srv->refused);
    /* pixd_server keeps no total for connections that have closed, so these
     * are gauges over the connections open now, not counters. */
    for (const pixd_conn *c = srv->conns; c; c = c->next) {
        in += c->bytes_in;
        out += c->bytes_out;
    }
    gauge(b, "pixd_open_connections_received_bytes",
          "Bytes received so far by the connections open now.", in);
    gauge(b, "pixd_open_connections_sent_bytes",
          "Bytes sent so far by the connections open now.", out);
}

static void http_metrics(pixd_buf *b) {
    const pixd_http_stats *st;
    size_t n = pixd_http_stats_get(&st);
    family(b, "pixd_http_requests_total", "counter", "HTTP requests answered, by route.");
    for (size_t i = 0; i < n; i++)
        sample_l(b, "pixd_http_requests_total", "route", st[i].name, st[i].requests);
    family(b, "pixd_http_errors_total", "counter",
           "HTTP responses with a status of 400 or more, by route.");
    for (size_t i = 0; i < n; i++)
        sample_l(b, "pixd_http_errors_total", "route", st[i].name, st[i].errors);
}

static void job_metrics(pixd_buf *b, const pixd_jobs *q) {
    gauge(b, "pixd_jobs_workers", "Image jobs that may run at once (--workers).", q->workers);
    gauge(b, "pixd_jobs_running", "Image jobs running now.", q->running);
    gauge(b, "pixd_jobs_waiting", "Image jobs waiting for a worker.", q->waiting);
    counter(b, "pixd_jobs_done_total", "Image jobs finished (or cancelled).", q->done_count);
    counter(b, "pixd_jobs_busy_total",
            "Image jobs refused because every worker was busy and the queue full.",
            q->busy_count);
    histogram(b, "pixd_job_queue_seconds", "Time image jobs waited for a worker.",
              &q->queue_hist);
    histogram(b, "pixd_job_run_seconds", "Time image jobs ran on a worker.", &q->run_hist);
}

static void camera_metrics(pixd_buf *b, pixd_hub *hub) {
    static const struct { const char *name, *type, *help; } fam[] = {
        {"pixd_camera_frames_total", "counter", "Frames captured (or pushed), by camera."},
        {"pixd_camera_delivered_total", "counter", "Frames handed to subscribers."},
        {"pixd_camera_dropped_total", "counter",
         "Frames a slow subscriber skipped or the source could not keep, by camera."},
        {"pixd_camera_fps", "gauge", "Frame rate measured over the last few seconds."},
        {"pixd_camera_subscribers", "gauge", "Subscribers (streams) now."},
        {"pixd_camera_online", "gauge", "1 while the camera delivers frames."},
        {"pixd_camera_broken_total", "counter",
         "Frames the camera sent broken (bad buffer, cut-short JPEG), skipped."},
    };
    pixd_cam_info *cams = NULL;
    size_t n = hub ? pixd_hub_list(hub, NULL, 0) : 0;

    if (n && (cams = calloc(n, sizeof *cams))) {
        size_t m = pixd_hub_list(hub, cams, n);
        n = m < n ? m : n;
    } else {
        n = 0;
    }
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        family(b, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < n; i++) {
            const pixd_cam_info *c = &cams[i];
            pixd_buf_printf(b, "%s{camera=\"", fam[f].name);
            label_value(b, c->name);
            pixd_buf_add(b, "\"} ", 3);
            switch (f) {
            case 0: pixd_buf_printf(b, "%" PRIu64 "\n", c->frames); break;
            case 1: pixd_buf_printf(b, "%" PRIu64 "\n", c->delivered); break;
            case 2: pixd_buf_printf(b, "%" PRIu64 "\n", c->dropped); break;
            case 3: pixd_buf_printf(b, "%.3f\n", c->fps_milli / 1000.0); break;
            case 4: pixd_buf_printf(b, "%u\n", c->subscribers); break;
            case 5: pixd_buf_printf(b, "%d\n", c->state == PIXD_CAM_ONLINE); break;
            default: pixd_buf_printf(b, "%" PRIu64 "\n", c->broken); break;
            }
        }
    }
    free(cams);
}

static int metrics_begin(pixd_http_req *r) {
    const pixd_server *srv = r->conn->srv;
    pixd_buf b = {0};

    family(&b, "pixd_build_info", "gauge", "Version of the running pixd.");
    pixd_buf_printf(&b, "pixd_build_info{version=\"%s\"} 1\n", PIXD_VERSION);
    family(&b, "pixd_uptime_seconds", "gauge", "Seconds since pixd started.");
    pixd_buf_printf(&b, "pixd_uptime_seconds %.3f\n", pixd_server_uptime_ms(srv) / 1000.0);
    server_metrics(&b, srv);
    http_metrics(&b);
    job_metrics(&b, &srv->jobs);
    camera_metrics(&b, srv->hub);
    gauge(&b, "pixd_store_bytes", "Bytes in the files of the image store.",
          srv->store ? pixd_store_bytes(srv->store) : 0);
    if (b.err) {
        pixd_buf_free(&b);
        pixd_http_error(r, 503, "out of memory; try again shortly");
        return 503;
    }
    pixd_http_respond(r, 200, CTYPE, b.data, b.len, "Cache-Control: no-store\r\n");
    pixd_buf_free(&b);
    return 0;
}

const pixd_http_route pixd_route_metrics = {
    .pattern = "/metrics",
    .methods = PIXD_GET,
    .name = "metrics",
    .begin = metrics_begin,
};
