#include "exif.h"

#include <string.h>

#define TAG_ORIENTATION 0x0112
#define TYPE_SHORT 3
#define TYPE_LONG 4

static uint32_t rd16(const uint8_t *p, int be) {
    return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int be) {
    return be ? rd16(p, 1) << 16 | rd16(p + 2, 1) : rd16(p + 2, 0) << 16 | rd16(p, 0);
}

int pixd_exif_orientation(const uint8_t *p, size_t n) {
    uint32_t ifd, count;
    int be;

    if (n >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
        p += 6;
        n -= 6;
    }
    if (n < 8)
        return 0;
    if (memcmp(p, "II*\0", 4) == 0)
        be = 0;
    else if (memcmp(p, "MM\0*", 4) == 0)
        be = 1;
    else
        return 0;
    ifd = rd32(p + 4, be);
    if (ifd < 8 || ifd > n - 2)
        return 0;
    count = rd16(p + ifd, be);
    /* A count running past the data is cut to the entries that are there:
     * the orientation tag, sorted early, is usually among them. */
    if (count > (n - ifd - 2) / 12)
        count = (uint32_t)((n - ifd - 2) / 12);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + ifd + 2 + (size_t)i * 12;
        uint32_t type, value;

        if (rd16(e, be) != TAG_ORIENTATION)
            continue;
        type = rd16(e + 2, be);
        if (rd32(e + 4, be) != 1)
            return 0;
        /* A single SHORT or LONG sits in the entry's value field itself. */
        if (type == TYPE_SHORT)
            value = rd16(e + 8, be);
        else if (type == TYPE_LONG)
            value = rd32(e + 8, be);
        else
            return 0;
        return value >= 1 && value <= 8 ? (int)value : 0;
    }
    return 0;
}

int pixd_exif_orientation_png(const uint8_t *p, size_t n) {
    size_t pos = 8; /* past the signature */

    if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0)
        return 0;
    /* length, type, data, CRC; every turn moves on by at least 12. */
    while (n - pos >= 8) {
        uint32_t len = rd32(p + pos, 1);
        const uint8_t *type = p + pos + 4;

        if (len > n - pos - 8)
            return 0;
        if (memcmp(type, "eXIf", 4) == 0)
            return pixd_exif_orientation(p + pos + 8, len);
        if (memcmp(type, "IEND", 4) == 0 || n - pos - 8 - len < 4)
            return 0;
        pos += 12 + (size_t)len;
    }
    return 0;
}

int pixd_exif_orientation_webp(const uint8_t *p, size_t n) {
    size_t pos = 12; /* past RIFF, size, WEBP */

    if (n < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
        return 0;
    /* fourcc, little-endian size, data padded to an even length. */
    while (n - pos >= 8) {
        uint32_t len = rd32(p + pos + 4, 0);

        if (len > n - pos - 8)
            return 0;
        if (memcmp(p + pos, "EXIF", 4) == 0)
            return pixd_exif_orientation(p + pos + 8, len);
        pos += 8 + (size_t)len + (len & 1);
        if (pos > n)
            return 0;
    }
    return 0;
}
