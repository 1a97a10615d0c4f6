/* Incremental decoder: the receive window (pixproto_decoder_window and
 * _commit), through which a body is read straight into the decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoder-util.h"
#include "pixproto.h"

/* Feeds a header (or any bytes) that must not complete a frame. */
static void feed_no_frame(pixproto_decoder *d, const uint8_t *p, size_t n)
{
    pixproto_frame f;

    assert_int_equal(pixproto_decoder_next(d, &p, &n, &f), 0);
    assert_int_equal(n, 0);
}

/* The window path: after the header, the body is written straight into
 * the decoder in pieces, and the frame comes out of an empty next(). */
static void decoder_window_receives_body(void **state)
{
    struct stream s;
    uint8_t *buf = NULL;
    long n;
    uint8_t *w;
    size_t wlen, done = 0, empty = 0;
    const uint8_t *none = NULL;
    pixproto_frame f;
    pixproto_decoder *d = pixproto_decoder_new(0);

    make_stream(&s);
    n = pixproto_frame_encode(PIXPROTO_T_DATA, PIXPROTO_F_MORE, 7, s.data, sizeof s.data, &buf);
    assert_int_equal(n, PIXPROTO_HEADER_SIZE + sizeof s.data);
    feed_no_frame(d, buf, PIXPROTO_HEADER_SIZE);
    while (done < sizeof s.data) {
        size_t piece = 700;

        assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
        assert_non_null(w);
        assert_int_equal(wlen, sizeof s.data - done);
        if (piece > wlen)
            piece = wlen;
        memcpy(w, buf + PIXPROTO_HEADER_SIZE + done, piece);
        assert_int_equal(pixproto_decoder_commit(d, piece), 0);
        done += piece;
        assert_int_equal(pixproto_decoder_pending(d), PIXPROTO_HEADER_SIZE + done);
    }
    assert_int_equal(pixproto_decoder_next(d, &none, &empty, &f), 1);
    assert_int_equal(f.type, PIXPROTO_T_DATA);
    assert_int_equal(f.id, 7);
    assert_int_equal(f.len, sizeof s.data);
    assert_memory_equal(f.body, s.data, sizeof s.data);
    /* Between frames there is no window. */
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_null(w);
    assert_int_equal(wlen, 0);
    free(buf);
    pixproto_decoder_free(d);
}

/* No window before a header is complete, nor for an empty body. */
static void decoder_window_only_inside_a_body(void **state)
{
    uint8_t *buf = NULL;
    long n = pixproto_frame_encode(PIXPROTO_T_PING, 0, 3, NULL, 0, &buf);
    pixproto_decoder *d = pixproto_decoder_new(0);
    uint8_t *w = (uint8_t *)1;
    size_t wlen = 1;
    const uint8_t *in;
    size_t left;
    pixproto_frame f;

    assert_int_equal(n, PIXPROTO_HEADER_SIZE);
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_null(w);
    assert_int_equal(wlen, 0);
    feed_no_frame(d, buf, 5);
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_null(w);
    in = buf + 5;
    left = PIXPROTO_HEADER_SIZE - 5;
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    assert_int_equal(f.len, 0);
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_null(w);
    free(buf);
    pixproto_decoder_free(d);
}

/* A deflated body received through the window is inflated as fed ones are. */
static void decoder_window_takes_zlib_body(void **state)
{
    struct stream s;
    uint8_t *w;
    size_t wlen, empty = 0;
    const uint8_t *none = NULL;
    const uint8_t *in;
    size_t left;
    pixproto_frame f;
    pixproto_decoder *d = pixproto_decoder_new(0);
    size_t first;

    make_stream(&s);
    /* The stream's first frame is a 5-byte PING; the second, deflated. */
    in = s.bytes;
    left = PIXPROTO_HEADER_SIZE + 5 + PIXPROTO_HEADER_SIZE;
    assert_int_equal(pixproto_decoder_next(d, &in, &left, &f), 1);
    feed_no_frame(d, in, left);
    first = PIXPROTO_HEADER_SIZE + 5 + PIXPROTO_HEADER_SIZE;
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_non_null(w);
    assert_int_equal(wlen, s.len - first);
    memcpy(w, s.bytes + first, wlen);
    assert_int_equal(pixproto_decoder_commit(d, wlen), 0);
    assert_int_equal(pixproto_decoder_next(d, &none, &empty, &f), 1);
    assert_int_equal(f.flags, PIXPROTO_F_MORE);
    assert_int_equal(f.len, sizeof s.data);
    assert_memory_equal(f.body, s.data, sizeof s.data);
    pixproto_decoder_free(d);
}

/* Committing more than the window, or with no body in progress, fails the
 * decoder; so do bad arguments. */
static void decoder_commit_refuses_overrun(void **state)
{
    uint8_t hdr[PIXPROTO_HEADER_SIZE];
    uint8_t *w;
    size_t wlen;
    pixproto_decoder *d = pixproto_decoder_new(0);

    assert_int_equal(pixproto_decoder_commit(d, 0), 0);
    assert_int_equal(pixproto_decoder_commit(d, 1), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), PIXPROTO_EINVALID);
    pixproto_decoder_free(d);

    d = pixproto_decoder_new(0);
    raw_header(hdr, PIXPROTO_T_DATA, PIXPROTO_F_MORE, 0, 1, 10);
    feed_no_frame(d, hdr, sizeof hdr);
    assert_int_equal(pixproto_decoder_window(d, &w, &wlen), 0);
    assert_int_equal(wlen, 10);
    assert_int_equal(pixproto_decoder_commit(d, 11), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_decoder_commit(d, 1), PIXPROTO_EINVALID);
    pixproto_decoder_free(d);

    assert_int_equal(pixproto_decoder_window(NULL, &w, &wlen), PIXPROTO_EINVALID);
    assert_int_equal(pixproto_decoder_commit(NULL, 1), PIXPROTO_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decoder_window_receives_body),
        cmocka_unit_test(decoder_window_only_inside_a_body),
        cmocka_unit_test(decoder_window_takes_zlib_body),
        cmocka_unit_test(decoder_commit_refuses_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
