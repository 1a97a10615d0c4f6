/* legacy-predict: seed 003's prediction server.
 *
 * pixd sends '?' before each command; a command is 4 bytes and every
 * reply code one ASCII digit. FILE takes a 10-byte size field and the
 * image (hashed with SHA-256 as it arrives), HASH compares 64 hex
 * characters with that hash, MODE selects a --model by its name, PRED
 * classifies the file on the job queue and answers P or N (the model's
 * positive= label won or not), BYE closes. The file is held until the
 * next FILE or the close. See pixd-legacy(7), "LEGACY-PREDICT". */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../classify/classify.h"
#include "../imghdr.h"
#include "../auth/keys.h"
#include "../log.h"
#include "../server.h"
#include "../inbuf.h"

#define CMD_LEN 4
#define SIZE_LEN 10
#define HASH_LEN 64
#define INPUT_DEFAULT_MAX (256u << 20) /* without --max-upload */
#define PROBE_MAX (256u << 10)         /* JPEG EXIF can push SOFn this far */

/* Reply codes: seed 003's 0 to 5, and 6 for what the seed never faced. */
#define C_OK '0'
#define C_MISSING '1'  /* no file or no model selected */
#define C_UNKNOWN '2'  /* not a command */
#define C_NO_MODEL '3'
#define C_MISMATCH '4'
#define C_BAD_IMAGE '5'
#define C_BUSY '6'     /* cannot classify now: queue full, out of memory */

enum pr_stage { PR_CMD, PR_SIZE, PR_BODY, PR_HASH, PR_MODE, PR_JOB, PR_DONE };

typedef struct pr_state {
    enum pr_stage stage;
    char field[HASH_LEN];       /* the command, size, hash or model being read */
    size_t field_len;
    pixd_inbuf body;            /* the file: arriving, then held */
    EVP_MD_CTX *md;
    uint8_t sha256[32];         /* of the held file */
    int have_file;
    const pixd_model *model;    /* selected by MODE; NULL: none */
    pixd_classify_req *req;     /* PRED in flight */
    pixd_stash stash;
} pr_state;

static size_t input_max(const pixd_server *srv) {
    unsigned long long m = srv->opt->max_upload;
    return m && m < INPUT_DEFAULT_MAX ? (size_t)m : INPUT_DEFAULT_MAX;
}

static void reply(pixd_conn *c, const char *bytes, size_t n) {
    pixd_conn_write_copy(c, bytes, n);
}

/* The exchange is over: reply code(s), then '?' for the next command. */
static void answer(pixd_conn *c, char code) {
    pr_state *s = c->state;
    char out[2] = {code, '?'};
    s->stage = PR_CMD;
    s->field_len = 0;
    reply(c, out, 2);
}

/* The client's bytes can no longer be framed (or it sent more than pixd
 * takes): one code, then the close. */
static void refuse(pixd_conn *c, char code, const char *why) {
    pr_state *s = c->state;
    pixd_notice("legacy-predict %s: %s; replying %c and closing", c->peer, why, code);
    s->stage = PR_DONE;
    reply(c, &code, 1);
    pixd_conn_end(c);
}

static void drop_file(pr_state *s) {
    pixd_inbuf_free(&s->body);
    s->have_file = 0;
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n);

/* The 10-byte size field: its digits, in order, are the size; any other
 * byte is filler. */
static void on_size(pixd_conn *c) {
    pr_state *s = c->state;
    uint64_t size = 0;
    int digits = 0;
    char why[160];

    for (size_t i = 0; i < SIZE_LEN; i++)
        if (s->field[i] >= '0' && s->field[i] <= '9') {
            size = size * 10 + (uint64_t)(s->field[i] - '0');
            digits++;
        }
    if (!digits) {
        refuse(c, C_BAD_IMAGE, "the size field holds no digit");
        return;
    }
    if (size == 0) { /* nothing follows, so the exchange can go on */
        pixd_notice("legacy-predict %s: file of size 0", c->peer);
        answer(c, C_BAD_IMAGE);
        return;
    }
    if (size > input_max(c->srv)) {
        snprintf(why, sizeof why, "file of %llu bytes is over the limit of %zu bytes "
                 "(--max-upload)", (unsigned long long)size, input_max(c->srv));
        refuse(c, C_BAD_IMAGE, why);
        return;
    }
    if (pixd_inbuf_begin(&s->body, (size_t)size) < 0 ||
        !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
        refuse(c, C_BAD_IMAGE, "out of memory");
        return;
    }
    s->stage = PR_BODY;
}

static void on_body(pixd_conn *c) {
    pr_state *s = c->state;
    const pixd_options *o = c->srv->opt;
    pixd_imghdr h;
    int r;

    EVP_DigestFinal_ex(s->md, s->sha256, NULL);
    r = pixd_imghdr_probe(s->body.data, s->body.len < PROBE_MAX ? s->body.len : PROBE_MAX, &h);
    if (r < 0 || (o->max_pixels && (uint64_t)h.width * h.height > o->max_pixels)) {
        pixd_notice("legacy-predict %s: file of %zu bytes is %s", c->peer, s->body.len,
                    r < 0 ? "not an image pixd reads" : "over --max-pixels");
        drop_file(s);
        answer(c, C_BAD_IMAGE);
        return;
    }
    s->have_file = 1;
    answer(c, C_OK);
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void on_hash(pixd_conn *c) {
    pr_state *s = c->state;
    int match = 1;
    for (size_t i = 0; i < HASH_LEN; i++) {
        int v = hexval(s->field[i]);
        int want = i % 2 ? s->sha256[i / 2] & 0xf : s->sha256[i / 2] >> 4;
        if (v != want)
            match = 0;
    }
    answer(c, match ? C_OK : C_MISMATCH);
}

/* The code is a model's name, all 4 bytes of it. */
static void on_mode(pixd_conn *c) {
    pr_state *s = c->state;
    char name[CMD_LEN + 1];
    const pixd_model *m = NULL;
    pixd_model_info info;

    memcpy(name, s->field, CMD_LEN);
    name[CMD_LEN] = '\0';
    if (strlen(name) == CMD_LEN && c->srv->classify)
        m = pixd_classify_find(c->srv->classify, name);
    if (m) {
        pixd_model_describe(m, &info);
        if (!info.positive[0]) {
            pixd_notice("legacy-predict %s: model %s has no positive= label, so it cannot "
                        "answer P or N; add one to its --model", c->peer, info.name);
            m = NULL;
        }
    }
    s->model = m;
    answer(c, m ? C_OK : C_NO_MODEL);
}

static void predicted(void *ctx, int err, const char *msg, const pixd_classify_result *r) {
    pixd_conn *c = ctx;
    pr_state *s = c->state;
    pixd_stash more;
    char out[3] = {C_OK, 'N', '?'};

    s->req = NULL;
    if (c->cstate != PIXD_CONN_OPEN) /* said goodbye meanwhile */
        return;
    pixd_conn_hold(c, 0);
    if (err == -ECANCELED) {
        pixd_conn_end(c);
        return;
    }
    if (err) {
        pixd_notice("legacy-predict %s: %s", c->peer, msg && *msg ? msg : "cannot classify");
        answer(c, err == -EBUSY || err == -ENOMEM || err == -EIO ? C_BUSY : C_BAD_IMAGE);
    } else {
        pixd_debug("legacy-predict %s: %s says %s (%.1f ms inference)", c->peer, r->model,
                   r->positive ? "P" : "N", (double)r->inference_us / 1000.0);
        out[1] = r->positive ? 'P' : 'N';
        s->stage = PR_CMD;
        s->field_len = 0;
        reply(c, out, 3);
    }
    more = pixd_stash_take(&s->stash);
    feed(c, more.data, more.len);
    free(more.data);
}

static void on_pred(pixd_conn *c) {
    pr_state *s = c->state;
    uint8_t *copy;
    int r;

    if (!s->have_file || !s->model) {
        answer(c, C_MISSING);
        return;
    }
    /* The job frees what it is given; the file stays for the next PRED. */
    if (!(copy = malloc(s->body.len))) {
        answer(c, C_BUSY);
        return;
    }
    memcpy(copy, s->body.data, s->body.len);
    r = pixd_classify_submit(c->srv->classify, s->model, copy, s->body.len, 1, predicted, c,
                             &s->req);
    if (r < 0) {
        pixd_notice("legacy-predict %s: %s", c->peer, r == -EBUSY ?
                    "every worker is busy and the queue is full" : "cannot queue");
        answer(c, C_BUSY);
        return;
    }
    s->stage = PR_JOB;
    /* One command at a time: what follows waits in the socket. */
    pixd_conn_hold(c, 1);
}

static void on_command(pixd_conn *c) {
    pr_state *s = c->state;
    const char *w = s->field;

    s->field_len = 0;
    if (!memcmp(w, "FILE", 4)) {
        drop_file(s); /* one file per connection, whatever comes next */
        s->stage = PR_SIZE;
        reply(c, "0", 1);
    } else if (!memcmp(w, "HASH", 4)) {
        if (!s->have_file) {
            answer(c, C_MISSING);
            return;
        }
        s->stage = PR_HASH;
        reply(c, "0", 1);
    } else if (!memcmp(w, "MODE", 4)) {
        s->stage = PR_MODE;
        reply(c, "0", 1);
    } else if (!memcmp(w, "PRED", 4)) {
        on_pred(c);
    } else if (!memcmp(w, "BYE", 3)) {
        s->stage = PR_DONE;
        pixd_conn_end(c);
    } else {
        answer(c, C_UNKNOWN);
    }
}

/* Gather want bytes of a fixed field; 1 once it is complete. */
static int gather(pr_state *s, size_t want, const uint8_t **d, size_t *n) {
    size_t take = want - s->field_len < *n ? want - s->field_len : *n;
    memcpy(s->field + s->field_len, *d, take);
    s->field_len += take;
    *d += take;
    *n -= take;
    return s->field_len == want;
}

static void feed(pixd_conn *c, const uint8_t *d, size_t n) {
    pr_state *s = c->state;
    size_t used;

    while (n && c->cstate == PIXD_CONN_OPEN) {
        switch (s->stage) {
        case PR_CMD:
            if (gather(s, CMD_LEN, &d, &n))
                on_command(c);
            break;
        case PR_SIZE:
            if (gather(s, SIZE_LEN, &d, &n))
                on_size(c);
            break;
        case PR_HASH:
            if (gather(s, HASH_LEN, &d, &n))
                on_hash(c);
            break;
        case PR_MODE:
            if (gather(s, CMD_LEN, &d, &n))
                on_mode(c);
            break;
        case PR_BODY:
            if (pixd_inbuf_feed(&s->body, d, n, &used) < 0) {
                refuse(c, C_BAD_IMAGE, "out of memory");
                return;
            }
            EVP_DigestUpdate(s->md, d, used);
            d += used;
            n -= used;
            if (pixd_inbuf_full(&s->body))
                on_body(c);
            break;
        case PR_JOB:
            /* At most the rest of one read: the connection is on hold. */
            if (pixd_stash_add(&s->stash, d, n) < 0)
                refuse(c, C_BUSY, "out of memory");
            return;
        case PR_DONE:
            return;
        }
    }
}

static void pr_read(pixd_conn *c, const uint8_t *data, size_t len) { feed(c, data, len); }

static int pr_open(pixd_conn *c) {
    pr_state *s = c->state;
    if (!(s->md = EVP_MD_CTX_new()))
        return -ENOMEM;
    reply(c, "?", 1);
    return 0;
}

static void pr_close(pixd_conn *c) {
    pr_state *s = c->state;
    if (s->req) {
        pixd_classify_cancel(s->req);
        s->req = NULL;
    }
    pixd_inbuf_free(&s->body);
    pixd_stash_free(&s->stash);
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

const pixd_handler pixd_legacy_predict_handler = {
    .name = "legacy-predict",
    .default_listen = NULL,
    .summary = "seed 003's prediction server (?, FILE, HASH, MODE, PRED, BYE)",
    .state_size = sizeof(pr_state),
    .open = pr_open,
    .read = pr_read,
    /* No goodbye: the seed closed without a word (idle, limits, shutdown). */
    .close = pr_close,
    .perm = PIXD_PERM_WRITE, /* with --keys: as=NAME or loopback */
};
