/* libpixproto: the access-key handshake (pixd-protocol(7), "Access keys").
 *
 * When the server has keys, WELCOME carries a 32-byte random CHALLENGE.
 * The client picks its own 32-byte nonce and answers with AUTH: its key's
 * name, the nonce, and
 *
 *   HMAC-SHA256(secret, "pixd-auth-1 client" || ctx)
 *   ctx = u32 version || challenge || client nonce || u16 len || key name
 *
 * (integers big-endian). The secret never crosses the wire, and since the
 * challenge is fresh per connection a recorded AUTH proves nothing later.
 * AUTHED carries HMAC-SHA256(secret, "pixd-auth-1 server" || ctx), so the
 * client learns that the server holds the secret too.
 *
 * Uses OpenSSL's libcrypto. Same conventions as pixproto.h. */
#ifndef PIXPROTO_AUTH_H
#define PIXPROTO_AUTH_H

#include "pixproto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PIXPROTO_NONCE_SIZE 32u
#define PIXPROTO_MAC_SIZE 32u
#define PIXPROTO_KEY_NAME_MAX 32u /* bytes of a key name, without the NUL */

enum pixproto_auth_side { PIXPROTO_AUTH_CLIENT = 0, PIXPROTO_AUTH_SERVER = 1 };

/* The proof one side sends (see above). secret is secret_len bytes owned by
 * the caller. Returns 0, or PIXPROTO_EINVALID for a NULL argument or a key
 * name longer than PIXPROTO_KEY_NAME_MAX, PIXPROTO_EINTERNAL if libcrypto
 * fails. */
int pixproto_auth_mac(const void *secret, size_t secret_len, uint32_t version,
                      const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                      const uint8_t client_nonce[PIXPROTO_NONCE_SIZE],
                      const char *key_name, enum pixproto_auth_side side,
                      uint8_t out[PIXPROTO_MAC_SIZE]);

/* 1 when the MACs are equal, compared in constant time. */
int pixproto_auth_mac_equal(const uint8_t a[PIXPROTO_MAC_SIZE],
                            const uint8_t b[PIXPROTO_MAC_SIZE]);

/* Fill out with n bytes from the system's CSPRNG; 0 or PIXPROTO_EINTERNAL. */
int pixproto_auth_random(uint8_t *out, size_t n);

/* WELCOME with a CHALLENGE field (ownership as pixproto_frame_encode). */
long pixproto_build_welcome_challenge(uint32_t version, uint32_t max_body,
                                      const char *agent,
                                      const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                                      uint8_t **out);
/* A WELCOME's challenge: 1 with out filled, 0 when the server needs no
 * key, PIXPROTO_EBADBODY for a malformed body or a challenge of the wrong
 * size, PIXPROTO_EINVALID for another frame type. */
int pixproto_parse_challenge(const pixproto_frame *welcome,
                             uint8_t out[PIXPROTO_NONCE_SIZE]);

typedef struct pixproto_auth {
    char key_name[PIXPROTO_KEY_NAME_MAX + 1];
    uint8_t client_nonce[PIXPROTO_NONCE_SIZE];
    uint8_t mac[PIXPROTO_MAC_SIZE];
} pixproto_auth;

/* The client's whole answer: computes the MAC for secret and builds AUTH
 * (id 0). client_nonce is the caller's fresh random bytes. */
long pixproto_build_auth(const void *secret, size_t secret_len, uint32_t version,
                         const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                         const uint8_t client_nonce[PIXPROTO_NONCE_SIZE],
                         const char *key_name, uint8_t **out);
/* AUTH: all three fields required, sizes exact, the name 1..KEY_NAME_MAX
 * bytes without NUL; PIXPROTO_EBADBODY otherwise. */
int pixproto_parse_auth(const pixproto_frame *f, pixproto_auth *a);

/* AUTHED (id 0): the key's permissions as text, and the server's proof. */
long pixproto_build_authed(const char *perms, const uint8_t server_mac[PIXPROTO_MAC_SIZE],
                           uint8_t **out);
typedef struct pixproto_authed {
    char perms[64];
    uint8_t server_mac[PIXPROTO_MAC_SIZE];
} pixproto_authed;
int pixproto_parse_authed(const pixproto_frame *f, pixproto_authed *a);

#ifdef __cplusplus
}
#endif
#endif
