#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "auth/keys.h"
#include "config.h"
#include "handler.h"
#include "log.h"
#include "pixd-config.h"

enum opt_id {
    O_LISTEN = 256,
    O_MAX_CONNECTIONS,
    O_MAX_PER_HOST,
    O_IDLE_TIMEOUT,
    O_INSECURE,
    O_LOG_LEVEL,
    O_CONFIG,
    O_STORE,
    O_MAX_UPLOAD,
    O_MAX_STORE,
    O_VERIFY_IMAGES,
    O_CAMERA,
    O_WORKERS,
    O_MAX_PIXELS,
    O_JPEG_QUALITY,
    O_MODEL,
    O_CHECK_CONFIG,
    O_LOG_FORMAT,
    O_LOG_REQUESTS,
    O_KEYS,
    O_CONN_RATE,
    O_MAX_CLIENT_JOBS,
    O_TLS_CERT,
    O_TLS_KEY,
    O_VERSION = 'V',
    O_HELP = 'h',
};

enum { F_REPEAT = 1, F_CLI_ONLY = 2 };

typedef struct optdef {
    const char *name;
    int id;
    int has_arg;
    unsigned flags;
    const char *metavar;
    const char *help;
} optdef;

/* The one list of pixd's options. --help prints it, getopt_long and the
 * config file read it, and tests hold man/pixd.8 to it. */
static const optdef optdefs[] = {
    {"listen", O_LISTEN, required_argument, F_REPEAT, "PROTO=ADDR",
     "listen for PROTO (native, http, legacy-*) on ADDR: HOST:PORT, [V6]:PORT or unix:PATH, "
     "then the handler's ,KEY=VALUE parameters; "
     "repeatable (default: native=127.0.0.1:7070 and http=127.0.0.1:7080)"},
    {"max-connections", O_MAX_CONNECTIONS, required_argument, 0, "N",
     "most connections open at once, all listeners (default 4096)"},
    {"max-per-host", O_MAX_PER_HOST, required_argument, 0, "N",
     "most connections from one IP address (default 0: no limit)"},
    {"conn-rate", O_CONN_RATE, required_argument, 0, "N",
     "most new connections a second from one IP address, in bursts of N "
     "(default 0: no limit)"},
    {"max-client-jobs", O_MAX_CLIENT_JOBS, required_argument, 0, "N",
     "most image jobs (resize, classify) one native connection may have in flight (default 64)"},
    {"idle-timeout", O_IDLE_TIMEOUT, required_argument, 0, "SEC",
     "disconnect a client silent for SEC seconds (default 20, 0: never)"},
    {"store", O_STORE, required_argument, 0, "DIR",
     "keep the image store in DIR (default $STATE_DIRECTORY, else ./var/pixd)"},
    {"max-upload", O_MAX_UPLOAD, required_argument, 0, "BYTES",
     "largest file accepted, e.g. 512M (default 0: no limit)"},
    {"max-store", O_MAX_STORE, required_argument, 0, "BYTES",
     "most bytes the store may hold, e.g. 20G (default 0: no limit)"},
    {"camera", O_CAMERA, required_argument, F_REPEAT, "NAME=SOURCE[,OPT=VAL...]",
     "a camera: SOURCE is test, /dev/videoN, file:PATH or a capture URL; options "
     "width, height, fps, format, quality, save-every, linger, timeout, always-on; repeatable (default: "
     "every /dev/video* camera, else a test pattern named test)"},
    {"workers", O_WORKERS, required_argument, 0, "N",
     "image jobs running at once (default: one per core)"},
    {"max-pixels", O_MAX_PIXELS, required_argument, 0, "N",
     "refuse images with more pixels, e.g. 50M (default 50000000)"},
    {"jpeg-quality", O_JPEG_QUALITY, required_argument, 0, "N",
     "JPEG quality of job output when a request gives none (default 85)"},
    {"model", O_MODEL, required_argument, F_REPEAT,
     "NAME=PATH[,OPT=VAL...]",
     "an ONNX classifier loaded at start; options labels=FILE, size=WxH (default 224x224), "
     "mean=R,G,B (default 0,0,0), scale=S (default 1/255), rgb=0|1 (default 1), "
     "positive=LABEL; repeatable (up to 8)"},
    {"verify-images", O_VERIFY_IMAGES, no_argument, 0, NULL,
     "refuse uploads that are not images (checked from their header)"},
    {"insecure", O_INSECURE, no_argument, 0, NULL,
     "allow listening beyond loopback without access keys"},
    {"keys", O_KEYS, required_argument, 0, "FILE",
     "access keys, one \"NAME SECRET PERMS\" a line (mode 600); every client then "
     "needs one; reread on SIGHUP"},
    {"tls-cert", O_TLS_CERT, required_argument, 0, "FILE",
     "serve TLS on every TCP listener with this PEM certificate chain (needs --tls-key)"},
    {"tls-key", O_TLS_KEY, required_argument, 0, "FILE",
     "the PEM private key of --tls-cert"},
    {"log-level", O_LOG_LEVEL, required_argument, 0, "LEVEL",
     "error, warning, notice, info (default) or debug"},
    {"log-format", O_LOG_FORMAT, required_argument, 0, "FORMAT",
     "text (default) or json: one JSON object per line with time, level, message, fields"},
    {"log-requests", O_LOG_REQUESTS, no_argument, 0, NULL,
     "log each request (protocol, peer, command or method and path) at info level"},
    {"check-config", O_CHECK_CONFIG, no_argument, F_CLI_ONLY, NULL,
     "check the flags, config file, listen addresses, store and cameras without "
     "binding or opening anything; exit 0 if pixd would start, else 1 with the reason"},
    {"config", O_CONFIG, required_argument, F_CLI_ONLY, "FILE",
     "read \"option = value\" lines from FILE; command-line flags win"},
    {"version", O_VERSION, no_argument, F_CLI_ONLY, NULL, "print the version and exit"},
    {"help", O_HELP, no_argument, F_CLI_ONLY, NULL, "print this help and exit"},
};
#define N_OPTDEFS (sizeof optdefs / sizeof optdefs[0])

void pixd_options_defaults(pixd_options *o) {
    memset(o, 0, sizeof *o);
    o->max_connections = 4096;
    o->max_per_host = 0;
    o->idle_timeout_ms = 20000;
    o->log_level = PIXD_LOG_INFO;
    o->max_pixels = 50000000ull;
    o->jpeg_quality = 85;
    o->max_client_jobs = 64;
}

void pixd_options_usage(FILE *out) {
    fprintf(out,
            "Usage: pixd [OPTION]...\n"
            "An image daemon: camera streams, an image store and image jobs\n"
            "for many clients at once, over one event loop.\n\n"
            "Options:\n");
    for (size_t i = 0; i < N_OPTDEFS; i++) {
        const optdef *d = &optdefs[i];
        char left[64];
        if (d->id < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->id, d->name,
                     d->metavar ? " " : "", d->metavar ? d->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->name,
                     d->metavar ? " " : "", d->metavar ? d->metavar : "");
        fprintf(out, "  %-30s %s\n", left, d->help);
    }
    fprintf(out, "\nHandlers for --listen:");
    for (int i = 0; i < PIXD_H_COUNT_; i++)
        if (pixd_handlers[i])
            fprintf(out, " %s", pixd_handlers[i]->name);
    fprintf(out, "\n\nSee pixd(8) for details.\n");
}

static const optdef *find_def(const char *name) {
    for (size_t i = 0; i < N_OPTDEFS; i++)
        if (strcmp(optdefs[i].name, name) == 0)
            return &optdefs[i];
    return NULL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *end;
    unsigned long v;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int pixd_parse_bytes(const char *s, unsigned long long *out) {
    char *end;
    unsigned long long v;
    unsigned shift = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -EINVAL;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || (shift && v > (~0ull >> shift)))
        return -EINVAL;
    *out = v << shift;
    return 0;
}

const char *pixd_options_store_dir(const pixd_options *o, char *buf, size_t len) {
    const char *sd = getenv("STATE_DIRECTORY");
    if (o->store[0])
        return o->store;
    if (sd && *sd) {
        /* systemd lists one directory per StateDirectory=, ':'-separated. */
        size_t n = strcspn(sd, ":");
        snprintf(buf, len, "%.*s", (int)n, sd);
        return buf;
    }
    return "./var/pixd";
}

static int parse_bool(const char *s) {
    if (!strcmp(s, "") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
        return 0;
    return -EINVAL;
}

/* as=NAME (a key of --keys) is the connection layer's, for the seed
 * protocols only: native and HTTP clients prove their own key. */
static int params_without_as(const pixd_handler *h, const pixd_params *in, pixd_params *out,
                             char *why, size_t whylen) {
    const char *as = pixd_params_get(in, "as");
    out->n = 0;
    if (as && h->own_auth) {
        snprintf(why, whylen, "as= is for the seed tools' protocols; %s clients prove their "
                 "own key (--keys)", h->name);
        return -EINVAL;
    }
    if (as && !pixd_key_name_ok(as)) {
        snprintf(why, whylen, "as=%.40s: not a key name (letters, digits, '-', '_', '.')", as);
        return -EINVAL;
    }
    for (unsigned i = 0; i < in->n; i++)
        if (strcmp(in->p[i].key, "as") != 0)
            out->p[out->n++] = in->p[i];
    return 0;
}

static int set_listen(pixd_options *o, const char *v, char *err, size_t errlen) {
    const char *eq = strchr(v, '=');
    pixd_listen_spec *sp;
    pixd_addr a;
    char why[200];

    if (!eq || eq == v) {
        snprintf(err, errlen, "--listen %s: expected PROTO=ADDR, as in native=127.0.0.1:7070", v);
        return -EINVAL;
    }
    if (o->n_listens == PIXD_MAX_LISTENS) {
        snprintf(err, errlen, "--listen: at most %d listeners", PIXD_MAX_LISTENS);
        return -E2BIG;
    }
    sp = &o->listens[o->n_listens];
    if ((size_t)(eq - v) >= sizeof sp->handler || strlen(eq + 1) >= sizeof sp->addr) {
        snprintf(err, errlen, "--listen %.60s: too long", v);
        return -EINVAL;
    }
    memcpy(sp->handler, v, (size_t)(eq - v));
    sp->handler[eq - v] = '\0';
    if (!pixd_handler_find(sp->handler)) {
        int n = snprintf(err, errlen, "--listen: no protocol handler named \"%s\"; known:", sp->handler);
        for (int i = 0; i < PIXD_H_COUNT_ && n > 0 && (size_t)n < errlen; i++)
            if (pixd_handlers[i])
                n += snprintf(err + n, errlen - (size_t)n, " %s", pixd_handlers[i]->name);
        return -EINVAL;
    }
    strcpy(sp->addr, eq + 1);
    /* ADDR[,KEY=VALUE...]: the handler checks its own keys (params.h). */
    {
        const pixd_handler *h = pixd_handler_find(sp->handler);
        size_t at = pixd_params_split(sp->addr);
        int has = sp->addr[at] != '\0';
        pixd_params own; /* the handler's own keys: all but as= */
        if (pixd_params_parse(has ? sp->addr + at + 1 : "", &sp->params, why, sizeof why) < 0 ||
            params_without_as(h, &sp->params, &own, why, sizeof why) < 0 ||
            (h->check_params ? h->check_params(&own, why, sizeof why)
                             : pixd_params_check_known(&own, NULL, h->name, why,
                                                       sizeof why)) < 0) {
            snprintf(err, errlen, "--listen %s: %s", v, why);
            return -EINVAL;
        }
        snprintf(sp->as, sizeof sp->as, "%s", pixd_params_get(&sp->params, "as") ?
                 pixd_params_get(&sp->params, "as") : "");
        sp->params = own;
        sp->addr[at] = '\0';
    }
    if (pixd_addr_parse(sp->addr, &a, why, sizeof why) < 0) {
        snprintf(err, errlen, "--listen %s: %s", v, why);
        return -EINVAL;
    }
    o->n_listens++;
    return 0;
}

static int set_def(pixd_options *o, const optdef *d, const char *v, char *err,
                   size_t errlen) {
    unsigned long n;
    int r;
    switch (d->id) {
    case O_LISTEN:
        return set_listen(o, v, err, errlen);
    case O_MAX_CONNECTIONS:
    case O_MAX_PER_HOST:
        if (parse_uint(v, 1000000, &n) < 0 || (d->id == O_MAX_CONNECTIONS && n == 0)) {
            snprintf(err, errlen, "--%s: \"%.40s\" is not a number from %d to 1000000",
                     d->name, v, d->id == O_MAX_CONNECTIONS);
            return -EINVAL;
        }
        if (d->id == O_MAX_CONNECTIONS)
            o->max_connections = (unsigned)n;
        else
            o->max_per_host = (unsigned)n;
        return 0;
    case O_IDLE_TIMEOUT: {
        char *end;
        double s;
        errno = 0;
        s = strtod(v, &end);
        if (errno || end == v || *end || !(s >= 0 && s <= 86400)) {
            snprintf(err, errlen, "--idle-timeout: \"%.40s\" is not a number of seconds "
                     "from 0 to 86400", v);
            return -EINVAL;
        }
        o->idle_timeout_ms = (unsigned)(s * 1000 + 0.5);
        if (s > 0 && o->idle_timeout_ms == 0)
            o->idle_timeout_ms = 1;
        return 0;
    }
    case O_STORE:
        if (strlen(v) >= sizeof o->store) {
            snprintf(err, errlen, "--store: path is too long");
            return -EINVAL;
        }
        strcpy(o->store, v);
        return 0;
    case O_MAX_UPLOAD:
    case O_MAX_STORE: {
        unsigned long long b;
        if (pixd_parse_bytes(v, &b) < 0) {
            snprintf(err, errlen, "--%s: \"%.40s\" is not a size in bytes (examples: "
                     "1048576, 512K, 100M, 2G)", d->name, v);
            return -EINVAL;
        }
        if (d->id == O_MAX_UPLOAD)
            o->max_upload = b;
        else
            o->max_store = b;
        return 0;
    }
    case O_CAMERA:
        if (o->n_cameras == PIXD_MAX_CAMERAS) {
            snprintf(err, errlen, "--camera: at most %d cameras", PIXD_MAX_CAMERAS);
            return -E2BIG;
        }
        for (size_t i = 0; i < o->n_cameras; i++) {
            size_t nl = strcspn(v, "=");
            if (strlen(o->cameras[i].name) == nl && !strncmp(o->cameras[i].name, v, nl)) {
                snprintf(err, errlen, "--camera: the name \"%.*s\" is used twice", (int)nl, v);
                return -EINVAL;
            }
        }
        if ((r = pixd_camera_spec_parse(v, &o->cameras[o->n_cameras], err, errlen)) < 0)
            return r;
        o->n_cameras++;
        return 0;
    case O_MODEL:
        if (o->n_models == PIXD_MAX_MODELS) {
            snprintf(err, errlen, "--model: at most %d models", PIXD_MAX_MODELS);
            return -E2BIG;
        }
        if ((r = pixd_model_spec_parse(v, &o->models[o->n_models], err, errlen)) < 0)
            return r;
        for (size_t i = 0; i < o->n_models; i++)
            if (!strcmp(o->models[i].name, o->models[o->n_models].name)) {
                snprintf(err, errlen, "--model: the name \"%s\" is used twice", o->models[i].name);
                return -EINVAL;
            }
        o->n_models++;
        return 0;
    case O_WORKERS:
    case O_JPEG_QUALITY:
        if (parse_uint(v, d->id == O_WORKERS ? 256 : 100, &n) < 0 || n == 0) {
            snprintf(err, errlen, "--%s: \"%.40s\" is not a number from 1 to %d", d->name,
                     v, d->id == O_WORKERS ? 256 : 100);
            return -EINVAL;
        }
        if (d->id == O_WORKERS)
            o->workers = (unsigned)n;
        else
            o->jpeg_quality = (unsigned)n;
        return 0;
    case O_MAX_PIXELS: {
        /* Pixels count in thousands and millions: 50M = 50 000 000. */
        char *end;
        unsigned long long p;
        errno = 0;
        p = strtoull(v, &end, 10);
        if (*end == 'K' || *end == 'k')
            p *= 1000ull, end++;
        else if (*end == 'M' || *end == 'm')
            p *= 1000000ull, end++;
        if (errno || end == v || *end || v[0] == '-' || p == 0 || p > (1ull << 40)) {
            snprintf(err, errlen, "--max-pixels: \"%.40s\" is not a pixel count such as "
                     "50000000 or 50M", v);
            return -EINVAL;
        }
        o->max_pixels = p;
        return 0;
    }
    case O_INSECURE:
    case O_VERIFY_IMAGES:
        if ((r = parse_bool(v)) < 0) {
            snprintf(err, errlen, "%s: expected true or false, not \"%.40s\"", d->name, v);
            return r;
        }
        if (d->id == O_INSECURE)
            o->insecure = r;
        else
            o->verify_images = r;
        return 0;
    case O_CONN_RATE:
    case O_MAX_CLIENT_JOBS:
        if (parse_uint(v, 100000, &n) < 0 || (d->id == O_MAX_CLIENT_JOBS && n == 0)) {
            snprintf(err, errlen, "--%s: \"%.40s\" is not a number from %d to 100000",
                     d->name, v, d->id == O_MAX_CLIENT_JOBS);
            return -EINVAL;
        }
        if (d->id == O_CONN_RATE)
            o->conn_rate = (unsigned)n;
        else
            o->max_client_jobs = (unsigned)n;
        return 0;
    case O_KEYS:
    case O_TLS_CERT:
    case O_TLS_KEY: {
        char *dst = d->id == O_KEYS ? o->keys : d->id == O_TLS_CERT ? o->tls_cert : o->tls_key;
        if (strlen(v) >= sizeof o->keys) {
            snprintf(err, errlen, "--%s: path is too long", d->name);
            return -EINVAL;
        }
        strcpy(dst, v);
        return 0;
    }
    case O_LOG_LEVEL:
        if ((r = pixd_log_parse_level(v)) < 0) {
            snprintf(err, errlen, "--log-level: \"%.40s\" is not one of error, "
                     "warning, notice, info, debug", v);
            return r;
        }
        o->log_level = r;
        return 0;
    case O_LOG_FORMAT:
        if ((r = pixd_log_parse_format(v)) < 0) {
            snprintf(err, errlen, "--log-format: \"%.40s\" is not text or json", v);
            return r;
        }
        o->log_format = r;
        return 0;
    case O_LOG_REQUESTS:
        if ((r = parse_bool(v)) < 0) {
            snprintf(err, errlen, "%s: expected true or false, not \"%.40s\"", d->name, v);
            return r;
        }
        o->log_requests = r;
        return 0;
    }
    snprintf(err, errlen, "--%s cannot be set here", d->name);
    return -EINVAL;
}

int pixd_options_set(pixd_options *o, const char *name, const char *value,
                     char *err, size_t errlen) {
    const optdef *d = find_def(name);
    if (!d || (d->flags & F_CLI_ONLY)) {
        snprintf(err, errlen, "unknown option \"%.60s\"%s", name,
                 d ? " (allowed on the command line only)" : "");
        return -EINVAL;
    }
    if (d->has_arg == required_argument && value[0] == '\0') {
        snprintf(err, errlen, "%s needs a value", name);
        return -EINVAL;
    }
    return set_def(o, d, value, err, errlen);
}

static int config_cb(const char *key, const char *value, int line, void *ctx,
                     char *err, size_t errlen) {
    return pixd_options_set(ctx, key, value, err, errlen);
}

static int load_config(pixd_options *o, const char *path, char *err, size_t errlen) {
    char reason[300];
    char *text = NULL;
    struct stat st;
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r;

    if (fd < 0) {
        snprintf(err, errlen, "--config %s: %s", path, strerror(errno));
        return -errno;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PIXD_CONFIG_MAX_BYTES) {
        close(fd);
        snprintf(err, errlen, "--config %s: not a regular file of at most %u bytes",
                 path, PIXD_CONFIG_MAX_BYTES);
        return -EINVAL;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        close(fd);
        return -ENOMEM;
    }
    while (got < st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)(st.st_size - got));
        if (n <= 0)
            break;
        got += n;
    }
    close(fd);
    r = pixd_config_parse(text, (size_t)got, config_cb, o, reason, sizeof reason);
    free(text);
    if (r < 0)
        snprintf(err, errlen, "%s: %s", path, reason);
    return r;
}

int pixd_options_parse(pixd_options *o, int argc, char **argv, char *err,
                       size_t errlen) {
    struct option longopts[N_OPTDEFS + 1];
    const char *config = NULL;
    pixd_options cli;
    int c, r, cli_listens = 0, cli_cameras = 0, cli_models = 0, bad = 0;

    memset(longopts, 0, sizeof longopts);
    for (size_t i = 0; i < N_OPTDEFS; i++) {
        longopts[i].name = optdefs[i].name;
        longopts[i].has_arg = optdefs[i].has_arg;
        longopts[i].val = optdefs[i].id;
    }
    /* Pass 1 finds --config, --help and --version; pass 2 applies the
     * config file and then the command line over it. */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        if (c == O_HELP) {
            pixd_options_usage(stdout);
            return 1;
        }
        if (c == O_VERSION) {
            printf("pixd %s (native protocol 1)\n", PIXD_VERSION);
            return 1;
        }
        if (c == O_CONFIG)
            config = optarg;
        if (c == O_CHECK_CONFIG)
            o->check_config = 1;
        /* Reported after the scan, so --check-config is known wherever it is. */
        if ((c == '?' || c == ':') && !bad++) {
            const char *arg = argv[optind - 1];
            snprintf(err, errlen, c == '?' ? "unknown option \"%s\"; see pixd --help"
                                           : "%s needs a value; see pixd --help", arg);
        }
    }
    if (bad)
        return -EINVAL;
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"; pixd takes only options "
                 "(see pixd --help)", argv[optind]);
        return -EINVAL;
    }
    if (config && (r = load_config(o, config, err, errlen)) < 0)
        return r;
    cli = *o;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        const optdef *d = NULL;
        for (size_t i = 0; i < N_OPTDEFS; i++)
            if (optdefs[i].id == c)
                d = &optdefs[i];
        if (!d || (d->flags & F_CLI_ONLY))
            continue;
        /* Repeatable options from the command line replace the config's. */
        if (d->id == O_LISTEN && !cli_listens++)
            cli.n_listens = 0;
        if (d->id == O_CAMERA && !cli_cameras++)
            cli.n_cameras = 0;
        if (d->id == O_MODEL && !cli_models++)
            cli.n_models = 0;
        if ((r = set_def(&cli, d, optarg ? optarg : "", err, errlen)) < 0)
            return r;
    }
    *o = cli;
    return 0;
}
