/* libFuzzer target: the field reader and the message parsers, fed the
 * input directly as a body (no decoder in the way). */
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

/* Writing back every field read must reproduce the bytes read. */
static void reread(const uint8_t *data, size_t size)
{
    pixproto_buf b = {0};
    pixproto_reader r;
    pixproto_field f;
    size_t used = 0;
    uint64_t v;
    char s[17];
    int rc;

    pixproto_reader_init(&r, data, size);
    while ((rc = pixproto_field_next(&r, &f)) == 1) {
        used += 6 + f.len;
        rc = pixproto_field_u64(&f, &v);
        CHECK(rc == 0 ? f.len == 8 : rc == PIXPROTO_EBADBODY);
        rc = pixproto_field_str(&f, s, sizeof s);
        CHECK(rc == 0 || rc == PIXPROTO_ETOOBIG || rc == PIXPROTO_EBADBODY);
        CHECK(strlen(s) < sizeof s);
        if (rc == 0)
            CHECK(strlen(s) == f.len && memcmp(s, f.value, f.len) == 0);
        CHECK(pixproto_put_bytes(&b, f.tag, f.value, f.len) == 0);
    }
    CHECK(rc == 0 ? used == size : rc == PIXPROTO_EBADBODY);
    CHECK(pixproto_field_next(&r, &f) == rc);
    CHECK(b.len == used && (used == 0 || memcmp(b.data, data, used) == 0));
    pixproto_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pixproto_frame f = {.body = data, .len = size};
    pixproto_hello h;
    pixproto_welcome w;
    pixproto_error e;

    reread(data, size);
    f.type = PIXPROTO_T_HELLO;
    if (pixproto_parse_hello(&f, &h) == 0) {
        CHECK(h.min_version <= h.max_version);
        (void)pixproto_negotiate(&h);
    }
    f.type = PIXPROTO_T_WELCOME;
    if (pixproto_parse_welcome(&f, &w) == 0)
        CHECK(strlen(w.agent) < sizeof w.agent);
    f.type = PIXPROTO_T_ERROR;
    if (pixproto_parse_error(&f, &e) == 0)
        CHECK(e.code > 0 && strlen(e.message) < sizeof e.message);
    return 0;
}
