#include "ratelimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 8

struct pixd_ratelimit_slot {
    uint8_t key[16];
    uint8_t used;
    uint32_t level;   /* events, as of at_ms */
    uint64_t at_ms;
};

int pixd_ratelimit_init(pixd_ratelimit *rl, size_t nslots, unsigned burst, unsigned refill_ms) {
    memset(rl, 0, sizeof *rl);
    rl->burst = burst;
    rl->refill_ms = refill_ms ? refill_ms : 1;
    if (!burst)
        return 0;
    rl->slots = calloc(nslots, sizeof *rl->slots);
    rl->nslots = nslots;
    return rl->slots ? 0 : -ENOMEM;
}

void pixd_ratelimit_free(pixd_ratelimit *rl) {
    free(rl->slots);
    rl->slots = NULL;
    rl->nslots = 0;
}

/* IPv4 as v4-mapped IPv6, so both spellings of a host share a bucket. */
static int host_key(const struct sockaddr *sa, uint8_t key[16]) {
    if (sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    return -EAFNOSUPPORT;
}

static size_t hash(const uint8_t key[16]) {
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        x = (x ^ key[i]) * 1099511628211ull;
    return (size_t)x;
}

/* The level after draining since the slot was last touched. */
static uint32_t level_now(const pixd_ratelimit *rl, const pixd_ratelimit_slot *s,
                          uint64_t now_ms) {
    uint64_t drained = now_ms > s->at_ms ? (now_ms - s->at_ms) / rl->refill_ms : 0;
    return drained >= s->level ? 0 : s->level - (uint32_t)drained;
}

/* sa's slot, or NULL. With create, takes a free slot or the least used. */
static pixd_ratelimit_slot *lookup(pixd_ratelimit *rl, const struct sockaddr *sa,
                                   uint64_t now_ms, int create) {
    pixd_ratelimit_slot *victim = NULL;
    uint32_t victim_level = UINT32_MAX;
    uint8_t key[16];
    size_t h;

    if (!rl->slots || host_key(sa, key) < 0)
        return NULL;
    h = hash(key);
    for (size_t i = 0; i < PROBES && i < rl->nslots; i++) {
        pixd_ratelimit_slot *s = &rl->slots[(h + i) % rl->nslots];
        uint32_t lv;
        if (s->used && !memcmp(s->key, key, 16))
            return s;
        lv = s->used ? level_now(rl, s, now_ms) : 0;
        if (lv < victim_level) {
            victim = s;
            victim_level = lv;
        }
    }
    if (!create || !victim)
        return NULL;
    memcpy(victim->key, key, 16);
    victim->used = 1;
    victim->level = 0;
    victim->at_ms = now_ms;
    return victim;
}

int pixd_ratelimit_blocked(pixd_ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms,
                           uint64_t *retry_ms) {
    pixd_ratelimit_slot *s = lookup(rl, sa, now_ms, 0);
    uint32_t lv;

    if (!s || (lv = level_now(rl, s, now_ms)) < rl->burst)
        return 0;
    if (retry_ms) {
        /* One more event is allowed once the level is below burst. */
        uint64_t into = (now_ms - s->at_ms) % rl->refill_ms;
        *retry_ms = (uint64_t)(lv - rl->burst) * rl->refill_ms + (rl->refill_ms - into);
    }
    return 1;
}

void pixd_ratelimit_hit(pixd_ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms) {
    pixd_ratelimit_slot *s = lookup(rl, sa, now_ms, 1);
    uint32_t lv;

    if (!s)
        return;
    lv = level_now(rl, s, now_ms);
    /* Keep the partial drain period: re-basing at_ms to now would let a
     * client that hits just before each drain tick never drain at all. */
    if (lv == 0 || now_ms < s->at_ms)
        s->at_ms = now_ms;
    else
        s->at_ms += (uint64_t)(s->level - lv) * rl->refill_ms;
    s->level = lv < UINT32_MAX ? lv + 1 : lv;
}
