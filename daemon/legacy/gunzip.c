#include "gunzip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static int fail(z_stream *z, uint8_t **buf, int rc, char *err, size_t errlen,
                const char *msg) {
    inflateEnd(z);
    free(*buf);
    *buf = NULL;
    if (errlen)
        snprintf(err, errlen, "%s", msg);
    return rc;
}

int pixd_gunzip(const uint8_t *in, size_t n, size_t cap, uint8_t **out, size_t *outlen,
                char *err, size_t errlen) {
    z_stream z = {0};
    uint8_t *buf = NULL;
    size_t len = 0, size;
    int zr;

    *out = NULL;
    *outlen = 0;
    if (n < 18 || in[0] != 0x1f || in[1] != 0x8b) {
        if (errlen)
            snprintf(err, errlen, "body is not gzip data");
        return -EBADMSG;
    }
    /* 16 + MAX_WBITS: gzip wrapper only, header and CRC checked by zlib. */
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        if (errlen)
            snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* Guess from the input (compressed images inflate a few times), then
     * double; one byte past the cap is room enough to notice going over. */
    size = n < cap / 4 ? n * 4 : cap;
    if (size < 4096)
        size = cap < 4096 ? cap : 4096;
    if (!(buf = malloc(size + 1)))
        return fail(&z, &buf, -ENOMEM, err, errlen, "out of memory");
    z.next_in = (Bytef *)in;
    for (;;) {
        size_t in_left = n - (size_t)(z.next_in - in);
        z.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
        z.next_out = buf + len;
        z.avail_out = (uInt)(size + 1 - len > UINT32_MAX ? UINT32_MAX : size + 1 - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = (size_t)(z.next_out - buf);
        if (len > cap)
            return fail(&z, &buf, -EFBIG, err, errlen, "body inflates past the cap");
        if (zr == Z_STREAM_END) {
            size_t left = n - (size_t)(z.next_in - in);
            if (left == 0)
                break;
            /* Another member follows, or trailing bytes that are an error. */
            if (left < 18 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b)
                return fail(&z, &buf, -EBADMSG, err, errlen, "bytes after the gzip data");
            inflateReset(&z);
            continue;
        }
        if (zr == Z_MEM_ERROR)
            return fail(&z, &buf, -ENOMEM, err, errlen, "out of memory");
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return fail(&z, &buf, -EBADMSG, err, errlen, "corrupt gzip data");
        if (z.avail_out == 0) {
            uint8_t *p;
            size_t nsize = size * 2 < cap ? size * 2 : cap;
            if (!(p = realloc(buf, nsize + 1)))
                return fail(&z, &buf, -ENOMEM, err, errlen, "out of memory");
            buf = p;
            size = nsize;
            continue;
        }
        if (z.avail_in == 0)
            return fail(&z, &buf, -EBADMSG, err, errlen, "gzip data is truncated");
    }
    inflateEnd(&z);
    *out = buf;
    *outlen = len;
    return 0;
}
