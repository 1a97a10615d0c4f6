/* The route table and the path matcher. */
#include <string.h>

#include "auth/keys.h"
#include "routes.h"

static const pixd_http_route *const table[] = {
    &pixd_route_page,
    &pixd_route_asset,
    &pixd_route_healthz,
    &pixd_route_metrics,
    &pixd_route_status,
    &pixd_route_images,
    &pixd_route_image,
    &pixd_route_resize,
    &pixd_route_models,
    &pixd_route_classify,
    &pixd_route_cameras,
    &pixd_route_snapshot,
    &pixd_route_stream,
    &pixd_route_ustream,
    &pixd_route_usnapshot,
};
#define NROUTES (sizeof table / sizeof table[0])

/* What each route needs with --keys (auth/keys.h): for GET and HEAD, and
 * for the other methods. A route missing here needs admin, so a route
 * added without a row fails closed. */
static const struct {
    const pixd_http_route *route;
    unsigned get, other;
} perms[] = {
    {&pixd_route_page, PIXD_HTTP_OPEN, PIXD_HTTP_OPEN},
    {&pixd_route_asset, PIXD_HTTP_OPEN, PIXD_HTTP_OPEN},
    {&pixd_route_healthz, PIXD_HTTP_OPEN, PIXD_HTTP_OPEN},
    {&pixd_route_metrics, PIXD_PERM_ADMIN, PIXD_PERM_ADMIN},
    {&pixd_route_status, PIXD_PERM_ADMIN, PIXD_PERM_ADMIN},
    {&pixd_route_images, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_image, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_resize, PIXD_PERM_WRITE, PIXD_PERM_WRITE},
    {&pixd_route_models, PIXD_PERM_READ, PIXD_PERM_READ},
    {&pixd_route_classify, PIXD_PERM_WRITE, PIXD_PERM_WRITE},
    {&pixd_route_cameras, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_snapshot, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_stream, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_ustream, PIXD_PERM_READ, PIXD_PERM_WRITE},
    {&pixd_route_usnapshot, PIXD_PERM_READ, PIXD_PERM_WRITE},
};

unsigned pixd_http_route_perm(const pixd_http_route *route, enum pixd_http_method m) {
    for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++)
        if (perms[i].route == route)
            return m == PIXD_GET || m == PIXD_HEAD ? perms[i].get : perms[i].other;
    return PIXD_PERM_ADMIN;
}

static pixd_http_stats stats[NROUTES + 1];

/* '*' matches one non-empty path segment, copied into param. */
static int match(const char *pat, const char *path, char *param, size_t plen) {
    while (*pat && *path) {
        if (*pat == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= plen)
                return 0;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pat++;
            continue;
        }
        if (*pat++ != *path++)
            return 0;
    }
    return *pat == '\0' && *path == '\0';
}

const pixd_http_route *pixd_http_match(pixd_http_req *r, unsigned *allowed) {
    unsigned m = r->method == PIXD_HEAD ? PIXD_GET | PIXD_HEAD : r->method;
    *allowed = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        /* Empty for patterns without '*': match() only writes it there. */
        char param[sizeof r->param] = "";
        if (!match(table[i]->pattern, r->path, param, sizeof param))
            continue;
        *allowed |= table[i]->methods;
        if (table[i]->methods & m) {
            strcpy(r->param, param);
            return table[i];
        }
    }
    return NULL;
}

size_t pixd_http_stats_get(const pixd_http_stats **out) {
    for (size_t i = 0; i < NROUTES; i++)
        stats[i].name = table[i]->name;
    stats[NROUTES].name = "unmatched";
    *out = stats;
    return NROUTES + 1;
}

void pixd__http_count(const pixd_http_route *route, int status) {
    size_t i = NROUTES;
    for (size_t k = 0; route && k < NROUTES; k++)
        if (table[k] == route)
            i = k;
    stats[i].requests++;
    if (status >= 400)
        stats[i].errors++;
}
