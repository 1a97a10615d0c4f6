/* The image a native job request (RESIZE, CLASSIFY) brings: what both
 * check before taking it, how its DATA frames are gathered, and what its
 * failures say to the client. Each request keeps its own state; these are
 * the rules they share. */
#ifndef PIXD_NATIVE_INPUT_H
#define PIXD_NATIVE_INPUT_H

#include <stddef.h>

#include "inbuf.h"
#include "native.h"

/* The wire code for a negative errno from the job, store or camera code. */
int pixd__native_job_code(int err);

/* The most bytes an input may have: --max-upload, at most 256 MiB. */
size_t pixd__native_input_max(const pixd_server *srv);

/* Admits request f of connection c, whose input is sent (size bytes
 * announced) unless sent is 0 (a stored image, a camera frame): at most
 * --max-client-jobs image jobs per connection, a place in the job line
 * (taken here, so "busy" is said before the client sends its image; the
 * caller gives it back with pixd_jobs_unreserve when it submits or
 * fails), and the size limit. Returns 0, or -1 after the client was told
 * why (nothing is then held). */
int pixd__native_input_admit(pixd_conn *c, native_state *st, const pixproto_frame *f,
                             size_t size, int sent);

/* A DATA frame of a sent image: 0, or a negative errno with *why for the
 * client (more bytes than SIZE, out of memory). */
int pixd__native_input_data(pixd_inbuf *b, const pixproto_frame *f, const char **why);
/* END: the whole image (the caller owns it) in *data and *len, or NULL
 * with *why when bytes are missing. */
uint8_t *pixd__native_input_end(pixd_inbuf *b, size_t *len, const char **why);

/* What to tell the client when reading a stored image failed with err
 * (a bad name, -EINVAL from the call itself, is the caller's to say). */
const char *pixd__native_read_error(int err);

extern const char pixd__native_busy_msg[];

#endif
