/* What http.c (parsing, the handler) and response.c (the response
 * writer) share: the per-connection state. Not for routes. */
#ifndef PIXD_HTTP_INTERNAL_H
#define PIXD_HTTP_INTERNAL_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http.h"

#define URL_MAX 2048

typedef struct header {
    uint16_t name, name_len, value, value_len; /* offsets into hbuf */
} header;

typedef struct http_conn {
    http_parser parser;
    pixd_conn *conn;
    pixd_http_req req;
    int active;          /* req is between headers and finish */
    int routed;          /* the route's callbacks were called: abort() is owed */
    int discard;         /* body of a request already answered */
    int executing;       /* inside http_parser_execute */
    int held;            /* reads stopped until the response finishes */
    int error;           /* a protocol error was answered: stop parsing */
    uint64_t discarded;  /* body bytes dropped after a refusal */
    char url[URL_MAX];
    size_t url_len;
    char hbuf[PIXD_HTTP_MAX_HEADER_BYTES];
    size_t hlen;
    header headers[PIXD_HTTP_MAX_HEADERS];
    int nheaders, last_value;
    uint8_t *pending;     /* bytes after a paused request, parsed once it ends */
    size_t pending_len;
    uv_timer_t *header_timer; /* malloc'd: it may outlive this struct's free */
} http_conn;

/* http.c: parse the bytes held back while a response was going out (the
 * next pipelined request), once it has finished. */
void pixd__http_process_pending(http_conn *hc);
/* response.c: the Date header's value for now (IMF-fixdate). */
void pixd__http_date_now(char *out, size_t len);

#endif
