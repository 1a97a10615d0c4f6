/* Listen addresses as users write them: HOST:PORT, [V6]:PORT, unix:PATH. */
#ifndef PIXD_ADDR_H
#define PIXD_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

enum pixd_addr_kind { PIXD_ADDR_TCP = 1, PIXD_ADDR_UNIX = 2 };

#define PIXD_UNIX_PATH_MAX 107 /* sun_path holds 108 bytes with the NUL */

typedef struct pixd_addr {
    enum pixd_addr_kind kind;
    char host[256];              /* TCP: literal or name, no brackets */
    int port;                    /* TCP: 0..65535, 0 = any free port */
    char path[PIXD_UNIX_PATH_MAX + 1]; /* UNIX */
} pixd_addr;

/* Parse s into *a. Returns 0 or -EINVAL with a reason in err. */
int pixd_addr_parse(const char *s, pixd_addr *a, char *err, size_t errlen);

/* Format a bound socket address as "1.2.3.4:80" or "[::1]:80". */
void pixd_addr_format(const struct sockaddr *sa, char *out, size_t outlen);

/* 1 if sa is a loopback address (127.0.0.0/8, ::1, v4-mapped loopback). */
int pixd_addr_is_loopback(const struct sockaddr *sa);

#endif
