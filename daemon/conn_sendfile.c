/* File ranges in a connection's write queue (see conn_sendfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "conn_sendfile.h"
#include "log.h"
#include "server.h"

/* Bytes per sendfile call: large enough that the pool round trip is
 * noise, small enough that a connection's turn on the pool stays short. */
#define STEP (2u << 20)

enum kind { SQ_FILE, SQ_BUFS };

typedef struct sq_entry {
    struct sq_entry *next;
    enum kind kind;
    size_t len;               /* bytes still to send */
    pixd_release_cb release;
    void *ctx;
    uv_file fd;               /* SQ_FILE */
    int64_t off;
    unsigned nbufs;           /* SQ_BUFS */
    uv_buf_t bufs[];
} sq_entry;

struct pixd_sendq {
    pixd_conn *conn;          /* NULL once the connection closed */
    sq_entry *head, *tail;
    size_t queued;            /* bytes in entries, all counted in conn->queued */
    int sockfd;               /* a dup of the socket: see conn_sendfile.h */
    size_t asked;             /* bytes of the sendfile in flight */
    unsigned running : 1;     /* the sendfile job is on the work queue */
    unsigned polling : 1;     /* waiting for room in the socket */
    unsigned poll_init : 1, poll_closing : 1;
    /* The sendfile job: sendfile(2) itself on the work queue, not
     * uv_fs_sendfile, which in libuv 1.44 (Debian 12) tries
     * copy_file_range first and on a socket's EINVAL falls back to
     * copying through a small buffer. The job reads only these fields. */
    uv_work_t work;
    uv_file job_fd;
    int64_t job_off;
    ssize_t job_result;
    uv_poll_t poll;
};

static void release_entry(sq_entry *e) {
    if (e->release)
        e->release(e->ctx);
    free(e);
}

static void append(struct pixd_sendq *sq, sq_entry *e) {
    e->next = NULL;
    if (sq->tail)
        sq->tail->next = e;
    else
        sq->head = e;
    sq->tail = e;
    sq->queued += e->len;
}

static sq_entry *pop(struct pixd_sendq *sq) {
    sq_entry *e = sq->head;
    sq->head = e->next;
    if (!sq->head)
        sq->tail = NULL;
    return e;
}

/* Free sq once nothing refers to it: the connection is gone, no sendfile
 * runs and the poll handle is closed. */
static void maybe_free(struct pixd_sendq *sq) {
    if (sq->conn || sq->running || sq->poll_closing)
        return;
    while (sq->head)
        release_entry(pop(sq));
    if (sq->sockfd >= 0)
        close(sq->sockfd);
    free(sq);
}

static struct pixd_sendq *get_sendq(pixd_conn *c) {
    struct pixd_sendq *sq = c->sendq;
    uv_os_fd_t fd;
    if (sq)
        return sq;
    if (uv_fileno(&c->io.handle, &fd) < 0 || !(sq = calloc(1, sizeof *sq)))
        return NULL;
    if ((sq->sockfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(sq);
        return NULL;
    }
    sq->conn = c;
    return c->sendq = sq;
}

int pixd__sendq_busy(const pixd_conn *c) { return c->sendq && c->sendq->head; }

int pixd__sendq_file(pixd_conn *c, uv_file fd, uint64_t off, size_t len,
                     pixd_release_cb release, void *ctx) {
    struct pixd_sendq *sq = get_sendq(c);
    sq_entry *e = sq ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        if (release)
            release(ctx);
        return -ENOMEM;
    }
    e->kind = SQ_FILE;
    e->len = len;
    e->release = release;
    e->ctx = ctx;
    e->fd = fd;
    e->off = (int64_t)off;
    append(sq, e);
    return 0;
}

int pixd__sendq_defer(pixd_conn *c, const uv_buf_t *bufs, unsigned nbufs, size_t len,
                      pixd_release_cb release, void *ctx) {
    struct pixd_sendq *sq = c->sendq;
    sq_entry *e = malloc(sizeof *e + nbufs * sizeof(uv_buf_t));
    if (!e) {
        if (release)
            release(ctx);
        return -ENOMEM;
    }
    memset(e, 0, sizeof *e);
    e->kind = SQ_BUFS;
    e->len = len;
    e->release = release;
    e->ctx = ctx;
    e->nbufs = nbufs;
    memcpy(e->bufs, bufs, nbufs * sizeof(uv_buf_t));
    append(sq, e);
    return 0;
}

static void on_writable(uv_poll_t *h, int status, int events);

/* The socket is full: wake up when it has room. */
static void wait_room(struct pixd_sendq *sq) {
    pixd_conn *c = sq->conn;
    int r = 0;
    if (!sq->poll_init) {
        if ((r = uv_poll_init(c->srv->loop, &sq->poll, sq->sockfd)) == 0) {
            sq->poll.data = sq;
            sq->poll_init = 1;
        }
    }
    if (r == 0 && (r = uv_poll_start(&sq->poll, UV_WRITABLE, on_writable)) == 0) {
        sq->polling = 1;
        return;
    }
    pixd_warn("conn %llu %s: cannot wait for the socket: %s", (unsigned long long)c->id,
              c->peer, uv_strerror(r));
    pixd_conn_close(c);
}

static void on_writable(uv_poll_t *h, int status, int events) {
    struct pixd_sendq *sq = h->data;
    (void)events;
    uv_poll_stop(h);
    sq->polling = 0;
    if (!sq->conn)
        return;
    if (status < 0) {
        pixd_conn_close(sq->conn);
        return;
    }
    pixd__sendq_kick(sq->conn);
}

static void send_work(uv_work_t *req) {
    struct pixd_sendq *sq = req->data;
    off_t off = (off_t)sq->job_off;
    ssize_t n;
    do
        n = sendfile(sq->sockfd, sq->job_fd, &off, sq->asked);
    while (n < 0 && errno == EINTR);
    sq->job_result = n < 0 ? (errno == EAGAIN ? UV_EAGAIN : -errno) : n;
}

static void sent(uv_work_t *req, int status) {
    struct pixd_sendq *sq = req->data;
    pixd_conn *c = sq->conn;
    ssize_t n = status < 0 ? status : sq->job_result;
    sq_entry *e;

    sq->running = 0;
    if (!c) {
        maybe_free(sq);
        return;
    }
    if (n == UV_EAGAIN) {
        wait_room(sq);
        return;
    }
    if (n <= 0) {
        /* 0: the file is shorter than it was when the range was queued
         * (changed behind pixd's back); the response cannot be completed. */
        if (n != UV_EPIPE && n != UV_ECONNRESET && n != UV_ECANCELED)
            pixd_notice("conn %llu %s: sendfile: %s", (unsigned long long)c->id, c->peer,
                        n ? uv_strerror((int)n) : "the file ended early");
        pixd_conn_close(c);
        return;
    }
    e = sq->head;
    e->off += n;
    e->len -= (size_t)n;
    sq->queued -= (size_t)n;
    if (e->len == 0)
        release_entry(pop(sq));
    /* A short send means the socket buffer is full: wait for room before
     * anything else is tried (polling holds kick() back). */
    if ((size_t)n < sq->asked && sq->head) {
        wait_room(sq);
        if (c->cstate == PIXD_CONN_CLOSING)
            return; /* sq is gone */
    }
    /* May call the handler's drain, which may queue more or close c; it
     * also starts what waits, unless polling. */
    pixd__conn_written(c, (size_t)n);
}

void pixd__sendq_kick(pixd_conn *c) {
    struct pixd_sendq *sq = c->sendq;
    sq_entry *e;

    if (!sq || sq->running || sq->polling || c->cstate == PIXD_CONN_CLOSING)
        return;
    while ((e = sq->head)) {
        if (e->kind == SQ_BUFS) {
            /* uv_write keeps the order of what it was given. */
            pop(sq);
            sq->queued -= e->len;
            if (pixd__conn_uv_write(c, e->bufs, e->nbufs, e->len, e->release, e->ctx) < 0) {
                free(e);
                pixd_conn_close(c); /* bytes of the stream are lost */
                return;
            }
            free(e);
            continue;
        }
        /* A file range starts once every write before it has left. */
        if (c->queued != sq->queued)
            return;
        sq->asked = e->len < STEP ? e->len : STEP;
        sq->work.data = sq;
        sq->job_fd = e->fd;
        sq->job_off = e->off;
        if (uv_queue_work(c->srv->loop, &sq->work, send_work, sent) < 0) {
            pixd_conn_close(c);
            return;
        }
        sq->running = 1;
        return;
    }
}

static void poll_closed(uv_handle_t *h) {
    struct pixd_sendq *sq = h->data;
    sq->poll_closing = 0;
    maybe_free(sq);
}

void pixd__sendq_close(pixd_conn *c) {
    struct pixd_sendq *sq = c->sendq;
    sq_entry *keep = NULL;
    if (!sq)
        return;
    c->sendq = NULL;
    sq->conn = NULL;
    /* The range a running sendfile reads stays until it returns. */
    if (sq->running && sq->head)
        keep = pop(sq);
    while (sq->head)
        release_entry(pop(sq));
    if (keep)
        append(sq, keep);
    if (sq->poll_init) {
        uv_poll_stop(&sq->poll);
        sq->poll_closing = 1;
        uv_close((uv_handle_t *)&sq->poll, poll_closed);
    }
    maybe_free(sq);
}
