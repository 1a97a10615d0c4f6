/* libpixproto: codec for pixd's native protocol, version 1.
 *
 * This library does no I/O. It turns frames into bytes and bytes into
 * frames, and builds and parses the bodies of the protocol's messages.
 * The wire format is specified in pixd-protocol(7); this header is the
 * source of truth for the C API, and pixproto.hpp wraps it for C++.
 *
 * Conventions: functions return 0 or a positive count on success and a
 * negative PIXPROTO_E* code on failure (never errno values). Every function
 * that takes bytes says who owns them and for how long.
 */
#ifndef PIXPROTO_H
#define PIXPROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIXPROTO_VERSION 1        /* the newest protocol version spoken */
#define PIXPROTO_MIN_VERSION 1    /* the oldest one still spoken */
#define PIXPROTO_MAGIC "PIXD"     /* first 4 body bytes of HELLO */
#define PIXPROTO_HEADER_SIZE 12u
/* Hard ceiling on a frame body, before and after decompression. Larger
 * payloads travel as several frames with PIXPROTO_F_MORE set. */
#define PIXPROTO_MAX_BODY (1u << 20)
/* Chunk size that senders of large bodies should use. */
#define PIXPROTO_CHUNK (256u * 1024u)

/* Frame flags (the header's flags byte). Unknown flags are an error. */
enum {
    PIXPROTO_F_ZLIB = 0x01, /* body is a zlib stream (RFC 1950) */
    PIXPROTO_F_MORE = 0x02, /* more frames of the same message follow */
    PIXPROTO_F_ALL = 0x03
};

/* Message types. Requests come from the client, replies and stream
 * events from the server; each reply carries its request's id. */
#define PIXPROTO_TYPE_MAP(X)                                                   \
    X(HELLO, 0x01, "hello")       /* c->s, id 0: magic, versions, agent */     \
    X(WELCOME, 0x02, "welcome")   /* s->c, id 0: chosen version, server */     \
    X(ERROR, 0x03, "error")       /* s->c: code and message */                 \
    X(PING, 0x04, "ping")         /* c->s: opaque body, at most 64 bytes */    \
    X(PONG, 0x05, "pong")         /* s->c: the ping's body echoed */           \
    X(STATUS, 0x06, "status")     /* c->s: empty body */                       \
    X(STATUS_REPLY, 0x07, "status-reply") /* s->c: fields, see below */        \
    X(CANCEL, 0x08, "cancel")     /* c->s: abort request/stream with this id */ \
    X(DATA, 0x09, "data")         /* either way: a chunk of a large body */ \
    X(AUTH, 0x0a, "auth")         /* c->s, id 0: KEY_NAME, CLIENT_NONCE, AUTH_MAC */ \
    X(AUTHED, 0x0b, "authed")     /* s->c, id 0: PERMS, SERVER_MAC */ \
    X(PUT, 0x10, "put")           /* c->s: entry NAME, SIZE, SHA256; DATA follows */ \
    X(STORED, 0x11, "stored")     /* s->c: entry fields of the stored file */  \
    X(GET, 0x12, "get")           /* c->s: NAME */                             \
    X(FILE, 0x13, "file")         /* s->c: entry fields, F_MORE; DATA follows */ \
    X(LIST, 0x14, "list")         /* c->s: empty */                            \
    X(LIST_REPLY, 0x15, "list-reply") /* s->c: repeated ENTRY; F_MORE if more */ \
    X(STAT, 0x16, "stat")         /* c->s: NAME */                             \
    X(STAT_REPLY, 0x17, "stat-reply") /* s->c: entry fields */                 \
    X(DELETE, 0x18, "delete")     /* c->s: NAME */                             \
    X(DELETED, 0x19, "deleted")   /* s->c: NAME */                             \
    X(END, 0x1a, "end")           /* either way: closes a streamed body; PUT's carries SHA256 */ \
    X(RESIZE, 0x20, "resize")     /* c->s: job fields; F_MORE + DATA + END unless SOURCE */ \
    X(RESIZED, 0x21, "resized")   /* s->c: statistics; F_MORE + DATA + END unless stored */ \
    X(CAMS, 0x30, "cams")         /* c->s: empty */                            \
    X(CAMS_REPLY, 0x31, "cams-reply") /* s->c: repeated CAMERA */              \
    X(WATCH, 0x32, "watch")       /* c->s: NAME, FPS, WIDTH, FRAMES */         \
    X(FRAME, 0x33, "frame")       /* either way: F_MORE, SEQ.., SIZE; DATA follow */ \
    X(SNAP, 0x34, "snap")         /* c->s: NAME, WIDTH; one FRAME then END */  \
    X(PUSH, 0x35, "push")         /* c->s: NAME; then FRAME messages */        \
    X(PUSHING, 0x36, "pushing")   /* s->c: the pushed camera exists */         \
    X(CAM_STATE, 0x37, "cam-state") /* s->c, on a WATCH id: STATE, MESSAGE */ \
    X(MODELS, 0x40, "models")     /* c->s: empty */                            \
    X(MODELS_REPLY, 0x41, "models-reply") /* s->c: repeated MODEL_INFO */      \
    X(CLASSIFY, 0x42, "classify") /* c->s: MODEL, TOP; F_MORE + DATA + END unless SOURCE/CAMERA */ \
    X(CLASSIFIED, 0x43, "classified") /* s->c: repeated CLASS, timings */

enum pixproto_type {
#define PIXPROTO_TYPE_ENUM(name, code, str) PIXPROTO_T_##name = code,
    PIXPROTO_TYPE_MAP(PIXPROTO_TYPE_ENUM)
#undef PIXPROTO_TYPE_ENUM
    PIXPROTO_T_MAX_ = 0xff
};

/* Error codes: the library's return values (negated) and the codes carried
 * by ERROR frames on the wire (positive). One list gives both. */
#define PIXPROTO_ERRNO_MAP(X)                                                  \
    X(BADFRAME, 1, "malformed frame")                                          \
    X(VERSION, 2, "no common protocol version")                                \
    X(BADTYPE, 3, "unknown message type")                                      \
    X(TOOBIG, 4, "frame or body too large")                                    \
    X(BADBODY, 5, "malformed message body")                                    \
    X(NOTHELLO, 6, "first frame must be HELLO")                                \
    X(BUSY, 7, "server busy, try again later")                                 \
    X(LIMIT, 8, "connection limit reached")                                    \
    X(TIMEOUT, 9, "timed out")                                                 \
    X(SHUTDOWN, 10, "server is shutting down")                                 \
    X(AUTH, 11, "authentication required or failed")                           \
    X(DENIED, 12, "permission denied")                                         \
    X(NOTFOUND, 13, "not found")                                               \
    X(INVALID, 14, "invalid argument")                                         \
    X(NOMEM, 15, "out of memory")                                              \
    X(ZLIB, 16, "compressed body is corrupt")                                  \
    X(INTERNAL, 17, "internal server error")                                   \
    X(NOSPACE, 18, "no space left")                                            \
    X(EXISTS, 19, "already exists")                                            \
    X(CANCELED, 20, "request canceled")                                        \
    X(DUPID, 21, "request id already in use")                                  \
    X(INTEGRITY, 22, "checksum mismatch")

enum pixproto_err {
#define PIXPROTO_ERR_ENUM(name, code, str) PIXPROTO_E##name = -(code),
    PIXPROTO_ERRNO_MAP(PIXPROTO_ERR_ENUM)
#undef PIXPROTO_ERR_ENUM
    PIXPROTO_EMAX_ = -1000
};

/* Text for a code, negative (library return) or positive (wire code). */
const char *pixproto_strerror(int code);
/* Stable short name of a code ("TOOBIG"), or NULL if unknown. */
const char *pixproto_errname(int code);
/* Name of a message type ("ping"), or NULL if unknown. */
const char *pixproto_type_name(int type);
/* 1 if type is a known message type, else 0. */
int pixproto_type_known(int type);

/* ---- Frames -------------------------------------------------------------
 * Header, 12 bytes, integers big-endian:
 *   u8 type, u8 flags, u16 reserved (0), u32 request id, u32 body length
 * followed by body length bytes. */
typedef struct pixproto_frame {
    uint8_t type;
    uint8_t flags;   /* PIXPROTO_F_MORE survives decoding; F_ZLIB does not,
                        the decoder hands out the inflated body */
    uint32_t id;
    const uint8_t *body; /* owned by whoever produced the frame */
    size_t len;
} pixproto_frame;

/* Write the 12-byte header for a frame with body_len bytes into out.
 * Returns PIXPROTO_HEADER_SIZE, or PIXPROTO_EBADFRAME for unknown flags,
 * PIXPROTO_ETOOBIG for body_len > PIXPROTO_MAX_BODY, PIXPROTO_EZLIB for
 * F_ZLIB with an empty body (no zlib stream is empty). */
int pixproto_header_encode(uint8_t out[PIXPROTO_HEADER_SIZE], uint8_t type,
                           uint8_t flags, uint32_t id, size_t body_len);

/* Encode a whole frame into a buffer malloc'd by the library; the caller
 * owns *out and frees it with free(). With PIXPROTO_F_ZLIB in flags the
 * body is deflated first (and sent uncompressed, flag cleared, when that
 * would not make it smaller). Returns the total length or a negative code. */
long pixproto_frame_encode(uint8_t type, uint8_t flags, uint32_t id,
                           const void *body, size_t len, uint8_t **out);

/* ---- Incremental decoder -------------------------------------------------
 * Accepts bytes in any split (one at a time works). Enforces the header
 * rules and the body ceiling as soon as the header is complete, before any
 * body byte is buffered, and inflates zlib bodies with the same ceiling. */
typedef struct pixproto_decoder pixproto_decoder;

/* max_body: ceiling for this decoder, 0 means PIXPROTO_MAX_BODY; values
 * above PIXPROTO_MAX_BODY are clamped to it. NULL on allocation failure. */
pixproto_decoder *pixproto_decoder_new(size_t max_body);
void pixproto_decoder_free(pixproto_decoder *d); /* accepts NULL */

/* Consume bytes from *in (advancing *in and decreasing *inlen) until one
 * frame is complete or the input is used up. Returns 1 with *out filled
 * (out->body stays valid until the next call on d), 0 when more bytes are
 * needed, or a negative code; after an error the decoder stays failed and
 * keeps returning it. The caller keeps ownership of the input bytes. */
int pixproto_decoder_next(pixproto_decoder *d, const uint8_t **in,
                          size_t *inlen, pixproto_frame *out);

/* Take ownership of the body of f, the frame d just handed out, so that a
 * caller keeping the bytes need not copy them: returns the malloc'd
 * buffer f->body points to (free() it), or NULL when f's body is not the
 * decoder's own (empty, inflated, or d has decoded another frame since);
 * then copy. d allocates a fresh buffer for its next frame. */
uint8_t *pixproto_decoder_take_body(pixproto_decoder *d, const pixproto_frame *f);

/* Receiving a body without the copy through the caller's buffer: while a
 * frame's body is being collected (its header is complete), *p and *len
 * give the space its next bytes go to, and the caller may read from its
 * socket straight into it, then report how many bytes it put there with
 * pixproto_decoder_commit; a body that is then complete comes out of the
 * next pixproto_decoder_next call (input may be empty). Otherwise *p is
 * NULL and *len 0: feed bytes through pixproto_decoder_next. Returns 0, or
 * the decoder's error, or PIXPROTO_ENOMEM. */
int pixproto_decoder_window(pixproto_decoder *d, uint8_t **p, size_t *len);
/* n bytes were written at the start of the window; more than the window
 * holds is PIXPROTO_EINVALID (the decoder is then failed). */
int pixproto_decoder_commit(pixproto_decoder *d, size_t n);

/* Bytes buffered toward an incomplete frame (for tests and metrics). */
size_t pixproto_decoder_pending(const pixproto_decoder *d);

/* ---- Fields (message bodies) ---------------------------------------------
 * Structured bodies are a sequence of fields: u16 tag, u32 length, value.
 * Integers are u64 big-endian (length 8); strings are UTF-8 without NUL;
 * a tag may repeat (lists). Readers skip tags they do not know, which is
 * how later versions add fields without breaking older peers. */
enum pixproto_tag {
    /* HELLO / WELCOME */
    PIXPROTO_TAG_MIN_VERSION = 1, /* u64 */
    PIXPROTO_TAG_MAX_VERSION = 2, /* u64 */
    PIXPROTO_TAG_VERSION = 3,     /* u64, WELCOME: the version chosen */
    PIXPROTO_TAG_AGENT = 4,       /* str, "pixctl/0.1.0" or "pixd/0.1.0" */
    PIXPROTO_TAG_MAX_BODY = 5,    /* u64, WELCOME: peer's body ceiling */
    /* ERROR */
    PIXPROTO_TAG_CODE = 10,       /* u64, a positive PIXPROTO_E* code */
    PIXPROTO_TAG_MESSAGE = 11,    /* str, human-readable, says what to do */
    /* STATUS_REPLY */
    PIXPROTO_TAG_UPTIME_MS = 20,  /* u64 */
    PIXPROTO_TAG_CONNECTIONS = 21,/* u64, open connections, all handlers */
    PIXPROTO_TAG_LISTENER = 22,   /* str, repeated: "native 127.0.0.1:7070" */
    PIXPROTO_TAG_PID = 23,        /* u64 */
    PIXPROTO_TAG_HANDLER_CONNS = 24, /* str, repeated: "native 3" */
    /* Store entries (PUT, STORED, FILE, STAT_REPLY, nested in ENTRY) */
    PIXPROTO_TAG_NAME = 30,       /* str, a store name (see pixd-protocol(7)) */
    PIXPROTO_TAG_SIZE = 31,       /* u64, bytes */
    PIXPROTO_TAG_SHA256 = 32,     /* 32 raw bytes */
    PIXPROTO_TAG_MTIME_MS = 33,   /* u64, ms since the Unix epoch */
    PIXPROTO_TAG_TYPE = 34,       /* str: jpeg, png, webp, gif, bmp or data */
    PIXPROTO_TAG_WIDTH = 35,      /* u64, pixels (images only) */
    PIXPROTO_TAG_HEIGHT = 36,     /* u64, pixels (images only) */
    PIXPROTO_TAG_ENTRY = 37,      /* bytes: one entry's fields, nested */
    PIXPROTO_TAG_STORE_BYTES = 38, /* u64, STATUS_REPLY: bytes in the store */
    /* RESIZE request (target size in WIDTH/HEIGHT, image size in SIZE) */
    PIXPROTO_TAG_MODE = 40,       /* str: fit (default), fill, stretch */
    PIXPROTO_TAG_QUALITY = 41,    /* u64 1..100 (default: the server's --jpeg-quality) */
    PIXPROTO_TAG_FORMAT = 42,     /* str: jpeg (default), png, webp */
    PIXPROTO_TAG_ENLARGE = 43,    /* u64 0/1: allow output larger than input */
    PIXPROTO_TAG_PROGRESSIVE = 44,/* u64 0/1: progressive JPEG */
    PIXPROTO_TAG_SHARPEN = 45,    /* str "RADIUS,AMOUNT,THRESHOLD", e.g. "2,1.5,3" */
    PIXPROTO_TAG_SOURCE = 46,     /* str: resize this stored image instead of sent bytes */
    PIXPROTO_TAG_STORE_AS = 47,   /* str: store the result under this name */
    PIXPROTO_TAG_FAST = 48,       /* u64 0/1: DCT scale to target (1, default) or 2x target */
    /* RESIZED reply */
    PIXPROTO_TAG_IN_BYTES = 50,   /* u64 */
    PIXPROTO_TAG_OUT_BYTES = 51,  /* u64 */
    PIXPROTO_TAG_IN_WIDTH = 52,   /* u64 */
    PIXPROTO_TAG_IN_HEIGHT = 53,  /* u64 */
    PIXPROTO_TAG_OUT_WIDTH = 54,  /* u64 */
    PIXPROTO_TAG_OUT_HEIGHT = 55, /* u64 */
    PIXPROTO_TAG_SCALE = 56,      /* str: DCT scale used, "1/4" (JPEG) or "1/1" */
    PIXPROTO_TAG_QUEUE_US = 57,   /* u64: time waiting for a worker */
    PIXPROTO_TAG_PROCESS_US = 58, /* u64: decode + resize + encode */
    PIXPROTO_TAG_IN_TYPE = 59,    /* str: jpeg, png, webp, bmp, gif */
    /* Access keys (WELCOME, AUTH, AUTHED); see pixproto_auth.h */
    PIXPROTO_TAG_CHALLENGE = 80,  /* 32 bytes, WELCOME: present when a key is needed */
    PIXPROTO_TAG_KEY_NAME = 81,   /* str, AUTH: the key's name */
    PIXPROTO_TAG_CLIENT_NONCE = 82, /* 32 bytes, AUTH */
    PIXPROTO_TAG_AUTH_MAC = 83,   /* 32 bytes, AUTH: HMAC-SHA256 proof */
    PIXPROTO_TAG_SERVER_MAC = 84, /* 32 bytes, AUTHED: the server knows the secret too */
    PIXPROTO_TAG_PERMS = 85,      /* str, AUTHED: "read,write,admin" */
    /* Cameras (NAME, WIDTH, HEIGHT, SIZE, SOURCE are shared) */
    PIXPROTO_TAG_CAMERA = 60,     /* bytes: one camera's fields, nested (CAMS_REPLY) */
    PIXPROTO_TAG_STATE = 61,      /* str: starting, online, offline */
    PIXPROTO_TAG_FPS_MILLI = 62,  /* u64: measured frames per 1000 s */
    PIXPROTO_TAG_SUBSCRIBERS = 63,/* u64 */
    PIXPROTO_TAG_FRAMES = 64,     /* u64: CAMS: captured; WATCH: stop after this many */
    PIXPROTO_TAG_DELIVERED = 65,  /* u64 */
    PIXPROTO_TAG_DROPPED = 66,    /* u64: frames a slow subscriber skipped */
    PIXPROTO_TAG_SEQ = 67,        /* u64: frame number, per camera, from 1 */
    PIXPROTO_TAG_TS_US = 68,      /* u64: capture time, us since the Unix epoch */
    PIXPROTO_TAG_FPS = 69,        /* u64: WATCH: at most this many frames a second */
    /* CAMS, cameras that negotiate with a device (V4L2); FORMAT (42) also
     * names the camera's pixel format there ("MJPG", "YUYV"). */
    PIXPROTO_TAG_BROKEN = 70,     /* u64: frames the source found bad and skipped */
    PIXPROTO_TAG_ASKED_WIDTH = 71,/* u64: the size and rate pixd asked of the driver; */
    PIXPROTO_TAG_ASKED_HEIGHT = 72,/*     WIDTH and HEIGHT are what it got */
    PIXPROTO_TAG_ASKED_FPS = 73,  /* u64 */
    /* Classification (MODELS, CLASSIFY); CLASSIFY also takes SIZE (31),
     * SOURCE (46) and CAMERA (60, a camera's name as str); CLASSIFIED
     * also carries IN_BYTES, IN_WIDTH, IN_HEIGHT, IN_TYPE, QUEUE_US. */
    PIXPROTO_TAG_MODEL_INFO = 90, /* bytes: one model's NAME, WIDTH, HEIGHT, LABELS, POSITIVE */
    PIXPROTO_TAG_MODEL = 91,      /* str: a --model name */
    PIXPROTO_TAG_LABELS = 92,     /* u64: the model's label count */
    PIXPROTO_TAG_TOP = 93,        /* u64 1..100: CLASSIFY: how many classes (default 5) */
    PIXPROTO_TAG_CLASS = 94,      /* bytes: LABEL, SCORE; repeated, best first */
    PIXPROTO_TAG_LABEL = 95,      /* str */
    PIXPROTO_TAG_SCORE = 96,      /* str: the network's output, decimal ("0.9731") */
    PIXPROTO_TAG_POSITIVE = 97,   /* MODELS_REPLY: str, the positive label;
                                     CLASSIFIED: u64 1 if it won, else 0 */
    PIXPROTO_TAG_PREPROCESS_US = 98, /* u64: decode, resize and normalise */
    PIXPROTO_TAG_INFERENCE_US = 99   /* u64: the network's forward pass */
};

/* A growable output buffer for fields. Zero-initialise, append, take the
 * bytes from .data/.len, then pixproto_buf_free(). */
typedef struct pixproto_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int err; /* first error seen; appends after an error do nothing */
} pixproto_buf;

/* Frees the bytes and zeroes *b for reuse; accepts NULL. */
void pixproto_buf_free(pixproto_buf *b);
/* Appenders return 0 or b->err: PIXPROTO_ENOMEM, PIXPROTO_ETOOBIG for a
 * value over UINT32_MAX bytes, PIXPROTO_EINVALID for a NULL string or a
 * NULL pointer with n > 0. The bytes are copied. */
int pixproto_put_u64(pixproto_buf *b, uint16_t tag, uint64_t v);
int pixproto_put_str(pixproto_buf *b, uint16_t tag, const char *s);
int pixproto_put_bytes(pixproto_buf *b, uint16_t tag, const void *p, size_t n);

/* Reading: iterate with pixproto_field_next over a body the caller owns. */
typedef struct pixproto_field {
    uint16_t tag;
    const uint8_t *value; /* points into the body being read */
    size_t len;
} pixproto_field;

typedef struct pixproto_reader {
    const uint8_t *p;
    size_t left;
} pixproto_reader;

void pixproto_reader_init(pixproto_reader *r, const void *body, size_t len);
/* 1 with *f filled, 0 at the end, PIXPROTO_EBADBODY if truncated. */
int pixproto_field_next(pixproto_reader *r, pixproto_field *f);
/* Value helpers; PIXPROTO_EBADBODY if the field has the wrong length. */
int pixproto_field_u64(const pixproto_field *f, uint64_t *v);
/* Copies at most cap-1 bytes and NUL-terminates; PIXPROTO_EBADBODY if the
 * value holds a NUL byte (dst is then ""), PIXPROTO_ETOOBIG if it does not
 * fit (dst then holds the longest prefix of whole UTF-8 characters that
 * fits, for callers content with a shortened string). */
int pixproto_field_str(const pixproto_field *f, char *dst, size_t cap);

/* ---- Messages ------------------------------------------------------------
 * Builders encode a whole frame (see pixproto_frame_encode for ownership);
 * parsers read a frame's body, return PIXPROTO_EINVALID for a frame of
 * another type, skip unknown tags, let the last of a repeated field count,
 * and cut over-long strings to fit. */
typedef struct pixproto_hello {
    uint32_t min_version, max_version;
    char agent[64];
} pixproto_hello;

typedef struct pixproto_welcome {
    uint32_t version;
    uint32_t max_body;
    char agent[64];
} pixproto_welcome;

typedef struct pixproto_error {
    uint32_t code;       /* positive wire code */
    char message[256];
} pixproto_error;

long pixproto_build_hello(const char *agent, uint8_t **out);
long pixproto_build_welcome(uint32_t version, uint32_t max_body,
                            const char *agent, uint8_t **out);
/* code may be given negative (library style) or positive. */
long pixproto_build_error(uint32_t id, int code, const char *message,
                          uint8_t **out);

/* HELLO: checks the magic; PIXPROTO_EBADBODY if malformed. */
int pixproto_parse_hello(const pixproto_frame *f, pixproto_hello *h);
/* Pick the version both sides speak: returns it, or PIXPROTO_EVERSION. */
int pixproto_negotiate(const pixproto_hello *h);
int pixproto_parse_welcome(const pixproto_frame *f, pixproto_welcome *w);
int pixproto_parse_error(const pixproto_frame *f, pixproto_error *e);

/* ---- Store entries ---------------------------------------------------------
 * One file of the image store, as PUT sends it (name, size, sha256) and as
 * STORED / FILE / STAT_REPLY / LIST_REPLY's ENTRY return it (all fields). */
#define PIXPROTO_NAME_MAX 200 /* bytes of a store name, without the NUL */

typedef struct pixproto_entry {
    char name[PIXPROTO_NAME_MAX + 1];
    uint64_t size;
    uint8_t sha256[32];
    int has_sha256;
    uint64_t mtime_ms;
    char type[16];            /* "" when unknown */
    uint32_t width, height;   /* 0 when not an image */
} pixproto_entry;

/* Append e's fields to b (flat, as in STORED). Fields that are unset
 * (empty type, zero width, no sha256) are left out. */
int pixproto_put_entry(pixproto_buf *b, const pixproto_entry *e);
/* Append e as one nested ENTRY field (LIST_REPLY). */
int pixproto_put_entry_nested(pixproto_buf *b, const pixproto_entry *e);
/* Read an entry from a flat field body (e.g. a STORED frame's body or an
 * ENTRY field's value). NAME is required; PIXPROTO_EBADBODY otherwise, or
 * for a malformed field, a SHA256 of the wrong length, or a name with NUL. */
int pixproto_parse_entry(const void *body, size_t len, pixproto_entry *e);
/* Frame with NAME only (GET, STAT, DELETE, DELETED). */
long pixproto_build_name(uint8_t type, uint32_t id, const char *name, uint8_t **out);

#ifdef __cplusplus
}
#endif
#endif
