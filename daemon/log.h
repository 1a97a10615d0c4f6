/* Logging: one line per event to stderr, with a level.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) each line starts with a
 * "<N>" syslog priority so journald files it at the right level. */
#ifndef PIXD_LOG_H
#define PIXD_LOG_H

#include <stddef.h>

enum pixd_log_level {
    PIXD_LOG_ERR = 3,
    PIXD_LOG_WARNING = 4,
    PIXD_LOG_NOTICE = 5,
    PIXD_LOG_INFO = 6,
    PIXD_LOG_DEBUG = 7
};

enum pixd_log_format { PIXD_LOG_TEXT, PIXD_LOG_JSON };

/* A structured field of a log line: str, or num when str is NULL. Text
 * lines carry them in the message; JSON lines also under "fields". */
typedef struct pixd_log_field {
    const char *key;
    const char *str;
    long long num;
} pixd_log_field;

/* Reads JOURNAL_STREAM once; call before the first log line. */
void pixd_log_init(void);
void pixd_log_set_level(enum pixd_log_level level);
enum pixd_log_level pixd_log_get_level(void);
/* "error", "warning", "notice", "info", "debug" -> level; -EINVAL if unknown. */
int pixd_log_parse_level(const char *name);

/* --log-format: "text" (default) or "json", one object per line with
 * time, level, message and fields. */
void pixd_log_set_format(enum pixd_log_format f);
int pixd_log_parse_format(const char *name);
/* --log-requests: one info line per request (never headers, queries or
 * bodies, where secrets travel). */
void pixd_log_set_requests(int on);
int pixd_log_requests(void);

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void pixd_log_fields(enum pixd_log_level level, const pixd_log_field *fields, size_t n,
                     const char *fmt, ...);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void pixd_log(enum pixd_log_level level, const char *fmt, ...);

#define pixd_err(...) pixd_log(PIXD_LOG_ERR, __VA_ARGS__)
#define pixd_warn(...) pixd_log(PIXD_LOG_WARNING, __VA_ARGS__)
#define pixd_notice(...) pixd_log(PIXD_LOG_NOTICE, __VA_ARGS__)
#define pixd_info(...) pixd_log(PIXD_LOG_INFO, __VA_ARGS__)
#define pixd_debug(...) pixd_log(PIXD_LOG_DEBUG, __VA_ARGS__)

#endif
