/* Test media for the file: and URL camera tests (see file-media.h). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "file-media.h"
#include "imgutil.h"

char dir[64];

/* ---- test media ---- */

static uint8_t level(int i) { return (uint8_t)(5 + 6 * (i % SEQ_LEN)); }

static uint8_t *gray_jpeg(int i, size_t *len) {
    uint8_t c[3] = {level(i), level(i), level(i)};
    uint8_t *px = tu_solid(W, H, 3, c), *jpg = tu_jpeg(px, W, H, 3, 90, len);
    free(px);
    return jpg;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void make_sequence(const char *pattern, int n) {
    char path[128];
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *jpg = gray_jpeg(i, &len);
        snprintf(path, sizeof path, pattern, dir, i);
        write_file(path, jpg, len);
        free(jpg);
    }
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) {
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, le, 4);
}
static void put16(buf *b, uint16_t v) {
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, le, 2);
}
static void set32(buf *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++)
        b->p[at + i] = (uint8_t)(v >> (8 * i));
}
/* Starts a RIFF or LIST chunk; returns where its size goes. */
static size_t open_list(buf *b, const char *id, const char *type) {
    size_t at;
    put(b, id, 4);
    at = b->n;
    put32(b, 0);
    put(b, type, 4);
    return at;
}
static void close_list(buf *b, size_t at) { set32(b, at, (uint32_t)(b->n - at - 4)); }

/* An MJPEG AVI by hand (RIFF, avih, strh, strf, movi, idx1) that declares
 * fps, so the test does not read it with the code under test's library. */
static void make_avi(const char *path, int n, unsigned fps) {
    buf b = {0}, idx = {0};
    size_t riff, hdrl, strl, movi;
    riff = open_list(&b, "RIFF", "AVI ");
    hdrl = open_list(&b, "LIST", "hdrl");
    put(&b, "avih", 4);
    put32(&b, 56);
    put32(&b, 1000000 / fps); /* microseconds per frame */
    put32(&b, 0);
    put32(&b, 0);
    put32(&b, 0x10); /* AVIF_HASINDEX */
    put32(&b, (uint32_t)n);
    put32(&b, 0);
    put32(&b, 1); /* streams */
    put32(&b, 0);
    put32(&b, W);
    put32(&b, H);
    for (int i = 0; i < 4; i++)
        put32(&b, 0);
    strl = open_list(&b, "LIST", "strl");
    put(&b, "strh", 4);
    put32(&b, 56);
    put(&b, "vids", 4);
    put(&b, "MJPG", 4);
    put32(&b, 0);
    put16(&b, 0);
    put16(&b, 0);
    put32(&b, 0);
    put32(&b, 1);   /* scale */
    put32(&b, fps); /* rate: fps = rate / scale */
    put32(&b, 0);
    put32(&b, (uint32_t)n);
    put32(&b, 0);
    put32(&b, 0xffffffffu);
    put32(&b, 0);
    put16(&b, 0);
    put16(&b, 0);
    put16(&b, W);
    put16(&b, H);
    put(&b, "strf", 4);
    put32(&b, 40);
    put32(&b, 40);
    put32(&b, W);
    put32(&b, H);
    put16(&b, 1);
    put16(&b, 24);
    put(&b, "MJPG", 4);
    put32(&b, W * H * 3);
    for (int i = 0; i < 4; i++)
        put32(&b, 0);
    close_list(&b, strl);
    close_list(&b, hdrl);
    movi = open_list(&b, "LIST", "movi");
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *jpg = gray_jpeg(i, &len);
        put(&idx, "00dc", 4);
        put32(&idx, 0x10); /* AVIIF_KEYFRAME */
        put32(&idx, (uint32_t)(b.n - (movi + 4)));
        put32(&idx, (uint32_t)len);
        put(&b, "00dc", 4);
        put32(&b, (uint32_t)len);
        put(&b, jpg, len);
        if (len & 1)
            put(&b, "", 1);
        free(jpg);
    }
    close_list(&b, movi);
    put(&b, "idx1", 4);
    put32(&b, (uint32_t)idx.n);
    put(&b, idx.p, idx.n);
    close_list(&b, riff);
    write_file(path, b.p, b.n);
    free(b.p);
    free(idx.p);
}

int make_media(void **state) {
    char path[128];
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pixd-test-file-XXXXXX");
    assert_non_null(mkdtemp(dir));
    make_sequence("%s/img_%04d.jpg", SEQ_LEN);
    snprintf(path, sizeof path, "%s/clip.avi", dir);
    make_avi(path, SEQ_LEN, 10);
    snprintf(path, sizeof path, "%s/garbage.avi", dir);
    write_file(path, "RIFF\0\0\0\0AVI nonsense that is not a video at all", 48);
    return 0;
}

int remove_media(void **state) {
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- a stream: multipart MJPEG over HTTP from loopback ---- */

static int send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Serve each connection per_connection frames at fps, then hang up, as a
 * camera that restarts would. */
static void serve(void *arg) {
    server *sv = arg;
    int frame = 0;
    while (!sv->stop) {
        struct pollfd p = {.fd = sv->fd, .events = POLLIN};
        char req[2048];
        const char *hdr = "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;"
                          "boundary=pixdframe\r\n\r\n";
        int c;
        if (poll(&p, 1, 50) <= 0)
            continue;
        if ((c = accept(sv->fd, NULL, NULL)) < 0)
            continue;
        sv->connections++;
        if (recv(c, req, sizeof req, 0) <= 0 || send_all(c, hdr, strlen(hdr)) < 0) {
            close(c);
            continue;
        }
        for (unsigned i = 0; i < sv->per_connection && !sv->stop; i++, frame++) {
            char part[128];
            size_t len;
            uint8_t *jpg = gray_jpeg(frame, &len);
            int n = snprintf(part, sizeof part, "--pixdframe\r\nContent-Type: image/jpeg\r\n"
                             "Content-Length: %zu\r\n\r\n", len);
            int bad = send_all(c, part, (size_t)n) < 0 || send_all(c, jpg, len) < 0 ||
                      send_all(c, "\r\n", 2) < 0;
            free(jpg);
            if (bad)
                break;
            usleep(1000000 / sv->fps);
        }
        close(c);
    }
}

void server_start(server *sv, unsigned fps, unsigned per_connection) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    memset(sv, 0, sizeof *sv);
    sv->fps = fps;
    sv->per_connection = per_connection;
    assert_true((sv->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->fd, 4), 0);
    assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(uv_thread_create(&sv->thread, serve, sv), 0);
}

void server_stop(server *sv) {
    sv->stop = 1;
    uv_thread_join(&sv->thread);
    close(sv->fd);
}
