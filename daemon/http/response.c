/* The HTTP/1.1 response writer (see http.h): status line and headers,
 * Content-Length or chunked bodies, JSON errors, and the end of a response,
 * which lets http.c parse the next pipelined request. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server.h"
#include "http_internal.h"
#include "pixd-config.h"

const char *pixd_http_reason(int s) {
    switch (s) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return s < 400 ? "OK" : "Error";
    }
}

void pixd__http_date_now(char *out, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static http_conn *hc_of(const pixd_http_req *r) { return r->hc; }

/* The status line and headers of r's response into head; its length, or
 * -E2BIG. Marks the response started. */
static int format_head(pixd_http_req *r, int status, const char *ctype, int64_t length,
                       const char *extra, char *head, size_t cap) {
    http_conn *hc = hc_of(r);
    char date[64];
    int n;

    r->started = 1;
    r->status = status;
    r->resp_chunked = length < 0;
    r->resp_left = length < 0 ? 0 : (uint64_t)length;
    pixd__http_date_now(date, sizeof date);
    n = snprintf(head, cap, "HTTP/1.1 %d %s\r\nServer: pixd/%s\r\nDate: %s\r\n",
                 status, pixd_http_reason(status), PIXD_VERSION, date);
    if (ctype)
        n += snprintf(head + n, cap - (size_t)n, "Content-Type: %s\r\n", ctype);
    if (status != 204 && status != 304) {
        if (length >= 0)
            n += snprintf(head + n, cap - (size_t)n, "Content-Length: %lld\r\n",
                          (long long)length);
        else
            n += snprintf(head + n, cap - (size_t)n, "Transfer-Encoding: chunked\r\n");
    }
    if (!http_should_keep_alive(&hc->parser) || hc->discard)
        n += snprintf(head + n, cap - (size_t)n, "Connection: close\r\n");
    if (extra)
        n += snprintf(head + n, cap - (size_t)n, "%s", extra);
    if ((size_t)n + 3 > cap)
        return -E2BIG;
    n += snprintf(head + n, cap - (size_t)n, "\r\n");
    return n;
}

int pixd_http_start(pixd_http_req *r, int status, const char *ctype, int64_t length,
                    const char *extra) {
    http_conn *hc = hc_of(r);
    char head[2048];
    int n;

    if (r->started || !hc->conn)
        return -EALREADY;
    if ((n = format_head(r, status, ctype, length, extra, head, sizeof head)) < 0)
        return n;
    return pixd_conn_write_copy(hc->conn, head, (size_t)n);
}

typedef struct head_wrap {
    pixd_release_cb release;
    void *ctx;
    char head[2048];
} head_wrap;

static void head_release(void *p) {
    head_wrap *w = p;
    if (w->release)
        w->release(w->ctx);
    free(w);
}

int pixd_http_start_body(pixd_http_req *r, int status, const char *ctype, const uv_buf_t *body,
                         unsigned n, const char *extra, pixd_release_cb release, void *ctx) {
    http_conn *hc = hc_of(r);
    uv_buf_t bufs[9];
    size_t len = 0;
    head_wrap *w;
    int h;

    for (unsigned i = 0; i < n; i++)
        len += body[i].len;
    if (r->started || !hc->conn || n > 8 || !(w = malloc(sizeof *w))) {
        if (release)
            release(ctx);
        return r->started || !hc->conn ? -EALREADY : -ENOMEM;
    }
    w->release = release;
    w->ctx = ctx;
    if ((h = format_head(r, status, ctype, (int64_t)len, extra, w->head, sizeof w->head)) < 0) {
        head_release(w);
        return h;
    }
    bufs[0] = uv_buf_init(w->head, (unsigned)h);
    if (r->head_only)
        n = 0;
    for (unsigned i = 0; i < n; i++)
        bufs[1 + i] = body[i];
    r->resp_left = 0;
    return pixd_conn_write(hc->conn, bufs, 1 + n, head_release, w);
}

typedef struct chunk_wrap {
    char head[24];
    pixd_release_cb release;
    void *ctx;
} chunk_wrap;

static void chunk_release(void *p) {
    chunk_wrap *w = p;
    if (w->release)
        w->release(w->ctx);
    free(w);
}

int pixd_http_write(pixd_http_req *r, const uv_buf_t *bufs, unsigned n,
                    pixd_release_cb release, void *ctx) {
    http_conn *hc = hc_of(r);
    size_t total = 0;
    if (!hc->conn || r->head_only || r->finished) {
        if (release)
            release(ctx);
        return r->head_only ? 0 : -EPIPE;
    }
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (!r->resp_chunked)
        return pixd_conn_write(hc->conn, bufs, n, release, ctx);
    if (total == 0) {
        if (release)
            release(ctx);
        return 0;
    }
    {
        chunk_wrap *w = malloc(sizeof *w);
        uv_buf_t all[66];
        if (!w || n > 64) {
            free(w);
            if (release)
                release(ctx);
            return -ENOMEM;
        }
        w->release = release;
        w->ctx = ctx;
        int hl = snprintf(w->head, sizeof w->head, "%zx\r\n", total);
        all[0] = uv_buf_init(w->head, (unsigned)hl);
        for (unsigned i = 0; i < n; i++)
            all[i + 1] = bufs[i];
        all[n + 1] = uv_buf_init((char *)"\r\n", 2);
        return pixd_conn_write(hc->conn, all, n + 2, chunk_release, w);
    }
}

int pixd_http_sendfile(pixd_http_req *r, int fd, uint64_t off, size_t n,
                       pixd_release_cb release, void *ctx) {
    http_conn *hc = hc_of(r);
    if (!hc->conn || r->head_only || r->finished) {
        if (release)
            release(ctx);
        return r->head_only ? 0 : -EPIPE;
    }
    if (r->resp_chunked)
        return -ENOTSUP;
    return pixd_conn_sendfile(hc->conn, fd, off, n, release, ctx);
}

int pixd_http_write_copy(pixd_http_req *r, const void *p, size_t n) {
    void *copy;
    uv_buf_t b;
    if (r->head_only || n == 0)
        return 0;
    if (!(copy = malloc(n)))
        return -ENOMEM;
    memcpy(copy, p, n);
    b = uv_buf_init(copy, (unsigned)n);
    return pixd_http_write(r, &b, 1, free, copy);
}

void pixd_http_finish(pixd_http_req *r) {
    http_conn *hc = hc_of(r);
    pixd_conn *c = hc->conn;
    if (r->finished)
        return;
    r->finished = 1;
    if (!r->started)
        pixd_http_start(r, 500, NULL, 0, NULL);
    if (r->resp_chunked && !r->head_only && c)
        pixd_conn_write_copy(c, "0\r\n\r\n", 5);
    pixd__http_count(r->route, r->status);
    hc->active = 0;
    hc->routed = 0;
    if (!c)
        return;
    if (!http_should_keep_alive(&hc->parser) || hc->discard || hc->error) {
        pixd_conn_end(c);
        return;
    }
    /* The next pipelined request, if any, waits in pending. */
    if (!hc->executing)
        pixd__http_process_pending(hc);
}

int pixd_http_respond(pixd_http_req *r, int status, const char *ctype, const void *body,
                      size_t len, const char *extra) {
    int rc = pixd_http_start(r, status, ctype, (int64_t)len, extra);
    if (rc == 0 && len)
        rc = pixd_http_write_copy(r, body, len);
    pixd_http_finish(r);
    return rc;
}

int pixd_http_error(pixd_http_req *r, int status, const char *msg) {
    char body[1024];
    size_t o = 0;
    o += (size_t)snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"",
                          pixd_http_reason(status));
    for (const char *p = msg ? msg : pixd_http_reason(status); *p && o + 8 < sizeof body; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            body[o++] = '\\';
            body[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(body + o, sizeof body - o, "\\u%04x", ch);
        } else {
            body[o++] = (char)ch;
        }
    }
    o += (size_t)snprintf(body + o, sizeof body - o, "\"}\n");
    return pixd_http_respond(r, status, "application/json", body, o, NULL);
}

int pixd_http_congested(const pixd_http_req *r) {
    const http_conn *hc = r->hc;
    return !hc->conn || pixd_conn_congested(hc->conn);
}

void pixd_http_hold(pixd_http_req *r, int hold) {
    http_conn *hc = hc_of(r);
    if (hc->conn)
        pixd_conn_hold(hc->conn, hold);
}

void pixd_http_streaming(pixd_http_req *r) {
    http_conn *hc = hc_of(r);
    if (hc->conn)
        pixd_conn_set_streaming(hc->conn, 1);
}
