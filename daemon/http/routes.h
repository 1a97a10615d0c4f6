/* Every route object, one per file that serves it; routes.c lists them. */
#ifndef PIXD_HTTP_ROUTES_H
#define PIXD_HTTP_ROUTES_H

#include "http.h"

/* routes_misc.c */
extern const pixd_http_route pixd_route_healthz;    /* GET /healthz */
extern const pixd_http_route pixd_route_status;     /* GET /api/v1/status */
/* routes_images.c */
extern const pixd_http_route pixd_route_images;     /* GET /api/v1/images */
extern const pixd_http_route pixd_route_image;      /* GET HEAD PUT DELETE /api/v1/images/NAME */
/* routes_resize.c */
extern const pixd_http_route pixd_route_resize;     /* POST /api/v1/resize */
/* routes_classify.c */
extern const pixd_http_route pixd_route_models;     /* GET /api/v1/models */
extern const pixd_http_route pixd_route_classify;   /* POST /api/v1/classify */
/* routes_metrics.c */
extern const pixd_http_route pixd_route_metrics;    /* GET /metrics */
/* routes_cameras.c */
extern const pixd_http_route pixd_route_cameras;    /* GET /api/v1/cameras */
extern const pixd_http_route pixd_route_snapshot;   /* GET /api/v1/cameras/NAME/snapshot */
extern const pixd_http_route pixd_route_stream;     /* GET /api/v1/cameras/NAME/stream */
extern const pixd_http_route pixd_route_ustream;    /* GET /stream[?camera=NAME] */
extern const pixd_http_route pixd_route_usnapshot;  /* GET /snapshot[?camera=NAME] */
/* GET /?action=stream|snapshot[&camera=NAME] (mjpg-streamer): the page route
 * calls this first; -1 when the query asks for neither, else what begin()
 * returns (the request then belongs to /stream or /snapshot). */
int pixd_http_camera_action(pixd_http_req *r);
/* routes.c: the PIXD_PERM_* bits a request to route with method m needs
 * when pixd has keys, or PIXD_HTTP_OPEN (no key needed). */
#define PIXD_HTTP_OPEN 0x100u
unsigned pixd_http_route_perm(const pixd_http_route *route, enum pixd_http_method m);
/* auth.c: 0 when the request may go on to its route; otherwise the 401 or
 * 403 has been sent and that status is returned. */
int pixd_http_authorize(pixd_http_req *r);

/* routes_web.c */
extern const pixd_http_route pixd_route_page;       /* GET / */
extern const pixd_http_route pixd_route_asset;      /* GET /static/NAME */

#endif
