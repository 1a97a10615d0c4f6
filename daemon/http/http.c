/* The HTTP/1.1 handler: parsing (Debian's http-parser), limits,
 * keep-alive and pipelining (see http.h); the response writer is
 * response.c. */
#include "http.h"

#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../handler.h"
#include "../log.h"
#include "../server.h"
#include "http_internal.h"
#include "routes.h"
#include "pixd-config.h"

#define PENDING_MAX (64u << 10)

static http_parser_settings settings;

/* ---- small helpers ---- */

const char *pixd_http_header(const pixd_http_req *r, const char *name) {
    const http_conn *hc = r->hc;
    size_t n = strlen(name);
    for (int i = 0; i < hc->nheaders; i++) {
        const header *h = &hc->headers[i];
        if (h->name_len == n && strncasecmp(hc->hbuf + h->name, name, n) == 0)
            return hc->hbuf + h->value;
    }
    return NULL;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode n bytes of s into out; -1 for %00, bad escapes or overflow.
 * plus: '+' means space (query strings). */
static int pct_decode(const char *s, size_t n, char *out, size_t outlen, int plus) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
            if (c == 0)
                return -1;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

const char *pixd_http_query(const pixd_http_req *r, const char *key, char *buf, size_t len) {
    const char *q = r->query;
    size_t kl = strlen(key);
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n >= kl && strncmp(q, key, kl) == 0 && (n == kl || q[kl] == '=')) {
            const char *v = n == kl ? q + n : q + kl + 1;
            if (pct_decode(v, (size_t)(q + n - v), buf, len, 1) < 0)
                return NULL;
            return buf;
        }
        q += n + (amp ? 1 : 0);
    }
    return NULL;
}

/* ---- parsing ---- */

/* A request-level error found by http.c itself (not a route). */
static void fail(http_conn *hc, int status, const char *msg) {
    pixd_http_req *r = &hc->req;
    hc->error = 1;
    hc->discard = 1;
    /* A route already working on this request (the parser failed after its
     * headers, e.g. on a bad body encoding) lets go of it first. */
    if (hc->active && hc->routed && !r->finished && !r->started && r->route && r->route->abort) {
        hc->routed = 0;
        r->route->abort(r);
    }
    if (!hc->active) {
        memset(r, 0, sizeof *r);
        r->hc = hc;
        r->conn = hc->conn;
        hc->active = 1;
    }
    if (!r->started)
        pixd_http_error(r, status, msg);
    else
        pixd_http_finish(r);
}

static void header_timeout(uv_timer_t *t) {
    http_conn *hc = t->data;
    if (!hc || !hc->conn)
        return;
    pixd_info("http %s: request headers took too long, disconnecting", hc->conn->peer);
    fail(hc, 408, "request headers took too long");
}

static int on_message_begin(http_parser *p) {
    http_conn *hc = p->data;
    if (hc->error || !hc->conn || hc->conn->cstate != PIXD_CONN_OPEN)
        return -1; /* the connection is ending: no further requests */
    hc->url_len = 0;
    hc->hlen = 0;
    hc->nheaders = 0;
    hc->last_value = 0;
    hc->discard = 0;
    hc->discarded = 0;
    memset(&hc->req, 0, sizeof hc->req);
    hc->req.hc = hc;
    hc->req.conn = hc->conn;
    /* Slow clients (slowloris) must send the whole header block in time;
     * --idle-timeout, when shorter, shortens it too. */
    {
        unsigned ms = PIXD_HTTP_HEADER_TIMEOUT_MS, idle = hc->conn->srv->opt->idle_timeout_ms;
        uv_timer_start(hc->header_timer, header_timeout, idle && idle < ms ? idle : ms, 0);
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
    http_conn *hc = p->data;
    if (hc->url_len + n >= URL_MAX) {
        fail(hc, 414, "the URL is longer than 2048 bytes");
        return -1;
    }
    memcpy(hc->url + hc->url_len, at, n);
    hc->url_len += n;
    return 0;
}

static int hbuf_add(http_conn *hc, const char *at, size_t n) {
    if (hc->hlen + n + 1 >= sizeof hc->hbuf) {
        fail(hc, 431, "request headers are larger than 16 KiB");
        return -1;
    }
    memcpy(hc->hbuf + hc->hlen, at, n);
    hc->hlen += n;
    hc->hbuf[hc->hlen] = '\0';
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
    http_conn *hc = p->data;
    if (hc->last_value || hc->nheaders == 0) {
        if (hc->nheaders == PIXD_HTTP_MAX_HEADERS) {
            fail(hc, 431, "more than 64 request headers");
            return -1;
        }
        hc->hlen++; /* the previous value's NUL */
        hc->headers[hc->nheaders].name = (uint16_t)hc->hlen;
        hc->headers[hc->nheaders].name_len = 0;
        hc->headers[hc->nheaders].value_len = 0;
        hc->nheaders++;
        hc->last_value = 0;
    }
    hc->headers[hc->nheaders - 1].name_len += (uint16_t)n;
    return hbuf_add(hc, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
    http_conn *hc = p->data;
    header *h;
    if (hc->nheaders == 0)
        return 0;
    h = &hc->headers[hc->nheaders - 1];
    if (!hc->last_value) {
        hc->hlen++; /* NUL after the name */
        h->value = (uint16_t)hc->hlen;
        hc->last_value = 1;
    }
    h->value_len += (uint16_t)n;
    return hbuf_add(hc, at, n);
}

/* --log-requests: method and path only. Queries and headers can carry
 * secrets (tokens), so they never reach the log. */
static void log_request(http_conn *hc, const http_parser *p) {
    const char *method = http_method_str((enum http_method)p->method);
    const pixd_log_field f[] = {
        {"conn", NULL, (long long)hc->conn->id}, {"peer", hc->conn->peer, 0},
        {"handler", "http", 0}, {"event", "request", 0}, {"method", method, 0},
        {"path", hc->req.path, 0},
    };
    pixd_log_fields(PIXD_LOG_INFO, f, sizeof f / sizeof f[0], "conn %llu %s: http %s %s",
                    (unsigned long long)hc->conn->id, hc->conn->peer, method, hc->req.path);
}

static enum pixd_http_method method_of(unsigned m) {
    switch (m) {
    case HTTP_GET: return PIXD_GET;
    case HTTP_HEAD: return PIXD_HEAD;
    case HTTP_PUT: return PIXD_PUT;
    case HTTP_POST: return PIXD_POST;
    case HTTP_DELETE: return PIXD_DELETE;
    case HTTP_OPTIONS: return PIXD_OPTIONS;
    default: return 0;
    }
}

static int route_status(http_conn *hc, int rc) {
    if (rc >= 400) {
        pixd_http_req *r = &hc->req;
        /* The route refused: answer now, skip any body, and close, so a
         * refused 1 GiB upload is not read to the end. */
        hc->discard = 1;
        if (!r->started)
            pixd_http_error(r, rc, NULL);
        else if (!r->finished)
            pixd_http_finish(r);
        return 0;
    }
    return 0;
}

static int on_headers_complete(http_parser *p) {
    http_conn *hc = p->data;
    pixd_http_req *r = &hc->req;
    struct http_parser_url u;
    const pixd_http_route *route;
    unsigned allowed = 0;
    const char *expect;
    int rc;

    uv_timer_stop(hc->header_timer);
    hc->active = 1;
    if (hc->nheaders)
        hc->hlen++;
    hc->url[hc->url_len] = '\0';
    r->method = method_of(p->method);
    r->head_only = r->method == PIXD_HEAD;
    http_parser_url_init(&u);
    if (http_parser_parse_url(hc->url, hc->url_len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH)) ||
        pct_decode(hc->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len, r->path,
                   sizeof r->path, 0) < 0) {
        fail(hc, 400, "malformed request target");
        return 0;
    }
    if (u.field_set & (1 << UF_QUERY)) {
        size_t ql = u.field_data[UF_QUERY].len;
        if (ql >= sizeof r->query) {
            fail(hc, 414, "the query string is too long");
            return 0;
        }
        memcpy(r->query, hc->url + u.field_data[UF_QUERY].off, ql);
        r->query[ql] = '\0';
    }
    r->chunked = (p->flags & F_CHUNKED) != 0;
    r->has_body = r->chunked || (p->content_length > 0 && p->content_length != ULLONG_MAX);
    r->content_length = r->has_body && !r->chunked ? p->content_length : 0;
    if (!r->method) {
        fail(hc, 501, "method not supported");
        return 0;
    }
    if (pixd_log_requests())
        log_request(hc, p);
    route = pixd_http_match(r, &allowed);
    if (!route) {
        if (allowed) {
            hc->req.route = NULL;
            fail(hc, 405, "method not allowed on this path");
        } else {
            fail(hc, 404, "no such page or API route (the API is under /api/v1/)");
        }
        return 0;
    }
    r->route = route;
    if ((rc = pixd_http_authorize(r)) != 0)
        return route_status(hc, rc);
    expect = pixd_http_header(r, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && r->has_body) {
        /* Checked below: a refusal goes out instead of the 100. */
        hc->routed = 1;
        rc = route->begin ? route->begin(r) : 0;
        if (rc >= 400)
            return route_status(hc, rc);
        if (!r->started)
            pixd_conn_write_copy(hc->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        return 0;
    }
    hc->routed = 1;
    return route_status(hc, route->begin ? route->begin(r) : 0);
}

/* After a refusal the rest of the body is read and dropped, so the client
 * can read the answer (closing with unread data would reset the
 * connection and lose it), but only up to a point: past DISCARD_MAX the
 * connection is closed rather than read to the end of a huge upload. */
#define DISCARD_MAX (64u << 20)

static int on_body(http_parser *p, const char *at, size_t n) {
    http_conn *hc = p->data;
    pixd_http_req *r = &hc->req;
    if (hc->discard || r->finished) {
        hc->discarded += n;
        if (hc->discarded > DISCARD_MAX && hc->conn) {
            pixd_conn_end(hc->conn);
            return -1;
        }
        return 0;
    }
    if (!r->route || !r->route->body)
        return 0;
    return route_status(hc, r->route->body(r, (const uint8_t *)at, n));
}

static int on_message_complete(http_parser *p) {
    http_conn *hc = p->data;
    pixd_http_req *r = &hc->req;
    /* A route without end() answers from its own callbacks. */
    if (!hc->discard && !r->finished && r->route && r->route->end)
        route_status(hc, r->route->end(r));
    /* One request at a time: the next waits until this response ends. */
    if (!r->finished)
        http_parser_pause(p, 1);
    return 0;
}

static void execute(http_conn *hc, const uint8_t *data, size_t len) {
    size_t done;
    enum http_errno e;

    hc->executing = 1;
    done = http_parser_execute(&hc->parser, &settings, (const char *)data, len);
    hc->executing = 0;
    if (!hc->conn || hc->error)
        return;
    e = HTTP_PARSER_ERRNO(&hc->parser);
    if (e == HPE_PAUSED) {
        size_t left = len - done;
        if (left > PENDING_MAX - hc->pending_len) {
            fail(hc, 400, "too much pipelined data");
            return;
        }
        if (left) {
            uint8_t *p = realloc(hc->pending, hc->pending_len + left);
            if (!p) {
                pixd_conn_close(hc->conn);
                return;
            }
            memcpy(p + hc->pending_len, data + done, left);
            hc->pending = p;
            hc->pending_len += left;
        }
        if (!hc->held) {
            hc->held = 1;
            pixd_conn_hold(hc->conn, 1);
        }
        /* The response may have finished inside the parse. */
        if (hc->req.finished)
            pixd__http_process_pending(hc);
        return;
    }
    if (e != HPE_OK) {
        int status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
        char msg[160];
        snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
        fail(hc, status, msg);
    }
}

void pixd__http_process_pending(http_conn *hc) {
    uint8_t *data = hc->pending;
    size_t len = hc->pending_len;
    if (HTTP_PARSER_ERRNO(&hc->parser) == HPE_PAUSED)
        http_parser_pause(&hc->parser, 0);
    hc->pending = NULL;
    hc->pending_len = 0;
    if (len)
        execute(hc, data, len);
    free(data);
    if (hc->conn && hc->held && HTTP_PARSER_ERRNO(&hc->parser) != HPE_PAUSED) {
        hc->held = 0;
        pixd_conn_hold(hc->conn, 0);
    }
}

/* ---- the handler ---- */

static void timer_freed(uv_handle_t *h) { free(h); }

static int http_open(pixd_conn *c) {
    http_conn *hc = c->state;
    hc->conn = c;
    http_parser_init(&hc->parser, HTTP_REQUEST);
    hc->parser.data = hc;
    hc->header_timer = malloc(sizeof *hc->header_timer);
    if (!hc->header_timer)
        return -ENOMEM;
    uv_timer_init(c->srv->loop, hc->header_timer);
    hc->header_timer->data = hc;
    return 0;
}

static void http_read(pixd_conn *c, const uint8_t *data, size_t len) {
    http_conn *hc = c->state;
    if (hc->error)
        return;
    if (hc->held || HTTP_PARSER_ERRNO(&hc->parser) == HPE_PAUSED) {
        /* Bytes read before the hold took effect. */
        size_t left = len;
        uint8_t *p;
        if (left > PENDING_MAX - hc->pending_len) {
            fail(hc, 400, "too much pipelined data");
            return;
        }
        if (!(p = realloc(hc->pending, hc->pending_len + left)))
            return;
        memcpy(p + hc->pending_len, data, left);
        hc->pending = p;
        hc->pending_len += left;
        return;
    }
    execute(hc, data, len);
}

static void http_goodbye(pixd_conn *c, enum pixd_goodbye why) {
    char date[64], buf[512];
    int n;
    static const char body_limit[] = "{\"error\":\"Service Unavailable\",\"message\":\"too many "
                                     "connections; try again later\"}\n";
    static const char body_tls[] = "{\"error\":\"Bad Request\",\"message\":\"this port speaks "
                                   "HTTPS: use https://\"}\n";
    http_conn *hc = c->state;
    if (why == PIXD_BYE_NOT_TLS) {
        n = snprintf(buf, sizeof buf, "HTTP/1.1 400 Bad Request\r\nServer: pixd/%s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", PIXD_VERSION, sizeof body_tls - 1, body_tls);
        pixd_conn_write_copy(c, buf, (size_t)n);
        return;
    }
    if (why == PIXD_BYE_LIMIT) {
        pixd__http_date_now(date, sizeof date);
        n = snprintf(buf, sizeof buf, "HTTP/1.1 503 Service Unavailable\r\nServer: pixd/%s\r\n"
                     "Date: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Retry-After: 1\r\nConnection: close\r\n\r\n%s", PIXD_VERSION, date,
                     sizeof body_limit - 1, body_limit);
        pixd_conn_write_copy(c, buf, (size_t)n);
        return;
    }
    /* Idle or shutting down: a request in headers hears 408 / 503; an idle
     * keep-alive connection just closes, as HTTP/1.1 allows. */
    if (hc && hc->header_timer && uv_is_active((uv_handle_t *)hc->header_timer))
        fail(hc, why == PIXD_BYE_IDLE ? 408 : 503,
             why == PIXD_BYE_IDLE ? "request headers took too long" : "pixd is shutting down");
}

static void http_drain(pixd_conn *c) {
    http_conn *hc = c->state;
    if (hc->active && hc->routed && !hc->req.finished && hc->req.route && hc->req.route->resume)
        hc->req.route->resume(&hc->req);
}

static void http_close(pixd_conn *c) {
    http_conn *hc = c->state;
    if (hc->active && hc->routed && !hc->req.finished && hc->req.route && hc->req.route->abort)
        hc->req.route->abort(&hc->req);
    hc->req.conn = NULL;
    hc->conn = NULL;
    if (hc->header_timer) {
        hc->header_timer->data = NULL;
        uv_close((uv_handle_t *)hc->header_timer, timer_freed);
        hc->header_timer = NULL;
    }
    free(hc->pending);
    hc->pending = NULL;
}

static void settings_init(void) __attribute__((constructor));
static void settings_init(void) {
    settings.on_message_begin = on_message_begin;
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
    http_parser_set_max_header_size(PIXD_HTTP_MAX_HEADER_BYTES);
}

const pixd_handler pixd_http_handler = {
    .name = "http",
    .default_listen = "127.0.0.1:7080",
    .summary = "HTTP/1.1: web page, JSON API under /api/v1/, MJPEG, /metrics",
    .state_size = sizeof(http_conn),
    .open = http_open,
    .read = http_read,
    .goodbye = http_goodbye,
    .drain = http_drain,
    .close = http_close,
    .tls = 1,
    .own_auth = 1,
};

