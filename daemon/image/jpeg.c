/* JPEG through libjpeg-turbo's libjpeg API: scaled decoding straight into
 * a scratch buffer, and encoding (of interleaved pixels or of YCbCr planes)
 * into a growing malloc'd buffer.
 *
 * libjpeg reports errors by calling error_exit, which must not return; we
 * longjmp back to the function that set up the call. State that must
 * survive the jump lives in heap or caller structs reached through a
 * pointer that does not change after setjmp. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "exif.h"
#include "internal.h"

/* libjpeg-turbo's TurboJPEG refuses more (TJPARAM_SCANLIMIT): each scan of
 * a progressive JPEG is a pass over the whole coefficient buffer, so a
 * small file of many tiny scans costs minutes of CPU. */
#define MAX_SCANS 100

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int code;   /* negative errno to return after the jump */
    int strict; /* corrupt-data warnings are errors (decoding, not encoding) */
    char msg[JMSG_LENGTH_MAX + 64];
} errmgr;

struct pixd__jpeg_dec {
    struct jpeg_decompress_struct cinfo;
    errmgr err;
    struct jpeg_progress_mgr progress;
    int cmyk;
};

static int classify(int code) {
    switch (code) {
    case JERR_NO_BACKING_STORE:
        return -EFBIG; /* over max_memory_to_use */
    case JERR_OUT_OF_MEMORY:
        return -ENOMEM;
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_BAD_J_COLORSPACE:
        return -ENOTSUP;
    default:
        return -EBADMSG;
    }
}

/* Warnings that mean the pixels are wrong: libjpeg would carry on and
 * return grey or garbage where the data is missing. Others (extraneous
 * bytes between markers, odd JFIF versions) are common in camera files
 * and harmless. */
static int is_corruption(int code) {
    return code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER ||
           code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC ||
           code == JWRN_NOT_SEQUENTIAL || code == JWRN_BOGUS_PROGRESSION;
}

static void set_msg(j_common_ptr c, errmgr *e, int code) {
    if (code == JWRN_JPEG_EOF) {
        snprintf(e->msg, sizeof e->msg, "truncated JPEG: the data ends before the image");
    } else if (code == JERR_NO_BACKING_STORE) {
        snprintf(e->msg, sizeof e->msg,
                 "JPEG needs more decoder memory than --max-pixels allows");
    } else {
        char m[JMSG_LENGTH_MAX];
        (*c->err->format_message)(c, m);
        snprintf(e->msg, sizeof e->msg, "%s JPEG: %s",
                 classify(code) == -ENOTSUP ? "unsupported" : "corrupt", m);
    }
}

static void on_error(j_common_ptr c) {
    errmgr *e = (errmgr *)c->err;
    e->code = classify(c->err->msg_code);
    set_msg(c, e, c->err->msg_code);
    longjmp(e->jb, 1);
}

static void on_message(j_common_ptr c, int level) {
    errmgr *e = (errmgr *)c->err;
    if (level >= 0)
        return; /* trace output */
    c->err->num_warnings++;
    if (e->strict && is_corruption(c->err->msg_code)) {
        e->code = -EBADMSG;
        set_msg(c, e, c->err->msg_code);
        longjmp(e->jb, 1);
    }
}

static void on_progress(j_common_ptr c) {
    j_decompress_ptr d = (j_decompress_ptr)c;
    errmgr *e = (errmgr *)c->err;
    if (c->is_decompressor && d->input_scan_number > MAX_SCANS) {
        e->code = -EBADMSG;
        snprintf(e->msg, sizeof e->msg,
                 "progressive JPEG with more than %d scans refused", MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

static void errmgr_init(errmgr *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
    e->code = 0;
    e->strict = 0;
    e->msg[0] = '\0';
}

static int fail(errmgr *e, char *err, size_t errlen) {
    if (errlen)
        snprintf(err, errlen, "%s", e->msg);
    return e->code ? e->code : -EBADMSG;
}

static int find_orientation(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return pixd_exif_orientation(m->data, m->data_length);
    }
    return 0;
}

/* Whether the planar path (yuv.c) can take the image whose header cinfo
 * holds: YCbCr or gray in one sequential scan (its decoder needs no
 * coefficient buffer for the whole image, so the memory cap and the scan
 * limit this decoder enforces have nothing to guard), chroma 1x1, luma
 * sampled as TurboJPEG knows (4:4:4, 4:2:2, 4:2:0, 4:4:0). */
static void planar_info(j_decompress_ptr c, pixd__jpeg_info *info) {
    const jpeg_component_info *y = &c->comp_info[0];
    int h = y->h_samp_factor, v = y->v_samp_factor;

    info->planar = 0;
    info->h_samp = info->v_samp = 1;
    if (c->progressive_mode || c->comps_in_scan != c->num_components)
        return;
    if (c->jpeg_color_space == JCS_GRAYSCALE && c->num_components == 1) {
        info->planar = 1;
        return;
    }
    if (c->jpeg_color_space != JCS_YCbCr || c->num_components != 3)
        return;
    for (int i = 1; i < 3; i++)
        if (c->comp_info[i].h_samp_factor != 1 || c->comp_info[i].v_samp_factor != 1)
            return;
    if ((h == 1 || h == 2) && (v == 1 || v == 2)) {
        info->planar = 1;
        info->h_samp = h;
        info->v_samp = v;
    }
}

int pixd__jpeg_open(pixd__jpeg_dec **out, const uint8_t *in, size_t n,
                    uint64_t max_pixels, pixd__jpeg_info *info, char *err,
                    size_t errlen) {
    pixd__jpeg_dec *d = calloc(1, sizeof *d);
    int o;

    *out = d;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    errmgr_init(&d->err);
    d->err.strict = 1;
    d->cinfo.err = &d->err.pub;
    if (setjmp(d->err.jb))
        return fail(&d->err, err, errlen);
    jpeg_create_decompress(&d->cinfo);
    /* Progressive and multi-scan images keep the whole coefficient image
     * in memory: 2 bytes per coefficient, at most 4 full-size components.
     * Past that libjpeg would need a backing store, which fails. */
    if (max_pixels && max_pixels < (uint64_t)1 << 40)
        d->cinfo.mem->max_memory_to_use = (long)(max_pixels * 8 + (16 << 20));
    d->progress.progress_monitor = on_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, in, (unsigned long)n);
    jpeg_save_markers(&d->cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&d->cinfo, TRUE);

    info->width = d->cinfo.image_width;
    info->height = d->cinfo.image_height;
    o = find_orientation(&d->cinfo);
    info->orientation = o ? o : 1;
    switch (d->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        d->cinfo.out_color_space = JCS_GRAYSCALE;
        info->channels = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        d->cinfo.out_color_space = JCS_EXT_BGR;
        info->channels = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        /* libjpeg stops at CMYK; we convert to BGR row by row. */
        d->cinfo.out_color_space = JCS_CMYK;
        d->cmyk = 1;
        info->channels = 3;
        break;
    default:
        snprintf(err, errlen, "unsupported JPEG: %d colour components",
                 d->cinfo.num_components);
        return -ENOTSUP;
    }
    planar_info(&d->cinfo, info);
    return 0;
}

/* Adobe writes CMYK inverted (255 = no ink), as nearly every CMYK JPEG
 * comes from Photoshop; others store it plain. */
static void cmyk_to_bgr(const uint8_t *s, uint8_t *q, uint32_t w, int inverted) {
    for (uint32_t x = 0; x < w; x++, s += 4, q += 3) {
        unsigned c = s[0], m = s[1], y = s[2], k = s[3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        q[0] = (uint8_t)((y * k + 127) / 255);
        q[1] = (uint8_t)((m * k + 127) / 255);
        q[2] = (uint8_t)((c * k + 127) / 255);
    }
}

int pixd__jpeg_decode(pixd__jpeg_dec *d, int denom, pixd__pixels *out, char *err,
                      size_t errlen) {
    j_decompress_ptr cinfo = &d->cinfo;
    uint8_t *row = NULL;

    if (setjmp(d->err.jb))
        return fail(&d->err, err, errlen);
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned)denom;
    jpeg_start_decompress(cinfo);
    if (pixd__scratch_pixels(out, PIXD__SCRATCH_DECODE, cinfo->output_width,
                             cinfo->output_height, d->cmyk ? 3 : cinfo->output_components) < 0 ||
        (d->cmyk && !(row = pixd__scratch(PIXD__SCRATCH_ROW, (size_t)cinfo->output_width * 4)))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW rows[16];
        JDIMENSION k = 0, left = cinfo->output_height - cinfo->output_scanline;

        if (d->cmyk) {
            rows[0] = row;
            if (jpeg_read_scanlines(cinfo, rows, 1) == 1)
                cmyk_to_bgr(row, out->data + (size_t)(cinfo->output_scanline - 1) * out->stride,
                            out->width, cinfo->saw_Adobe_marker);
            continue;
        }
        for (; k < 16 && k < left; k++)
            rows[k] = out->data + (size_t)(cinfo->output_scanline + k) * out->stride;
        jpeg_read_scanlines(cinfo, rows, k);
    }
    /* No jpeg_finish_decompress: what follows the last scanline (a missing
     * EOI, trailing bytes) does not matter, and reading it costs time. */
    return 0;
}

void pixd__jpeg_close(pixd__jpeg_dec *d) {
    if (!d)
        return;
    jpeg_destroy_decompress(&d->cinfo);
    free(d);
}

/* The encoder's destination: a malloc'd buffer, doubled when full. */
typedef struct {
    struct jpeg_compress_struct cinfo;
    errmgr err;
    struct jpeg_destination_mgr dest;
    uint8_t *buf;
    size_t cap;
} encoder;

static void dest_init(j_compress_ptr c) {
    encoder *e = (encoder *)c;
    e->dest.next_output_byte = e->buf;
    e->dest.free_in_buffer = e->cap;
}

static boolean dest_grow(j_compress_ptr c) {
    encoder *e = (encoder *)c;
    uint8_t *nb = realloc(e->buf, e->cap * 2);
    if (!nb)
        ERREXIT(c, JERR_OUT_OF_MEMORY);
    e->buf = nb;
    e->dest.next_output_byte = nb + e->cap;
    e->dest.free_in_buffer = e->cap;
    e->cap *= 2;
    return TRUE;
}

static void dest_term(j_compress_ptr c) { (void)c; }

/* Planes (Y, then Cb and Cr at half width and height, 4:2:0) into libjpeg
 * as raw data: a band of max_v_samp_factor * 8 luma rows at a time, each
 * component's rows as wide as its blocks. Rows are used in place when
 * their width is whole blocks; otherwise (and past the bottom) they are
 * copied into a band buffer with the last column and row repeated, as
 * libjpeg's own downsampler pads. */
static void write_planes(j_compress_ptr c, const pixd__pixels *planes, uint8_t *band) {
    JSAMPROW rows[3][2 * DCTSIZE];
    JSAMPARRAY arr[3] = {rows[0], rows[1], rows[2]};

    while (c->next_scanline < c->image_height) {
        uint8_t *b = band;
        for (int ci = 0; ci < c->num_components; ci++) {
            const jpeg_component_info *comp = &c->comp_info[ci];
            const pixd__pixels *pl = &planes[ci];
            size_t w = (size_t)comp->width_in_blocks * DCTSIZE;
            uint32_t y0 = c->next_scanline * (uint32_t)comp->v_samp_factor /
                          (uint32_t)c->max_v_samp_factor;
            for (int k = 0; k < comp->v_samp_factor * DCTSIZE; k++) {
                uint32_t y = y0 + (uint32_t)k < pl->height ? y0 + (uint32_t)k : pl->height - 1;
                uint8_t *src = pl->data + (size_t)y * pl->stride;
                if (w == pl->width) {
                    rows[ci][k] = src;
                    continue;
                }
                memcpy(b, src, pl->width);
                memset(b + pl->width, src[pl->width - 1], w - pl->width);
                rows[ci][k] = b;
                b += w;
            }
        }
        jpeg_write_raw_data(c, arr, (JDIMENSION)(c->max_v_samp_factor * DCTSIZE));
    }
}

/* The band write_planes() may need: every component's rows of one band,
 * blocks wide (one more block than the plane, at most). */
static size_t band_size(const pixd__pixels *planes, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ((size_t)planes[i].width + 2 * DCTSIZE) * (i == 0 ? 2 : 1) * DCTSIZE;
    return total;
}

/* The part of encoding that libjpeg may leave by longjmp. px is one
 * interleaved image (n == 0) or n planes. */
static int compress(encoder *e, const pixd__pixels *px, int n, int quality, int progressive,
                    char *err, size_t errlen) {
    j_compress_ptr c = &e->cinfo;
    uint8_t *band = NULL;

    if (n && !(band = pixd__scratch(PIXD__SCRATCH_ROW, band_size(px, n)))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (setjmp(e->err.jb))
        return fail(&e->err, err, errlen);
    jpeg_create_compress(c);
    e->dest.init_destination = dest_init;
    e->dest.empty_output_buffer = dest_grow;
    e->dest.term_destination = dest_term;
    c->dest = &e->dest;
    c->image_width = px->width;
    c->image_height = px->height;
    if (n) {
        c->input_components = n;
        c->in_color_space = n == 1 ? JCS_GRAYSCALE : JCS_YCbCr;
    } else {
        c->input_components = px->channels;
        c->in_color_space = px->channels == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
    }
    jpeg_set_defaults(c); /* colour: Y 2x2, Cb and Cr 1x1, i.e. 4:2:0 */
    jpeg_set_quality(c, quality, TRUE);
    c->optimize_coding = TRUE;
    c->raw_data_in = n ? TRUE : FALSE;
    if (progressive)
        jpeg_simple_progression(c);
    jpeg_start_compress(c, TRUE);
    if (n) {
        write_planes(c, px, band);
        jpeg_finish_compress(c);
        return 0;
    }
    while (c->next_scanline < c->image_height) {
        JSAMPROW rows[16];
        JDIMENSION k = 0, left = c->image_height - c->next_scanline;
        for (; k < 16 && k < left; k++)
            rows[k] = px->data + (size_t)(c->next_scanline + k) * px->stride;
        jpeg_write_scanlines(c, rows, k);
    }
    jpeg_finish_compress(c);
    return 0;
}

static int encode(const pixd__pixels *px, int n, int quality, int progressive,
                  uint8_t **out, size_t *len, char *err, size_t errlen) {
    encoder *e = calloc(1, sizeof *e);
    int r;

    *out = NULL;
    *len = 0;
    /* About 1.5 bits per pixel at quality 85 on photos; grown as needed. */
    if (e) {
        e->cap = (size_t)px->width * px->height / 4 + 4096;
        e->buf = malloc(e->cap);
    }
    if (!e || !e->buf) {
        free(e);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    errmgr_init(&e->err);
    e->cinfo.err = &e->err.pub;
    r = compress(e, px, n, quality, progressive, err, errlen);
    if (r == 0) {
        *len = e->cap - e->dest.free_in_buffer;
        *out = e->buf;
        e->buf = NULL;
    }
    jpeg_destroy_compress(&e->cinfo);
    free(e->buf);
    free(e);
    return r;
}

int pixd__jpeg_encode(const pixd__pixels *px, int quality, int progressive,
                      uint8_t **out, size_t *len, char *err, size_t errlen) {
    return encode(px, 0, quality, progressive, out, len, err, errlen);
}

int pixd__jpeg_encode_planes(const pixd__pixels *planes, int n, int quality, int progressive,
                             uint8_t **out, size_t *len, char *err, size_t errlen) {
    return encode(planes, n, quality, progressive, out, len, err, errlen);
}
