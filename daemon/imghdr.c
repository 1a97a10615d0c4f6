#include "imghdr.h"

#include <errno.h>
#include <string.h>

/* Each probe runs once its format's signature matched. It returns 0 with
 * the dimensions set (or left 0 when the bytes end first), or -EINVAL. */

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le24(const uint8_t *p) { return le16(p) | (uint32_t)p[2] << 16; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

static int set_dims(pixd_imghdr *out, uint32_t w, uint32_t h) {
    out->width = w;
    out->height = h;
    return 0;
}

/* JPEG (ITU T.81, annex B): after SOI come segments, each a marker (0xFF,
 * any number of 0xFF fill bytes, a code) and, for most codes, a 16-bit
 * length that counts itself. The first SOFn holds the frame's size. */
static int is_sof(uint8_t m) {
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

static int probe_jpeg(const uint8_t *p, size_t n, pixd_imghdr *out) {
    size_t pos = 2; /* past SOI */

    /* Every turn consumes at least one byte, so this ends. */
    for (;;) {
        uint8_t m;
        size_t len;

        if (pos >= n)
            return 0;
        if (p[pos] != 0xff)
            return -EINVAL; /* stray bytes where a marker belongs */
        while (pos < n && p[pos] == 0xff)
            pos++;
        if (pos >= n)
            return 0;
        m = p[pos++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue; /* TEM, RST0..7: markers without a segment */
        /* A stuffed 00 belongs inside entropy-coded data, a second SOI
         * nowhere; EOI or SOS before any frame header means no frame. */
        if (m == 0x00 || m == 0xd8 || m == 0xd9 || m == 0xda)
            return -EINVAL;
        if (n - pos < 2)
            return 0;
        len = be16(p + pos);
        if (len < 2)
            return -EINVAL;
        if (is_sof(m)) {
            /* length, precision, height, width, component count, then
             * three bytes per component; libjpeg insists on the exact
             * length, and on nonzero dimensions (no DNL support). */
            uint32_t h, w, nf;
            if (len < 8)
                return -EINVAL;
            if (n - pos < 8)
                return 0;
            h = be16(p + pos + 3);
            w = be16(p + pos + 5);
            nf = p[pos + 7];
            if (w == 0 || h == 0 || nf == 0 || len != 8 + 3 * nf)
                return -EINVAL;
            return set_dims(out, w, h);
        }
        /* Everything else (APPn, DQT, DHT, DAC, JPG, COM, DRI, ...) is
         * skipped whole. A segment running past the bytes we were given is
         * a large one cut off by the caller, not an error. */
        if (len > n - pos)
            return 0;
        pos += len;
    }
}

/* PNG (ISO 15948): the signature, then the IHDR chunk, which must come
 * first and be 13 bytes long: width, height (each 1..2^31-1), bit depth,
 * colour type, compression (0), filter (0), interlace (0 or 1). */
static int png_depth_ok(uint8_t depth, uint8_t color) {
    switch (color) {
    case 0: /* grey */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: /* palette */
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: /* RGB */
    case 4: /* grey + alpha */
    case 6: /* RGBA */
        return depth == 8 || depth == 16;
    default:
        return 0;
    }
}

static int probe_png(const uint8_t *p, size_t n, pixd_imghdr *out) {
    uint32_t w, h;

    if (n < 16)
        return 0;
    if (be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return -EINVAL;
    if (n < 24)
        return 0;
    w = be32(p + 16);
    h = be32(p + 20);
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
        return -EINVAL;
    if (n >= 29 && (!png_depth_ok(p[24], p[25]) || p[26] != 0 || p[27] != 0 ||
                    p[28] > 1))
        return -EINVAL;
    return set_dims(out, w, h);
}

/* WebP (RFC 9649): "RIFF", size, "WEBP", then the first chunk (fourcc,
 * 32-bit size, data at offset 20), which is one of
 *   VP8   lossy: 3-byte frame tag (bit 0 clear for a key frame), start
 *         code 9d 01 2a, then 14-bit width and height (2 bits of scale);
 *   VP8L  lossless: signature 0x2f, then 14 bits width-1, 14 bits
 *         height-1, 1 bit alpha, 3 bits version (0);
 *   VP8X  extended: flags, 3 reserved bytes, 24-bit canvas width-1 and
 *         height-1. */
static int probe_webp(const uint8_t *p, size_t n, pixd_imghdr *out) {
    const uint8_t *c = p + 12, *d = p + 20;
    uint32_t size;

    if (n < 16)
        return 0;
    if (memcmp(c, "VP8 ", 4) != 0 && memcmp(c, "VP8L", 4) != 0 &&
        memcmp(c, "VP8X", 4) != 0)
        return -EINVAL;
    if (n < 20)
        return 0;
    size = le32(c + 4);
    if (c[3] == ' ') {
        if (size < 10)
            return -EINVAL;
        if (n < 30)
            return 0;
        if ((d[0] & 1) != 0 || d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
            return -EINVAL;
        if ((le16(d + 6) & 0x3fff) == 0 || (le16(d + 8) & 0x3fff) == 0)
            return -EINVAL;
        return set_dims(out, le16(d + 6) & 0x3fff, le16(d + 8) & 0x3fff);
    }
    if (c[3] == 'L') {
        uint32_t bits;
        if (size < 5)
            return -EINVAL;
        if (n < 25)
            return 0;
        bits = le32(d + 1);
        if (d[0] != 0x2f || bits >> 29 != 0)
            return -EINVAL;
        return set_dims(out, (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
    }
    if (size < 10)
        return -EINVAL;
    if (n < 30)
        return 0;
    return set_dims(out, le24(d + 4) + 1, le24(d + 7) + 1);
}

/* GIF: "GIF87a" or "GIF89a", then the logical screen's 16-bit width and
 * height. Some encoders write 0 there and let the images say; that is
 * reported as 0 (not known) rather than refused, as browsers accept it. */
static int probe_gif(const uint8_t *p, size_t n, pixd_imghdr *out) {
    if (n < 10)
        return 0;
    return set_dims(out, le16(p + 6), le16(p + 8));
}

/* BMP: "BM", file size, 4 reserved bytes, pixel data offset (14 bytes in
 * all), then an info header that starts with its own size: 12 for
 * BITMAPCOREHEADER (16-bit unsigned width and height), 40/52/56/108/124
 * for BITMAPINFOHEADER and its later versions, 16/64 for OS/2 2.x (32-bit
 * signed width and height; a negative height means top-down rows). */
static int bmp_header_size_known(uint32_t s) {
    return s == 12 || s == 16 || s == 40 || s == 52 || s == 56 || s == 64 ||
           s == 108 || s == 124;
}

/* A little-endian int32, widened so that neither the conversion nor the
 * negation of INT32_MIN can overflow. */
static int64_t le32s(const uint8_t *p) {
    uint32_t v = le32(p);
    return v <= 0x7fffffffu ? (int64_t)v : (int64_t)v - 0x100000000;
}

static int probe_bmp(const uint8_t *p, size_t n, pixd_imghdr *out) {
    int64_t w, h;

    if (le32(p + 14) == 12) {
        if (n < 22)
            return 0;
        if (le16(p + 18) == 0 || le16(p + 20) == 0)
            return -EINVAL;
        return set_dims(out, le16(p + 18), le16(p + 20));
    }
    if (n < 26)
        return 0;
    w = le32s(p + 18);
    h = le32s(p + 22);
    /* INT32_MIN has no positive counterpart in the format's own type. */
    if (w <= 0 || h == 0 || h == INT32_MIN)
        return -EINVAL;
    return set_dims(out, (uint32_t)w, (uint32_t)(h < 0 ? -h : h));
}

static int has(const uint8_t *p, size_t n, size_t off, const char *magic,
               size_t len) {
    return n >= off + len && memcmp(p + off, magic, len) == 0;
}

int pixd_imghdr_probe(const uint8_t *p, size_t n, pixd_imghdr *out) {
    int (*probe)(const uint8_t *, size_t, pixd_imghdr *);
    const char *type;
    int r;

    memset(out, 0, sizeof *out);
    if (has(p, n, 0, "\xff\xd8\xff", 3)) {
        type = "jpeg";
        probe = probe_jpeg;
    } else if (has(p, n, 0, "\x89PNG\r\n\x1a\n", 8)) {
        type = "png";
        probe = probe_png;
    } else if (has(p, n, 0, "RIFF", 4) && has(p, n, 8, "WEBP", 4)) {
        type = "webp";
        probe = probe_webp;
    } else if (has(p, n, 0, "GIF87a", 6) || has(p, n, 0, "GIF89a", 6)) {
        type = "gif";
        probe = probe_gif;
    } else if (has(p, n, 0, "BM", 2) && n >= 18 && bmp_header_size_known(le32(p + 14))) {
        /* "BM" alone is too weak a signature (think of a text file that
         * starts with it): the info header's size must be a known one. */
        type = "bmp";
        probe = probe_bmp;
    } else {
        return -ENOENT;
    }
    strcpy(out->type, type);
    r = probe(p, n, out);
    if (r < 0)
        out->width = out->height = 0;
    return r;
}
