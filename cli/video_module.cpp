// pixctl-video.so: OpenCV capture (push) and windows (view) for pixctl; see
// video.h for why this is a module. JPEG encoding is TurboJPEG's, as in
// pixd's videoio module: faster than cv::imencode and into a buffer kept
// across frames. Exceptions stop at this boundary.
#include "video.h"

#include "pattern.h" // pixd's test pattern: the same picture on both sides

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <turbojpeg.h>

namespace {

// A stream that stops sending must not hang push for FFmpeg's default of
// 30 s or more.
constexpr int stream_timeout_ms = 10000;

void init()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // pixctl reports failures once, with a reason; OpenCV's and FFmpeg's
        // own lines would only repeat them, unlabelled.
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
        setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0); // AV_LOG_QUIET
    });
}

template <typename F>
int guarded(char *err, size_t errlen, F &&f)
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        std::snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    } catch (const cv::Exception &e) {
        std::snprintf(err, errlen, "OpenCV: %s", e.err.c_str());
        return -EIO;
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "%s", e.what());
        return -EIO;
    } catch (...) {
        std::snprintf(err, errlen, "OpenCV failed");
        return -EIO;
    }
}

// rtsp://user:secret@host/... -> rtsp://user:***@host/...: the source ends
// up in messages.
std::string without_password(const std::string &url)
{
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

bool starts_with(const std::string &s, const char *prefix)
{
    return s.compare(0, std::strlen(prefix), prefix) == 0;
}

} // namespace

struct pixctl_capture {
    enum class Kind { pattern, device, file, url } kind = Kind::pattern;
    std::string path;  // what OpenCV opens
    std::string shown; // for messages
    std::string label; // drawn on the test pattern
    unsigned width = 0, height = 0;
    uint64_t seq = 0;
    cv::VideoCapture cap;
    cv::Mat frame, converted, scaled;
    tjhandle tj = nullptr;
    unsigned char *jpeg = nullptr; // tjAlloc'd, reused while the size fits
    unsigned long jpeg_cap = 0;

    ~pixctl_capture()
    {
        if (tj)
            tjDestroy(tj);
        tjFree(jpeg);
    }

    bool open_capture()
    {
        switch (kind) {
        case Kind::device:
            return cap.open(path, cv::CAP_V4L2) || cap.open(path, cv::CAP_ANY);
        case Kind::file:
            return cap.open(path, cv::CAP_FFMPEG) || cap.open(path, cv::CAP_ANY);
        case Kind::url:
            return cap.open(path, cv::CAP_FFMPEG,
                            {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, stream_timeout_ms,
                             cv::CAP_PROP_READ_TIMEOUT_MSEC, stream_timeout_ms});
        case Kind::pattern:
            break;
        }
        return true;
    }

    // Starts a file over: seeking is cheap, but not every format can, so
    // reopening is the fallback.
    bool rewind()
    {
        if (cap.set(cv::CAP_PROP_POS_FRAMES, 0) && cap.read(frame))
            return true;
        cap.release();
        return open_capture() && cap.read(frame);
    }

    void why_not_opened(char *err, size_t errlen) const
    {
        struct stat st{};
        if (kind == Kind::device && ::stat(path.c_str(), &st) != 0)
            std::snprintf(err, errlen, "cannot open %s: %s", shown.c_str(), std::strerror(errno));
        else if (kind == Kind::device)
            std::snprintf(err, errlen, "cannot open %s: not a video capture device, or busy",
                          shown.c_str());
        else if (kind == Kind::url)
            std::snprintf(err, errlen, "cannot open %s: unreachable, or not a stream FFmpeg can read",
                          shown.c_str());
        else if (path.find('%') != std::string::npos)
            std::snprintf(err, errlen, "cannot open %s: no image sequence matches", shown.c_str());
        else if (::stat(path.c_str(), &st) != 0)
            std::snprintf(err, errlen, "cannot open %s: %s", shown.c_str(), std::strerror(errno));
        else
            std::snprintf(err, errlen, "cannot open %s: not a video FFmpeg can read", shown.c_str());
    }
};

namespace {

int capture_open(const char *source, const char *label, unsigned width, unsigned height, unsigned fps,
                 pixctl_capture **out, pixctl_capture_info *info, char *err, size_t errlen)
{
    init();
    *out = nullptr;
    pixctl_capture *c = nullptr;
    int rc = guarded(err, errlen, [&] {
        c = new pixctl_capture;
        std::string s = source;
        c->label = label ? label : "";
        if (s == "test") {
            c->kind = pixctl_capture::Kind::pattern;
        } else if (starts_with(s, "/dev/")) {
            c->kind = pixctl_capture::Kind::device;
            c->path = s;
        } else if (starts_with(s, "file:")) {
            c->kind = pixctl_capture::Kind::file;
            c->path = s.substr(5);
        } else if (s.find("://") == std::string::npos) {
            c->kind = pixctl_capture::Kind::file; // a plain path
            c->path = s;
        } else {
            c->kind = pixctl_capture::Kind::url;
            c->path = s;
        }
        c->shown = without_password(c->kind == pixctl_capture::Kind::url ? c->path : s);
        if (!(c->tj = tjInitCompress())) {
            std::snprintf(err, errlen, "TurboJPEG: %s", tjGetErrorStr2(nullptr));
            return -ENOMEM;
        }
        if (c->kind == pixctl_capture::Kind::pattern) {
            // 640x480 as pixd's test camera; one side given keeps 4:3.
            c->width = width ? width : height ? std::max(1u, height * 4 / 3) : 640;
            c->height = height ? height : width ? std::max(1u, width * 3 / 4) : 480;
            c->frame.create(static_cast<int>(c->height), static_cast<int>(c->width), CV_8UC3);
            *info = {c->width, c->height, static_cast<double>(fps), 0};
            return 0;
        }
        if (!c->open_capture()) {
            c->why_not_opened(err, errlen);
            return -ENOENT;
        }
        if (c->kind == pixctl_capture::Kind::device) {
            // Asked, not promised: what the camera picks is read back below,
            // and encode() scales to the size asked for.
            if (width)
                c->cap.set(cv::CAP_PROP_FRAME_WIDTH, width);
            if (height)
                c->cap.set(cv::CAP_PROP_FRAME_HEIGHT, height);
            if (fps)
                c->cap.set(cv::CAP_PROP_FPS, fps);
        }
        // The first frame says the size for certain (properties may be 0).
        if (!c->cap.read(c->frame) || c->frame.empty()) {
            std::snprintf(err, errlen, "%s opened, but gave no frame", c->shown.c_str());
            return -EIO;
        }
        if (c->kind == pixctl_capture::Kind::file)
            c->cap.set(cv::CAP_PROP_POS_FRAMES, 0); // start with that frame again
        unsigned fw = static_cast<unsigned>(c->frame.cols), fh = static_cast<unsigned>(c->frame.rows);
        if (width && height) {
            c->width = width;
            c->height = height;
        } else if (width) { // keep the aspect ratio
            c->width = width;
            c->height = std::max(1u, static_cast<unsigned>(static_cast<uint64_t>(fh) * width / fw));
        } else if (height) {
            c->height = height;
            c->width = std::max(1u, static_cast<unsigned>(static_cast<uint64_t>(fw) * height / fh));
        } else {
            c->width = fw;
            c->height = fh;
        }
        double src_fps = c->cap.get(cv::CAP_PROP_FPS);
        *info = {c->width, c->height, src_fps > 0 && src_fps < 1000 ? src_fps : 0,
                 c->kind == pixctl_capture::Kind::file ? 0 : 1};
        return 0;
    });
    if (rc < 0) {
        delete c;
        return rc;
    }
    *out = c;
    return 0;
}

int capture_read(pixctl_capture *c, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] {
        ++c->seq;
        if (c->kind == pixctl_capture::Kind::pattern) {
            uint64_t ts = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
            pixd_pattern_draw(c->frame.data, c->width, c->height, c->seq, ts, c->label.c_str());
            return 1;
        }
        if (c->cap.read(c->frame) && !c->frame.empty())
            return 1;
        if (c->kind == pixctl_capture::Kind::file) {
            if (c->rewind() && !c->frame.empty())
                return 1;
            std::snprintf(err, errlen, "%s: cannot read it again from the start", c->shown.c_str());
            return -EIO;
        }
        std::snprintf(err, errlen, "%s: no frame within %d s (unplugged, or the stream ended)",
                      c->shown.c_str(), stream_timeout_ms / 1000);
        return -EIO;
    });
}

int capture_encode(pixctl_capture *c, int quality, const uint8_t **jpeg, size_t *len, char *err,
                   size_t errlen)
{
    return guarded(err, errlen, [&] {
        const cv::Mat *img = &c->frame;
        if (img->channels() == 1) {
            cv::cvtColor(*img, c->converted, cv::COLOR_GRAY2BGR);
            img = &c->converted;
        } else if (img->channels() == 4) {
            cv::cvtColor(*img, c->converted, cv::COLOR_BGRA2BGR);
            img = &c->converted;
        }
        if (static_cast<unsigned>(img->cols) != c->width || static_cast<unsigned>(img->rows) != c->height) {
            cv::resize(*img, c->scaled, cv::Size(static_cast<int>(c->width), static_cast<int>(c->height)), 0, 0,
                       cv::INTER_AREA);
            img = &c->scaled;
        }
        // A buffer of the worst-case size, kept across frames: TurboJPEG
        // never reallocates it, and only the pages a JPEG fills are touched.
        unsigned long need = tjBufSize(img->cols, img->rows, TJSAMP_420);
        if (need > c->jpeg_cap) {
            tjFree(c->jpeg);
            c->jpeg_cap = 0;
            if (!(c->jpeg = tjAlloc(static_cast<int>(need))))
                throw std::bad_alloc();
            c->jpeg_cap = need;
        }
        unsigned long n = c->jpeg_cap;
        if (tjCompress2(c->tj, img->data, img->cols, static_cast<int>(img->step[0]), img->rows, TJPF_BGR,
                        &c->jpeg, &n, TJSAMP_420, quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) < 0) {
            std::snprintf(err, errlen, "JPEG encoding failed: %s", tjGetErrorStr2(c->tj));
            return -EIO;
        }
        *jpeg = c->jpeg;
        *len = n;
        return 0;
    });
}

void capture_close(pixctl_capture *c) { delete c; }

// Qt, OpenCV's window backend on Debian, calls abort() when it cannot reach
// a display, and no exception can be caught. So the first window is opened
// in a child process: if the child dies, pixctl itself can still say why.
int display_check(char *err, size_t errlen)
{
    const char *x = std::getenv("DISPLAY"), *wl = std::getenv("WAYLAND_DISPLAY");
    if ((!x || !*x) && (!wl || !*wl)) {
        std::snprintf(err, errlen, "no graphical display (DISPLAY and WAYLAND_DISPLAY are not set)");
        return -ENXIO;
    }
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        std::snprintf(err, errlen, "cannot check the display: fork: %s", std::strerror(errno));
        return -errno;
    }
    if (pid == 0) {
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0)
            ::dup2(null, STDERR_FILENO); // Qt's complaints: pixctl says it better
        try {
            cv::namedWindow("pixctl display check", cv::WINDOW_AUTOSIZE);
            cv::destroyAllWindows();
            cv::waitKey(1);
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    // A display that is set but does not answer must not hang pixctl.
    for (int i = 0; i < 1000; ++i) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (i == 999) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            status = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && status != -1)
        return 0;
    std::snprintf(err, errlen, "cannot open a window on display %s", x && *x ? x : wl);
    return -ENXIO;
}

int window_open(const char *title, int x, int y, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] {
        // The picture only: no toolbar or status bar of Qt's own.
        cv::namedWindow(title, cv::WINDOW_AUTOSIZE | cv::WINDOW_GUI_NORMAL);
        cv::moveWindow(title, x, y);
        return 0;
    });
}

int window_show(const char *title, const uint8_t *jpeg, size_t len, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] {
        cv::Mat img = cv::imdecode(cv::Mat(1, static_cast<int>(len), CV_8U, const_cast<uint8_t *>(jpeg)),
                                   cv::IMREAD_COLOR);
        if (img.empty()) {
            std::snprintf(err, errlen, "a frame is not a JPEG OpenCV can decode");
            return -EINVAL;
        }
        cv::imshow(title, img);
        return 0;
    });
}

int window_key(int wait_ms)
{
    try {
        int k = cv::waitKey(std::max(1, wait_ms));
        return k < 0 ? -1 : (k & 0xffff);
    } catch (...) {
        return -1;
    }
}

int window_visible(const char *title)
{
    try {
        return cv::getWindowProperty(title, cv::WND_PROP_VISIBLE) > 0 ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

void window_close_all()
{
    try {
        cv::destroyAllWindows();
        cv::waitKey(1); // lets the backend take them off the screen
    } catch (...) {
    }
}

} // namespace

extern "C" __attribute__((visibility("default"))) const pixctl_video pixctl_video_module = {
    PIXCTL_VIDEO_ABI, capture_open,     capture_read, capture_encode, capture_close, display_check,
    window_open,      window_show,      window_key,   window_visible, window_close_all,
};
