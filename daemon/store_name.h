/* Store names: the file names clients choose for the image store.
 *
 * A store name becomes one file name in the store directory, so it is the
 * one piece of client input that reaches the file system. It is checked
 * here, in one place, before any path is built from it. pixd-protocol(7)
 * lists the same rules for client authors.
 *
 * A name is 1 to PIXPROTO_NAME_MAX bytes of UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF, no cut-off sequences) and
 *   - is not "." or "..", and does not start with '.' (hidden files; the
 *     store's own .tmp and .meta directories start with a dot);
 *   - does not start with '-' (shell tools would take it for an option);
 *   - does not end with '.' (Windows drops a trailing dot, so "a." and "a"
 *     would be one file there);
 *   - contains no '/' or '\', no NUL, and no control character: C0
 *     (U+0000..U+001F, tab and newline included), DEL (U+007F) or C1
 *     (U+0080..U+009F; U+009B is a terminal's CSI, and names are printed
 *     by pixctl).
 * Spaces are allowed in what a client sends and become '_': the stored
 * name never contains a space (so neither can it end with one, which
 * Windows would also drop). Names are compared byte for byte; there is no
 * Unicode normalisation or case folding.
 */
#ifndef PIXD_STORE_NAME_H
#define PIXD_STORE_NAME_H

#include <stddef.h>

#include "pixproto.h"

/* Normalise the NUL-terminated name into out (spaces become '_'). out must
 * hold PIXPROTO_NAME_MAX + 1 bytes, or at least strlen(name) + 1; it may be
 * name itself. Returns 0, or -EINVAL with a reason for the user in err
 * (such as "name must not contain '/'"), or -ERANGE if outlen is too small
 * for a name that is otherwise good (a caller's bug, not the user's). out
 * is written only on success; err only on failure, and may be NULL when
 * errlen is 0. The caller keeps ownership of all buffers. */
int pixd_store_name_check(const char *name, char *out, size_t outlen,
                          char *err, size_t errlen);

/* The same for n bytes at p, which need not be NUL-terminated; a NUL byte
 * among them is refused. out receives the name NUL-terminated. */
int pixd_store_name_check_n(const char *p, size_t n, char *out, size_t outlen,
                            char *err, size_t errlen);

/* 1 if name, as found in the store directory, is a name the store could
 * have written: it passes the check and is already normalised (contains no
 * space). Files that fail are not the store's and are not listed, since no
 * request could reach them. */
int pixd_store_name_is_valid(const char *name);

#endif
