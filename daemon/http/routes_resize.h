/* Resize jobs over HTTP, shared by POST /api/v1/resize (routes_resize.c)
 * and GET /api/v1/images/NAME?width=... (routes_images.c). */
#ifndef PIXD_HTTP_ROUTES_RESIZE_H
#define PIXD_HTTP_ROUTES_RESIZE_H

#include "http.h"

/* 1 if r's query asks for a resize (width, height, mode, quality, format,
 * sharpen, enlarge). */
int pixd__http_resize_asked(pixd_http_req *r);

/* A request for the stored image name, resized as r's query says: reads
 * it, runs the job, answers with the result. Returns 0 (the answer follows,
 * r->state is the job's) or an HTTP status already answered. The route's
 * abort and resume callbacks hand over to the two below. */
int pixd__http_resize_stored(pixd_http_req *r, const char *name);
void pixd__http_resize_abort(pixd_http_req *r);
void pixd__http_resize_resume(pixd_http_req *r);

/* Answer {"error":..., "message":msg} with more header lines (extra, each
 * ending in "\r\n"), for the statuses that carry one (503 Retry-After). */
int pixd__http_error_extra(pixd_http_req *r, int status, const char *msg, const char *extra);

#endif
