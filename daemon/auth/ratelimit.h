/* Per-host leaky buckets: failed authentications (and later, new
 * connections) per IP address.
 *
 * Each host has a level that every event raises by one and that drains by
 * one every refill_ms; at burst the host is blocked until it drains. The
 * table has a fixed number of slots, so memory does not grow with the
 * number of hosts: when the slots a host hashes to are taken, the one
 * with the lowest level is reused. Unix-socket peers are not limited. */
#ifndef PIXD_AUTH_RATELIMIT_H
#define PIXD_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct pixd_ratelimit_slot pixd_ratelimit_slot;

typedef struct pixd_ratelimit {
    pixd_ratelimit_slot *slots;
    size_t nslots;
    unsigned burst;
    unsigned refill_ms;
} pixd_ratelimit;

/* 0 or -ENOMEM; burst 0 turns the limiter off. */
int pixd_ratelimit_init(pixd_ratelimit *rl, size_t nslots, unsigned burst, unsigned refill_ms);
void pixd_ratelimit_free(pixd_ratelimit *rl); /* accepts a zeroed struct */
/* 1 when sa's host is at its burst at now_ms (*retry_ms, if not NULL, says
 * when the next event will be allowed), else 0. */
int pixd_ratelimit_blocked(pixd_ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms,
                           uint64_t *retry_ms);
/* Count one event for sa's host. */
void pixd_ratelimit_hit(pixd_ratelimit *rl, const struct sockaddr *sa, uint64_t now_ms);
#endif
