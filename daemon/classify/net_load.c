#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "../module.h"
#include "net.h"

/* Written once under pthread_once, read-only after. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pixd_net_ops *ops;
static int load_rc;
static char load_err[512];

static void load(void) {
    const pixd_net_ops *o = pixd_module_load(PIXD_NET_FILE, PIXD_NET_SYMBOL,
                                             "classification module", &load_rc, load_err,
                                             sizeof load_err);
    if (o && o->abi != PIXD_NET_ABI) {
        load_rc = -EIO;
        snprintf(load_err, sizeof load_err, "the classification module is from another "
                 "version of pixd (ABI %d, want %d)", o->abi, PIXD_NET_ABI);
        return;
    }
    ops = o;
}

int pixd__net_get(const pixd_net_ops **out, char *err, size_t errlen) {
    pthread_once(&once, load);
    *out = ops;
    if (!ops && errlen)
        snprintf(err, errlen, "%s", load_err);
    return ops ? 0 : load_rc;
}
