#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_start(char ch) { return ch >= 'a' && ch <= 'z'; }
static int key_char(char ch) {
    return key_start(ch) || (ch >= '0' && ch <= '9') || ch == '-';
}

/* Length of the KEY in "KEY=..." at s, or 0 when s does not start so. */
static size_t key_len(const char *s) {
    size_t n = 0;
    if (!key_start(s[0]))
        return 0;
    while (key_char(s[n]))
        n++;
    return s[n] == '=' ? n : 0;
}

/* The next comma in s that starts a ",KEY=", or the end of s. */
static const char *next_param(const char *s) {
    for (; *s; s++)
        if (*s == ',' && key_len(s + 1))
            return s;
    return s;
}

size_t pixd_params_split(const char *s) {
    return (size_t)(next_param(s) - s);
}

int pixd_params_parse(const char *s, pixd_params *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    while (*s) {
        size_t kl = key_len(s), vl;
        const char *v, *end;
        pixd_param *p;

        if (!kl) {
            snprintf(err, errlen, "parameter \"%.40s\" is not KEY=VALUE (keys are lowercase "
                     "letters, digits and '-')", s);
            return -EINVAL;
        }
        v = s + kl + 1;
        end = next_param(v);
        vl = (size_t)(end - v);
        if (kl >= PIXD_PARAM_KEY_MAX) {
            snprintf(err, errlen, "parameter key \"%.*s\" is too long", (int)kl, s);
            return -EINVAL;
        }
        if (vl == 0) {
            snprintf(err, errlen, "parameter %.*s needs a value", (int)kl, s);
            return -EINVAL;
        }
        if (vl >= PIXD_PARAM_VALUE_MAX) {
            snprintf(err, errlen, "parameter %.*s: value longer than %d bytes", (int)kl, s,
                     PIXD_PARAM_VALUE_MAX - 1);
            return -EINVAL;
        }
        for (unsigned i = 0; i < out->n; i++)
            if (strlen(out->p[i].key) == kl && !memcmp(out->p[i].key, s, kl)) {
                snprintf(err, errlen, "parameter %.*s is given twice", (int)kl, s);
                return -EINVAL;
            }
        if (out->n == PIXD_PARAMS_MAX) {
            snprintf(err, errlen, "at most %d parameters", PIXD_PARAMS_MAX);
            return -EINVAL;
        }
        p = &out->p[out->n++];
        memcpy(p->key, s, kl);
        p->key[kl] = '\0';
        memcpy(p->value, v, vl);
        p->value[vl] = '\0';
        s = *end ? end + 1 : end;
    }
    return 0;
}

const char *pixd_params_get(const pixd_params *p, const char *key) {
    for (unsigned i = 0; p && i < p->n; i++)
        if (!strcmp(p->p[i].key, key))
            return p->p[i].value;
    return NULL;
}

int pixd_params_check_known(const pixd_params *p, const char *const *known,
                            const char *what, char *err, size_t errlen) {
    for (unsigned i = 0; i < p->n; i++) {
        int ok = 0;
        for (const char *const *k = known; k && *k && !ok; k++)
            ok = !strcmp(*k, p->p[i].key);
        if (!ok) {
            int n = snprintf(err, errlen, "%s has no parameter \"%s\"; known:", what,
                             p->p[i].key);
            if ((!known || !*known) && n > 0 && (size_t)n < errlen)
                snprintf(err + n, errlen - (size_t)n, " none");
            for (const char *const *k = known; k && *k && n > 0 && (size_t)n < errlen; k++)
                n += snprintf(err + n, errlen - (size_t)n, " %s", *k);
            return -EINVAL;
        }
    }
    return 0;
}

int pixd_params_uint(const pixd_params *p, const char *key, unsigned min, unsigned max,
                     unsigned def, unsigned *out, char *err, size_t errlen) {
    const char *v = pixd_params_get(p, key);
    unsigned long n;
    char *end;

    if (!v) {
        *out = def;
        return 0;
    }
    n = *v >= '0' && *v <= '9' ? strtoul(v, &end, 10) : 0;
    if (*v < '0' || *v > '9' || *end || n < min || n > max) {
        snprintf(err, errlen, "%s=%.40s: expected a number from %u to %u", key, v, min, max);
        return -EINVAL;
    }
    *out = (unsigned)n;
    return 0;
}
