/* pixd's options: one table drives getopt_long, --help, the config file
 * and the man page test. */
#ifndef PIXD_OPTIONS_H
#define PIXD_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "camera/source.h"
#include "params.h"
#include "classify/model_spec.h"

#define PIXD_MAX_LISTENS 32
#define PIXD_MAX_CAMERAS 16

typedef struct pixd_listen_spec {
    char handler[32];
    char addr[300];
    pixd_params params; /* ",KEY=VALUE" after ADDR, checked by the handler */
    char as[33];        /* ",as=NAME": the key a seed-protocol client acts as */
} pixd_listen_spec;

typedef struct pixd_options {
    pixd_listen_spec listens[PIXD_MAX_LISTENS];
    size_t n_listens;
    unsigned max_connections;   /* total, all listeners */
    unsigned max_per_host;      /* 0: no per-host limit */
    unsigned idle_timeout_ms;   /* 0: never */
    int insecure;               /* allow non-loopback listeners without keys */
    char keys[4096];            /* --keys FILE; "" = no access control */
    char tls_cert[4096];        /* --tls-cert FILE; "" = no TLS */
    char tls_key[4096];
    unsigned conn_rate;         /* new connections a second per host; 0: no limit */
    unsigned max_client_jobs;   /* jobs in flight per native connection */
    int log_level;
    char store[4096];           /* store directory; "" = the default */
    unsigned long long max_upload; /* bytes per file, 0: no limit */
    unsigned long long max_store;  /* bytes in the whole store, 0: no limit */
    int verify_images;          /* uploads must be images */
    unsigned workers;           /* image jobs at once; 0: one per core */
    unsigned long long max_pixels; /* largest image a job decodes */
    unsigned jpeg_quality;      /* default output quality */
    pixd_camera_spec cameras[PIXD_MAX_CAMERAS];
    size_t n_cameras;           /* 0: every /dev/video* capture device, else "test" */
    pixd_model_spec models[PIXD_MAX_MODELS]; /* --model: classifiers loaded at start */
    size_t n_models;
    int check_config;           /* --check-config: validate, report, exit */
    int log_format;             /* enum pixd_log_format */
    int log_requests;           /* an info line per request */
} pixd_options;

void pixd_options_defaults(pixd_options *o);

/* Parse argv (and the --config file it names). Returns 0 to run, 1 when
 * --help or --version was printed (exit 0), or a negative errno with a
 * message for the user in err (exit 2). */
int pixd_options_parse(pixd_options *o, int argc, char **argv, char *err,
                       size_t errlen);

/* Apply one "name = value" setting as if given as --name value; used by
 * the config file and by tests. */
int pixd_options_set(pixd_options *o, const char *name, const char *value,
                     char *err, size_t errlen);

void pixd_options_usage(FILE *out);

/* The store directory to use: --store, else $STATE_DIRECTORY (systemd),
 * else ./var/pixd. */
const char *pixd_options_store_dir(const pixd_options *o, char *buf, size_t len);

/* "1048576", "512K", "100M", "2G", "1T" (powers of 1024) -> bytes. */
int pixd_parse_bytes(const char *s, unsigned long long *out);

#endif
