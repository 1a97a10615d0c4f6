/* GET/HEAD /api/v1/images/NAME from the store's hot cache (routes_images_hot.c). */
#ifndef PIXD_HTTP_ROUTES_IMAGES_HOT_H
#define PIXD_HTTP_ROUTES_IMAGES_HOT_H

#include "http.h"

/* 1 if name (normalised) was cached and r has been answered; 0 if not
 * cached: go to the store. */
int pixd__http_serve_hot(pixd_http_req *r, const char *name);

#endif
