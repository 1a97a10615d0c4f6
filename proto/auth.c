/* The access-key handshake: MACs, and the AUTH / AUTHED / WELCOME bodies. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "internal.h"
#include "pixproto_auth.h"

static const char LABEL_CLIENT[] = "pixd-auth-1 client";
static const char LABEL_SERVER[] = "pixd-auth-1 server";

int pixproto_auth_mac(const void *secret, size_t secret_len, uint32_t version,
                      const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                      const uint8_t client_nonce[PIXPROTO_NONCE_SIZE],
                      const char *key_name, enum pixproto_auth_side side,
                      uint8_t out[PIXPROTO_MAC_SIZE])
{
    uint8_t msg[sizeof LABEL_SERVER + 4 + 2 * PIXPROTO_NONCE_SIZE + 2 + PIXPROTO_KEY_NAME_MAX];
    const char *label = side == PIXPROTO_AUTH_SERVER ? LABEL_SERVER : LABEL_CLIENT;
    size_t n = strlen(label), name_len;
    unsigned int mac_len = 0;

    if (!secret || !challenge || !client_nonce || !key_name || !out || secret_len > 0x7fffffff)
        return PIXPROTO_EINVALID;
    name_len = strlen(key_name);
    if (name_len > PIXPROTO_KEY_NAME_MAX)
        return PIXPROTO_EINVALID;
    /* Labels are the same length, so the two sides never MAC the same bytes. */
    memcpy(msg, label, n);
    msg[n++] = (uint8_t)(version >> 24);
    msg[n++] = (uint8_t)(version >> 16);
    msg[n++] = (uint8_t)(version >> 8);
    msg[n++] = (uint8_t)version;
    memcpy(msg + n, challenge, PIXPROTO_NONCE_SIZE);
    n += PIXPROTO_NONCE_SIZE;
    memcpy(msg + n, client_nonce, PIXPROTO_NONCE_SIZE);
    n += PIXPROTO_NONCE_SIZE;
    msg[n++] = (uint8_t)(name_len >> 8);
    msg[n++] = (uint8_t)name_len;
    memcpy(msg + n, key_name, name_len);
    n += name_len;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, n, out, &mac_len) ||
        mac_len != PIXPROTO_MAC_SIZE)
        return PIXPROTO_EINTERNAL;
    return 0;
}

int pixproto_auth_mac_equal(const uint8_t a[PIXPROTO_MAC_SIZE],
                            const uint8_t b[PIXPROTO_MAC_SIZE])
{
    return CRYPTO_memcmp(a, b, PIXPROTO_MAC_SIZE) == 0;
}

int pixproto_auth_random(uint8_t *out, size_t n)
{
    return n <= 0x7fffffff && RAND_bytes(out, (int)n) == 1 ? 0 : PIXPROTO_EINTERNAL;
}

static long finish(pixproto_buf *b, uint8_t type, uint8_t **out)
{
    long rc = b->err ? b->err : pixproto_frame_encode(type, 0, 0, b->data, b->len, out);

    pixproto_buf_free(b);
    return rc;
}

long pixproto_build_welcome_challenge(uint32_t version, uint32_t max_body,
                                      const char *agent,
                                      const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                                      uint8_t **out)
{
    pixproto_buf b = {0};

    if (!challenge)
        return PIXPROTO_EINVALID;
    pixproto_put_u64(&b, PIXPROTO_TAG_VERSION, version);
    pixproto_put_u64(&b, PIXPROTO_TAG_MAX_BODY, max_body);
    if (agent)
        pixproto_put_str(&b, PIXPROTO_TAG_AGENT, agent);
    pixproto_put_bytes(&b, PIXPROTO_TAG_CHALLENGE, challenge, PIXPROTO_NONCE_SIZE);
    return finish(&b, PIXPROTO_T_WELCOME, out);
}

static int check(const pixproto_frame *f, uint8_t type, const void *dst)
{
    if (!f || !dst || (!f->body && f->len > 0))
        return PIXPROTO_EINVALID;
    return f->type == type ? 0 : PIXPROTO_EINVALID;
}

static int copy_exact(const pixproto_field *fl, uint8_t *dst, size_t n)
{
    if (fl->len != n)
        return PIXPROTO_EBADBODY;
    memcpy(dst, fl->value, n);
    return 0;
}

int pixproto_parse_challenge(const pixproto_frame *welcome,
                             uint8_t out[PIXPROTO_NONCE_SIZE])
{
    pixproto_reader r;
    pixproto_field fl;
    int rc, found = 0;

    if ((rc = check(welcome, PIXPROTO_T_WELCOME, out)) < 0)
        return rc;
    pixproto_reader_init(&r, welcome->body, welcome->len);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag != PIXPROTO_TAG_CHALLENGE)
            continue;
        if ((rc = copy_exact(&fl, out, PIXPROTO_NONCE_SIZE)) < 0)
            return rc;
        found = 1;
    }
    return rc < 0 ? rc : found;
}

long pixproto_build_auth(const void *secret, size_t secret_len, uint32_t version,
                         const uint8_t challenge[PIXPROTO_NONCE_SIZE],
                         const uint8_t client_nonce[PIXPROTO_NONCE_SIZE],
                         const char *key_name, uint8_t **out)
{
    uint8_t mac[PIXPROTO_MAC_SIZE];
    pixproto_buf b = {0};
    int rc;

    if (!key_name || !key_name[0])
        return PIXPROTO_EINVALID;
    rc = pixproto_auth_mac(secret, secret_len, version, challenge, client_nonce, key_name,
                           PIXPROTO_AUTH_CLIENT, mac);
    if (rc < 0)
        return rc;
    pixproto_put_str(&b, PIXPROTO_TAG_KEY_NAME, key_name);
    pixproto_put_bytes(&b, PIXPROTO_TAG_CLIENT_NONCE, client_nonce, PIXPROTO_NONCE_SIZE);
    pixproto_put_bytes(&b, PIXPROTO_TAG_AUTH_MAC, mac, sizeof mac);
    return finish(&b, PIXPROTO_T_AUTH, out);
}

enum { SEEN_NAME = 1, SEEN_NONCE = 2, SEEN_MAC = 4 };

int pixproto_parse_auth(const pixproto_frame *f, pixproto_auth *a)
{
    pixproto_reader r;
    pixproto_field fl;
    unsigned seen = 0;
    int rc;

    if ((rc = check(f, PIXPROTO_T_AUTH, a)) < 0)
        return rc;
    memset(a, 0, sizeof *a);
    pixproto_reader_init(&r, f->body, f->len);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag == PIXPROTO_TAG_KEY_NAME) {
            /* A name cut short would be someone else's name: refuse it. */
            if (fl.len == 0 || fl.len > PIXPROTO_KEY_NAME_MAX)
                return PIXPROTO_EBADBODY;
            rc = pixproto_field_str(&fl, a->key_name, sizeof a->key_name);
            seen |= SEEN_NAME;
        } else if (fl.tag == PIXPROTO_TAG_CLIENT_NONCE) {
            rc = copy_exact(&fl, a->client_nonce, PIXPROTO_NONCE_SIZE);
            seen |= SEEN_NONCE;
        } else if (fl.tag == PIXPROTO_TAG_AUTH_MAC) {
            rc = copy_exact(&fl, a->mac, PIXPROTO_MAC_SIZE);
            seen |= SEEN_MAC;
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return seen == (SEEN_NAME | SEEN_NONCE | SEEN_MAC) ? 0 : PIXPROTO_EBADBODY;
}

long pixproto_build_authed(const char *perms, const uint8_t server_mac[PIXPROTO_MAC_SIZE],
                           uint8_t **out)
{
    pixproto_buf b = {0};

    if (!perms || !server_mac)
        return PIXPROTO_EINVALID;
    pixproto_put_str(&b, PIXPROTO_TAG_PERMS, perms);
    pixproto_put_bytes(&b, PIXPROTO_TAG_SERVER_MAC, server_mac, PIXPROTO_MAC_SIZE);
    return finish(&b, PIXPROTO_T_AUTHED, out);
}

int pixproto_parse_authed(const pixproto_frame *f, pixproto_authed *a)
{
    pixproto_reader r;
    pixproto_field fl;
    unsigned seen = 0;
    int rc;

    if ((rc = check(f, PIXPROTO_T_AUTHED, a)) < 0)
        return rc;
    memset(a, 0, sizeof *a);
    pixproto_reader_init(&r, f->body, f->len);
    while ((rc = pixproto_field_next(&r, &fl)) > 0) {
        if (fl.tag == PIXPROTO_TAG_PERMS) {
            rc = pixproto_field_str(&fl, a->perms, sizeof a->perms);
            if (rc == PIXPROTO_ETOOBIG)
                rc = 0;
        } else if (fl.tag == PIXPROTO_TAG_SERVER_MAC) {
            rc = copy_exact(&fl, a->server_mac, PIXPROTO_MAC_SIZE);
            seen |= SEEN_MAC;
        }
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return seen == SEEN_MAC ? 0 : PIXPROTO_EBADBODY;
}
