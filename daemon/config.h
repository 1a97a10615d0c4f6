/* Parser for pixd's config file: "key = value" lines.
 *
 * Keys are long option names without the dashes; '#' starts a comment
 * line; blank lines are ignored; a flag without a value is written
 * "insecure = true". The file is untrusted input: every line is checked
 * and the first bad one is reported with its number. */
#ifndef PIXD_CONFIG_H
#define PIXD_CONFIG_H

#include <stddef.h>

#define PIXD_CONFIG_MAX_BYTES (1u << 20) /* a config larger than this is refused */
#define PIXD_CONFIG_MAX_LINE 4096

/* Called once per setting; key and value are NUL-terminated, trimmed, and
 * valid only during the call. Return 0 to go on, or a negative errno after
 * writing a reason into err (the parser prefixes the line number). */
typedef int (*pixd_config_cb)(const char *key, const char *value, int line,
                              void *ctx, char *err, size_t errlen);

/* Parse len bytes of text (not NUL-terminated; the caller owns it). Returns
 * 0, or a negative errno with "line N: reason" in err. */
int pixd_config_parse(const char *text, size_t len, pixd_config_cb cb,
                      void *ctx, char *err, size_t errlen);

#endif
