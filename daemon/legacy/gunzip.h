/* Inflate a gzip body under a hard cap on its output.
 *
 * A few KiB of gzip can inflate to gigabytes; the cap is checked as the
 * output grows, so a bomb costs at most cap bytes of memory before it is
 * refused. Pure (zlib only), thread-safe: runs on the work queue. */
#ifndef PIXD_LEGACY_GUNZIP_H
#define PIXD_LEGACY_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

/* Inflate the n bytes at in: one or more concatenated gzip members (as
 * Python's gzip.decompress() takes), nothing after them. On success 0,
 * *out (malloc'd, the caller frees) and *outlen. On failure *out is NULL
 * and err says why:
 *   -EFBIG    it inflates to more than cap bytes
 *   -EBADMSG  not gzip, corrupt, truncated, or bytes after the last member
 *   -ENOMEM   out of memory */
int pixd_gunzip(const uint8_t *in, size_t n, size_t cap, uint8_t **out, size_t *outlen,
                char *err, size_t errlen);

#endif
