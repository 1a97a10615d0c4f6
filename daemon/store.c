/* The store's directory, its accounting, and the one-shot operations
 * (stat, list, delete). Uploads: store_upload.c; downloads: store_download.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store_internal.h"
#include "store_name.h"

static void job_work(uv_work_t *req) {
    store_job *j = (store_job *)req;
    j->work(j);
}

static void job_after(uv_work_t *req, int status) {
    store_job *j = (store_job *)req;
    j->st->jobs--;
    j->after(j, status);
}

int pixd__store_submit(pixd_store *st, store_job *j) {
    int r;
    j->st = st;
    r = uv_queue_work(st->loop, &j->req, job_work, job_after);
    if (r == 0)
        st->jobs++;
    return r;
}

static int mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int open_subdir(int rootfd, const char *name) {
    if (mkdirat(rootfd, name, 0750) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

/* A DIR stream over a duplicate of dirfd. Duplicates share the file
 * offset, so the stream is rewound: an earlier scan left it at the end. */
static DIR *open_dir(int dirfd) {
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    if (d)
        rewinddir(d);
    return d;
}

/* Uploads that were in progress when pixd last stopped (kill -9, power
 * loss) left temporary files; none of them can be completed. */
static void clean_tmp(pixd_store *st) {
    DIR *d = open_dir(st->tmpfd);
    struct dirent *de;
    unsigned n = 0;
    if (!d)
        return;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            unlinkat(st->tmpfd, de->d_name, 0) == 0)
            n++;
    closedir(d);
    if (n)
        pixd_notice("store: removed %u unfinished upload(s) left by a previous run", n);
}

static uint64_t sum_sizes(pixd_store *st) {
    DIR *d = open_dir(st->rootfd);
    struct dirent *de;
    uint64_t total = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct stat s;
        if (pixd_store_name_is_valid(de->d_name) &&
            fstatat(st->rootfd, de->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s.st_mode))
            total += (uint64_t)s.st_size;
    }
    closedir(d);
    return total;
}

int pixd_store_open(pixd_store **out, uv_loop_t *loop, const char *root,
                    uint64_t max_upload, uint64_t max_store, char *err, size_t errlen) {
    pixd_store *st = calloc(1, sizeof *st);
    int r;

    *out = NULL;
    if (!st)
        return -ENOMEM;
    st->loop = loop;
    st->rootfd = st->tmpfd = st->metafd = -1;
    st->max_upload = max_upload;
    st->max_store = max_store;
    snprintf(st->root, sizeof st->root, "%s", root);
    if ((r = mkdir_p(root)) < 0) {
        snprintf(err, errlen, "cannot create store directory %s: %s", root, strerror(-r));
        goto fail;
    }
    st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->rootfd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot open store directory %s: %s", root, strerror(-r));
        goto fail;
    }
    if ((st->tmpfd = open_subdir(st->rootfd, ".tmp")) < 0 ||
        (st->metafd = open_subdir(st->rootfd, ".meta")) < 0) {
        r = st->tmpfd < 0 ? st->tmpfd : st->metafd;
        snprintf(err, errlen, "cannot prepare store directory %s: %s (is it writable "
                 "by this user?)", root, strerror(-r));
        goto fail;
    }
    clean_tmp(st);
    st->used = sum_sizes(st);
    /* A missing cache only makes small GETs slower. */
    st->cache = pixd_store_cache_new(PIXD_STORE_HOT_FILE_MAX, PIXD_STORE_HOT_TOTAL_MAX,
                                     PIXD_STORE_HOT_TTL_MS);
    *out = st;
    return 0;
fail:
    pixd_store_free(st);
    return r;
}

void pixd_store_free(pixd_store *st) {
    if (!st)
        return;
    if (st->rootfd >= 0)
        close(st->rootfd);
    if (st->tmpfd >= 0)
        close(st->tmpfd);
    if (st->metafd >= 0)
        close(st->metafd);
    pixd_store_cache_free(st->cache);
    free(st);
}

uint64_t pixd_store_bytes(const pixd_store *st) { return st ? st->used : 0; }
const char *pixd_store_root(const pixd_store *st) { return st->root; }
void pixd_store_set_verify_images(pixd_store *st, int on) { st->verify_images = on; }
unsigned pixd_store_jobs(const pixd_store *st) { return st ? st->jobs : 0; }

pixd_hot *pixd_store_hot(pixd_store *st, const char *name) {
    return pixd_store_cache_get(st->cache, name, uv_now(st->loop));
}

/* ---- stat / delete ---- */

typedef struct entry_job {
    store_job job;
    char name[PIXPROTO_NAME_MAX + 1];
    int del;
    int err;
    pixproto_entry e;
    pixd_entry_cb cb;
    void *ctx;
} entry_job;

static void entry_work(store_job *j) {
    entry_job *ej = (entry_job *)j;
    ej->err = pixd__store_describe(j->st, ej->name, &ej->e);
    if (ej->err || !ej->del)
        return;
    if (unlinkat(j->st->rootfd, ej->name, 0) < 0) {
        ej->err = -errno;
        return;
    }
    unlinkat(j->st->metafd, ej->name, 0);
    fsync(j->st->rootfd);
}

static void entry_after(store_job *j, int status) {
    entry_job *ej = (entry_job *)j;
    if (status < 0)
        ej->err = -ECANCELED;
    if (ej->del)
        pixd_store_cache_forget(j->st->cache, ej->name);
    if (ej->del && ej->err == 0)
        j->st->used -= ej->e.size < j->st->used ? ej->e.size : j->st->used;
    ej->cb(ej->ctx, ej->err, ej->err ? NULL : &ej->e);
    free(ej);
}

static int entry_op(pixd_store *st, const char *name, int del, pixd_entry_cb cb, void *ctx) {
    char norm[PIXPROTO_NAME_MAX + 1], why[128];
    entry_job *ej;
    int r;

    if (pixd_store_name_check(name, norm, sizeof norm, why, sizeof why) < 0)
        return -EINVAL;
    if (!(ej = calloc(1, sizeof *ej)))
        return -ENOMEM;
    snprintf(ej->name, sizeof ej->name, "%s", norm);
    ej->del = del;
    ej->cb = cb;
    ej->ctx = ctx;
    ej->job.work = entry_work;
    ej->job.after = entry_after;
    if (del)
        pixd_store_cache_forget(st->cache, ej->name);
    if ((r = pixd__store_submit(st, &ej->job)) < 0)
        free(ej);
    return r;
}

int pixd_store_stat(pixd_store *st, const char *name, pixd_entry_cb cb, void *ctx) {
    return entry_op(st, name, 0, cb, ctx);
}

int pixd_store_delete(pixd_store *st, const char *name, pixd_entry_cb cb, void *ctx) {
    return entry_op(st, name, 1, cb, ctx);
}

/* ---- list ---- */

typedef struct list_job {
    store_job job;
    pixproto_entry *v;
    size_t n, cap;
    int err;
    pixd_list_cb cb;
    void *ctx;
} list_job;

static int by_name(const void *a, const void *b) {
    return strcmp(((const pixproto_entry *)a)->name, ((const pixproto_entry *)b)->name);
}

static void list_work(store_job *j) {
    list_job *lj = (list_job *)j;
    DIR *d = open_dir(j->st->rootfd);
    struct dirent *de;

    if (!d) {
        lj->err = -errno;
        return;
    }
    while ((de = readdir(d))) {
        if (!pixd_store_name_is_valid(de->d_name))
            continue;
        if (lj->n == lj->cap) {
            size_t cap = lj->cap ? lj->cap * 2 : 64;
            pixproto_entry *v = realloc(lj->v, cap * sizeof *v);
            if (!v) {
                lj->err = -ENOMEM;
                break;
            }
            lj->v = v;
            lj->cap = cap;
        }
        if (pixd__store_describe(j->st, de->d_name, &lj->v[lj->n]) == 0)
            lj->n++;
    }
    closedir(d);
    if (lj->n)
        qsort(lj->v, lj->n, sizeof *lj->v, by_name);
}

static void list_after(store_job *j, int status) {
    list_job *lj = (list_job *)j;
    if (status < 0)
        lj->err = -ECANCELED;
    lj->cb(lj->ctx, lj->err, lj->v, lj->err ? 0 : lj->n);
    free(lj->v);
    free(lj);
}

int pixd_store_list(pixd_store *st, pixd_list_cb cb, void *ctx) {
    list_job *lj = calloc(1, sizeof *lj);
    int r;
    if (!lj)
        return -ENOMEM;
    lj->cb = cb;
    lj->ctx = ctx;
    lj->job.work = list_work;
    lj->job.after = list_after;
    if ((r = pixd__store_submit(st, &lj->job)) < 0)
        free(lj);
    return r;
}

/* ---- read whole ---- */

typedef struct read_job {
    store_job job;
    char name[PIXPROTO_NAME_MAX + 1];
    size_t max, len;
    uint8_t *data;
    int err;
    pixd_read_cb cb;
    void *ctx;
} read_job;

static void read_work(store_job *j) {
    read_job *rj = (read_job *)j;
    struct stat s;
    int fd = openat(j->st->rootfd, rj->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &s) < 0) {
        rj->err = errno == ELOOP ? -ENOENT : -errno;
        goto out;
    }
    if (!S_ISREG(s.st_mode)) {
        rj->err = -ENOENT;
        goto out;
    }
    if ((uint64_t)s.st_size > rj->max) {
        rj->err = -EFBIG;
        goto out;
    }
    rj->data = malloc((size_t)s.st_size ? (size_t)s.st_size : 1);
    if (!rj->data) {
        rj->err = -ENOMEM;
        goto out;
    }
    while (rj->len < (size_t)s.st_size) {
        ssize_t n = pread(fd, rj->data + rj->len, (size_t)s.st_size - rj->len, (off_t)rj->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rj->err = n < 0 ? -errno : -EIO;
            break;
        }
        rj->len += (size_t)n;
    }
out:
    if (fd >= 0)
        close(fd);
}

static void read_after(store_job *j, int status) {
    read_job *rj = (read_job *)j;
    if (status < 0 && !rj->err)
        rj->err = -ECANCELED;
    if (rj->err) {
        free(rj->data);
        rj->cb(rj->ctx, rj->err, NULL, 0);
    } else {
        rj->cb(rj->ctx, 0, rj->data, rj->len);
    }
    free(rj);
}

int pixd_store_read(pixd_store *st, const char *name, size_t max, pixd_read_cb cb, void *ctx) {
    char norm[PIXPROTO_NAME_MAX + 1], why[128];
    read_job *rj;
    int r;
    if (pixd_store_name_check(name, norm, sizeof norm, why, sizeof why) < 0)
        return -EINVAL;
    if (!(rj = calloc(1, sizeof *rj)))
        return -ENOMEM;
    snprintf(rj->name, sizeof rj->name, "%s", norm);
    rj->max = max;
    rj->cb = cb;
    rj->ctx = ctx;
    rj->job.work = read_work;
    rj->job.after = read_after;
    if ((r = pixd__store_submit(st, &rj->job)) < 0)
        free(rj);
    return r;
}
