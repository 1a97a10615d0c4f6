// Resampling, orientation and sharpening with OpenCV core and imgproc
// (nothing from imgcodecs: this file is linked into the daemon itself).
// Every cv::Mat here wraps memory the caller owns, so nothing is allocated
// per job but OpenCV's small internal tables. No exception crosses into C.
#include <cerrno>
#include <cmath>
#include <mutex>
#include <new>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "internal.h"

namespace {

cv::Mat wrap(const pixd__pixels *px) {
    return cv::Mat(static_cast<int>(px->height), static_cast<int>(px->width),
                   CV_8UC(px->channels), px->data, px->stride);
}

template <typename F> int guarded(F &&f) {
    try {
        f();
        return 0;
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (const cv::Exception &e) {
        return e.code == cv::Error::StsNoMem ? -ENOMEM : -EINVAL;
    } catch (...) {
        return -EINVAL;
    }
}

} // namespace

extern "C" void pixd__cv_init(void) {
    static std::once_flag once;
    // One job, one core: the daemon runs jobs in parallel on its own
    // workers, and OpenCV's pool would only add threads and memory.
    std::call_once(once, [] { cv::setNumThreads(0); });
}

extern "C" int pixd__cv_resize(const pixd__pixels *src, pixd__pixels *dst) {
    return guarded([&] {
        cv::Mat s = wrap(src), d = wrap(dst);
        if (s.size() == d.size()) {
            s.copyTo(d);
            return;
        }
        // INTER_AREA averages every source pixel when shrinking (no
        // aliasing). Below 2:1, where the JPEG path's DCT scaling leaves
        // most jobs, OpenCV's INTER_AREA has no vectorized code and takes
        // 4.6 ms for 1000x750 -> 800x600; INTER_LINEAR then touches every
        // source pixel too, gives the same picture (47 dB apart) and takes
        // 0.7 ms. Enlarging is bicubic.
        double rx = static_cast<double>(s.cols) / d.cols, ry = static_cast<double>(s.rows) / d.rows;
        int how = rx < 1.0 || ry < 1.0 ? cv::INTER_CUBIC
                  : rx < 2.0 && ry < 2.0 ? cv::INTER_LINEAR
                                         : cv::INTER_AREA;
        cv::resize(s, d, d.size(), 0, 0, how);
    });
}

extern "C" int pixd__cv_orient(const pixd__pixels *src, int orientation, pixd__pixels *dst) {
    return guarded([&] {
        cv::Mat s = wrap(src), d = wrap(dst);
        switch (orientation) {
        case 2: cv::flip(s, d, 1); break;  // mirrored
        case 3: cv::flip(s, d, -1); break; // upside down
        case 4: cv::flip(s, d, 0); break;  // mirrored upside down
        case 5: cv::transpose(s, d); break;
        case 6: cv::rotate(s, d, cv::ROTATE_90_CLOCKWISE); break;
        case 7:
            cv::transpose(s, d);
            cv::flip(d, d, -1);
            break;
        case 8: cv::rotate(s, d, cv::ROTATE_90_COUNTERCLOCKWISE); break;
        default: s.copyTo(d); break;
        }
        // Every branch writes into d's memory in place: a size mismatch
        // would have made OpenCV reallocate, leaving dst untouched.
        CV_Assert(d.data == dst->data);
    });
}

extern "C" int pixd__cv_unsharp(pixd__pixels *img, float radius, float amount,
                                int threshold) {
    pixd__pixels blur_px;
    if (pixd__scratch_pixels(&blur_px, PIXD__SCRATCH_BLUR, img->width, img->height,
                             img->channels) < 0)
        return -ENOMEM;
    return guarded([&] {
        cv::Mat m = wrap(img), blur = wrap(&blur_px);
        cv::GaussianBlur(m, blur, cv::Size(), radius > 0.f ? radius : 0.01, 0,
                         cv::BORDER_REPLICATE);
        // Pillow's UnsharpMask: pixels that differ from their blur by less
        // than threshold stay; the others move away from it by amount.
        // Alpha is left as it is.
        int colour = img->channels == 4 ? 3 : img->channels;
        long a = std::lround(amount * 256.f); // fixed point, 8 fractional bits
        for (uint32_t y = 0; y < img->height; y++) {
            uint8_t *p = img->data + y * img->stride;
            const uint8_t *b = blur_px.data + y * blur_px.stride;
            for (uint32_t x = 0; x < img->width; x++) {
                for (int c = 0; c < colour; c++) {
                    int diff = p[c] - b[c];
                    if (std::abs(diff) >= threshold) {
                        long d = diff * a;
                        long v = p[c] + (d >= 0 ? d + 128 : d - 128) / 256;
                        p[c] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
                }
                p += img->channels;
                b += img->channels;
            }
        }
    });
}
