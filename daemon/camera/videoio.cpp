// pixd-videoio.so: file and URL cameras through OpenCV videoio (FFmpeg),
// which maps ~244 libraries; the daemon loads this module with dlopen only
// when such a camera is configured (source_file.c). JPEG encoding is
// TurboJPEG's (about 25% faster than cv::imencode on 1280x720 here, and it
// writes into a buffer we keep). Exceptions stop at this boundary.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include <sys/stat.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <turbojpeg.h>

#include "videoio.h"

namespace {

// A stream that stops sending must not hold its thread (and so camera
// removal) for FFmpeg's default of 30 s or more.
constexpr int kStreamTimeoutMs = 10000;

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        cv::setNumThreads(0); // the capture thread is the only one
        // Open and read failures are reported by pixd, once, with a reason;
        // FFmpeg's own lines would reach the log unlabelled, on every
        // retry. OPENCV_FFMPEG_LOGLEVEL=16 in pixd's environment shows them
        // (it is read at the first open, so it is set before that).
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
        setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0); // AV_LOG_QUIET
    });
}

template <typename F> int guarded(char *err, size_t errlen, F &&f) {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        std::snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    } catch (const cv::Exception &e) {
        std::snprintf(err, errlen, "video error: %s", e.err.c_str());
        return e.code == cv::Error::StsNoMem ? -ENOMEM : -EIO;
    } catch (...) {
        std::snprintf(err, errlen, "video error");
        return -EIO;
    }
}

} // namespace

struct pixd_video {
    std::string url;
    std::string shown; // url for messages: without a password in it
    bool is_file = false;
    bool have_first = false; // the frame decoded by open() is next()'s first
    cv::VideoCapture cap;
    cv::Mat frame, scaled;
    tjhandle tj = nullptr;
    unsigned char *jpeg = nullptr; // tjAlloc'd, reused while the size fits
    unsigned long jpeg_cap = 0;

    ~pixd_video() {
        if (tj)
            tjDestroy(tj);
        tjFree(jpeg);
    }

    bool open_capture() {
        if (is_file)
            return cap.open(url, cv::CAP_FFMPEG);
        return cap.open(url, cv::CAP_FFMPEG,
                        {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, kStreamTimeoutMs,
                         cv::CAP_PROP_READ_TIMEOUT_MSEC, kStreamTimeoutMs});
    }

    // Start a file over: seeking is cheap, but not every format can, so
    // reopening is the fallback.
    bool rewind() {
        if (cap.set(cv::CAP_PROP_POS_FRAMES, 0) && cap.read(frame))
            return true;
        cap.release();
        return open_capture() && cap.read(frame);
    }
};

namespace {

// rtsp://user:secret@host/... -> rtsp://user:***@host/...: reasons end up
// in the log and in what clients are told.
std::string without_password(const std::string &url) {
    size_t scheme = url.find("://");
    if (scheme == std::string::npos)
        return url;
    size_t start = scheme + 3, end = url.find_first_of("/?#", start);
    size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    if (at == std::string::npos || at < start)
        return url;
    size_t colon = url.find(':', start);
    if (colon == std::string::npos || colon > at)
        return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

void why_not_opened(const pixd_video *v, char *err, size_t errlen) {
    struct stat st;
    if (!v->is_file)
        std::snprintf(err, errlen, "cannot open %.200s: unreachable, or not a stream FFmpeg "
                      "can read", v->shown.c_str());
    else if (v->url.find('%') != std::string::npos)
        std::snprintf(err, errlen, "cannot open %.200s: no image sequence matches",
                      v->shown.c_str());
    else if (stat(v->url.c_str(), &st) != 0) // a file: nothing to hide
        std::snprintf(err, errlen, "cannot open %.200s: %s", v->shown.c_str(),
                      std::strerror(errno));
    else if (S_ISDIR(st.st_mode))
        std::snprintf(err, errlen, "cannot open %.200s: a directory (for an image sequence, "
                      "give a pattern such as DIR/img_%%04d.jpg)", v->shown.c_str());
    else
        std::snprintf(err, errlen, "cannot open %.200s: not a video FFmpeg can read",
                      v->shown.c_str());
}

void video_close(pixd_video *v) { delete v; }

int video_open(const char *url, int is_file, pixd_video **out, double *fps, char *err,
               size_t errlen) {
    init();
    *out = nullptr;
    *fps = 0;
    pixd_video *v = nullptr;
    int rc = guarded(err, errlen, [&] {
        v = new pixd_video;
        v->url = url;
        v->shown = without_password(v->url);
        v->is_file = is_file != 0;
        if (!(v->tj = tjInitCompress())) {
            std::snprintf(err, errlen, "TurboJPEG: %s", tjGetErrorStr2(nullptr));
            return -ENOMEM;
        }
        if (!v->open_capture()) {
            why_not_opened(v, err, errlen);
            return -ENOENT;
        }
        if (!v->cap.read(v->frame) || v->frame.empty()) {
            std::snprintf(err, errlen, "%.200s: opened, but no frame could be decoded",
                          v->shown.c_str());
            return -EIO;
        }
        v->have_first = true;
        double f = v->cap.get(cv::CAP_PROP_FPS);
        *fps = f > 0 && f <= 1000 ? f : 0; // containers put odd values here
        return 0;
    });
    if (rc < 0) {
        delete v;
        return rc;
    }
    *out = v;
    return 0;
}

// Both sides given: exactly that size; one: the other follows the aspect.
cv::Size target(const cv::Mat &m, unsigned width, unsigned height) {
    double w = width, h = height;
    if (!width && !height)
        return m.size();
    if (!height)
        h = w * m.rows / m.cols;
    else if (!width)
        w = h * m.cols / m.rows;
    return cv::Size(std::max(1, static_cast<int>(w + 0.5)),
                    std::max(1, static_cast<int>(h + 0.5)));
}

int encode(pixd_video *v, const cv::Mat &m, int quality, pixd_video_frame *out, char *err,
           size_t errlen) {
    int pf, samp;
    switch (m.type()) {
    case CV_8UC3: pf = TJPF_BGR, samp = TJSAMP_420; break;
    case CV_8UC4: pf = TJPF_BGRX, samp = TJSAMP_420; break;
    case CV_8UC1: pf = TJPF_GRAY, samp = TJSAMP_GRAY; break;
    default:
        std::snprintf(err, errlen, "unsupported pixel format from the decoder (type %d)",
                      m.type());
        return -EIO;
    }
    // The worst case for this size, so TurboJPEG never reallocates; only
    // the pages a frame's JPEG fills are ever touched.
    unsigned long need = tjBufSize(m.cols, m.rows, samp);
    if (need > v->jpeg_cap) {
        tjFree(v->jpeg);
        v->jpeg_cap = 0;
        if (!(v->jpeg = tjAlloc(static_cast<int>(need)))) {
            std::snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        v->jpeg_cap = need;
    }
    unsigned long len = v->jpeg_cap;
    if (tjCompress2(v->tj, m.data, m.cols, static_cast<int>(m.step[0]), m.rows, pf, &v->jpeg,
                    &len, samp, quality, TJFLAG_NOREALLOC) != 0) {
        std::snprintf(err, errlen, "JPEG encoding failed: %s", tjGetErrorStr2(v->tj));
        return -EIO;
    }
    out->jpeg = v->jpeg;
    out->len = len;
    out->width = static_cast<uint32_t>(m.cols);
    out->height = static_cast<uint32_t>(m.rows);
    return 0;
}

int video_next(pixd_video *v, int skip, unsigned width, unsigned height, int quality,
               pixd_video_frame *out, char *err, size_t errlen) {
    return guarded(err, errlen, [&] {
        if (v->have_first) {
            v->have_first = false;
        } else if (skip && !v->is_file) {
            // A stream read faster than wanted: demux and decode (FFmpeg
            // must), but skip the conversion to BGR.
            if (!v->cap.grab()) {
                std::snprintf(err, errlen, "%.200s: the stream ended or failed",
                              v->shown.c_str());
                return -EPIPE;
            }
            return 0;
        } else if (!v->cap.read(v->frame) || v->frame.empty()) {
            if (!v->is_file) {
                std::snprintf(err, errlen, "%.200s: the stream ended or failed",
                              v->shown.c_str());
                return -EPIPE;
            }
            if (!v->rewind() || v->frame.empty()) {
                std::snprintf(err, errlen, "%.200s: no frame could be decoded after "
                              "starting over", v->shown.c_str());
                return -EIO;
            }
        }
        if (skip)
            return 0;
        cv::Size sz = target(v->frame, width, height);
        const cv::Mat *m = &v->frame;
        if (sz != v->frame.size()) {
            cv::resize(v->frame, v->scaled, sz, 0, 0, cv::INTER_AREA);
            m = &v->scaled;
        }
        return encode(v, *m, quality, out, err, errlen);
    });
}

} // namespace

extern "C" {
__attribute__((visibility("default"))) extern const pixd_videoio pixd_videoio_v1;
const pixd_videoio pixd_videoio_v1 = {PIXD_VIDEOIO_ABI, video_open, video_next, video_close};
}
