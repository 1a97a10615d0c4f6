/* Access keys (--keys FILE): who may do what.
 *
 * The file holds one key a line, "NAME SECRET PERMS": NAME is 1..32 of
 * [A-Za-z0-9._-], SECRET 16..256 printable ASCII bytes without spaces,
 * PERMS a comma-separated list of read, write, admin. Blank lines and lines
 * starting with '#' are ignored. The file is untrusted input: any other
 * line is refused with its line number. */
#ifndef PIXD_AUTH_KEYS_H
#define PIXD_AUTH_KEYS_H

#include <stddef.h>

/* Permission bits. */
enum pixd_perm {
    PIXD_PERM_READ = 1,  /* list, get, stat, cams, watch, snap */
    PIXD_PERM_WRITE = 2, /* put, delete, push, resize and other jobs */
    PIXD_PERM_ADMIN = 4, /* status details, metrics, reload */
    PIXD_PERM_ALL = 7
};

#define PIXD_KEY_NAME_MAX 32
#define PIXD_KEY_SECRET_MIN 16
#define PIXD_KEY_SECRET_MAX 256
#define PIXD_KEYS_MAX 1024              /* keys in one file */
#define PIXD_KEYS_FILE_MAX (256u << 10) /* bytes */

typedef struct pixd_key {
    char name[PIXD_KEY_NAME_MAX + 1];
    char secret[PIXD_KEY_SECRET_MAX + 1];
    size_t secret_len;
    unsigned char digest[32]; /* SHA-256 of the secret, for bearer tokens */
    unsigned perms;
} pixd_key;

typedef struct pixd_keys {
    pixd_key *keys;
    size_t n;
} pixd_keys;

/* Parse text (len bytes, owned by the caller, need not end in NUL).
 * Returns 0 with *out allocated (free with pixd_keys_free), or a negative
 * errno with "line N: why" in err. Secrets never appear in err. */
int pixd_keys_parse(const char *text, size_t len, pixd_keys **out, char *err, size_t errlen);
/* Read and parse path. Refuses a file that is not a regular file, is
 * larger than PIXD_KEYS_FILE_MAX, or that group or others may access
 * (-EPERM), saying what to do. err names the file. */
int pixd_keys_load(const char *path, pixd_keys **out, char *err, size_t errlen);
/* Wipes the secrets; accepts NULL. */
void pixd_keys_free(pixd_keys *k);

const pixd_key *pixd_keys_find(const pixd_keys *k, const char *name);
/* 1 when name could name a key: 1 to PIXD_KEY_NAME_MAX letters, digits,
 * '.', '_' or '-'. */
int pixd_key_name_ok(const char *name);
/* 1 when secret (len bytes) is k's secret. Compares SHA-256 digests in
 * constant time, so neither the content nor the length leaks by timing. */
int pixd_key_secret_matches(const pixd_key *k, const char *secret, size_t len);

/* "read,write,admin" style text for perms ("none" for 0). */
const char *pixd_perms_text(unsigned perms, char *buf, size_t len);

#endif
