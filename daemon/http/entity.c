#include "entity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *pixd__http_content_type(const char *type) {
    static const struct { const char *type, *mime; } map[] = {
        {"jpeg", "image/jpeg"}, {"png", "image/png"}, {"webp", "image/webp"},
        {"gif", "image/gif"}, {"bmp", "image/bmp"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(type, map[i].type))
            return map[i].mime;
    return "application/octet-stream";
}

void pixd__http_hex(const uint8_t *p, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- dates ---- */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void pixd__http_date(uint64_t ms, char out[80]) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 80, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Seconds since the epoch of an IMF-fixdate, or -1 (the obsolete RFC 850
 * and asctime forms are not accepted: the condition is then ignored). */
static int64_t parse_http_date(const char *s) {
    char wd[4], mon[4];
    int d, y, h, mi, sec, n = 0;
    struct tm tm = {0};
    if (sscanf(s, "%3s, %d %3s %d %d:%d:%d GMT%n", wd, &d, mon, &y, &h, &mi, &sec, &n) != 7 || !n)
        return -1;
    for (tm.tm_mon = 0; tm.tm_mon < 12 && strcmp(mon, months[tm.tm_mon]); tm.tm_mon++)
        ;
    if (tm.tm_mon == 12)
        return -1;
    tm.tm_mday = d;
    tm.tm_year = y - 1900;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm);
}

/* ---- validators and conditions ---- */

void pixd__http_entity_headers(const pixproto_entry *e, char *out, size_t len) {
    char date[80], sha[65];
    pixd__http_date(e->mtime_ms, date);
    /* no-cache: a name can be given new content, so caches revalidate (a
     * cheap 304). nosniff: stored files are the users', served from the
     * web page's origin; a browser must not run one as HTML. */
    if (e->has_sha256) {
        pixd__http_hex(e->sha256, 32, sha);
        snprintf(out, len, "ETag: \"%s\"\r\nLast-Modified: %s\r\nCache-Control: no-cache\r\n"
                 "X-Content-Type-Options: nosniff\r\n", sha, date);
    } else {
        snprintf(out, len, "Last-Modified: %s\r\nCache-Control: no-cache\r\n"
                 "X-Content-Type-Options: nosniff\r\n", date);
    }
}

int pixd__http_not_modified(const pixd_http_req *r, const pixproto_entry *e) {
    const char *inm = pixd_http_header(r, "If-None-Match");
    const char *ims;
    char sha[65];
    if (inm) {
        if (!e->has_sha256)
            return 0;
        pixd__http_hex(e->sha256, 32, sha);
        for (const char *p = inm; *p;) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            if (*p == '*')
                return 1;
            if (!strncmp(p, "W/", 2))
                p += 2;
            if (*p == '"' && !strncmp(p + 1, sha, 64) && p[65] == '"')
                return 1;
            while (*p && *p != ',')
                p++;
        }
        return 0;
    }
    ims = pixd_http_header(r, "If-Modified-Since");
    if (ims && r->method & (PIXD_GET | PIXD_HEAD)) {
        int64_t t = parse_http_date(ims);
        return t >= 0 && (int64_t)(e->mtime_ms / 1000) <= t;
    }
    return 0;
}

/* Digits to a number that saturates instead of wrapping; -1 if none. */
static int parse_pos(const char **s, uint64_t *out) {
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*p - '0');
    *s = p;
    *out = v;
    return 0;
}

static const char *skip_spaces(const char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

enum pixd_http_range pixd__http_range(const pixd_http_req *r, const pixproto_entry *e,
                                      uint64_t *off, uint64_t *len) {
    const char *h = pixd_http_header(r, "Range"), *ifr = pixd_http_header(r, "If-Range");
    uint64_t a, b, size = e->size;
    const char *p;

    /* Several ranges would need multipart/byteranges; RFC 9110 lets a
     * server ignore Range instead, and no client pixd serves needs them. */
    if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return PIXD_RANGE_NONE;
    if (ifr) {
        char sha[65], date[80];
        pixd__http_hex(e->sha256, 32, sha);
        pixd__http_date(e->mtime_ms, date);
        /* A strong match only: exactly our tag (no W/), or our date. */
        if (!(e->has_sha256 && ifr[0] == '"' && !strncmp(ifr + 1, sha, 64) &&
              !strcmp(ifr + 65, "\"")) && strcmp(ifr, date) != 0)
            return PIXD_RANGE_NONE;
    }
    p = skip_spaces(h + 6);
    if (*p == '-') { /* the last b bytes */
        p++;
        if (parse_pos(&p, &b) < 0 || *skip_spaces(p))
            return PIXD_RANGE_NONE;
        if (b == 0 || size == 0)
            return PIXD_RANGE_UNSATISFIABLE;
        *len = b < size ? b : size;
        *off = size - *len;
        return PIXD_RANGE_OK;
    }
    if (parse_pos(&p, &a) < 0 || *p++ != '-')
        return PIXD_RANGE_NONE;
    b = UINT64_MAX;
    if (*p >= '0' && *p <= '9' && (parse_pos(&p, &b) < 0 || b < a))
        return PIXD_RANGE_NONE;
    if (*skip_spaces(p))
        return PIXD_RANGE_NONE;
    if (a >= size)
        return PIXD_RANGE_UNSATISFIABLE;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return PIXD_RANGE_OK;
}

/* ---- upload digests ---- */

static int unhex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Base64 and base64url both (clients differ). */
static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Exactly 32 bytes of base64 (padding optional) from p..end. */
static int b64_sha256(const char *p, const char *end, uint8_t out[32]) {
    unsigned acc = 0, bits = 0;
    size_t n = 0;
    while (end > p && end[-1] == '=')
        end--;
    for (; p < end; p++) {
        int v = b64val((unsigned char)*p);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == 32)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n == 32 ? 0 : -1;
}

/* The sha-256 member of a Digest (sha-256=B64) or, sf set, Content-Digest
 * (sha-256=:B64:) list. 1 found, 0 absent, -1 malformed. */
static int digest_sha256(const char *h, int sf, uint8_t out[32]) {
    const char *p = h;
    while (*p) {
        const char *eq, *v, *end;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        eq = strchr(p, '=');
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end) {
            p = end;
            continue;
        }
        if (eq - p == 7 && !strncasecmp(p, "sha-256", 7)) {
            v = eq + 1;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if (sf) {
                if (end - v < 2 || *v != ':' || end[-1] != ':')
                    return -1;
                v++;
                end--;
            }
            return b64_sha256(v, end, out) < 0 ? -1 : 1;
        }
        p = end;
    }
    return 0;
}

int pixd__http_client_sha256(const pixd_http_req *r, uint8_t out[32], char *why, size_t whylen) {
    const char *x = pixd_http_header(r, "X-Content-SHA256");
    const char *hdr[2] = {pixd_http_header(r, "Digest"), pixd_http_header(r, "Content-Digest")};
    uint8_t other[32];
    int found = 0, k = 0;

    if (x) {
        size_t n = strlen(x);
        while (n && (x[n - 1] == ' ' || x[n - 1] == '\t'))
            n--;
        for (k = 0; k < 32 && n == 64; k++) {
            int hi = unhex((unsigned char)x[2 * k]), lo = unhex((unsigned char)x[2 * k + 1]);
            if (hi < 0 || lo < 0)
                break;
            out[k] = (uint8_t)(hi << 4 | lo);
        }
        if (k != 32) {
            snprintf(why, whylen, "X-Content-SHA256 must be 64 hex digits");
            return -1;
        }
        found = 1;
    }
    for (int i = 0; i < 2; i++) {
        if (!hdr[i])
            continue;
        k = digest_sha256(hdr[i], i, found ? other : out);
        if (k < 0) {
            snprintf(why, whylen, "%s", i ? "Content-Digest must carry sha-256=:BASE64: "
                                            "(RFC 9530)"
                                          : "Digest must carry sha-256=BASE64 (RFC 3230)");
            return -1;
        }
        if (k > 0 && found && memcmp(out, other, 32) != 0) {
            snprintf(why, whylen, "the SHA-256 digest headers of this request disagree");
            return -1;
        }
        found |= k;
    }
    return found;
}
