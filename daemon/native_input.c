#include "native_input.h"

#include <errno.h>
#include <stdio.h>

#include "jobs.h"
#include "server.h"

#define INPUT_DEFAULT_MAX (256u << 20) /* without --max-upload */

const char pixd__native_busy_msg[] = "every worker is busy and the queue is full; try again shortly";

int pixd__native_job_code(int err) {
    switch (err) {
    case -EFBIG: return PIXPROTO_ETOOBIG;
    case -EBUSY: case -EMFILE: case -ENFILE: return PIXPROTO_EBUSY;
    case -ENOMEM: return PIXPROTO_ENOMEM;
    case -ENOENT: return PIXPROTO_ENOTFOUND;
    case -ENOSPC: return PIXPROTO_ENOSPACE;
    case -ECANCELED: return PIXPROTO_ESHUTDOWN;
    case -EINVAL: case -EBADMSG: case -ENOTSUP: return PIXPROTO_EINVALID;
    default: return PIXPROTO_EINTERNAL;
    }
}

size_t pixd__native_input_max(const pixd_server *srv) {
    unsigned long long m = srv->opt->max_upload;
    return m && m < INPUT_DEFAULT_MAX ? (size_t)m : INPUT_DEFAULT_MAX;
}

/* Image jobs this connection has in flight: one client must not hold the
 * whole line. */
static unsigned count_jobs(const native_state *st) {
    unsigned n = 0;
    for (const native_req *r = st->reqs; r; r = r->next)
        n += r->type == PIXPROTO_T_RESIZE || r->type == PIXPROTO_T_CLASSIFY;
    return n;
}

int pixd__native_input_admit(pixd_conn *c, native_state *st, const pixproto_frame *f,
                             size_t size, int sent) {
    pixd_server *srv = c->srv;
    char why[256];

    if (count_jobs(st) >= srv->opt->max_client_jobs) {
        snprintf(why, sizeof why, "this connection already has %u jobs in flight "
                 "(--max-client-jobs); wait for one to finish", srv->opt->max_client_jobs);
        pixd__native_error(c, f->id, PIXPROTO_EBUSY, why);
        return -1;
    }
    if (sent && size > pixd__native_input_max(srv)) {
        snprintf(why, sizeof why, "image of %zu bytes is over this server's limit of %zu "
                 "bytes for a job", size, pixd__native_input_max(srv));
        pixd__native_error(c, f->id, PIXPROTO_ETOOBIG, why);
        return -1;
    }
    /* While the input arrives (or is read, or awaited from a camera) it
     * holds a place in the line, so inputs cannot pin memory beyond it. */
    if (pixd_jobs_reserve(&srv->jobs) < 0) {
        pixd__native_error(c, f->id, PIXPROTO_EBUSY, pixd__native_busy_msg);
        return -1;
    }
    return 0;
}

int pixd__native_input_data(pixd_inbuf *b, const pixproto_frame *f, const char **why) {
    /* SIZE is not trusted for the first allocation (inbuf.h). */
    int r = pixd_inbuf_add(b, f->body, f->len);
    *why = NULL;
    if (r == -EMSGSIZE) {
        *why = "received more image bytes than SIZE announced";
        return -EBADMSG;
    }
    return r;
}

uint8_t *pixd__native_input_end(pixd_inbuf *b, size_t *len, const char **why) {
    uint8_t *p = pixd_inbuf_take(b, len);
    *why = p ? NULL : "received fewer image bytes than SIZE announced";
    return p;
}

const char *pixd__native_read_error(int err) {
    switch (err) {
    case -EFBIG: return "stored image is larger than this server takes for a job";
    case -ENOENT: return "no such file in the store";
    default: return NULL;
    }
}
