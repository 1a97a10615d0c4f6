/* libFuzzer target: the handshake's message bodies (a WELCOME's challenge,
 * AUTH, AUTHED) from arbitrary bytes, and the MAC over what AUTH parsed,
 * as the server computes it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pixproto_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t challenge[PIXPROTO_NONCE_SIZE] = {1};
    pixproto_frame f = {.body = data, .len = size};
    uint8_t out[PIXPROTO_NONCE_SIZE], mac[PIXPROTO_MAC_SIZE];
    pixproto_auth a;
    pixproto_authed ad;

    f.type = PIXPROTO_T_WELCOME;
    pixproto_parse_challenge(&f, out);
    f.type = PIXPROTO_T_AUTHED;
    pixproto_parse_authed(&f, &ad);
    f.type = PIXPROTO_T_AUTH;
    if (pixproto_parse_auth(&f, &a) == 0) {
        size_t n = strlen(a.key_name);
        if (n == 0 || n > PIXPROTO_KEY_NAME_MAX)
            __builtin_trap();
        if (pixproto_auth_mac("secret", 6, 1, challenge, a.client_nonce, a.key_name,
                              PIXPROTO_AUTH_CLIENT, mac) != 0)
            __builtin_trap();
        pixproto_auth_mac_equal(mac, a.mac);
    }
    return 0;
}
