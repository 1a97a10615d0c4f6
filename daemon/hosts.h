/* Connections per peer host, for --max-per-host. */
#ifndef PIXD_HOSTS_H
#define PIXD_HOSTS_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct pixd_host_entry pixd_host_entry;

typedef struct pixd_hosts {
    pixd_host_entry **buckets;
    size_t nbuckets;
    size_t nhosts;
} pixd_hosts;

int pixd_hosts_init(pixd_hosts *h);
void pixd_hosts_free(pixd_hosts *h); /* accepts a zeroed struct */
/* Count one more connection from sa's host, unless it already has limit
 * (0: no limit). Returns 0, -EUSERS when over the limit, -ENOMEM. Hosts
 * are IP addresses; IPv4-mapped IPv6 counts as the IPv4 host. Other
 * families (unix sockets) are not counted and always succeed. */
int pixd_hosts_acquire(pixd_hosts *h, const struct sockaddr *sa, unsigned limit);
void pixd_hosts_release(pixd_hosts *h, const struct sockaddr *sa);
/* Connections counted for sa's host. */
unsigned pixd_hosts_count(const pixd_hosts *h, const struct sockaddr *sa);

#endif
