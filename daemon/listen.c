#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

#define BACKLOG 511

static void on_connection(uv_stream_t *server, int status) {
    pixd_listener *l = server->data;
    if (status < 0) {
        pixd_warn("listener %s: %s", l->addr, uv_strerror(status));
        return;
    }
    pixd_conn_accept(l, server);
}

static void listener_closed(uv_handle_t *h) {
    pixd_listener *l = h->data;
    if (l->unlink_path[0])
        unlink(l->unlink_path);
    l->closed = 1;
    if (l->refs == 0)
        free(l);
}

void pixd_listener_ref(pixd_listener *l) {
    l->refs++;
}

void pixd_listener_unref(pixd_listener *l) {
    if (l && --l->refs == 0 && l->closed)
        free(l);
}

static pixd_listener *listener_new(pixd_server *srv, const pixd_handler *h) {
    pixd_listener *l = calloc(1, sizeof *l);
    if (l) {
        l->srv = srv;
        l->handler = h;
    }
    return l;
}

static void listener_link(pixd_server *srv, pixd_listener *l) {
    pixd_listener **p = &srv->listeners;
    while (*p)
        p = &(*p)->next;
    *p = l;
    /* Tests and scripts read this line to learn the port pixd bound. */
    printf("pixd: %s listening on %s\n", l->handler->name, l->addr);
    fflush(stdout);
}

static int listener_start(pixd_listener *l) {
    l->io.handle.data = l;
    return uv_listen(&l->io.stream, BACKLOG, on_connection);
}

static void describe_tcp(pixd_listener *l) {
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    if (uv_tcp_getsockname(&l->io.tcp, (struct sockaddr *)&ss, &len) == 0)
        pixd_addr_format((struct sockaddr *)&ss, l->addr, sizeof l->addr);
}

static int refuse_exposed(pixd_server *srv, const struct sockaddr *sa,
                          const char *text) {
    if (srv->opt->insecure || srv->keys || pixd_addr_is_loopback(sa))
        return 0;
    pixd_err("refusing to listen on %s: without access keys anyone who can "
             "reach it could use pixd. Give --keys FILE, listen on loopback or a "
             "unix socket, or pass --insecure if this network is trusted", text);
    return -EACCES;
}

static int open_tcp(pixd_server *srv, const pixd_handler *h, const pixd_addr *a,
                    const char *text) {
    struct addrinfo hints = {0}, *res = NULL;
    char port[8];
    int r;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%d", a->port);
    r = getaddrinfo(a->host, port, &hints, &res);
    if (r != 0) {
        pixd_err("cannot listen on %s: %s", text, gai_strerror(r));
        return -EADDRNOTAVAIL;
    }
    /* A name may resolve to several addresses; bind the first that works
     * so "localhost:7070" behaves the same with or without IPv6. */
    r = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        pixd_listener *l;
        if ((r = refuse_exposed(srv, ai->ai_addr, text)) < 0)
            break;
        if (!(l = listener_new(srv, h))) {
            r = -ENOMEM;
            break;
        }
        uv_tcp_init(srv->loop, &l->io.tcp);
        l->io.handle.data = l;
        r = uv_tcp_bind(&l->io.tcp, ai->ai_addr,
                        ai->ai_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
        if (r == 0)
            r = listener_start(l);
        if (r < 0) {
            uv_close(&l->io.handle, listener_closed);
            continue;
        }
        describe_tcp(l);
        listener_link(srv, l);
        break;
    }
    freeaddrinfo(res);
    if (r < 0 && r != -EACCES)
        pixd_err("cannot listen on %s: %s%s", text, uv_strerror(r),
                 r == UV_EADDRINUSE ? " (another pixd or program uses it: "
                                      "stop it, or pick another port with --listen)"
                                    : "");
    return r;
}

/* A socket file left by a pixd that died is removed; a live one is not. */
static int clear_stale_socket(const char *path) {
    struct stat st;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd, r;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    close(fd);
    if (r == 0)
        return -EADDRINUSE;
    return unlink(path) < 0 ? -errno : 0;
}

static int open_unix(pixd_server *srv, const pixd_handler *h, const pixd_addr *a) {
    pixd_listener *l;
    int r = clear_stale_socket(a->path);

    if (r < 0) {
        pixd_err("cannot listen on unix:%s: %s", a->path,
                 r == -EEXIST ? "a file that is not a socket is in the way"
                              : r == -EADDRINUSE ? "another server is listening there"
                                                 : strerror(-r));
        return r;
    }
    if (!(l = listener_new(srv, h)))
        return -ENOMEM;
    uv_pipe_init(srv->loop, &l->io.pipe, 0);
    l->io.handle.data = l;
    r = uv_pipe_bind(&l->io.pipe, a->path);
    if (r == 0) {
        snprintf(l->unlink_path, sizeof l->unlink_path, "%s", a->path);
        r = listener_start(l);
    }
    if (r < 0) {
        pixd_err("cannot listen on unix:%s: %s", a->path, uv_strerror(r));
        uv_close(&l->io.handle, listener_closed);
        return r;
    }
    snprintf(l->addr, sizeof l->addr, "unix:%s", a->path);
    listener_link(srv, l);
    return 0;
}

int pixd_listen_spec_open(pixd_server *srv, const pixd_listen_spec *spec) {
    const pixd_handler *h = pixd_handler_find(spec->handler);
    char err[200], text[340];
    pixd_addr a;
    int r;

    if (!h) {
        pixd_err("no handler named \"%s\"", spec->handler);
        return -EINVAL;
    }
    if (pixd_addr_parse(spec->addr, &a, err, sizeof err) < 0) {
        pixd_err("--listen %s=%s: %s", spec->handler, spec->addr, err);
        return -EINVAL;
    }
    snprintf(text, sizeof text, "%s", spec->addr);
    r = a.kind == PIXD_ADDR_UNIX ? open_unix(srv, h, &a) : open_tcp(srv, h, &a, text);
    if (r == 0) {
        /* The listener just linked is the last in the list. */
        pixd_listener *l = srv->listeners;
        while (l->next)
            l = l->next;
        l->params = spec->params;
        memcpy(l->as, spec->as, sizeof l->as);
    }
    return r;
}

int pixd_listen_fd_open(pixd_server *srv, const pixd_handler *h, int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    pixd_listener *l;
    int r;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (!(l = listener_new(srv, h)))
        return -ENOMEM;
    if (ss.ss_family == AF_UNIX) {
        uv_pipe_init(srv->loop, &l->io.pipe, 0);
        r = uv_pipe_open(&l->io.pipe, fd);
        snprintf(l->addr, sizeof l->addr, "unix:%s",
                 ((struct sockaddr_un *)&ss)->sun_path);
    } else {
        uv_tcp_init(srv->loop, &l->io.tcp);
        r = uv_tcp_open(&l->io.tcp, fd);
        pixd_addr_format((struct sockaddr *)&ss, l->addr, sizeof l->addr);
    }
    l->io.handle.data = l;
    if (r == 0)
        r = listener_start(l);
    if (r < 0) {
        pixd_err("socket from systemd (fd %d): %s", fd, uv_strerror(r));
        uv_close(&l->io.handle, listener_closed);
        return r;
    }
    listener_link(srv, l);
    return 0;
}

void pixd_listen_close_all(pixd_server *srv) {
    pixd_listener *l = srv->listeners, *n;
    srv->listeners = NULL;
    for (; l; l = n) {
        n = l->next;
        uv_close(&l->io.handle, listener_closed);
    }
}
