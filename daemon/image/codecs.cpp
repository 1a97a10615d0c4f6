// pixd-codecs.so: decoding and encoding through OpenCV imgcodecs, which
// maps ~140 libraries; the daemon loads this module with dlopen only when
// an image needs it (codecs_load.c). Exceptions stop at this boundary.
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <webp/decode.h>

#include "codecs.h"
#include "image.h"

namespace {

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        cv::setNumThreads(0); // one job, one core (as in resample.cpp)
        // Corrupt uploads are the caller's to report, not OpenCV's: its
        // logger, and imdecode's messages to std::cerr (a client could fill
        // the journal with them), are silenced. Nothing else in pixd
        // writes to std::cerr. (libpng's own messages still reach stderr.)
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
        std::cerr.setstate(std::ios_base::badbit);
    });
}

template <typename F> int guarded(char *err, size_t errlen, F &&f) {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        std::snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    } catch (const cv::Exception &e) {
        std::snprintf(err, errlen, "image codec error: %s", e.err.c_str());
        return e.code == cv::Error::StsNoMem ? -ENOMEM : -EBADMSG;
    } catch (...) {
        std::snprintf(err, errlen, "image codec error");
        return -EIO;
    }
}

// WebP through libwebp itself: OpenCV picks its WebP decoder only when
// libwebp accepts the first 32 bytes, and otherwise tries the rest of its
// list, which ends with decoders that copy the bytes to a file in /tmp.
int decode_webp(const uint8_t *in, size_t n, cv::Mat &m, char *err, size_t errlen) {
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(in, n, &f) != VP8_STATUS_OK) {
        std::snprintf(err, errlen, "corrupt WebP: malformed header");
        return -EBADMSG;
    }
    if (f.has_animation) {
        std::snprintf(err, errlen, "animated WebP is not supported");
        return -ENOTSUP;
    }
    m.create(f.height, f.width, f.has_alpha ? CV_8UC4 : CV_8UC3);
    size_t size = m.step[0] * static_cast<size_t>(m.rows);
    int stride = static_cast<int>(m.step[0]);
    if (!(f.has_alpha ? WebPDecodeBGRAInto(in, n, m.data, size, stride)
                      : WebPDecodeBGRInto(in, n, m.data, size, stride))) {
        std::snprintf(err, errlen, "could not decode the image: corrupt or truncated");
        return -EBADMSG;
    }
    return 0;
}

int decode(const uint8_t *in, size_t n, pixd__pixels *out, void **handle, char *err,
           size_t errlen) {
    init();
    *handle = nullptr;
    if (n > INT_MAX) {
        std::snprintf(err, errlen, "image too large to decode");
        return -EFBIG;
    }
    return guarded(err, errlen, [&] {
        cv::Mat m;
        if (n >= 12 && std::memcmp(in, "RIFF", 4) == 0 && std::memcmp(in + 8, "WEBP", 4) == 0) {
            int rc = decode_webp(in, n, m, err, errlen);
            if (rc < 0)
                return rc;
        } else {
            // PNG and BMP (the caller sends nothing else): OpenCV finds
            // their decoders by the same signatures the caller checked.
            // UNCHANGED keeps alpha and gray as they are; orientation is
            // the caller's (it reads EXIF itself).
            cv::Mat buf(1, static_cast<int>(n), CV_8U, const_cast<uint8_t *>(in));
            m = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
        }
        if (m.empty()) {
            std::snprintf(err, errlen, "could not decode the image: corrupt or truncated");
            return -EBADMSG;
        }
        if (m.depth() == CV_16U)
            m.convertTo(m, CV_8U, 1.0 / 257);
        if (m.depth() != CV_8U || (m.channels() != 1 && m.channels() != 3 &&
                                   m.channels() != 4)) {
            std::snprintf(err, errlen, "unsupported pixel format (%d channels, depth %d)",
                          m.channels(), m.depth());
            return -ENOTSUP;
        }
        cv::Mat *keep = new cv::Mat(m);
        out->data = keep->data;
        out->width = static_cast<uint32_t>(keep->cols);
        out->height = static_cast<uint32_t>(keep->rows);
        out->stride = keep->step[0];
        out->channels = keep->channels();
        *handle = keep;
        return 0;
    });
}

void release(void *handle) { delete static_cast<cv::Mat *>(handle); }

int encode(const pixd__pixels *px, int format, int quality, uint8_t **out, size_t *len,
           char *err, size_t errlen) {
    init();
    *out = nullptr;
    *len = 0;
    return guarded(err, errlen, [&] {
        cv::Mat m(static_cast<int>(px->height), static_cast<int>(px->width),
                  CV_8UC(px->channels), px->data, px->stride);
        std::vector<int> params;
        const char *ext;
        if (format == PIXD_FMT_PNG) {
            ext = ".png";
            params = {cv::IMWRITE_PNG_COMPRESSION, 6};
        } else if (format == PIXD_FMT_WEBP) {
            ext = ".webp";
            params = {cv::IMWRITE_WEBP_QUALITY, quality};
        } else {
            std::snprintf(err, errlen, "the codecs module writes PNG and WebP only");
            return -EINVAL;
        }
        std::vector<uchar> v;
        if (!cv::imencode(ext, m, v, params) || v.empty()) {
            std::snprintf(err, errlen, "could not encode %s", ext + 1);
            return -EIO;
        }
        *out = static_cast<uint8_t *>(std::malloc(v.size()));
        if (!*out) {
            std::snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        std::memcpy(*out, v.data(), v.size());
        *len = v.size();
        return 0;
    });
}

} // namespace

extern "C" {
__attribute__((visibility("default"))) extern const pixd_codecs pixd_codecs_v1;
const pixd_codecs pixd_codecs_v1 = {PIXD_CODECS_ABI, decode, release, encode};
}
