/* The access-key handshake: MACs against an independent computation
 * (OpenSSL's HMAC over the bytes pixd-protocol(7) specifies), and the
 * WELCOME challenge, AUTH and AUTHED bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pixproto_auth.h"

static const uint8_t challenge[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t nonce[32] = {[0] = 0xaa, [31] = 0x55};

/* One frame out of a builder's bytes; body lives in *d. */
static pixproto_frame decode(long n, uint8_t *buf, pixproto_decoder **d) {
    const uint8_t *in = buf;
    size_t left = (size_t)n;
    pixproto_frame f;
    assert_true(n >= (long)PIXPROTO_HEADER_SIZE);
    *d = pixproto_decoder_new(0);
    assert_int_equal(pixproto_decoder_next(*d, &in, &left, &f), 1);
    free(buf);
    return f;
}

static void auth_mac_matches_spec(void **state) {
    static const char secret[] = "0123456789abcdef", name[] = "alice";
    uint8_t msg[200], want[32], got[32];
    unsigned int len = 0;
    size_t n = 0;
    memcpy(msg, "pixd-auth-1 client", 18);
    n = 18;
    msg[n++] = 0, msg[n++] = 0, msg[n++] = 0, msg[n++] = 1;
    memcpy(msg + n, challenge, 32), n += 32;
    memcpy(msg + n, nonce, 32), n += 32;
    msg[n++] = 0, msg[n++] = 5;
    memcpy(msg + n, name, 5), n += 5;
    HMAC(EVP_sha256(), secret, 16, msg, n, want, &len);
    assert_int_equal(pixproto_auth_mac(secret, 16, 1, challenge, nonce, name,
                                       PIXPROTO_AUTH_CLIENT, got), 0);
    assert_memory_equal(got, want, 32);
    assert_true(pixproto_auth_mac_equal(got, want));
    /* The server's proof uses its own label. */
    memcpy(msg, "pixd-auth-1 server", 18);
    HMAC(EVP_sha256(), secret, 16, msg, n, want, &len);
    assert_int_equal(pixproto_auth_mac(secret, 16, 1, challenge, nonce, name,
                                       PIXPROTO_AUTH_SERVER, got), 0);
    assert_memory_equal(got, want, 32);
}

static void auth_mac_binds_every_input(void **state) {
    uint8_t base[32], other[32], c2[32], n2[32];
    memcpy(c2, challenge, 32), c2[0] ^= 1;
    memcpy(n2, nonce, 32), n2[5] ^= 1;
    assert_int_equal(pixproto_auth_mac("s", 1, 1, challenge, nonce, "a", 0, base), 0);
    pixproto_auth_mac("t", 1, 1, challenge, nonce, "a", 0, other);
    assert_false(pixproto_auth_mac_equal(base, other));
    pixproto_auth_mac("s", 1, 2, challenge, nonce, "a", 0, other);
    assert_false(pixproto_auth_mac_equal(base, other));
    pixproto_auth_mac("s", 1, 1, c2, nonce, "a", 0, other);
    assert_false(pixproto_auth_mac_equal(base, other));
    pixproto_auth_mac("s", 1, 1, challenge, n2, "a", 0, other);
    assert_false(pixproto_auth_mac_equal(base, other));
    pixproto_auth_mac("s", 1, 1, challenge, nonce, "b", 0, other);
    assert_false(pixproto_auth_mac_equal(base, other));
    pixproto_auth_mac("s", 1, 1, challenge, nonce, "a", 1, other);
    assert_false(pixproto_auth_mac_equal(base, other));
}

static void auth_mac_refuses_bad_arguments(void **state) {
    uint8_t out[32];
    char longname[40];
    memset(longname, 'n', 33);
    longname[33] = '\0';
    assert_int_equal(pixproto_auth_mac(NULL, 0, 1, challenge, nonce, "a", 0, out),
                     PIXPROTO_EINVALID);
    assert_int_equal(pixproto_auth_mac("s", 1, 1, challenge, nonce, NULL, 0, out),
                     PIXPROTO_EINVALID);
    assert_int_equal(pixproto_auth_mac("s", 1, 1, challenge, nonce, longname, 0, out),
                     PIXPROTO_EINVALID);
}

static void auth_random_differs(void **state) {
    uint8_t a[32], b[32];
    assert_int_equal(pixproto_auth_random(a, 32), 0);
    assert_int_equal(pixproto_auth_random(b, 32), 0);
    assert_memory_not_equal(a, b, 32);
}

static void auth_welcome_challenge_round_trip(void **state) {
    pixproto_decoder *d;
    uint8_t *buf = NULL, got[32];
    pixproto_welcome w;
    pixproto_frame f = decode(pixproto_build_welcome_challenge(1, 4096, "pixd/x", challenge, &buf),
                              buf, &d);
    assert_int_equal(pixproto_parse_welcome(&f, &w), 0);
    assert_int_equal(w.version, 1);
    assert_int_equal(pixproto_parse_challenge(&f, got), 1);
    assert_memory_equal(got, challenge, 32);
    pixproto_decoder_free(d);
    /* A plain WELCOME: no key needed. */
    f = decode(pixproto_build_welcome(1, 4096, "pixd/x", &buf), buf, &d);
    assert_int_equal(pixproto_parse_challenge(&f, got), 0);
    pixproto_decoder_free(d);
}

static void auth_challenge_wrong_size_refused(void **state) {
    pixproto_buf b = {0};
    pixproto_frame f = {.type = PIXPROTO_T_WELCOME};
    uint8_t got[32];
    pixproto_put_bytes(&b, PIXPROTO_TAG_CHALLENGE, challenge, 31);
    f.body = b.data, f.len = b.len;
    assert_int_equal(pixproto_parse_challenge(&f, got), PIXPROTO_EBADBODY);
    f.type = PIXPROTO_T_HELLO;
    assert_int_equal(pixproto_parse_challenge(&f, got), PIXPROTO_EINVALID);
    pixproto_buf_free(&b);
}

static void auth_auth_round_trip(void **state) {
    pixproto_decoder *d;
    uint8_t *buf = NULL, mac[32];
    pixproto_auth a;
    pixproto_frame f = decode(pixproto_build_auth("secret", 6, 1, challenge, nonce, "bob", &buf),
                              buf, &d);
    assert_int_equal(f.type, PIXPROTO_T_AUTH);
    assert_int_equal(f.id, 0);
    assert_int_equal(pixproto_parse_auth(&f, &a), 0);
    assert_string_equal(a.key_name, "bob");
    assert_memory_equal(a.client_nonce, nonce, 32);
    pixproto_auth_mac("secret", 6, 1, challenge, nonce, "bob", PIXPROTO_AUTH_CLIENT, mac);
    assert_memory_equal(a.mac, mac, 32);
    pixproto_decoder_free(d);
    assert_true(pixproto_build_auth("secret", 6, 1, challenge, nonce, "", &buf) < 0);
}

static void auth_auth_fields_required_and_exact(void **state) {
    pixproto_frame f = {.type = PIXPROTO_T_AUTH};
    pixproto_auth a;
    pixproto_buf b = {0};
    uint8_t mac[32] = {0};
    char longname[40];

    /* Missing the MAC. */
    pixproto_put_str(&b, PIXPROTO_TAG_KEY_NAME, "a");
    pixproto_put_bytes(&b, PIXPROTO_TAG_CLIENT_NONCE, nonce, 32);
    f.body = b.data, f.len = b.len;
    assert_int_equal(pixproto_parse_auth(&f, &a), PIXPROTO_EBADBODY);
    /* A short MAC. */
    pixproto_put_bytes(&b, PIXPROTO_TAG_AUTH_MAC, mac, 31);
    f.body = b.data, f.len = b.len;
    assert_int_equal(pixproto_parse_auth(&f, &a), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
    /* A name too long is refused rather than cut to another name. */
    memset(longname, 'n', 33);
    longname[33] = '\0';
    pixproto_put_str(&b, PIXPROTO_TAG_KEY_NAME, longname);
    pixproto_put_bytes(&b, PIXPROTO_TAG_CLIENT_NONCE, nonce, 32);
    pixproto_put_bytes(&b, PIXPROTO_TAG_AUTH_MAC, mac, 32);
    f.body = b.data, f.len = b.len;
    assert_int_equal(pixproto_parse_auth(&f, &a), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
    /* An empty name. */
    pixproto_put_str(&b, PIXPROTO_TAG_KEY_NAME, "");
    pixproto_put_bytes(&b, PIXPROTO_TAG_CLIENT_NONCE, nonce, 32);
    pixproto_put_bytes(&b, PIXPROTO_TAG_AUTH_MAC, mac, 32);
    f.body = b.data, f.len = b.len;
    assert_int_equal(pixproto_parse_auth(&f, &a), PIXPROTO_EBADBODY);
    pixproto_buf_free(&b);
}

static void auth_authed_round_trip(void **state) {
    pixproto_decoder *d;
    uint8_t *buf = NULL, mac[32];
    pixproto_authed a;
    pixproto_frame f;
    memset(mac, 7, 32);
    f = decode(pixproto_build_authed("read,write", mac, &buf), buf, &d);
    assert_int_equal(pixproto_parse_authed(&f, &a), 0);
    assert_string_equal(a.perms, "read,write");
    assert_memory_equal(a.server_mac, mac, 32);
    pixproto_decoder_free(d);
    assert_string_equal(pixproto_type_name(PIXPROTO_T_AUTH), "auth");
    assert_string_equal(pixproto_type_name(PIXPROTO_T_AUTHED), "authed");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_mac_matches_spec),
        cmocka_unit_test(auth_mac_binds_every_input),
        cmocka_unit_test(auth_mac_refuses_bad_arguments),
        cmocka_unit_test(auth_random_differs),
        cmocka_unit_test(auth_welcome_challenge_round_trip),
        cmocka_unit_test(auth_challenge_wrong_size_refused),
        cmocka_unit_test(auth_auth_round_trip),
        cmocka_unit_test(auth_auth_fields_required_and_exact),
        cmocka_unit_test(auth_authed_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
