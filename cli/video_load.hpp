// pixctl's side of pixctl-video.so (video.h): finding and loading it, and
// C++ ownership of what it makes. Its negative errno returns become
// VideoError here, at the boundary; main() reports those with status 1.
#ifndef PIXCTL_VIDEO_LOAD_HPP
#define PIXCTL_VIDEO_LOAD_HPP

#include "video.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace pixctl {

class VideoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The module, loaded on first use from the first of these directories that
// holds it: $PIXD_MODULE_DIR, the directory of the pixctl executable (the
// build tree), the directory it is installed in. Throws VideoError saying
// where it looked.
const pixctl_video &video_module();

// An open source of pictures for push (see pixctl_video.capture_open).
class Capture {
public:
    Capture(const std::string &source, const std::string &label, unsigned width, unsigned height, unsigned fps);

    const pixctl_capture_info &info() const noexcept { return info_; }
    // Takes the next frame; false at the end of a source that does not loop.
    bool read();
    // The JPEG of the frame read last; valid until the next call.
    std::pair<const uint8_t *, std::size_t> encode(int quality);

private:
    struct Closer {
        void operator()(pixctl_capture *c) const noexcept;
    };
    const pixctl_video &m_;
    std::unique_ptr<pixctl_capture, Closer> c_;
    pixctl_capture_info info_{};
};

} // namespace pixctl

#endif
