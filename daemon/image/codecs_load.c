#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "codecs.h"

#ifndef PIXD_MODULE_DIR
#define PIXD_MODULE_DIR "/usr/local/lib/pixd"
#endif

/* Written once under pthread_once, read-only after. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pixd_codecs *codecs;
static int load_rc;
static char load_err[512];

static void load(void) {
    const char *dir = getenv("PIXD_MODULE_DIR");
    char path[4096];
    const pixd_codecs *c;
    void *h;

    if (!dir || !*dir)
        dir = PIXD_MODULE_DIR;
    if (snprintf(path, sizeof path, "%s/%s", dir, PIXD_CODECS_FILE) >= (int)sizeof path) {
        load_rc = -ENOENT;
        snprintf(load_err, sizeof load_err, "PIXD_MODULE_DIR is too long");
        return;
    }
    if (access(path, R_OK) != 0) {
        load_rc = -ENOENT;
        snprintf(load_err, sizeof load_err,
                 "image codecs module not found in %.400s: install pixd fully or set "
                 "PIXD_MODULE_DIR", dir);
        return;
    }
    /* Never closed: its code stays in use until the process ends. */
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        load_rc = -EIO;
        snprintf(load_err, sizeof load_err, "could not load the image codecs module: %s",
                 dlerror());
        return;
    }
    c = (const pixd_codecs *)dlsym(h, PIXD_CODECS_SYMBOL);
    if (!c || c->abi != PIXD_CODECS_ABI) {
        load_rc = -EIO;
        snprintf(load_err, sizeof load_err,
                 "%.400s is not the codecs module of this pixd (version mismatch)", path);
        return;
    }
    codecs = c;
}

int pixd__codecs_get(const pixd_codecs **out, char *err, size_t errlen) {
    pthread_once(&once, load);
    *out = codecs;
    if (!codecs && errlen)
        snprintf(err, errlen, "%s", load_err);
    return codecs ? 0 : load_rc;
}
