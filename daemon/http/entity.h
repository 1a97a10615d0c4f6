/* A stored file as HTTP describes it, and what a client's headers ask of
 * it: Content-Type, validators (ETag from the SHA-256, Last-Modified),
 * conditional requests and byte ranges (RFC 9110, 13 and 14), and the
 * SHA-256 a client may send with an upload (RFC 3230 Digest, RFC 9530
 * Content-Digest, X-Content-SHA256). Pure functions over a request's
 * headers and a pixproto_entry; used by routes_images.c. */
#ifndef PIXD_HTTP_ENTITY_H
#define PIXD_HTTP_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "pixproto.h"

/* "image/jpeg" for the store's type "jpeg", ...; else application/octet-stream. */
const char *pixd__http_content_type(const char *type);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void pixd__http_hex(const uint8_t *p, size_t n, char *out);
/* IMF-fixdate (RFC 9110, 5.6.7) of a time in ms, whatever the locale. */
void pixd__http_date(uint64_t ms, char out[80]);

/* The header lines every response about e carries (ETag, Last-Modified,
 * Cache-Control, X-Content-Type-Options), each ending in "\r\n". */
void pixd__http_entity_headers(const pixproto_entry *e, char *out, size_t len);

/* 1 if r's If-None-Match (weak comparison), or without it its
 * If-Modified-Since, says the client's copy of e is current: answer 304. */
int pixd__http_not_modified(const pixd_http_req *r, const pixproto_entry *e);

enum pixd_http_range { PIXD_RANGE_NONE, PIXD_RANGE_OK, PIXD_RANGE_UNSATISFIABLE };
/* r's Range for e: one range a-b, a- or -n gives OK with *off and *len
 * (len >= 1); NONE (send the whole file) for no Range, several ranges,
 * another unit, bad syntax or an If-Range that does not match;
 * UNSATISFIABLE (416) when the range lies past the end. */
enum pixd_http_range pixd__http_range(const pixd_http_req *r, const pixproto_entry *e,
                                      uint64_t *off, uint64_t *len);

/* The SHA-256 the client sent for its upload, from X-Content-SHA256 (hex),
 * Digest (sha-256=BASE64) or Content-Digest (sha-256=:BASE64:): 1 with
 * the digest in out, 0 if none, -1 if malformed or contradictory (why
 * says which, for a 400). */
int pixd__http_client_sha256(const pixd_http_req *r, uint8_t out[32], char *why, size_t whylen);

#endif
