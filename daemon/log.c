#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static enum pixd_log_level max_level = PIXD_LOG_INFO;
static int journal_prefix;

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

void pixd_log(enum pixd_log_level level, const char *fmt, ...) {
    char line[1024];
    int n = 0;
    va_list ap;

    if (level > max_level)
        return;
    if (journal_prefix)
        n = snprintf(line, sizeof line, "<%d>", (int)level);
    else
        n = snprintf(line, sizeof line, "pixd: %s: ", level_names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* Log lines quote client-chosen strings; a newline or escape sequence
     * in them must not forge a line or drive the operator's terminal. */
    for (char *c = line + n; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    /* One write per line keeps lines whole when several processes share
     * the stream. */
    fprintf(stderr, "%s\n", line);
}
