/* The route table and the path matcher. */
#include <string.h>

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
        char param[sizeof r->param];
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
