#include "check_config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "handler.h"

/* The listeners pixd would open: --listen, else each handler's default. */
static size_t listen_specs(const pixd_options *o, pixd_listen_spec *out, size_t max) {
    size_t n = 0;
    if (o->n_listens) {
        for (size_t i = 0; i < o->n_listens && n < max; i++)
            out[n++] = o->listens[i];
        return n;
    }
    for (int i = 0; i < PIXD_H_COUNT_ && n < max; i++) {
        const pixd_handler *h = pixd_handlers[i];
        if (!h || !h->default_listen)
            continue;
        snprintf(out[n].handler, sizeof out[n].handler, "%s", h->name);
        snprintf(out[n].addr, sizeof out[n].addr, "%s", h->default_listen);
        n++;
    }
    return n;
}

static int check_tcp(const pixd_options *o, const pixd_listen_spec *sp, const pixd_addr *a,
                     FILE *out) {
    struct addrinfo hints = {0}, *res = NULL;
    char port[8];
    int r, bad = 0;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%d", a->port);
    if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
        fprintf(out, "pixd: error: --listen %s=%s: %s\n", sp->handler, sp->addr,
                gai_strerror(r));
        return 1;
    }
    /* The same rule as listen.c: without keys, loopback only. */
    for (struct addrinfo *ai = res; ai && !bad; ai = ai->ai_next)
        if (!o->insecure && !pixd_addr_is_loopback(ai->ai_addr)) {
            fprintf(out, "pixd: error: --listen %s=%s is reachable beyond this machine "
                    "and no access keys are set: listen on loopback or a unix socket, "
                    "or pass --insecure if the network is trusted\n", sp->handler, sp->addr);
            bad = 1;
        }
    freeaddrinfo(res);
    return bad;
}

static int check_unix(const pixd_listen_spec *sp, const pixd_addr *a, FILE *out) {
    char dir[PIXD_UNIX_PATH_MAX + 1];
    char *slash;
    struct stat st;

    snprintf(dir, sizeof dir, "%s", a->path);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(out, "pixd: error: --listen %s=%s: the directory %s does not exist; "
                "create it or pick another path\n", sp->handler, sp->addr, dir);
        return 1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        fprintf(out, "pixd: error: --listen %s=%s: cannot create a socket in %s: %s\n",
                sp->handler, sp->addr, dir, strerror(errno));
        return 1;
    }
    if (lstat(a->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        fprintf(out, "pixd: error: --listen %s=%s: a file that is not a socket is in "
                "the way\n", sp->handler, sp->addr);
        return 1;
    }
    return 0;
}

static int check_listens(const pixd_options *o, FILE *out) {
    pixd_listen_spec specs[PIXD_MAX_LISTENS];
    size_t n = listen_specs(o, specs, PIXD_MAX_LISTENS);
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        pixd_addr a;
        char why[200];
        int b;
        if (pixd_addr_parse(specs[i].addr, &a, why, sizeof why) < 0) {
            fprintf(out, "pixd: error: --listen %s=%s: %s\n", specs[i].handler,
                    specs[i].addr, why);
            bad = 1;
            continue;
        }
        b = a.kind == PIXD_ADDR_UNIX ? check_unix(&specs[i], &a, out)
                                      : check_tcp(o, &specs[i], &a, out);
        if (!b)
            fprintf(out, "pixd: ok: %s would listen on %s\n", specs[i].handler, specs[i].addr);
        bad |= b;
    }
    return bad;
}

/* The store is created (with parents) at start; the nearest existing
 * ancestor must let pixd do that. */
static int check_store(const pixd_options *o, FILE *out) {
    char buf[4096], dir[PATH_MAX];
    const char *path = pixd_options_store_dir(o, buf, sizeof buf);
    struct stat st;

    snprintf(dir, sizeof dir, "%s", path);
    for (;;) {
        if (stat(dir, &st) == 0)
            break;
        if (errno != ENOENT && errno != ENOTDIR) {
            fprintf(out, "pixd: error: store %s: %s: %s\n", path, dir, strerror(errno));
            return 1;
        }
        char *slash = strrchr(dir, '/');
        while (slash && slash > dir && slash[1] == '\0') { /* trailing slashes */
            *slash = '\0';
            slash = strrchr(dir, '/');
        }
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(out, "pixd: error: store %s: %s is not a directory; choose another "
                "with --store DIR\n", path, dir);
        return 1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        fprintf(out, "pixd: error: store %s: %s is not writable (%s); fix its owner or "
                "choose another with --store DIR\n", path, dir, strerror(errno));
        return 1;
    }
    fprintf(out, "pixd: ok: store %s%s\n", path, strcmp(dir, path) ? " (will be created)" : "");
    return 0;
}

static int check_cameras(const pixd_options *o, FILE *out) {
    int bad = 0;
    for (size_t i = 0; i < o->n_cameras; i++) {
        const pixd_camera_spec *c = &o->cameras[i];
        struct stat st;
        if (strncmp(c->source, "/dev/", 5) == 0) {
            /* A missing camera is retried at run time (it may be plugged
             * in later); something else at that path never works. */
            if (stat(c->source, &st) < 0)
                fprintf(out, "pixd: warning: camera %s: %s: %s (pixd will keep trying)\n",
                        c->name, c->source, strerror(errno));
            else if (!S_ISCHR(st.st_mode)) {
                fprintf(out, "pixd: error: camera %s: %s is not a device\n", c->name,
                        c->source);
                bad = 1;
                continue;
            }
        } else if (strncmp(c->source, "file:", 5) == 0) {
            /* An image sequence (img_%04d.jpg) names no single file. */
            if (!c->source[5] || (!strchr(c->source, '%') && access(c->source + 5, R_OK) < 0)) {
                fprintf(out, "pixd: error: camera %s: %s: %s\n", c->name, c->source,
                        c->source[5] ? strerror(errno) : "file: needs a path");
                bad = 1;
                continue;
            }
        } else if (strcmp(c->source, "test") != 0 && !strstr(c->source, "://")) {
            fprintf(out, "pixd: error: camera %s: unknown source \"%s\" (test, /dev/videoN, "
                    "file:PATH, or a URL such as rtsp://host/path)\n", c->name, c->source);
            bad = 1;
            continue;
        }
        fprintf(out, "pixd: ok: camera %s = %s\n", c->name, c->source);
    }
    if (!o->n_cameras)
        fprintf(out, "pixd: ok: cameras: every /dev/video* found at start, else a test "
                "pattern\n");
    return bad;
}

int pixd_check_config(const pixd_options *o, FILE *out) {
    int bad = check_listens(o, out);
    bad |= check_store(o, out);
    bad |= check_cameras(o, out);
    fprintf(out, bad ? "pixd: configuration has errors\n" : "pixd: configuration OK\n");
    return bad ? 1 : 0;
}
