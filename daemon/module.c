#include "module.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PIXD_MODULE_DIR
#define PIXD_MODULE_DIR "/usr/local/lib/pixd"
#endif

const void *pixd_module_load(const char *file, const char *symbol, const char *what,
                             int *rc, char *err, size_t errlen) {
    const char *dir = getenv("PIXD_MODULE_DIR");
    char path[4096];
    const void *sym;
    void *h;

    if (!dir || !*dir)
        dir = PIXD_MODULE_DIR;
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
        *rc = -ENOENT;
        snprintf(err, errlen, "PIXD_MODULE_DIR is too long");
        return NULL;
    }
    if (access(path, R_OK) != 0) {
        *rc = -ENOENT;
        snprintf(err, errlen, "%s not found in %.400s: install pixd fully or set "
                 "PIXD_MODULE_DIR", what, dir);
        return NULL;
    }
    /* Never closed: its code stays in use until the process ends. */
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        *rc = -EIO;
        snprintf(err, errlen, "could not load the %s: %s", what, dlerror());
        return NULL;
    }
    sym = dlsym(h, symbol);
    if (!sym) {
        *rc = -EIO;
        snprintf(err, errlen, "%.400s is not the %s of this pixd", path, what);
        return NULL;
    }
    return sym;
}
