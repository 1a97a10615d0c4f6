/* Store metadata: the .meta record of each file (SHA-256, type, size),
 * written when a file is stored and recomputed when stale. Worker side. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imghdr.h"
#include "store_internal.h"

#define PROBE_BYTES (256u << 10) /* EXIF can push a JPEG's SOF this far */
#define META_MAX 512

uint64_t pixd__store_mtime_ms(const struct stat *st) {
    return (uint64_t)st->st_mtim.tv_sec * 1000u + (uint64_t)st->st_mtim.tv_nsec / 1000000u;
}

void pixd__store_probe(const uint8_t *p, size_t n, pixproto_entry *e) {
    pixd_imghdr h;
    if (pixd_imghdr_probe(p, n, &h) == 0) {
        snprintf(e->type, sizeof e->type, "%s", h.type);
        e->width = h.width;
        e->height = h.height;
    } else {
        snprintf(e->type, sizeof e->type, "data");
        e->width = e->height = 0;
    }
}

int pixd__store_scan_fd(int fd, pixproto_entry *e) {
    enum { BUF = 256 * 1024 };
    uint8_t *buf = malloc(BUF);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint64_t total = 0;
    int r = 0, probed = 0;
    ssize_t n;

    if (!buf || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        r = -ENOMEM;
        goto out;
    }
    while ((n = pread(fd, buf, BUF, (off_t)total)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto out;
        }
        if (!probed) {
            pixd__store_probe(buf, (size_t)n, e);
            probed = 1;
        }
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (!probed)
        pixd__store_probe(buf, 0, e);
    EVP_DigestFinal_ex(md, e->sha256, NULL);
    e->has_sha256 = 1;
    e->size = total;
out:
    EVP_MD_CTX_free(md);
    free(buf);
    return r;
}

static void hex(const uint8_t *p, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return s[2 * n] == '\0' ? 0 : -1;
}

void pixd__store_meta_save(pixd_store *s, const char *name, const pixproto_entry *e,
                           const struct stat *st) {
    char line[META_MAX], sha[65], tmp[64];
    int fd, n;

    hex(e->sha256, 32, sha);
    n = snprintf(line, sizeof line, "pixd-meta 1 %" PRIu64 " %lld %ld %s %s %u %u\n",
                 e->size, (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec, sha,
                 e->type[0] ? e->type : "-", e->width, e->height);
    snprintf(tmp, sizeof tmp, ".m%ld-%ld", (long)getpid(), (long)gettid());
    fd = openat(s->metafd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return;
    /* A lost record is only a cache miss, so no fsync: it is recomputed. */
    if (write(fd, line, (size_t)n) != n || close(fd) < 0 ||
        renameat(s->metafd, tmp, s->metafd, name) < 0)
        unlinkat(s->metafd, tmp, 0);
}

static int meta_load(pixd_store *s, const char *name, const struct stat *st,
                     pixproto_entry *e) {
    char line[META_MAX], sha[80], type[16];
    long long sec;
    long nsec;
    uint64_t size;
    unsigned w, h;
    ssize_t n;
    int fd = openat(s->metafd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return -1;
    n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return -1;
    line[n] = '\0';
    if (sscanf(line, "pixd-meta 1 %" SCNu64 " %lld %ld %79s %15s %u %u", &size, &sec, &nsec,
               sha, type, &w, &h) != 7)
        return -1;
    if (size != (uint64_t)st->st_size || sec != (long long)st->st_mtim.tv_sec ||
        nsec != (long)st->st_mtim.tv_nsec || unhex(sha, e->sha256, 32) < 0)
        return -1;
    e->has_sha256 = 1;
    e->size = size;
    snprintf(e->type, sizeof e->type, "%s", strcmp(type, "-") ? type : "");
    e->width = w;
    e->height = h;
    return 0;
}

int pixd__store_describe(pixd_store *s, const char *name, pixproto_entry *e) {
    struct stat st;
    int fd, r;

    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    if (fstatat(s->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -ENOENT;
    e->mtime_ms = pixd__store_mtime_ms(&st);
    if (meta_load(s, name, &st, e) == 0)
        return 0;
    fd = openat(s->rootfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    r = pixd__store_scan_fd(fd, e);
    close(fd);
    if (r == 0)
        pixd__store_meta_save(s, name, e, &st);
    return r;
}
