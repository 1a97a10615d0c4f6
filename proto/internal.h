/* Helpers shared between the codec's files, not exported to users. */
#ifndef PIXPROTO_INTERNAL_H
#define PIXPROTO_INTERNAL_H

#include "pixproto.h"

/* Appends n raw bytes (no field head), with the same sticky-error rules as
 * the pixproto_put_* functions. HELLO's magic is the one user. */
int pixproto__buf_append(pixproto_buf *b, const void *p, size_t n);

#endif
