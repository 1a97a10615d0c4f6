/* Per-listener parameters: the ",KEY=VALUE" suffixes of --listen.
 *
 *   --listen legacy-snapshot=127.0.0.1:9001,camera=test,unsharp=2,150,3
 *
 * ADDR ends at the first comma followed by KEY=, where a KEY is a
 * lowercase letter then lowercase letters, digits or '-'. A value runs
 * until the next such ",KEY=" (so a value may itself hold commas, as
 * unsharp=2,150,3 does, but not a comma followed by KEY=). Keys are
 * generic here: each handler says which it knows (pixd_handler's
 * check_params), so the layer can add keys of its own for every handler
 * later. Pure functions, no allocation: the parsed list is plain data
 * that pixd_listen_spec and pixd_listener copy. */
#ifndef PIXD_PARAMS_H
#define PIXD_PARAMS_H

#include <stddef.h>

#define PIXD_PARAMS_MAX 8
#define PIXD_PARAM_KEY_MAX 24    /* bytes, with the NUL */
#define PIXD_PARAM_VALUE_MAX 104 /* bytes, with the NUL */

typedef struct pixd_param {
    char key[PIXD_PARAM_KEY_MAX];
    char value[PIXD_PARAM_VALUE_MAX];
} pixd_param;

typedef struct pixd_params {
    pixd_param p[PIXD_PARAMS_MAX];
    unsigned n;
} pixd_params;

/* Where the parameters of "ADDR[,KEY=VALUE...]" start: the offset of the
 * comma that begins them, or strlen(s) when there are none. */
size_t pixd_params_split(const char *s);

/* Parse "KEY=VALUE[,KEY=VALUE...]" (the text after that comma; "" gives
 * an empty list). Refuses a missing KEY=, a bad key, an empty value, a
 * key given twice, too many keys and values too long, saying which in err.
 * Returns 0 or -EINVAL. */
int pixd_params_parse(const char *s, pixd_params *out, char *err, size_t errlen);

/* The value of key, or NULL. */
const char *pixd_params_get(const pixd_params *p, const char *key);

/* Every key must be in known (NULL-terminated; NULL: none allowed).
 * what names the owner for the message ("legacy-camfeed"). 0 or -EINVAL. */
int pixd_params_check_known(const pixd_params *p, const char *const *known,
                            const char *what, char *err, size_t errlen);

/* key's value as an integer from min to max; def when absent. 0 or
 * -EINVAL with a message. */
int pixd_params_uint(const pixd_params *p, const char *key, unsigned min, unsigned max,
                     unsigned def, unsigned *out, char *err, size_t errlen);

#endif
