/* Loading pixd's optional modules (pixd-codecs, pixd-videoio) with dlopen. */
#ifndef PIXD_MODULE_H
#define PIXD_MODULE_H

#include <stddef.h>

/* Open FILE from $PIXD_MODULE_DIR, else the install directory, and return
 * its exported SYMBOL. On failure returns NULL with *rc = -ENOENT (not
 * there) or -EIO (not loadable) and a message for the user in err that
 * names what (e.g. "image codecs module"). The module is never closed. */
const void *pixd_module_load(const char *file, const char *symbol, const char *what,
                             int *rc, char *err, size_t errlen);

#endif
