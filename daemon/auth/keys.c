#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#define LINE_MAX_BYTES 1024

static int is_name_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

int pixd_key_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > PIXD_KEY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(name[i]))
            return 0;
    return 1;
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* The next blank-separated word of [*p, end): sets *w and *wlen. */
static void next_word(const char **p, const char *end, const char **w, size_t *wlen) {
    while (*p < end && is_blank(**p))
        (*p)++;
    *w = *p;
    while (*p < end && !is_blank(**p))
        (*p)++;
    *wlen = (size_t)(*p - *w);
}

static int parse_perms(const char *s, size_t n, unsigned *out) {
    static const struct { const char *name; unsigned bit; } names[] = {
        {"read", PIXD_PERM_READ}, {"write", PIXD_PERM_WRITE}, {"admin", PIXD_PERM_ADMIN}};
    unsigned perms = 0;
    size_t i = 0;

    while (i <= n) {
        size_t j = i, k;
        while (j < n && s[j] != ',')
            j++;
        for (k = 0; k < 3; k++)
            if (j - i == strlen(names[k].name) && !memcmp(s + i, names[k].name, j - i))
                break;
        if (k == 3)
            return -EINVAL;
        perms |= names[k].bit;
        i = j + 1;
    }
    *out = perms;
    return 0;
}

/* One line without its newline. Returns 1 for a key, 0 for a line to skip,
 * or -EINVAL with why in err. */
static int parse_line(const char *line, size_t len, pixd_key *key, char *err, size_t errlen) {
    const char *p = line, *end = line + len, *w;
    size_t wlen;

    if (len && line[len - 1] == '\r')
        end--;
    for (const char *q = line; q < end; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t') {
            snprintf(err, errlen, "a control character (byte 0x%02x)", (unsigned char)*q);
            return -EINVAL;
        } else if ((unsigned char)*q >= 0x7f) {
            snprintf(err, errlen, "a byte that is not printable ASCII (0x%02x)",
                     (unsigned char)*q);
            return -EINVAL;
        }
    while (p < end && is_blank(*p))
        p++;
    if (p == end || *p == '#')
        return 0;
    memset(key, 0, sizeof *key);
    next_word(&p, end, &w, &wlen);
    if (wlen > PIXD_KEY_NAME_MAX) {
        snprintf(err, errlen, "the key name is longer than %d characters", PIXD_KEY_NAME_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < wlen; i++)
        if (!is_name_char(w[i])) {
            snprintf(err, errlen, "the key name \"%.*s\" may hold only letters, digits, "
                     "'.', '_' and '-'", (int)wlen, w);
            return -EINVAL;
        }
    memcpy(key->name, w, wlen);
    next_word(&p, end, &w, &wlen);
    if (wlen == 0) {
        snprintf(err, errlen, "key \"%s\" has no secret; expected NAME SECRET PERMS", key->name);
        return -EINVAL;
    }
    if (wlen < PIXD_KEY_SECRET_MIN || wlen > PIXD_KEY_SECRET_MAX) {
        /* The secret itself is never quoted: the error goes to logs. */
        snprintf(err, errlen, "key \"%s\": the secret must be %d to %d characters "
                 "(e.g. openssl rand -hex 24)", key->name, PIXD_KEY_SECRET_MIN,
                 PIXD_KEY_SECRET_MAX);
        return -EINVAL;
    }
    memcpy(key->secret, w, wlen);
    key->secret_len = wlen;
    next_word(&p, end, &w, &wlen);
    if (wlen == 0) {
        snprintf(err, errlen, "key \"%s\" has no permissions; expected NAME SECRET PERMS, "
                 "PERMS being read, write and/or admin separated by commas", key->name);
        return -EINVAL;
    }
    if (parse_perms(w, wlen, &key->perms) < 0) {
        snprintf(err, errlen, "key \"%s\": \"%.*s\" is not a list of read, write, admin "
                 "separated by commas", key->name, (int)(wlen > 60 ? 60 : wlen), w);
        return -EINVAL;
    }
    next_word(&p, end, &w, &wlen);
    if (wlen) {
        snprintf(err, errlen, "key \"%s\": unexpected text after the permissions; "
                 "expected NAME SECRET PERMS", key->name);
        return -EINVAL;
    }
    SHA256((const unsigned char *)key->secret, key->secret_len, key->digest);
    return 1;
}

void pixd_keys_free(pixd_keys *k) {
    if (!k)
        return;
    if (k->keys)
        OPENSSL_cleanse(k->keys, k->n * sizeof *k->keys);
    free(k->keys);
    free(k);
}

int pixd_keys_parse(const char *text, size_t len, pixd_keys **out, char *err, size_t errlen) {
    pixd_keys *k = calloc(1, sizeof *k);
    size_t pos = 0, cap = 0;
    int lineno = 0, r;
    pixd_key key;
    char why[200];

    *out = NULL;
    if (!k)
        return -ENOMEM;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n > LINE_MAX_BYTES) {
            snprintf(err, errlen, "line %d: longer than %d bytes", lineno, LINE_MAX_BYTES);
            r = -EINVAL;
            goto fail;
        }
        r = parse_line(text + pos, n, &key, why, sizeof why);
        pos += n + (nl ? 1 : 0);
        if (r < 0) {
            snprintf(err, errlen, "line %d: %s", lineno, why);
            goto fail;
        }
        if (r == 0)
            continue;
        if (pixd_keys_find(k, key.name)) {
            snprintf(err, errlen, "line %d: the key name \"%s\" is used twice", lineno, key.name);
            r = -EINVAL;
            goto fail;
        }
        if (k->n == PIXD_KEYS_MAX) {
            snprintf(err, errlen, "line %d: more than %d keys", lineno, PIXD_KEYS_MAX);
            r = -E2BIG;
            goto fail;
        }
        if (k->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            pixd_key *nk = malloc(ncap * sizeof *nk);
            if (!nk) {
                r = -ENOMEM;
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            if (k->n)
                memcpy(nk, k->keys, k->n * sizeof *nk);
            /* Moving secrets: wipe the old copy before letting it go. */
            if (k->keys)
                OPENSSL_cleanse(k->keys, k->n * sizeof *k->keys);
            free(k->keys);
            k->keys = nk;
            cap = ncap;
        }
        k->keys[k->n++] = key;
    }
    OPENSSL_cleanse(&key, sizeof key);
    if (k->n == 0) {
        snprintf(err, errlen, "no keys: add a line NAME SECRET PERMS, e.g. "
                 "\"alice $(openssl rand -hex 24) read,write\"");
        pixd_keys_free(k);
        return -EINVAL;
    }
    *out = k;
    return 0;
fail:
    OPENSSL_cleanse(&key, sizeof key);
    pixd_keys_free(k);
    return r;
}

int pixd_keys_load(const char *path, pixd_keys **out, char *err, size_t errlen) {
    char why[300], *text;
    struct stat st;
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

    *out = NULL;
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "--keys %s: %s", path, strerror(-r));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)PIXD_KEYS_FILE_MAX) {
        close(fd);
        snprintf(err, errlen, "--keys %s: not a regular file of at most %u bytes", path,
                 PIXD_KEYS_FILE_MAX);
        return -EINVAL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        snprintf(err, errlen, "--keys %s: the file holds secrets but its mode is %04o, so "
                 "other users can read or change it; run chmod 600 %s", path,
                 (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        close(fd);
        return -ENOMEM;
    }
    while (got < st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)(st.st_size - got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += n;
    }
    close(fd);
    r = pixd_keys_parse(text, (size_t)got, out, why, sizeof why);
    OPENSSL_cleanse(text, (size_t)st.st_size);
    free(text);
    if (r < 0)
        snprintf(err, errlen, "--keys %s: %s", path, why);
    return r;
}

const pixd_key *pixd_keys_find(const pixd_keys *k, const char *name) {
    if (!k)
        return NULL;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i].name, name) == 0)
            return &k->keys[i];
    return NULL;
}

int pixd_key_secret_matches(const pixd_key *k, const char *secret, size_t len) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)secret, len, d);
    return CRYPTO_memcmp(d, k->digest, sizeof d) == 0;
}

const char *pixd_perms_text(unsigned perms, char *buf, size_t len) {
    snprintf(buf, len, "%s%s%s%s%s", perms & PIXD_PERM_READ ? "read" : "",
             (perms & PIXD_PERM_READ) && (perms & 6) ? "," : "",
             perms & PIXD_PERM_WRITE ? "write" : "",
             (perms & PIXD_PERM_WRITE) && (perms & PIXD_PERM_ADMIN) ? "," : "",
             perms & PIXD_PERM_ADMIN ? "admin" : "");
    if (!perms)
        snprintf(buf, len, "none");
    return buf;
}
