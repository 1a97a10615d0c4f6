/* libFuzzer target: store names, the one piece of client input that becomes
 * a file name. Every accepted name is checked here against the rules of
 * store_name.h with code written separately from the checker. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_name.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 by decoding: the shortest form, no surrogates, at most
 * U+10FFFF. Control characters (C0, DEL, C1) count as invalid here. */
static int utf8_clean(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp, min;
        size_t len;
        if (s[i] < 0x80)
            len = 1, cp = s[i], min = 0;
        else if ((s[i] & 0xe0) == 0xc0)
            len = 2, cp = s[i] & 0x1f, min = 0x80;
        else if ((s[i] & 0xf0) == 0xe0)
            len = 3, cp = s[i] & 0x0f, min = 0x800;
        else if ((s[i] & 0xf8) == 0xf0)
            len = 4, cp = s[i] & 0x07, min = 0x10000;
        else
            return 0;
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    char out[PIXPROTO_NAME_MAX + 1];
    char again[PIXPROTO_NAME_MAX + 1];
    char err[256];
    char small[1 + 16];
    char *z;
    size_t n;
    int r;

    memset(out, 0x5a, sizeof out);
    err[0] = '\0';
    r = pixd_store_name_check_n(p, size, out, sizeof out, err, sizeof err);
    CHECK(r == 0 || r == -EINVAL);
    if (r < 0) {
        CHECK(err[0] != '\0' && strlen(err) < sizeof err);
        CHECK((unsigned char)out[0] == 0x5a); /* out is written only on success */
    } else {
        n = strlen(out);
        CHECK(n == size && n >= 1 && n <= PIXPROTO_NAME_MAX);
        for (size_t i = 0; i < n; i++) {
            CHECK(out[i] != '/' && out[i] != '\\' && out[i] != ' ');
            CHECK(out[i] == (data[i] == ' ' ? '_' : (char)data[i]));
        }
        CHECK(out[0] != '.' && out[0] != '-' && out[n - 1] != '.');
        CHECK(utf8_clean((const uint8_t *)out, n));
        /* Stored names are valid on disk, and normalising is idempotent. */
        CHECK(pixd_store_name_is_valid(out));
        CHECK(pixd_store_name_check(out, again, sizeof again, NULL, 0) == 0);
        CHECK(strcmp(out, again) == 0);
    }

    /* The NUL-terminated entry point agrees wherever the input has no NUL,
     * and a small err buffer is cut, never overrun. */
    z = malloc(size + 1);
    CHECK(z != NULL);
    memcpy(z, data, size);
    z[size] = '\0';
    if (!memchr(data, 0, size)) {
        size_t cap = 1 + size % 16;
        int r2 = pixd_store_name_check(z, again, sizeof again, small, cap);
        CHECK(r2 == r);
        CHECK(r2 == 0 ? strcmp(out, again) == 0 : strlen(small) < cap);
        CHECK(pixd_store_name_is_valid(z) == (r == 0 && !memchr(data, ' ', size)));
    }
    /* In place, as a caller short of buffers may do. */
    if (size <= PIXPROTO_NAME_MAX && r == 0) {
        CHECK(pixd_store_name_check_n(z, size, z, size + 1, NULL, 0) == 0);
        CHECK(strcmp(z, out) == 0);
    }
    free(z);
    return 0;
}
