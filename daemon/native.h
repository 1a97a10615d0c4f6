/* Shared by the native protocol handler's files (native*.c). */
#ifndef PIXD_NATIVE_H
#define PIXD_NATIVE_H

#include "conn.h"
#include "pixproto.h"
#include "store.h"

typedef struct native_req native_req;

typedef struct native_state {
    pixproto_decoder *dec;
    uint32_t version; /* 0 until HELLO was answered */
    char agent[64];
    native_req *reqs; /* requests still in progress (uploads, downloads, jobs) */
    uint8_t challenge[32]; /* sent in WELCOME when keys are needed (native_auth.c) */
    unsigned challenged : 1; /* challenge is fresh: one AUTH may answer it */
} native_state;

/* A request that outlives the frame that started it. When the connection
 * goes away or the client sends CANCEL, the request is detached: conn
 * becomes NULL and cancel() stops it, freeing it now or when its pending
 * callback arrives. Without cancel(), that callback frees it. */
struct native_req {
    native_req *next;
    pixd_conn *conn;
    uint32_t id;
    uint8_t type;            /* the request's message type */
    void (*cancel)(native_req *req);
    void (*resume)(native_req *req); /* the connection can take more output */
    pixd_upload *up;
    pixd_download *down;
    void *job;               /* native_resize.c's state */
    unsigned holds;          /* holds on conn it has taken (pixd__native_req_hold) */
};

/* A message handler returns 0, or a negative PIXPROTO_E* code that the
 * dispatcher sends back as an ERROR for the request's id. */
typedef int (*native_fn)(pixd_conn *c, native_state *st, const pixproto_frame *f);

void pixd__native_send(pixd_conn *c, long n, uint8_t *buf);
void pixd__native_error(pixd_conn *c, uint32_t id, int code, const char *msg);

native_req *pixd__native_req_find(native_state *st, uint32_t id);
native_req *pixd__native_req_new(pixd_conn *c, native_state *st, uint32_t id, uint8_t type);
/* Unlink req from its connection's list (if still attached) and free it. */
void pixd__native_req_done(native_req *req);
/* Unlink req, set conn to NULL and call its cancel(). */
void pixd__native_req_detach(native_req *req);
/* Stop (hold 1) or resume (hold 0) reading from req's connection for req;
 * what it still holds when detached is given back then. */
void pixd__native_req_hold(native_req *req, int hold);

/* native_auth.c */
/* WELCOME for version v, with a fresh challenge when keys are needed. */
long pixd__native_welcome(pixd_conn *c, native_state *st, uint32_t v, const char *agent,
                          uint8_t **out);
int pixd__native_auth(pixd_conn *c, native_state *st, const pixproto_frame *f);
/* 1 when c may send f; otherwise sends the ERROR (AUTH or DENIED), 0. */
int pixd__native_allowed(pixd_conn *c, native_state *st, const pixproto_frame *f);

/* native_store.c */
int pixd__native_put(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_data(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_end(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_get(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_list(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_stat(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_delete(pixd_conn *c, native_state *st, const pixproto_frame *f);
/* native_camera.c */
int pixd__native_cams(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_watch(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_snap(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_push(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_push_frame(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_push_data(native_req *req, const pixproto_frame *f);

/* native_resize.c */
int pixd__native_resize(pixd_conn *c, native_state *st, const pixproto_frame *f);
/* DATA and END for a request in progress (upload or job input). */
int pixd__native_resize_data(native_req *req, const pixproto_frame *f);
int pixd__native_resize_end(native_req *req, const pixproto_frame *f);

/* native_classify.c */
int pixd__native_models(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_classify(pixd_conn *c, native_state *st, const pixproto_frame *f);
int pixd__native_classify_data(native_req *req, const pixproto_frame *f);
int pixd__native_classify_end(native_req *req, const pixproto_frame *f);

#endif
