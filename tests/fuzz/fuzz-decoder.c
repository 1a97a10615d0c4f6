/* libFuzzer target: the incremental decoder and everything a peer's bytes
 * reach after it.
 *
 * Input: byte 0 picks the decoder's ceiling (0: the default, else n * 64),
 * byte 1 the largest piece the stream is fed in (0: all at once), the rest
 * is the byte stream; byte 0's low bit also asks the re-encoding below to
 * deflate. Pieces that fall inside a body are, every other time, written
 * into the decoder's window instead of fed (the zero-copy receive path).
 * Every frame is parsed, its fields read, and it is
 * encoded again and decoded by a second decoder, which must give it back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pixproto.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_fields(const pixproto_frame *f)
{
    pixproto_reader r;
    pixproto_field fl;
    uint64_t v;
    char small[8], big[256];
    int rc;

    pixproto_reader_init(&r, f->body, f->len);
    while ((rc = pixproto_field_next(&r, &fl)) == 1) {
        CHECK(fl.value >= f->body && fl.value + fl.len <= f->body + f->len);
        (void)pixproto_field_u64(&fl, &v);
        if (pixproto_field_str(&fl, small, sizeof small) != PIXPROTO_EBADBODY)
            CHECK(strlen(small) < sizeof small);
        if (pixproto_field_str(&fl, big, sizeof big) == 0)
            CHECK(strlen(big) == fl.len);
    }
    CHECK(rc == 0 || rc == PIXPROTO_EBADBODY);
}

static void parse_message(const pixproto_frame *f)
{
    pixproto_hello h;
    pixproto_welcome w;
    pixproto_error e;
    int v;

    switch (f->type) {
    case PIXPROTO_T_HELLO:
        if (pixproto_parse_hello(f, &h) == 0) {
            CHECK(h.min_version <= h.max_version);
            CHECK(strlen(h.agent) < sizeof h.agent);
            v = pixproto_negotiate(&h);
            CHECK(v == PIXPROTO_EVERSION ||
                  (v >= PIXPROTO_MIN_VERSION && v <= PIXPROTO_VERSION &&
                   (uint32_t)v >= h.min_version && (uint32_t)v <= h.max_version));
        }
        break;
    case PIXPROTO_T_WELCOME:
        if (pixproto_parse_welcome(f, &w) == 0)
            CHECK(strlen(w.agent) < sizeof w.agent);
        break;
    case PIXPROTO_T_ERROR:
        if (pixproto_parse_error(f, &e) == 0) {
            CHECK(e.code > 0 && strlen(e.message) < sizeof e.message);
            CHECK(pixproto_strerror((int)e.code) != NULL);
        }
        break;
    default:
        CHECK(pixproto_type_known(f->type) == (pixproto_type_name(f->type) != NULL));
        break;
    }
}

/* Encoding what was decoded and decoding that again must be the identity. */
static void round_trip(const pixproto_frame *f, uint8_t zlib)
{
    uint8_t *buf = NULL;
    long n = pixproto_frame_encode(f->type, f->flags | zlib, f->id, f->body,
                                   f->len, &buf);
    pixproto_decoder *d = pixproto_decoder_new(0);
    const uint8_t *in = buf;
    size_t left;
    pixproto_frame g;

    CHECK(n >= (long)PIXPROTO_HEADER_SIZE && d);
    left = (size_t)n;
    CHECK(pixproto_decoder_next(d, &in, &left, &g) == 1 && left == 0);
    CHECK(g.type == f->type && g.flags == f->flags && g.id == f->id);
    CHECK(g.len == f->len && memcmp(g.body, f->body, f->len) == 0);
    pixproto_decoder_free(d);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pixproto_decoder *d;
    size_t max_body, step;
    uint8_t zlib;
    uint32_t rng;
    int rc = 0;

    if (size < 2)
        return 0;
    max_body = (size_t)data[0] * 64;
    step = data[1];
    zlib = data[0] & PIXPROTO_F_ZLIB;
    rng = data[1] * 2654435761u + 1;
    data += 2;
    size -= 2;
    d = pixproto_decoder_new(max_body);
    CHECK(d);
    if (max_body == 0)
        max_body = PIXPROTO_MAX_BODY;
    while (size > 0 && rc >= 0) {
        size_t piece = size;
        const uint8_t *in = data;
        size_t left;
        pixproto_frame f;

        if (step > 0) {
            rng = rng * 1103515245u + 12345u;
            piece = 1 + (rng >> 16) % step;
            if (piece > size)
                piece = size;
        }
        left = piece;
        /* Every other piece that falls in a body goes through the window
         * (read straight into the decoder's buffer), as pixctl reads. */
        if ((rng >> 8) & 1) {
            uint8_t *w;
            size_t wlen;
            size_t before = pixproto_decoder_pending(d);

            rc = pixproto_decoder_window(d, &w, &wlen);
            CHECK(rc == 0 || rc < 0);
            if (rc == 0 && w) {
                if (piece > wlen)
                    piece = wlen;
                memcpy(w, data, piece);
                CHECK(pixproto_decoder_commit(d, piece) == 0);
                CHECK(pixproto_decoder_pending(d) == before + piece);
                in = NULL;
                left = 0;
            } else {
                CHECK(!w && wlen == 0);
            }
        }
        while ((rc = pixproto_decoder_next(d, &in, &left, &f)) == 1) {
            CHECK(f.body && f.len <= max_body);
            CHECK(!(f.flags & PIXPROTO_F_ZLIB));
            CHECK(pixproto_decoder_pending(d) == 0);
            parse_message(&f);
            read_fields(&f);
            round_trip(&f, zlib);
        }
        if (rc < 0) {
            CHECK(pixproto_errname(rc) != NULL);
            CHECK(pixproto_decoder_next(d, &in, &left, &f) == rc);
        } else {
            CHECK(left == 0);
            CHECK(pixproto_decoder_pending(d) <= PIXPROTO_HEADER_SIZE + max_body);
        }
        data += piece;
        size -= piece;
    }
    pixproto_decoder_free(d);
    return 0;
}
