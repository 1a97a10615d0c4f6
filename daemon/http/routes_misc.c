/* /healthz and /api/v1/status. */
#include <stdio.h>
#include <unistd.h>

#include "../server.h"
#include "pixd-config.h"
#include "routes.h"

/* For load balancers (HAProxy): 200 while pixd serves, 503 once stopping. */
static int healthz(pixd_http_req *r) {
    if (r->conn->srv->stopping)
        return pixd_http_respond(r, 503, "text/plain", "stopping\n", 9, NULL), 0;
    pixd_http_respond(r, 200, "text/plain", "ok\n", 3, "Cache-Control: no-store\r\n");
    return 0;
}

static int status(pixd_http_req *r) {
    pixd_server *srv = r->conn->srv;
    char body[4096];
    size_t o = 0;
    int first = 1;

    o += (size_t)snprintf(body + o, sizeof body - o,
                          "{\"version\":\"%s\",\"protocol\":%d,\"pid\":%ld,\"uptime_ms\":%llu,"
                          "\"connections\":%llu,\"store_bytes\":%llu,\"listeners\":[",
                          PIXD_VERSION, 1, (long)getpid(),
                          (unsigned long long)pixd_server_uptime_ms(srv),
                          (unsigned long long)srv->n_conns,
                          (unsigned long long)pixd_store_bytes(srv->store));
    for (pixd_listener *l = srv->listeners; l && o < sizeof body - 300; l = l->next) {
        o += (size_t)snprintf(body + o, sizeof body - o, "%s{\"handler\":\"%s\",\"address\":\"%s\"}",
                              first ? "" : ",", l->handler->name, l->addr);
        first = 0;
    }
    o += (size_t)snprintf(body + o, sizeof body - o, "],\"jobs\":{\"workers\":%u,\"running\":%u,"
                          "\"waiting\":%u}}\n", srv->jobs.workers, srv->jobs.running,
                          srv->jobs.waiting);
    pixd_http_respond(r, 200, "application/json", body, o, "Cache-Control: no-store\r\n");
    return 0;
}

const pixd_http_route pixd_route_healthz = {
    .pattern = "/healthz", .methods = PIXD_GET, .name = "healthz", .begin = healthz};
const pixd_http_route pixd_route_status = {
    .pattern = "/api/v1/status", .methods = PIXD_GET, .name = "status", .begin = status};
