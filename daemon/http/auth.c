/* Access keys over HTTP: "Authorization: Bearer NAME:SECRET" on every
 * route that needs a key; for GET and HEAD also "?key=NAME:SECRET" or the
 * cookie pixd_key=NAME:SECRET, since an <img> showing an MJPEG stream or a
 * stored image cannot send headers. Only reads take those: a cookie on a
 * request that changes something would let other sites' pages change it
 * (CSRF). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../auth/auth.h"
#include "../server.h"
#include "routes.h"

#define TOKEN_MAX (PIXD_KEY_NAME_MAX + 1 + PIXD_KEY_SECRET_MAX)

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The pixd_key cookie's value, percent-decoded (the page encodes it). */
static const char *cookie_token(const pixd_http_req *r, char *buf, size_t len) {
    const char *h = pixd_http_header(r, "Cookie");
    while (h && *h) {
        size_t n;
        while (*h == ' ' || *h == ';')
            h++;
        n = strcspn(h, ";");
        if (n > 9 && !strncmp(h, "pixd_key=", 9)) {
            size_t o = 0;
            for (size_t i = 9; i < n; i++) {
                char c = h[i];
                if (c == '%' && i + 2 < n && hexval(h[i + 1]) >= 0 && hexval(h[i + 2]) >= 0) {
                    c = (char)(hexval(h[i + 1]) * 16 + hexval(h[i + 2]));
                    i += 2;
                }
                if (o + 1 >= len || c == '\0')
                    return NULL;
                buf[o++] = c;
            }
            buf[o] = '\0';
            return buf;
        }
        h += n;
    }
    return NULL;
}

/* Where the request's token is, if anywhere. */
static const char *find_token(const pixd_http_req *r, char *buf, size_t len) {
    const char *a = pixd_http_header(r, "Authorization");
    if (a) {
        if (strncasecmp(a, "Bearer ", 7) != 0)
            return "";
        a += 7;
        while (*a == ' ')
            a++;
        return a;
    }
    if (r->method != PIXD_GET && r->method != PIXD_HEAD)
        return NULL;
    if (pixd_http_query(r, "key", buf, len))
        return buf;
    return cookie_token(r, buf, len);
}

static int refuse(pixd_http_req *r, int status, const char *msg) {
    char body[512];
    /* msg holds no quotes or backslashes: fixed text and key names. */
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}\n",
                     pixd_http_reason(status), msg);
    pixd_http_respond(r, status, "application/json", body, (size_t)n,
                      status == 401 ? "WWW-Authenticate: Bearer realm=\"pixd\"\r\n"
                                    : "Cache-Control: no-store\r\n");
    return status;
}

int pixd_http_authorize(pixd_http_req *r) {
    pixd_conn *c = r->conn;
    unsigned perm = pixd_http_route_perm(r->route, r->method);
    char buf[TOKEN_MAX + 2], msg[256], have[32], want[32];
    const pixd_key *k;
    const char *tok;

    if (!pixd_auth_required(c->srv))
        return 0;
    /* The page's mjpg-streamer actions (/?action=stream) show camera frames. */
    if (r->route == &pixd_route_page && pixd_http_query(r, "action", buf, sizeof buf))
        perm = PIXD_PERM_READ;
    if (perm == PIXD_HTTP_OPEN)
        return 0;
    tok = find_token(r, buf, sizeof buf);
    if (!tok)
        return refuse(r, 401, "this pixd needs an access key: send the header "
                              "Authorization: Bearer NAME:SECRET");
    if (pixd_auth_blocked(c, msg, sizeof msg))
        return refuse(r, 429, msg);
    k = pixd_auth_check_token(c->srv, tok, strlen(tok));
    if (!k) {
        char name[PIXD_KEY_NAME_MAX + 1] = "";
        size_t n = strcspn(tok, ":");
        /* Without a ':' the token may be a bare secret: log none of it. */
        if (tok[n] == ':')
            snprintf(name, sizeof name, "%.*s", (int)(n > PIXD_KEY_NAME_MAX ? PIXD_KEY_NAME_MAX : n),
                     tok);
        /* Printable only: the name goes to the log. */
        for (char *p = name; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"')
                *p = '?';
        pixd_auth_failed(c, name, tok[n] == ':' ? "wrong secret or no such key"
                                                : "token is not NAME:SECRET");
        return refuse(r, 401, "the access key was not accepted: unknown key name or wrong "
                              "secret (expected Bearer NAME:SECRET)");
    }
    if ((k->perms & perm) == perm)
        return 0;
    snprintf(msg, sizeof msg, "key %s may %s; this request needs %s permission", k->name,
             pixd_perms_text(k->perms, have, sizeof have),
             pixd_perms_text(perm, want, sizeof want));
    return refuse(r, 403, msg);
}
