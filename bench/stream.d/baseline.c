/* The floor for bench/stream: a plain fan-out sender of the same bytes.
 *
 * Usage: baseline DIR N FPS
 *
 * Loads the JPEG files of DIR (in name order) into memory, listens on
 * 127.0.0.1 (an ephemeral port, printed as "port P"), accepts N
 * connections, then sends one file a tick at FPS to every connection,
 * framed exactly as pixd frames a video frame (FRAME with SEQ, TS_US, WIDTH,
 * HEIGHT, SIZE, then DATA chunks of 256 KiB) under request id 1, with no
 * handshake. The JPEG bytes are never copied: every socket's writev points
 * into the one buffer. A socket that has not taken the previous frame
 * whole is skipped for this tick and finished with EPOLLOUT, as pixd skips
 * a congested subscriber. No hub, no refcounts, no protocol parsing: what
 * delivering these bytes costs at the least. Runs until SIGTERM.
 *
 * Built by bench/stream with cc -O2. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256u * 1024u)
#define MAX_FILES 1024
#define MAX_IOV 64
#define HEAD_MAX 96

typedef struct {
    uint8_t *data;
    size_t len;
    uint8_t dhdr[MAX_IOV][12]; /* DATA headers, shared by all sockets */
    size_t nchunks;
} jpeg_file;

typedef struct {
    int fd;
    int busy;       /* a frame partly written */
    size_t off;     /* bytes of it written */
    size_t total;
    int file;       /* which */
    uint8_t head[HEAD_MAX];
    size_t head_len;
} conn;

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static void put_header(uint8_t *h, uint8_t type, uint8_t flags, uint32_t id, uint32_t len) {
    h[0] = type;
    h[1] = flags;
    h[2] = h[3] = 0;
    h[4] = id >> 24; h[5] = id >> 16; h[6] = id >> 8; h[7] = id;
    h[8] = len >> 24; h[9] = len >> 16; h[10] = len >> 8; h[11] = len;
}

static size_t put_u64(uint8_t *p, uint16_t tag, uint64_t v) {
    p[0] = tag >> 8;
    p[1] = tag;
    p[2] = p[3] = p[4] = 0;
    p[5] = 8;
    for (int i = 0; i < 8; i++)
        p[6 + i] = (uint8_t)(v >> (56 - 8 * i));
    return 14;
}

/* JPEG SOF: width and height, for the FRAME fields. */
static void jpeg_size(const uint8_t *d, size_t n, unsigned *w, unsigned *h) {
    size_t i = 2;
    *w = *h = 0;
    while (i + 9 < n) {
        if (d[i] != 0xff) { i++; continue; }
        uint8_t m = d[i + 1];
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            *h = (unsigned)d[i + 5] << 8 | d[i + 6];
            *w = (unsigned)d[i + 7] << 8 | d[i + 8];
            return;
        }
        i += 2 + len;
    }
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t build_iov(conn *c, jpeg_file *f, struct iovec *iov) {
    size_t n = 0, off = 0;
    iov[n++] = (struct iovec){c->head, c->head_len};
    for (size_t k = 0; k < f->nchunks; k++) {
        size_t len = f->len - off < CHUNK ? f->len - off : CHUNK;
        iov[n++] = (struct iovec){f->dhdr[k], 12};
        iov[n++] = (struct iovec){f->data + off, len};
        off += len;
    }
    return n;
}

/* Writes what it can of c's frame from c->off on. 1 when done, 0 when the
 * socket is full, -1 on error. */
static int push(conn *c, jpeg_file *files) {
    struct iovec iov[2 * MAX_IOV + 1];
    size_t n = build_iov(c, &files[c->file], iov), skip = c->off, first = 0;
    while (first < n && skip >= iov[first].iov_len)
        skip -= iov[first++].iov_len;
    iov[first].iov_base = (uint8_t *)iov[first].iov_base + skip;
    iov[first].iov_len -= skip;
    while (c->off < c->total) {
        ssize_t w = writev(c->fd, iov + first, (int)(n - first));
        if (w < 0)
            return errno == EAGAIN ? 0 : errno == EINTR ? push(c, files) : -1;
        c->off += (size_t)w;
        while (first < n && (size_t)w >= iov[first].iov_len)
            w -= (ssize_t)iov[first++].iov_len;
        if (first < n) {
            iov[first].iov_base = (uint8_t *)iov[first].iov_base + w;
            iov[first].iov_len -= (size_t)w;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: baseline DIR N FPS\n");
        return 2;
    }
    int nconn = atoi(argv[2]);
    double fps = atof(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);

    DIR *d = opendir(argv[1]);
    char *names[MAX_FILES];
    int nfiles = 0;
    struct dirent *e;
    if (!d) { perror(argv[1]); return 1; }
    while ((e = readdir(d)) && nfiles < MAX_FILES)
        if (strstr(e->d_name, ".jpg"))
            names[nfiles++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nfiles, sizeof *names, by_name);
    jpeg_file *files = calloc((size_t)nfiles, sizeof *files);
    unsigned *dims = calloc((size_t)nfiles * 2, sizeof *dims);
    for (int i = 0; i < nfiles; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        int fd = open(path, O_RDONLY);
        if (fd < 0 || fstat(fd, &st) < 0) { perror(path); return 1; }
        files[i].len = (size_t)st.st_size;
        files[i].data = malloc(files[i].len);
        if (read(fd, files[i].data, files[i].len) != (ssize_t)files[i].len) { perror(path); return 1; }
        close(fd);
        files[i].nchunks = (files[i].len + CHUNK - 1) / CHUNK;
        if (files[i].nchunks > MAX_IOV) { fprintf(stderr, "%s: too big\n", path); return 1; }
        for (size_t k = 0, off = 0; k < files[i].nchunks; k++, off += CHUNK) {
            size_t len = files[i].len - off < CHUNK ? files[i].len - off : CHUNK;
            put_header(files[i].dhdr[k], 0x09, k + 1 < files[i].nchunks ? 2 : 0, 1, (uint32_t)len);
        }
        jpeg_size(files[i].data, files[i].len, &dims[2 * i], &dims[2 * i + 1]);
    }
    if (nfiles == 0) { fprintf(stderr, "no .jpg files in %s\n", argv[1]); return 1; }

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1024) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("listen");
        return 1;
    }
    printf("port %u\n", ntohs(sa.sin_port));
    fflush(stdout);

    conn *cs = calloc((size_t)nconn, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < nconn; i++) {
        cs[i].fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cs[i].fd < 0) { perror("accept"); return 1; }
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = 0, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t tick = 0, seq = 0;
    double period = 1.0 / fps;
    while (!stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        double due = (double)tick * period;
        if (elapsed >= due) {
            int f = (int)(seq % (uint64_t)nfiles);
            struct timeval tv;
            uint8_t head[HEAD_MAX];
            size_t bl = 0;
            gettimeofday(&tv, NULL);
            ++seq;
            bl += put_u64(head + 12 + bl, 67, seq);
            bl += put_u64(head + 12 + bl, 68, (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec);
            bl += put_u64(head + 12 + bl, 35, dims[2 * f]);
            bl += put_u64(head + 12 + bl, 36, dims[2 * f + 1]);
            bl += put_u64(head + 12 + bl, 31, files[f].len);
            put_header(head, 0x33, 2, 1, (uint32_t)bl);
            for (int i = 0; i < nconn; i++) {
                conn *c = &cs[i];
                if (c->fd < 0 || c->busy)
                    continue; /* congested: skips this frame */
                memcpy(c->head, head, 12 + bl);
                c->head_len = 12 + bl;
                c->file = f;
                c->off = 0;
                c->total = c->head_len + files[f].nchunks * 12 + files[f].len;
                int r = push(c, files);
                if (r == 0) {
                    c->busy = 1;
                    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                } else if (r < 0) {
                    close(c->fd);
                    c->fd = -1;
                }
            }
            tick++;
            if (elapsed > due + 2 * period) /* behind: no burst */
                tick = (uint64_t)(elapsed / period) + 1;
            continue;
        }
        int wait_ms = (int)((due - elapsed) * 1000) + 1;
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, wait_ms);
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            if (c->fd >= 0 && (evs[k].events & (EPOLLHUP | EPOLLERR))) {
                close(c->fd);
                c->fd = -1;
            }
            if (c->fd < 0 || !c->busy)
                continue;
            int r = push(c, files);
            if (r != 0) {
                struct epoll_event ev = {.events = 0, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->busy = 0;
                if (r < 0) {
                    close(c->fd);
                    c->fd = -1;
                }
            }
        }
    }
    return 0;
}
