#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum pixd_log_level max_level = PIXD_LOG_INFO;
static int journal_prefix;
static enum pixd_log_format format = PIXD_LOG_TEXT;
static int log_requests;

static const char *const level_names[] = {
    [PIXD_LOG_ERR] = "error",   [PIXD_LOG_WARNING] = "warning",
    [PIXD_LOG_NOTICE] = "notice", [PIXD_LOG_INFO] = "info",
    [PIXD_LOG_DEBUG] = "debug",
};

void pixd_log_init(void) {
    /* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it gave us;
     * only when stderr is still that stream do priority prefixes help. */
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    journal_prefix = 0;
    if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0)
        journal_prefix = (unsigned long long)st.st_dev == dev &&
                         (unsigned long long)st.st_ino == ino;
}

void pixd_log_set_level(enum pixd_log_level level) { max_level = level; }

enum pixd_log_level pixd_log_get_level(void) { return max_level; }

int pixd_log_parse_level(const char *name) {
    for (int i = PIXD_LOG_ERR; i <= PIXD_LOG_DEBUG; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "err") == 0)
        return PIXD_LOG_ERR;
    if (strcmp(name, "warn") == 0)
        return PIXD_LOG_WARNING;
    return -EINVAL;
}

void pixd_log_set_format(enum pixd_log_format f) { format = f; }

int pixd_log_parse_format(const char *name) {
    if (strcmp(name, "text") == 0)
        return PIXD_LOG_TEXT;
    if (strcmp(name, "json") == 0)
        return PIXD_LOG_JSON;
    return -EINVAL;
}

void pixd_log_set_requests(int on) { log_requests = on; }

int pixd_log_requests(void) { return log_requests; }

/* Appends s to out[*n..cap) as the inside of a JSON string. Bytes above
 * 0x7f are escaped as \u00XX: log text quotes client bytes, which need
 * not be UTF-8, and every line must stay valid JSON. */
static void json_str(char *out, size_t cap, size_t *n, const char *s) {
    for (; *s && *n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[(*n)++] = '\\';
            out[(*n)++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            *n += (size_t)snprintf(out + *n, cap - *n, "\\u%04x", c);
        } else {
            out[(*n)++] = (char)c;
        }
    }
    out[*n] = '\0';
}

static void emit_json(enum pixd_log_level level, const char *msg,
                      const pixd_log_field *fields, size_t nfields) {
    char line[4096], ts[40];
    size_t n = 0;
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    /* journald strips a "<N>" prefix, so the journal keeps both the
     * priority and a clean JSON message. */
    if (journal_prefix)
        n = (size_t)snprintf(line, sizeof line, "<%d>", (int)level);
    n += (size_t)snprintf(line + n, sizeof line - n, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\","
                         "\"message\":\"", ts, now.tv_nsec / 1000000L, level_names[level]);
    json_str(line, sizeof line - 64, &n, msg);
    n += (size_t)snprintf(line + n, sizeof line - n, "\",\"fields\":{\"pid\":%ld,"
                          "\"priority\":%d", (long)getpid(), (int)level);
    for (size_t i = 0; i < nfields && n + 64 < sizeof line; i++) {
        n += (size_t)snprintf(line + n, sizeof line - n, ",\"");
        json_str(line, sizeof line - 64, &n, fields[i].key);
        if (fields[i].str) {
            n += (size_t)snprintf(line + n, sizeof line - n, "\":\"");
            json_str(line, sizeof line - 64, &n, fields[i].str);
            n += (size_t)snprintf(line + n, sizeof line - n, "\"");
        } else {
            n += (size_t)snprintf(line + n, sizeof line - n, "\":%lld", fields[i].num);
        }
    }
    snprintf(line + n, sizeof line - n, "}}");
    fprintf(stderr, "%s\n", line);
}

static void vlog(enum pixd_log_level level, const pixd_log_field *fields, size_t nfields,
                 const char *fmt, va_list ap) {
    char line[1024];
    int n = 0;

    if (format == PIXD_LOG_JSON) {
        vsnprintf(line, sizeof line, fmt, ap);
        emit_json(level, line, fields, nfields);
        return;
    }
    if (journal_prefix)
        n = snprintf(line, sizeof line, "<%d>", (int)level);
    else
        n = snprintf(line, sizeof line, "pixd: %s: ", level_names[level]);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    /* Log lines quote client-chosen strings; a newline or escape sequence
     * in them must not forge a line or drive the operator's terminal. */
    for (char *c = line + n; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    /* One write per line keeps lines whole when several processes share
     * the stream. */
    fprintf(stderr, "%s\n", line);
}

void pixd_log(enum pixd_log_level level, const char *fmt, ...) {
    va_list ap;
    if (level > max_level)
        return;
    va_start(ap, fmt);
    vlog(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void pixd_log_fields(enum pixd_log_level level, const pixd_log_field *fields, size_t n,
                     const char *fmt, ...) {
    va_list ap;
    if (level > max_level)
        return;
    va_start(ap, fmt);
    vlog(level, fields, n, fmt, ap);
    va_end(ap);
}
