/* The web page: index.html at "/", its script and style sheet under
 * "/static/". The files are compiled in (web/embed.py makes web_assets.h
 * from daemon/http/web/), so there is nothing to install and nothing
 * fetched from elsewhere. Each is sent straight from read-only memory,
 * gzip'd when the browser takes it, with an ETag so a reload costs a 304. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "routes.h"
#include "web_assets.h"

#define NASSETS (sizeof web_assets / sizeof web_assets[0])

/* The page loads only its own files and talks only to pixd; frames of
 * other sites may not embed it. Images come from pixd, from blob: URLs (a
 * resize result) and from data: URLs (a blank tile). */
#define PAGE_HEADERS                                                                         \
    "Content-Security-Policy: default-src 'self'; img-src 'self' blob: data:; "              \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n"                        \
    "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"

static const web_asset *find_asset(const char *name) {
    for (size_t i = 0; i < NASSETS; i++)
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}

/* 1 if the client accepts gzip (a "gzip" coding without q=0). */
static int takes_gzip(const pixd_http_req *r) {
    const char *ae = pixd_http_header(r, "Accept-Encoding");
    while (ae && *ae) {
        size_t n = strcspn(ae, ",");
        const char *semi = memchr(ae, ';', n);
        size_t tok = semi ? (size_t)(semi - ae) : n;
        while (tok && (ae[tok - 1] == ' ' || ae[tok - 1] == '\t'))
            tok--;
        if (tok == 4 && strncasecmp(ae, "gzip", 4) == 0) {
            const char *q = semi ? strstr(semi, "q=") : NULL;
            /* q=0, q=0.0, q=0.000: refused; anything else: accepted. */
            if (!q || q >= ae + n || strspn(q + 2, "0.") < strcspn(q + 2, ", \t;"))
                return 1;
            return 0;
        }
        ae += n;
        while (*ae == ',' || *ae == ' ' || *ae == '\t')
            ae++;
    }
    return 0;
}

/* 1 if If-None-Match names etag (or is "*"). */
static int not_modified(const pixd_http_req *r, const char *etag) {
    const char *inm = pixd_http_header(r, "If-None-Match");
    size_t el = strlen(etag);
    if (!inm)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += el) {
        /* Weak comparison (RFC 9110): a W/ prefix does not matter. */
        char after = p[el];
        if (after == '\0' || after == ',' || after == ' ' || after == '\t')
            return 1;
    }
    return 0;
}

static int serve(pixd_http_req *r, const web_asset *a, int page) {
    int gz = a->gz && takes_gzip(r);
    const char *etag = gz ? a->gz_etag : a->etag;
    const unsigned char *data = gz ? a->gz : a->data;
    size_t len = gz ? a->gz_len : a->len;
    char extra[768];
    uv_buf_t b;

    /* no-cache: keep a copy but ask each time, so a new pixd's page is
     * picked up at once; the ETag makes the asking cheap. */
    snprintf(extra, sizeof extra,
             "ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n"
             "X-Content-Type-Options: nosniff\r\n%s%s",
             etag, gz ? "Content-Encoding: gzip\r\n" : "", page ? PAGE_HEADERS : "");
    if (not_modified(r, etag)) {
        pixd_http_respond(r, 304, NULL, NULL, 0, extra);
        return 0;
    }
    if (pixd_http_start(r, 200, a->ctype, (int64_t)len, extra) == 0) {
        b = uv_buf_init((char *)data, (unsigned)len);
        pixd_http_write(r, &b, 1, NULL, NULL); /* static bytes: nothing to release */
    }
    pixd_http_finish(r);
    return 0;
}

static int page_begin(pixd_http_req *r) {
    const web_asset *a = find_asset("index.html");
    /* mjpg-streamer's URLs are the page's path with ?action=...: */
    int rc = pixd_http_camera_action(r);
    if (rc >= 0)
        return rc;
    return a ? serve(r, a, 1) : 500;
}

static int asset_begin(pixd_http_req *r) {
    const web_asset *a = find_asset(r->param);
    if (!a) {
        pixd_http_error(r, 404, "no such file in the web page");
        return 0;
    }
    return serve(r, a, strcmp(a->name, "index.html") == 0);
}

static int no_body_end(pixd_http_req *r) {
    (void)r;
    return 0;
}

const pixd_http_route pixd_route_page = {
    .pattern = "/", .methods = PIXD_GET, .name = "page", .begin = page_begin,
    .end = no_body_end};
const pixd_http_route pixd_route_asset = {
    .pattern = "/static/*", .methods = PIXD_GET, .name = "static", .begin = asset_begin,
    .end = no_body_end};
