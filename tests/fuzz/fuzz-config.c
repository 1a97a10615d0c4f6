/* libFuzzer target: pixd's config file, through the same entry point the
 * daemon uses (each setting applied to a fresh option set), and the
 * listen address parser it calls. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int apply(const char *key, const char *value, int line, void *ctx,
                 char *err, size_t errlen) {
    pixd_addr a;
    char why[200];
    (void)line;
    pixd_addr_parse(value, &a, why, sizeof why);
    return pixd_options_set(ctx, key, value, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixd_options o;
    char err[512];
    pixd_options_defaults(&o);
    pixd_config_parse((const char *)data, size, apply, &o, err, sizeof err);
    return 0;
}
