/* The native protocol's access keys: the challenge in WELCOME, AUTH, and
 * which permission each message needs (pixd-protocol(7), "Access keys"). */
#include <string.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "native.h"
#include "pixproto_auth.h"
#include "server.h"

/* Allowed before authentication. */
#define OPEN 0x80u
/* Needs an authenticated key, whatever its permissions. */
#define KEY_ONLY 0x40u
/* What a message type needs. Types missing here (0) need admin, so a
 * message added without a row here fails closed. */
static const uint8_t needs[256] = {
    [PIXPROTO_T_HELLO] = OPEN,
    [PIXPROTO_T_PING] = OPEN,
    [PIXPROTO_T_AUTH] = OPEN,
    /* STATUS answers admin keys with details, others without. */
    [PIXPROTO_T_STATUS] = KEY_ONLY,
    /* Parts of a request already allowed, found by its id. */
    [PIXPROTO_T_CANCEL] = KEY_ONLY,
    [PIXPROTO_T_DATA] = KEY_ONLY,
    [PIXPROTO_T_END] = KEY_ONLY,
    [PIXPROTO_T_FRAME] = KEY_ONLY,
    [PIXPROTO_T_GET] = PIXD_PERM_READ,
    [PIXPROTO_T_LIST] = PIXD_PERM_READ,
    [PIXPROTO_T_STAT] = PIXD_PERM_READ,
    [PIXPROTO_T_CAMS] = PIXD_PERM_READ,
    [PIXPROTO_T_WATCH] = PIXD_PERM_READ,
    [PIXPROTO_T_SNAP] = PIXD_PERM_READ,
    [PIXPROTO_T_PUT] = PIXD_PERM_WRITE,
    [PIXPROTO_T_DELETE] = PIXD_PERM_WRITE,
    [PIXPROTO_T_RESIZE] = PIXD_PERM_WRITE,
    [PIXPROTO_T_PUSH] = PIXD_PERM_WRITE,
    [PIXPROTO_T_MODELS] = PIXD_PERM_READ,
    [PIXPROTO_T_CLASSIFY] = PIXD_PERM_WRITE, /* a job, as RESIZE */
};
static unsigned perm_of(uint8_t type) {
    uint8_t n = needs[type];
    if (n == 0)
        return PIXD_PERM_ADMIN;
    return n & PIXD_PERM_ALL;
}

long pixd__native_welcome(pixd_conn *c, native_state *st, uint32_t v, const char *agent,
                          uint8_t **out) {
    if (!pixd_auth_required(c->srv))
        return pixproto_build_welcome(v, PIXPROTO_MAX_BODY, agent, out);
    if (pixproto_auth_random(st->challenge, sizeof st->challenge) < 0)
        return PIXPROTO_EINTERNAL;
    st->challenged = 1;
    return pixproto_build_welcome_challenge(v, PIXPROTO_MAX_BODY, agent, st->challenge, out);
}

int pixd__native_allowed(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    const char *name = pixproto_type_name(f->type);
    unsigned perm;
    char msg[200], have[32], want[32];

    if (!pixd_auth_required(c->srv) || (needs[f->type] & OPEN))
        return 1;
    perm = perm_of(f->type);
    if (!c->key_name[0]) {
        snprintf(msg, sizeof msg, "%s needs an access key: answer WELCOME's challenge with "
                 "AUTH first (pixctl: --key FILE or PIXD_KEY=NAME:SECRET)",
                 name ? name : "this message");
        pixd__native_error(c, f->id, PIXPROTO_EAUTH, msg);
        return 0;
    }
    if (pixd_auth_allows(c, perm))
        return 1;
    snprintf(msg, sizeof msg, "key \"%s\" may %s; %s needs %s permission", c->key_name,
             c->perms ? pixd_perms_text(c->perms, have, sizeof have) : "do nothing (revoked)",
             name ? name : "this message", pixd_perms_text(perm, want, sizeof want));
    pixd__native_error(c, f->id, PIXPROTO_EDENIED, msg);
    return 0;
}

/* Refuse and end the connection: one AUTH per challenge. */
static int refuse(pixd_conn *c, int code, const char *msg) {
    pixd__native_error(c, 0, code, msg);
    pixd_conn_end(c);
    return 0;
}

int pixd__native_auth(pixd_conn *c, native_state *st, const pixproto_frame *f) {
    uint8_t mac[PIXPROTO_MAC_SIZE], proof[PIXPROTO_MAC_SIZE];
    const pixd_key *k;
    pixproto_auth a;
    uint8_t *buf = NULL;
    char msg[200], perms[32];
    long n;

    if (!pixd_auth_required(c->srv)) {
        pixd__native_error(c, f->id, PIXPROTO_EINVALID, "this pixd has no access keys; "
                           "send requests without AUTH");
        return 0;
    }
    if (c->key_name[0] || !st->challenged)
        return refuse(c, PIXPROTO_EAUTH, "AUTH answers WELCOME's challenge once per connection");
    /* The challenge is spent whatever happens next. */
    st->challenged = 0;
    if (f->id != 0)
        return refuse(c, PIXPROTO_EINVALID, "AUTH must have request id 0");
    if (pixd_auth_blocked(c, msg, sizeof msg))
        return refuse(c, PIXPROTO_EAUTH, msg);
    if (pixproto_parse_auth(f, &a) < 0)
        return refuse(c, PIXPROTO_EBADBODY, "malformed AUTH (needs KEY_NAME, CLIENT_NONCE "
                      "and AUTH_MAC; see pixd-protocol(7))");
    k = pixd_keys_find(c->srv->keys, a.key_name);
    if (k) {
        if (pixproto_auth_mac(k->secret, k->secret_len, st->version, st->challenge,
                              a.client_nonce, a.key_name, PIXPROTO_AUTH_CLIENT, mac) < 0)
            return refuse(c, PIXPROTO_EINTERNAL, NULL);
    } else {
        /* An unknown name costs as much as a wrong secret. */
        pixproto_auth_mac(st->challenge, sizeof st->challenge, st->version, st->challenge,
                          a.client_nonce, a.key_name, PIXPROTO_AUTH_CLIENT, mac);
    }
    if (!k || !pixproto_auth_mac_equal(mac, a.mac)) {
        pixd_auth_failed(c, a.key_name, k ? "wrong secret" : "no such key");
        return refuse(c, PIXPROTO_EAUTH, "authentication failed: unknown key name or wrong "
                      "secret; check the key with whoever runs pixd");
    }
    if (pixproto_auth_mac(k->secret, k->secret_len, st->version, st->challenge,
                          a.client_nonce, a.key_name, PIXPROTO_AUTH_SERVER, proof) < 0)
        return refuse(c, PIXPROTO_EINTERNAL, NULL);
    OPENSSL_cleanse(st->challenge, sizeof st->challenge);
    pixd_auth_grant(c, k);
    n = pixproto_build_authed(pixd_perms_text(k->perms, perms, sizeof perms), proof, &buf);
    pixd__native_send(c, n, buf);
    return 0;
}
