/* --camera NAME=SOURCE[,opt=val...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "../store_name.h"

static int number(const char *v, unsigned max, unsigned *out) {
    char *end;
    unsigned long n;
    if (*v < '0' || *v > '9')
        return -1;
    n = strtoul(v, &end, 10);
    if (*end || n > max)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int option(pixd_camera_spec *s, char *kv, char *err, size_t errlen) {
    char *eq = strchr(kv, '=');
    unsigned n;
    if (!eq) {
        snprintf(err, errlen, "camera option \"%.40s\" needs a value (opt=val)", kv);
        return -EINVAL;
    }
    *eq++ = '\0';
    if (!strcmp(kv, "width") || !strcmp(kv, "height")) {
        if (number(eq, 16384, &n) < 0 || n == 0) {
            snprintf(err, errlen, "camera %s must be from 1 to 16384", kv);
            return -EINVAL;
        }
        *(kv[0] == 'w' ? &s->width : &s->height) = n;
    } else if (!strcmp(kv, "fps")) {
        if (number(eq, 240, &n) < 0 || n == 0) {
            snprintf(err, errlen, "camera fps must be from 1 to 240");
            return -EINVAL;
        }
        s->fps = n;
    } else if (!strcmp(kv, "quality")) {
        if (number(eq, 100, &n) < 0 || n == 0) {
            snprintf(err, errlen, "camera quality must be from 1 to 100");
            return -EINVAL;
        }
        s->quality = (int)n;
    } else if (!strcmp(kv, "save-every")) {
        if (number(eq, 86400 * 7, &n) < 0 || n == 0) {
            snprintf(err, errlen, "save-every is seconds, from 1 to 604800");
            return -EINVAL;
        }
        s->save_every = n;
    } else if (!strcmp(kv, "linger")) {
        char *end;
        double sec = strtod(eq, &end);
        if (end == eq || *end || !(sec >= 0 && sec <= 3600)) {
            snprintf(err, errlen, "camera linger is seconds, from 0 to 3600");
            return -EINVAL;
        }
        s->linger_ms = (unsigned)(sec * 1000 + 0.5);
    } else if (!strcmp(kv, "timeout")) {
        /* A stalled camera (USB hiccup, a feeder that stopped) is reopened
         * after this; fractions help tests and very slow cameras alike. */
        char *end;
        double sec = strtod(eq, &end);
        if (end == eq || *end || !(sec >= 0.05 && sec <= 3600)) {
            snprintf(err, errlen, "camera timeout is seconds, from 0.05 to 3600");
            return -EINVAL;
        }
        s->timeout_ms = (unsigned)(sec * 1000 + 0.5);
    } else if (!strcmp(kv, "always-on")) {
        if (strcmp(eq, "0") && strcmp(eq, "1")) {
            snprintf(err, errlen, "camera always-on must be 0 or 1");
            return -EINVAL;
        }
        s->always_on = eq[0] == '1';
    } else if (!strcmp(kv, "format")) {
        if (strcmp(eq, "mjpeg") && strcmp(eq, "yuyv")) {
            snprintf(err, errlen, "camera format must be mjpeg or yuyv");
            return -EINVAL;
        }
        snprintf(s->format, sizeof s->format, "%s", eq);
    } else {
        snprintf(err, errlen, "unknown camera option \"%.40s\" (known: width, height, fps, "
                 "format, quality, save-every, linger, timeout, always-on)", kv);
        return -EINVAL;
    }
    return 0;
}

int pixd_camera_spec_parse(const char *arg, pixd_camera_spec *s, char *err, size_t errlen) {
    char buf[512], *eq, *comma, *opt;
    char norm[256], why[128];

    memset(s, 0, sizeof *s);
    if (strlen(arg) >= sizeof buf) {
        snprintf(err, errlen, "--camera: too long");
        return -EINVAL;
    }
    strcpy(buf, arg);
    eq = strchr(buf, '=');
    if (!eq || eq == buf || !eq[1]) {
        snprintf(err, errlen, "--camera %.60s: expected NAME=SOURCE, as in cam0=/dev/video0 "
                 "or demo=test", arg);
        return -EINVAL;
    }
    *eq = '\0';
    if (strlen(buf) >= sizeof s->name ||
        pixd_store_name_check(buf, norm, sizeof norm, why, sizeof why) < 0 ||
        strcmp(norm, buf) != 0) {
        snprintf(err, errlen, "--camera: bad camera name \"%.40s\" (letters, digits, '-', "
                 "'_', '.', at most 63 bytes)", buf);
        return -EINVAL;
    }
    strcpy(s->name, buf);
    /* SOURCE ends at the first comma; options follow as ",key=val". */
    opt = eq + 1;
    comma = strchr(opt, ',');
    if (comma)
        *comma = '\0';
    if (strlen(opt) >= sizeof s->source) {
        snprintf(err, errlen, "--camera %s: source is too long", s->name);
        return -EINVAL;
    }
    strcpy(s->source, opt);
    while (comma) {
        char *kv = comma + 1;
        int r;
        comma = strchr(kv, ',');
        if (comma)
            *comma = '\0';
        if ((r = option(s, kv, err, errlen)) < 0)
            return r;
    }
    return 0;
}
