/* legacy-snapshot: seed 000's "JWX" snapshot server.
 *
 * The client sends OK; pixd JPEG-encodes the newest frame of the
 * listener's camera (on the work queue, at ,quality= with an optional
 * ,unsharp=RADIUS,PERCENT,THRESHOLD) and answers "FD,<size>,<name>.jpg\n";
 * the client sends GO and gets the bytes; OK again for the next frame.
 * Anything else: "ER,<message>\n" and the connection closes. Blanks
 * (space, tab, CR, LF) around the client's words are ignored. See
 * pixd-legacy(7), "LEGACY-SNAPSHOT". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../camera/hub.h"
#include "../image/image.h"
#include "../jobs.h"
#include "../auth/keys.h"
#include "../log.h"
#include "../server.h"
#include "../inbuf.h"

#define STASH_MAX 64 /* a client has no reason to send while it waits */

typedef struct sn_config {
    char camera[64];  /* "": the first camera */
    unsigned quality;
    int sharpen;
    float radius, amount;
    int threshold;
} sn_config;

typedef struct sn_job {
    pixd_job job;
    pixd_conn *conn;  /* NULL once the client has gone */
    pixd_frame *frame;
    pixd_resize_params p;
    pixd_resize_result res;
    int err;
    char msg[200];
} sn_job;

enum sn_stage { SN_OK, SN_FRAME, SN_JOB, SN_GO, SN_DONE };

typedef struct sn_state {
    enum sn_stage stage;
    sn_config cfg;
    char word[2];
    size_t word_len;
    char camera[96];  /* "<camera>-<seq>": names the frame being served */
    pixd_sub *sub;
    sn_job *job;      /* encoding, or encoded and waiting for GO */
    int encoding;     /* job is on the work queue: its done() frees it */
    pixd_stash stash;
} sn_state;

static const char *const known[] = {"camera", "quality", "unsharp", NULL};

static int sn_parse(const pixd_params *p, sn_config *cfg, char *err, size_t errlen) {
    const char *cam = pixd_params_get(p, "camera"), *us = pixd_params_get(p, "unsharp");
    int r;

    memset(cfg, 0, sizeof *cfg);
    if ((r = pixd_params_check_known(p, known, "legacy-snapshot", err, errlen)) < 0 ||
        (r = pixd_params_uint(p, "quality", 1, 100, 90, &cfg->quality, err, errlen)) < 0)
        return r;
    if (cam) {
        if (strlen(cam) >= sizeof cfg->camera || strspn(cam, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(cam)) {
            snprintf(err, errlen, "camera=%.40s: not a camera name (letters, digits, '-', "
                     "'_', '.', at most 63 bytes)", cam);
            return -EINVAL;
        }
        strcpy(cfg->camera, cam);
    }
    if (us) {
        /* Pillow's UnsharpMask(radius, percent, threshold), as the seed. */
        float radius;
        unsigned percent;
        int threshold, n = 0;
        if (sscanf(us, "%f,%u,%d%n", &radius, &percent, &threshold, &n) != 3 || us[n] ||
            !(radius > 0 && radius <= 50) || percent > 2000 || threshold < 0 ||
            threshold > 255) {
            snprintf(err, errlen, "unsharp=%.40s: expected RADIUS,PERCENT,THRESHOLD as in "
                     "2,150,3 (radius up to 50, percent up to 2000, threshold up to 255)", us);
            return -EINVAL;
        }
        cfg->sharpen = 1;
        cfg->radius = radius;
        cfg->amount = (float)percent / 100.0f;
        cfg->threshold = threshold;
    }
    return 0;
}

static int sn_check_params(const pixd_params *p, char *err, size_t errlen) {
    sn_config cfg;
    return sn_parse(p, &cfg, err, errlen);
}

static void sn_job_free(void *ctx) {
    sn_job *j = ctx;
    pixd_frame_unref(j->frame);
    free(j->res.data);
    free(j);
}

/* ER,<message> and the connection closes. */
static void fail(pixd_conn *c, const char *msg) {
    sn_state *s = c->state;
    char line[256];
    int n = snprintf(line, sizeof line, "ER,%s", msg);
    pixd_notice("legacy-snapshot %s: %s", c->peer, msg);
    /* One line, whatever the message holds. */
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    if (s)
        s->stage = SN_DONE;
    pixd_conn_write_copy(c, line, (size_t)n);
    pixd_conn_end(c);
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n);

static void encode_work(pixd_job *pj) {
    sn_job *j = (sn_job *)pj;
    /* The frame is shared and read-only once published; only its count
     * changes, and that on the loop thread. */
    j->err = pixd_image_resize(j->frame->data, j->frame->len, &j->p, &j->res, j->msg,
                               sizeof j->msg);
}

static void encode_done(pixd_job *pj, int status) {
    sn_job *j = (sn_job *)pj;
    pixd_conn *c = j->conn;
    sn_state *s;
    pixd_stash more;
    char line[160];
    int n;

    pixd_frame_unref(j->frame);
    j->frame = NULL;
    if (c) {
        s = c->state;
        s->encoding = 0;
    }
    if (!c || c->cstate != PIXD_CONN_OPEN) {
        if (c)
            s->job = NULL;
        sn_job_free(j);
        return;
    }
    if (status < 0 || j->err) {
        s->job = NULL;
        fail(c, status < 0 ? "pixd is shutting down" : j->msg);
        sn_job_free(j);
        return;
    }
    s->stage = SN_GO;
    n = snprintf(line, sizeof line, "FD,%zu,%s.jpg\n", j->res.len, s->camera);
    pixd_conn_write_copy(c, line, (size_t)n);
    more = pixd_stash_take(&s->stash);
    feed(c, more.data, more.len);
    free(more.data);
}

static void sub_frame(void *ctx, pixd_frame *f) {
    pixd_conn *c = ctx;
    sn_state *s = c->state;
    sn_job *j;
    int r;

    if (s->stage != SN_FRAME)
        return;
    if (!(j = calloc(1, sizeof *j))) {
        fail(c, "out of memory");
        return;
    }
    j->conn = c;
    j->frame = pixd_frame_ref(f);
    pixd_resize_params_default(&j->p); /* 0 x 0: the frame's own size */
    j->p.quality = (int)s->cfg.quality;
    j->p.max_pixels = c->srv->opt->max_pixels;
    j->p.sharpen = s->cfg.sharpen;
    if (s->cfg.sharpen) {
        j->p.sharpen_radius = s->cfg.radius;
        j->p.sharpen_amount = s->cfg.amount;
        j->p.sharpen_threshold = s->cfg.threshold;
    }
    j->job.work = encode_work;
    j->job.done = encode_done;
    /* The frame's sequence number names the file, so a client can tell
     * frames apart. */
    snprintf(s->camera + strlen(s->camera), sizeof s->camera - strlen(s->camera), "-%llu",
             (unsigned long long)f->seq);
    if ((r = pixd_jobs_submit(&c->srv->jobs, &j->job)) < 0) {
        sn_job_free(j);
        fail(c, r == -EBUSY ? "busy: every worker is busy and the queue is full; try again"
                            : "cannot queue the encoding");
        return;
    }
    s->job = j;
    s->encoding = 1;
    s->stage = SN_JOB;
}

static int sub_ready(void *ctx) { (void)ctx; return 1; }

static void sub_gone(void *ctx) {
    pixd_conn *c = ctx;
    sn_state *s = c->state;
    s->sub = NULL;
    if (s->stage == SN_FRAME)
        fail(c, "the camera went away");
}

static const pixd_sub_ops snap_ops = {.frame = sub_frame, .ready = sub_ready, .gone = sub_gone};

static void on_ok(pixd_conn *c) {
    sn_state *s = c->state;
    const char *cam = s->cfg.camera[0] ? s->cfg.camera : pixd_hub_first(c->srv->hub);
    char msg[128];
    int r;

    if (!cam) {
        fail(c, "no camera: pixd has none configured");
        return;
    }
    snprintf(s->camera, sizeof s->camera, "%s", cam);
    s->stage = SN_FRAME;
    r = pixd_hub_subscribe(c->srv->hub, cam, 0, 0, 1, &snap_ops, c, &s->sub);
    if (r < 0) {
        snprintf(msg, sizeof msg, "no camera named %s", cam);
        fail(c, r == -ENOENT ? msg : "out of memory");
    }
}

static void on_go(pixd_conn *c) {
    sn_state *s = c->state;
    sn_job *j = s->job;
    uv_buf_t b = uv_buf_init((char *)j->res.data, (unsigned)j->res.len);
    s->job = NULL;
    s->stage = SN_OK;
    pixd_conn_write(c, &b, 1, sn_job_free, j);
}

static int blank(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

static void feed(pixd_conn *c, const uint8_t *d, size_t n) {
    sn_state *s = c->state;
    for (size_t i = 0; i < n && c->cstate == PIXD_CONN_OPEN; i++) {
        if (s->stage == SN_FRAME || s->stage == SN_JOB) {
            if (s->stash.len + (n - i) > STASH_MAX)
                fail(c, "sent more while a frame was being prepared; wait for FD");
            else if (pixd_stash_add(&s->stash, d + i, n - i) < 0)
                fail(c, "out of memory");
            return;
        }
        if (s->stage == SN_DONE)
            return;
        if (s->word_len == 0 && blank(d[i]))
            continue;
        s->word[s->word_len++] = (char)d[i];
        if (s->word_len < 2)
            continue;
        s->word_len = 0;
        if (s->stage == SN_OK && !memcmp(s->word, "OK", 2))
            on_ok(c);
        else if (s->stage == SN_GO && !memcmp(s->word, "GO", 2))
            on_go(c);
        else
            fail(c, s->stage == SN_OK ? "expected OK" : "expected GO");
    }
}

static void sn_read(pixd_conn *c, const uint8_t *data, size_t len) { feed(c, data, len); }

static int sn_open(pixd_conn *c) {
    sn_state *s = c->state;
    char err[200];
    return sn_parse(&c->listener->params, &s->cfg, err, sizeof err) < 0 ? -EINVAL : 0;
}

static void sn_goodbye(pixd_conn *c, enum pixd_goodbye why) {
    sn_state *s = c->state;
    switch (why) {
    case PIXD_BYE_LIMIT:
        fail(c, "too many connections; try again later");
        break;
    case PIXD_BYE_IDLE:
        fail(c, s && s->stage == SN_FRAME ? "the camera sent no frame in time"
                                          : "idle for too long");
        break;
    case PIXD_BYE_SHUTDOWN:
        fail(c, "pixd is shutting down");
        break;
    case PIXD_BYE_NOT_TLS: /* legacy listeners never speak TLS */
        break;
    case PIXD_BYE_DENIED:
        fail(c, "permission denied: this listener admits loopback clients only "
                "(its operator can give others a key's permissions with ,as=NAME)");
        break;
    }
}

static void sn_close(pixd_conn *c) {
    sn_state *s = c->state;
    if (s->sub)
        pixd_sub_unsubscribe(s->sub);
    s->sub = NULL;
    if (s->job && s->encoding) {
        s->job->conn = NULL;
        pixd_jobs_cancel(s->job->job.q, &s->job->job);
    } else if (s->job) {
        sn_job_free(s->job);
    }
    s->job = NULL;
    pixd_stash_free(&s->stash);
}

const pixd_handler pixd_legacy_snapshot_handler = {
    .name = "legacy-snapshot",
    .default_listen = NULL,
    .summary = "seed 000's JWX snapshot server (OK, FD line, GO, JPEG bytes)",
    .state_size = sizeof(sn_state),
    .open = sn_open,
    .read = sn_read,
    .goodbye = sn_goodbye,
    .close = sn_close,
    .perm = PIXD_PERM_READ, /* with --keys: as=NAME or loopback */
    .check_params = sn_check_params,
};
