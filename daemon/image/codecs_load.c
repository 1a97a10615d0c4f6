#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "codecs.h"
#include "module.h"

/* Written once under pthread_once, read-only after. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pixd_codecs *codecs;
static int load_rc;
static char load_err[512];

static void load(void) {
    const pixd_codecs *c = pixd_module_load(PIXD_CODECS_FILE, PIXD_CODECS_SYMBOL,
                                            "image codecs module", &load_rc, load_err,
                                            sizeof load_err);
    if (c && c->abi != PIXD_CODECS_ABI) {
        load_rc = -EIO;
        snprintf(load_err, sizeof load_err, "the image codecs module is from another "
                 "version of pixd (ABI %d, want %d)", c->abi, PIXD_CODECS_ABI);
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
