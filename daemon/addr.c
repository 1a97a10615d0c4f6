#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, int *port) {
    char *end;
    long v;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535)
        return -EINVAL;
    *port = (int)v;
    return 0;
}

int pixd_addr_parse(const char *s, pixd_addr *a, char *err, size_t errlen) {
    const char *colon;
    size_t hl;

    memset(a, 0, sizeof *a);
    if (strncmp(s, "unix:", 5) == 0) {
        const char *p = s + 5;
        if (*p == '\0') {
            snprintf(err, errlen, "unix: needs a socket path, as in unix:/run/pixd.sock");
            return -EINVAL;
        }
        if (strlen(p) > PIXD_UNIX_PATH_MAX) {
            snprintf(err, errlen, "unix socket path is longer than %d bytes",
                     PIXD_UNIX_PATH_MAX);
            return -EINVAL;
        }
        a->kind = PIXD_ADDR_UNIX;
        strcpy(a->path, p);
        return 0;
    }
    a->kind = PIXD_ADDR_TCP;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "\"%.80s\": write IPv6 as [ADDR]:PORT", s);
            return -EINVAL;
        }
        hl = (size_t)(close - s - 1);
        colon = close + 1;
        if (hl == 0 || hl >= sizeof a->host) {
            snprintf(err, errlen, "\"%.80s\": bad IPv6 address", s);
            return -EINVAL;
        }
        memcpy(a->host, s + 1, hl);
        struct in6_addr tmp;
        if (inet_pton(AF_INET6, a->host, &tmp) != 1) {
            snprintf(err, errlen, "\"%.80s\" is not an IPv6 address", a->host);
            return -EINVAL;
        }
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            snprintf(err, errlen, "\"%.80s\": expected HOST:PORT, [V6]:PORT or unix:PATH", s);
            return -EINVAL;
        }
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl)) {
            snprintf(err, errlen, "\"%.80s\": write IPv6 as [ADDR]:PORT", s);
            return -EINVAL;
        }
        if (hl == 0 || hl >= sizeof a->host) {
            snprintf(err, errlen, "\"%.80s\": missing or overlong host", s);
            return -EINVAL;
        }
        memcpy(a->host, s, hl);
        for (size_t i = 0; i < hl; i++) {
            char c = a->host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                snprintf(err, errlen, "\"%.80s\": bad character in host name", s);
                return -EINVAL;
            }
        }
    }
    if (parse_port(colon + 1, &a->port) < 0) {
        snprintf(err, errlen, "\"%.80s\": port must be a number from 0 to 65535", s);
        return -EINVAL;
    }
    return 0;
}

void pixd_addr_format(const struct sockaddr *sa, char *out, size_t outlen) {
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "unix");
    }
}

int pixd_addr_is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return sa->sa_family == AF_UNIX;
}
