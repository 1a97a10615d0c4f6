#include "auth/auth.h"

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "conn.h"
#include "handler.h"
#include "listen.h"
#include "log.h"
#include "server.h"

#define AUTHFAIL_SLOTS 4096

int pixd_auth_start(pixd_server *srv) {
    char err[600];
    int r;

    if ((r = pixd_ratelimit_init(&srv->authfail, AUTHFAIL_SLOTS, PIXD_AUTHFAIL_BURST,
                                 PIXD_AUTHFAIL_REFILL_MS)) < 0)
        return r;
    if (!srv->opt->keys[0])
        return 0;
    if ((r = pixd_keys_load(srv->opt->keys, &srv->keys, err, sizeof err)) < 0) {
        pixd_err("%s", err);
        return r;
    }
    pixd_info("keys: %zu loaded from %s; every client needs one", srv->keys->n,
              srv->opt->keys);
    return 0;
}

void pixd_auth_stop(pixd_server *srv) {
    pixd_keys_free(srv->keys);
    srv->keys = NULL;
    pixd_ratelimit_free(&srv->authfail);
}

void pixd_auth_reload(pixd_server *srv) {
    pixd_keys *fresh = NULL;
    char err[600];
    size_t revoked = 0;

    if (!srv->opt->keys[0])
        return;
    if (pixd_keys_load(srv->opt->keys, &fresh, err, sizeof err) < 0) {
        pixd_err("SIGHUP: %s; keeping the %zu key(s) loaded before", err,
                 srv->keys ? srv->keys->n : 0);
        return;
    }
    /* A connection keeps its key only if the key still exists with the
     * same secret; its permissions become the new ones. */
    for (pixd_conn *c = srv->conns; c; c = c->next) {
        const pixd_key *k;
        if (!c->key_name[0])
            continue;
        k = pixd_keys_find(fresh, c->key_name);
        const pixd_key *old = pixd_keys_find(srv->keys, c->key_name);
        if (!k || !old || memcmp(k->digest, old->digest, sizeof k->digest) != 0) {
            c->perms = 0;
            revoked++;
        } else {
            c->perms = k->perms;
        }
    }
    pixd_keys_free(srv->keys);
    srv->keys = fresh;
    pixd_info("SIGHUP: %zu key(s) loaded from %s%s", fresh->n, srv->opt->keys,
              revoked ? "; connections using removed or changed keys lost their "
                        "permissions" : "");
}

int pixd_auth_required(const pixd_server *srv) {
    return srv->keys != NULL;
}

/* A seed-protocol client cannot prove a key: its listener's as=NAME key
 * speaks for it (looked up now, so SIGHUP applies), else only loopback
 * may, with every permission, as before keys existed. */
static int seed_client_allows(const pixd_conn *c, unsigned perm) {
    const char *as = c->listener && c->listener->as[0] ? c->listener->as : NULL;
    if (as) {
        const pixd_key *k = pixd_keys_find(c->srv->keys, as);
        return k && (k->perms & perm) == perm;
    }
    return pixd_addr_is_loopback((const struct sockaddr *)&c->peer_addr);
}

int pixd_auth_allows(const pixd_conn *c, unsigned perm) {
    if (!c->srv->keys)
        return 1;
    if (!c->handler->own_auth)
        return seed_client_allows(c, perm);
    return c->key_name[0] && (c->perms & perm) == perm;
}

void pixd_auth_grant(pixd_conn *c, const pixd_key *k) {
    char perms[32];
    snprintf(c->key_name, sizeof c->key_name, "%s", k->name);
    c->perms = k->perms;
    pixd_info("conn %llu %s: authenticated as \"%s\" (%s)", (unsigned long long)c->id,
              c->peer, k->name, pixd_perms_text(k->perms, perms, sizeof perms));
}

int pixd_auth_blocked(pixd_conn *c, char *msg, size_t msglen) {
    uint64_t retry = 0;
    if (!pixd_ratelimit_blocked(&c->srv->authfail, (struct sockaddr *)&c->peer_addr,
                                uv_now(c->srv->loop), &retry))
        return 0;
    snprintf(msg, msglen, "too many failed authentications from your address; "
             "try again in %llu s", (unsigned long long)((retry + 999) / 1000));
    return 1;
}

void pixd_auth_failed(pixd_conn *c, const char *key_name, const char *why) {
    pixd_ratelimit_hit(&c->srv->authfail, (struct sockaddr *)&c->peer_addr,
                       uv_now(c->srv->loop));
    /* Key names are not secret, but they come from the peer: %.32s and
     * the parsers' character rules keep the line readable. */
    pixd_notice("conn %llu %s: authentication failed for key \"%.32s\": %s",
                (unsigned long long)c->id, c->peer, key_name, why);
}

const pixd_key *pixd_auth_check_token(const pixd_server *srv, const char *token, size_t len) {
    const char *colon = memchr(token, ':', len);
    char name[PIXD_KEY_NAME_MAX + 1];
    const pixd_key *k;
    size_t nlen;

    if (!srv->keys || !colon)
        return NULL;
    nlen = (size_t)(colon - token);
    if (nlen == 0 || nlen > PIXD_KEY_NAME_MAX || memchr(token, '\0', nlen))
        return NULL;
    memcpy(name, token, nlen);
    name[nlen] = '\0';
    k = pixd_keys_find(srv->keys, name);
    /* An unknown name costs the same digest as a known one. */
    if (!k) {
        pixd_key dummy = {0};
        pixd_key_secret_matches(&dummy, colon + 1, len - nlen - 1);
        return NULL;
    }
    return pixd_key_secret_matches(k, colon + 1, len - nlen - 1) ? k : NULL;
}
