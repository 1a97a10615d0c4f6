/* The interface between the image library and its codecs module,
 * pixd-codecs.so: OpenCV imgcodecs, kept out of the always-loaded daemon
 * (ARCHITECTURE.md, "Memory budget") and loaded with dlopen on first use.
 *
 * The module exports one symbol, PIXD_CODECS_SYMBOL, a table of functions
 * whose first field is the ABI version; the loader refuses any other. */
#ifndef PIXD_IMAGE_CODECS_H
#define PIXD_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PIXD_CODECS_ABI 1
#define PIXD_CODECS_SYMBOL "pixd_codecs_v1"
#define PIXD_CODECS_FILE "pixd-codecs.so"

typedef struct pixd_codecs {
    int abi; /* PIXD_CODECS_ABI */
    /* Decode the n bytes at in (the caller's, only read), whose header the
     * caller has already checked against its pixel limit. On success *out
     * is 8-bit gray, BGR or BGRA, writable, owned by *handle until
     * release(*handle). Returns 0, -EBADMSG, -ENOTSUP or -ENOMEM. */
    int (*decode)(const uint8_t *in, size_t n, pixd__pixels *out, void **handle,
                  char *err, size_t errlen);
    void (*release)(void *handle); /* accepts NULL */
    /* Encode as PNG or WebP (format is a pixd_format); quality 1..100 is
     * WebP's. *out is malloc'd: the caller frees it. */
    int (*encode)(const pixd__pixels *px, int format, int quality, uint8_t **out,
                  size_t *len, char *err, size_t errlen);
} pixd_codecs;

/* codecs_load.c: the module, loaded once per process; 0, or -ENOENT (not
 * found) or -EIO (found but unusable) with err saying what to do. */
int pixd__codecs_get(const pixd_codecs **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
