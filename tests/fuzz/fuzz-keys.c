/* libFuzzer target: the keys file parser (--keys), and the bearer-token
 * check on the keys it produced. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixd_keys *k = NULL;
    char err[512];
    if (pixd_keys_parse((const char *)data, size, &k, err, sizeof err) == 0) {
        for (size_t i = 0; i < k->n; i++) {
            const pixd_key *key = pixd_keys_find(k, k->keys[i].name);
            if (key != &k->keys[i] || !pixd_key_secret_matches(key, key->secret, key->secret_len))
                __builtin_trap();
        }
    } else if (k || !memchr(err, '\0', sizeof err)) {
        __builtin_trap();
    }
    pixd_keys_free(k);
    return 0;
}
