/* Helpers shared by the decoder tests (test-decoder*.c): raw headers,
 * feeding a stream in pieces, and a two-frame sample stream. */
#ifndef DECODER_UTIL_H
#define DECODER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "pixproto.h"

#define MAX_FRAMES 8

/* A decoded frame copied out of the decoder, which reuses its buffers. */
struct copy {
    uint8_t type, flags;
    uint32_t id;
    uint8_t body[4096];
    size_t len;
};

/* Two frames, one plain and one deflated, and what they decode to. */
struct stream {
    uint8_t bytes[8192];
    size_t len;
    uint8_t data[3000];
};

void raw_header(uint8_t *p, uint8_t type, uint8_t flags,
                uint16_t reserved, uint32_t id, uint32_t len);
int feed(pixproto_decoder *d, const uint8_t *buf, size_t len,
         size_t chunk, struct copy *frames);
void make_stream(struct stream *s);
void check_stream(const struct stream *s, const struct copy *f);

#endif
