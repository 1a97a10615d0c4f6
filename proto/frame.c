/* Frame encoding: the 12-byte header and whole frames, optionally deflated. */
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "bytes.h"
#include "pixproto.h"

int pixproto_header_encode(uint8_t out[PIXPROTO_HEADER_SIZE], uint8_t type,
                           uint8_t flags, uint32_t id, size_t body_len)
{
    if (!out)
        return PIXPROTO_EINVALID;
    if (flags & ~PIXPROTO_F_ALL)
        return PIXPROTO_EBADFRAME;
    if (body_len > PIXPROTO_MAX_BODY)
        return PIXPROTO_ETOOBIG;
    /* A zlib stream is never empty, so the decoder refuses this header;
     * refusing it here keeps the encoder from producing it. */
    if ((flags & PIXPROTO_F_ZLIB) && body_len == 0)
        return PIXPROTO_EZLIB;
    out[0] = type;
    out[1] = flags;
    pixproto__put_be16(out + 2, 0);
    pixproto__put_be32(out + 4, id);
    pixproto__put_be32(out + 8, (uint32_t)body_len);
    return PIXPROTO_HEADER_SIZE;
}

/* Deflates body behind the header in frame (room for HEADER_SIZE plus
 * compressBound(len) bytes). Returns the deflated length, or 0 when
 * compression does not pay and the body should go out as it is. */
static size_t deflate_body(uint8_t *frame, size_t room, const void *body,
                           size_t len)
{
    uLongf zlen = (uLongf)room;

    if (len == 0)
        return 0;
    if (compress2(frame + PIXPROTO_HEADER_SIZE, &zlen, body, (uLong)len,
                  Z_DEFAULT_COMPRESSION) != Z_OK)
        return 0;
    return zlen < len ? (size_t)zlen : 0;
}

long pixproto_frame_encode(uint8_t type, uint8_t flags, uint32_t id,
                           const void *body, size_t len, uint8_t **out)
{
    uint8_t *frame;
    size_t room = len;
    size_t wire_len = 0;
    int rc;

    if (!out)
        return PIXPROTO_EINVALID;
    *out = NULL;
    if (!body && len > 0)
        return PIXPROTO_EINVALID;
    if (flags & ~PIXPROTO_F_ALL)
        return PIXPROTO_EBADFRAME;
    if (len > PIXPROTO_MAX_BODY)
        return PIXPROTO_ETOOBIG;
    if (flags & PIXPROTO_F_ZLIB)
        room = compressBound((uLong)len);
    frame = malloc(PIXPROTO_HEADER_SIZE + room);
    if (!frame)
        return PIXPROTO_ENOMEM;
    if (flags & PIXPROTO_F_ZLIB) {
        wire_len = deflate_body(frame, room, body, len);
        if (wire_len == 0)
            flags &= (uint8_t)~PIXPROTO_F_ZLIB;
    }
    if (wire_len == 0) {
        wire_len = len;
        if (len > 0)
            memcpy(frame + PIXPROTO_HEADER_SIZE, body, len);
    }
    rc = pixproto_header_encode(frame, type, flags, id, wire_len);
    if (rc < 0) {
        free(frame);
        return rc;
    }
    if (flags & PIXPROTO_F_ZLIB) {
        /* A well-compressed body leaves most of the buffer unused. */
        uint8_t *shrunk = realloc(frame, PIXPROTO_HEADER_SIZE + wire_len);

        if (shrunk)
            frame = shrunk;
    }
    *out = frame;
    return (long)(PIXPROTO_HEADER_SIZE + wire_len);
}
