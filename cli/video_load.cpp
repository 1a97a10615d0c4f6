#include "video_load.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#ifndef PIXCTL_MODULE_DIR
#define PIXCTL_MODULE_DIR "/usr/local/lib/pixd"
#endif

namespace pixctl {

namespace {

std::string exe_dir()
{
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return "";
    std::string p(buf, static_cast<std::size_t>(n));
    std::size_t slash = p.rfind('/');
    return slash == std::string::npos ? "" : p.substr(0, slash);
}

const pixctl_video *load()
{
    std::vector<std::string> dirs;
    if (const char *env = std::getenv("PIXD_MODULE_DIR"); env && *env)
        dirs.emplace_back(env);
    if (std::string d = exe_dir(); !d.empty())
        dirs.push_back(d);
    dirs.emplace_back(PIXCTL_MODULE_DIR);
    std::string looked;
    for (const std::string &d : dirs) {
        std::string path = d + "/" PIXCTL_VIDEO_FILE;
        if (::access(path.c_str(), R_OK) != 0) {
            looked += (looked.empty() ? "" : ", ") + d;
            continue;
        }
        // Never closed: its code stays in use until pixctl exits.
        void *h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h)
            throw VideoError(std::string("cannot load the video module: ") + ::dlerror() +
                             " (is OpenCV installed? Debian: libopencv-videoio406 libopencv-highgui406)");
        auto *m = static_cast<const pixctl_video *>(::dlsym(h, PIXCTL_VIDEO_SYMBOL));
        if (!m || m->abi != PIXCTL_VIDEO_ABI)
            throw VideoError(path + " is not the video module of this pixctl (version mismatch)");
        return m;
    }
    throw VideoError("the video module " PIXCTL_VIDEO_FILE " (OpenCV capture and windows) is not in " + looked +
                     ": install pixd fully, or set PIXD_MODULE_DIR to its directory");
}

void check(int rc, const char *err)
{
    if (rc < 0)
        throw VideoError(err);
}

} // namespace

const pixctl_video &video_module()
{
    // Loaded once; a failure is thrown again to every caller.
    static const pixctl_video *m = nullptr;
    if (!m)
        m = load();
    return *m;
}

void Capture::Closer::operator()(pixctl_capture *c) const noexcept { video_module().capture_close(c); }

Capture::Capture(const std::string &source, const std::string &label, unsigned width, unsigned height,
                 unsigned fps)
    : m_(video_module())
{
    char err[512] = "";
    pixctl_capture *c = nullptr;
    check(m_.capture_open(source.c_str(), label.c_str(), width, height, fps, &c, &info_, err, sizeof err), err);
    c_.reset(c);
}

bool Capture::read()
{
    char err[512] = "";
    int rc = m_.capture_read(c_.get(), err, sizeof err);
    check(rc, err);
    return rc > 0;
}

std::pair<const uint8_t *, std::size_t> Capture::encode(int quality)
{
    char err[512] = "";
    const uint8_t *p = nullptr;
    std::size_t n = 0;
    check(m_.capture_encode(c_.get(), quality, &p, &n, err, sizeof err), err);
    return {p, n};
}

} // namespace pixctl
