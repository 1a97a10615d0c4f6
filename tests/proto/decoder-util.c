#include "decoder-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Builds a header byte by byte, so that tests can break its rules. */
void raw_header(uint8_t *p, uint8_t type, uint8_t flags,
                uint16_t reserved, uint32_t id, uint32_t len)
{
    p[0] = type;
    p[1] = flags;
    p[2] = (uint8_t)(reserved >> 8);
    p[3] = (uint8_t)reserved;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(id >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(len >> (24 - 8 * i));
    }
}

/* Feeds len bytes in chunks of at most chunk bytes (0: all at once) and
 * copies out every frame. Returns the frame count or the decoder's error. */
int feed(pixproto_decoder *d, const uint8_t *buf, size_t len,
         size_t chunk, struct copy *frames)
{
    int n = 0;

    while (len > 0) {
        size_t piece = chunk && chunk < len ? chunk : len;
        const uint8_t *in = buf;
        size_t left = piece;
        pixproto_frame f;
        int rc;

        while ((rc = pixproto_decoder_next(d, &in, &left, &f)) == 1) {
            assert_true(n < MAX_FRAMES);
            assert_true(f.len <= sizeof frames[n].body);
            assert_non_null(f.body);
            frames[n].type = f.type;
            frames[n].flags = f.flags;
            frames[n].id = f.id;
            frames[n].len = f.len;
            memcpy(frames[n].body, f.body, f.len);
            n++;
        }
        if (rc < 0)
            return rc;
        assert_int_equal(left, 0);
        buf += piece;
        len -= piece;
    }
    return n;
}

void make_stream(struct stream *s)
{
    uint8_t *a = NULL, *b = NULL;
    long na, nb;

    for (size_t i = 0; i < sizeof s->data; i++)
        s->data[i] = (uint8_t)(i % 7);
    na = pixproto_frame_encode(PIXPROTO_T_PING, 0, 1, "hello", 5, &a);
    nb = pixproto_frame_encode(PIXPROTO_T_DATA, PIXPROTO_F_ZLIB | PIXPROTO_F_MORE,
                               2, s->data, sizeof s->data, &b);
    assert_true(na > 0 && nb > 0);
    assert_int_equal(b[1], PIXPROTO_F_ZLIB | PIXPROTO_F_MORE);
    assert_true((size_t)(na + nb) <= sizeof s->bytes);
    memcpy(s->bytes, a, (size_t)na);
    memcpy(s->bytes + na, b, (size_t)nb);
    s->len = (size_t)(na + nb);
    free(a);
    free(b);
}

void check_stream(const struct stream *s, const struct copy *f)
{
    assert_int_equal(f[0].type, PIXPROTO_T_PING);
    assert_int_equal(f[0].flags, 0);
    assert_int_equal(f[0].id, 1);
    assert_int_equal(f[0].len, 5);
    assert_memory_equal(f[0].body, "hello", 5);
    assert_int_equal(f[1].type, PIXPROTO_T_DATA);
    assert_int_equal(f[1].flags, PIXPROTO_F_MORE);
    assert_int_equal(f[1].id, 2);
    assert_int_equal(f[1].len, sizeof s->data);
    assert_memory_equal(f[1].body, s->data, sizeof s->data);
}

