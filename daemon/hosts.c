#include "hosts.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pixd_host_entry {
    uint8_t key[16];
    unsigned count;
    pixd_host_entry *next;
};

#define NBUCKETS 1024u

int pixd_hosts_init(pixd_hosts *h) {
    h->buckets = calloc(NBUCKETS, sizeof *h->buckets);
    h->nbuckets = NBUCKETS;
    h->nhosts = 0;
    return h->buckets ? 0 : -ENOMEM;
}

void pixd_hosts_free(pixd_hosts *h) {
    if (!h->buckets)
        return;
    for (size_t i = 0; i < h->nbuckets; i++)
        for (pixd_host_entry *e = h->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(h->buckets);
    h->buckets = NULL;
}

/* 16-byte key: IPv6 as is, IPv4 as v4-mapped IPv6, so both spellings of
 * one host share a count. */
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

static size_t bucket_of(const pixd_hosts *h, const uint8_t key[16]) {
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        x = (x ^ key[i]) * 1099511628211ull;
    return (size_t)(x % h->nbuckets);
}

static pixd_host_entry **find(const pixd_hosts *h, const uint8_t key[16]) {
    pixd_host_entry **p = &h->buckets[bucket_of(h, key)];
    while (*p && memcmp((*p)->key, key, 16) != 0)
        p = &(*p)->next;
    return p;
}

int pixd_hosts_acquire(pixd_hosts *h, const struct sockaddr *sa, unsigned limit) {
    uint8_t key[16];
    pixd_host_entry **p, *e;
    if (host_key(sa, key) < 0)
        return 0;
    p = find(h, key);
    e = *p;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return -ENOMEM;
        memcpy(e->key, key, 16);
        *p = e;
        h->nhosts++;
    }
    if (limit && e->count >= limit)
        return -EUSERS;
    e->count++;
    return 0;
}

void pixd_hosts_release(pixd_hosts *h, const struct sockaddr *sa) {
    uint8_t key[16];
    pixd_host_entry **p, *e;
    if (host_key(sa, key) < 0)
        return;
    p = find(h, key);
    e = *p;
    if (!e || e->count == 0)
        return;
    if (--e->count == 0) {
        *p = e->next;
        free(e);
        h->nhosts--;
    }
}

unsigned pixd_hosts_count(const pixd_hosts *h, const struct sockaddr *sa) {
    uint8_t key[16];
    pixd_host_entry *e;
    if (host_key(sa, key) < 0)
        return 0;
    e = *find(h, key);
    return e ? e->count : 0;
}
