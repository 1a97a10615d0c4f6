/* The HTTP/1.1 handler: one more row in the handler table.
 *
 * http.c owns the parser (Debian's http-parser), limits (header bytes,
 * body size, slow clients), keep-alive and pipelining (one request at a
 * time per connection: the next is parsed when the current response
 * ends); response.c writes responses. Routes (routes.c) map a method and path
 * to the route callbacks below, which call the same store, job and camera
 * code as the native protocol. */
#ifndef PIXD_HTTP_H
#define PIXD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../conn.h"

#define PIXD_HTTP_MAX_HEADERS 64
#define PIXD_HTTP_MAX_HEADER_BYTES (16u << 10) /* request line + headers: 431 past this */
#define PIXD_HTTP_HEADER_TIMEOUT_MS 10000      /* whole header block must arrive by then */

typedef struct pixd_http_req pixd_http_req;
typedef struct pixd_http_route pixd_http_route;

enum pixd_http_method {
    PIXD_GET = 1 << 0, PIXD_HEAD = 1 << 1, PIXD_PUT = 1 << 2,
    PIXD_POST = 1 << 3, PIXD_DELETE = 1 << 4, PIXD_OPTIONS = 1 << 5
};

/* One request. Valid from route->begin until the response finishes or
 * route->abort is called; routes keep their own state in `state`. */
struct pixd_http_req {
    pixd_conn *conn;
    const pixd_http_route *route;
    enum pixd_http_method method;
    char path[1024];       /* percent-decoded, without the query */
    char query[1024];      /* raw, without '?' */
    char param[256];       /* the path segment matched by '*' in the route, decoded */
    uint64_t content_length; /* 0 if none */
    int has_body, chunked;
    void *state;           /* the route's */
    /* Internal to http.c. */
    struct http_conn *hc;
    int started, finished, head_only, resp_chunked;
    uint64_t resp_left;     /* bytes of a Content-Length body still to write */
    int status;
};

struct pixd_http_route {
    const char *pattern;   /* e.g. "/api/v1/images/" then '*': '*' matches one segment */
    unsigned methods;      /* PIXD_GET | ...; HEAD is allowed wherever GET is */
    const char *name;      /* for metrics: "images" */
    /* Headers are in. Return 0 (a response may start now or later), or an
     * HTTP status (>= 400) for http.c to answer with a JSON error. */
    int (*begin)(pixd_http_req *r);
    /* Body bytes (de-chunked), valid during the call. Return 0 or a status. */
    int (*body)(pixd_http_req *r, const uint8_t *p, size_t n);
    /* The body is complete. Return 0 or a status. */
    int (*end)(pixd_http_req *r);
    /* The connection went away before the response finished: release
     * r->state; no more calls for r. May be NULL when state is NULL. */
    void (*abort)(pixd_http_req *r);
    /* The connection can take more output (after pixd_http_congested()). */
    void (*resume)(pixd_http_req *r);
};

/* Headers of the request; NULL if absent (name compared case-insensitively). */
const char *pixd_http_header(const pixd_http_req *r, const char *name);
/* A query parameter, percent-decoded into buf; NULL if absent. */
const char *pixd_http_query(const pixd_http_req *r, const char *key, char *buf, size_t len);

/* ---- responses ----
 * extra: more header lines, each ending in "\r\n", or NULL. */
/* A whole response with a small body (copied). Finishes the request. */
int pixd_http_respond(pixd_http_req *r, int status, const char *ctype, const void *body,
                      size_t len, const char *extra);
/* {"error":"<reason phrase>","message":msg}. Finishes the request. */
int pixd_http_error(pixd_http_req *r, int status, const char *msg);
/* Start a streamed response: length >= 0 sends Content-Length, -1 uses
 * chunked encoding. For HEAD, only the header goes out. */
int pixd_http_start(pixd_http_req *r, int status, const char *ctype, int64_t length,
                    const char *extra);
/* A whole response whose body (n buffers, at most 8) is referenced, not
 * copied: the header and the body go out in one write, and release(ctx)
 * follows it (also on error). Call pixd_http_finish() next. */
int pixd_http_start_body(pixd_http_req *r, int status, const char *ctype, const uv_buf_t *body,
                         unsigned n, const char *extra, pixd_release_cb release, void *ctx);
/* Body bytes; they must stay valid until release(ctx) (see pixd_conn_write). */
int pixd_http_write(pixd_http_req *r, const uv_buf_t *bufs, unsigned n,
                    pixd_release_cb release, void *ctx);
int pixd_http_write_copy(pixd_http_req *r, const void *p, size_t n);
/* n bytes of the open file fd from off as body bytes, by sendfile where
 * the connection allows (pixd_conn_sendfile: same contract, -ENOTSUP
 * without release when it cannot, then write the bytes instead). */
int pixd_http_sendfile(pixd_http_req *r, int fd, uint64_t off, size_t n,
                       pixd_release_cb release, void *ctx);
/* End of the response: the next pipelined request is read. */
void pixd_http_finish(pixd_http_req *r);
/* 1 when output is backed up: wait for route->resume. */
int pixd_http_congested(const pixd_http_req *r);
/* Stop (1) / resume (0) reading the request body (upload backpressure). */
void pixd_http_hold(pixd_http_req *r, int hold);
/* A long-lived response (MJPEG): the idle timeout does not apply. */
void pixd_http_streaming(pixd_http_req *r);
const char *pixd_http_reason(int status);

/* routes.c: find the route for r->path and r->method; *allowed gets the
 * methods the path has (for 405); NULL if none matches (404). Fills
 * r->param. */
const pixd_http_route *pixd_http_match(pixd_http_req *r, unsigned *allowed);

/* Per-route counters for /metrics, indexed like the route table. */
typedef struct pixd_http_stats {
    const char *name;
    uint64_t requests, errors; /* errors: responses with status >= 400 */
} pixd_http_stats;
size_t pixd_http_stats_get(const pixd_http_stats **out);
void pixd__http_count(const pixd_http_route *route, int status);

#endif
