// pixd-classify.so: ONNX classifiers through OpenCV dnn, which the daemon
// loads with dlopen only when --model is given (net_load.c). A cv::dnn::Net
// is not safe to share across threads, so a job borrows one from its
// model's pool of idle networks and gives it back after: a model never has
// more networks than jobs that ran it at once (at most --workers, as jobs.c
// caps CPU jobs), whichever of the pool's threads runs them. Exceptions stop
// at this boundary.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "net.h"

namespace {

struct Model {
    std::vector<char> onnx; // the file's bytes, read once at start
    pixd_net_params p;
    size_t outputs = 0;
    std::mutex mu;                  // guards idle
    std::vector<cv::dnn::Net> idle; // networks no job is using
};

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        cv::setNumThreads(0); // one job, one core (as in image/resample.cpp)
        // The reason for a bad model reaches the operator in pixd's own
        // message; OpenCV's logger would repeat it on stderr.
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    });
}

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
        .count();
}

template <typename F> int guarded(char *err, size_t errlen, int cv_rc, F &&f) {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        std::snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    } catch (const cv::Exception &e) {
        std::snprintf(err, errlen, "%s", e.err.c_str());
        return e.code == cv::Error::StsNoMem ? -ENOMEM : cv_rc;
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "%s", e.what());
        return -EIO;
    } catch (...) {
        std::snprintf(err, errlen, "unknown error");
        return -EIO;
    }
}

cv::dnn::Net build(const Model &m) {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(m.onnx.data(), m.onnx.size());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net;
}

cv::Mat blob(const Model &m, const cv::Mat &bgr) {
    const pixd_net_params &p = m.p;
    // blobFromImage subtracts the mean in the image's (BGR) order and
    // swaps it when swapRB is set, so it is given R,G,B only then.
    cv::Scalar mean = p.rgb ? cv::Scalar(p.mean[0], p.mean[1], p.mean[2])
                            : cv::Scalar(p.mean[2], p.mean[1], p.mean[0]);
    return cv::dnn::blobFromImage(bgr, p.scale, cv::Size(), mean, p.rgb != 0, false, CV_32F);
}

size_t forward_count(cv::dnn::Net &net, const cv::Mat &in, float *scores, size_t cap) {
    net.setInput(in);
    cv::Mat out = net.forward();
    if (!out.isContinuous())
        out = out.clone();
    if (out.depth() != CV_32F)
        out.convertTo(out, CV_32F);
    size_t n = out.total() * (size_t)out.channels();
    if (scores)
        std::memcpy(scores, out.ptr<float>(), (n < cap ? n : cap) * sizeof(float));
    return n;
}

int load(const char *path, const pixd_net_params *p, void **model, size_t *outputs, char *err,
         size_t errlen) {
    init();
    *model = nullptr;
    std::unique_ptr<Model> m;
    try {
        m.reset(new Model());
    } catch (...) {
        std::snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    m->p = *p;
    {
        std::FILE *f = std::fopen(path, "rb");
        if (!f) {
            int e = errno;
            std::snprintf(err, errlen, "cannot open %s: %s", path, std::strerror(e));
            return e == ENOENT ? -ENOENT : -EACCES;
        }
        int rc = guarded(err, errlen, -EIO, [&] {
            char buf[65536];
            size_t got;
            while ((got = std::fread(buf, 1, sizeof buf, f)) > 0)
                m->onnx.insert(m->onnx.end(), buf, buf + got);
            if (std::ferror(f)) {
                std::snprintf(err, errlen, "cannot read %s", path);
                return -EIO;
            }
            return 0;
        });
        std::fclose(f);
        if (rc < 0)
            return rc;
    }
    int rc = guarded(err, errlen, -EINVAL, [&] {
        cv::dnn::Net net = build(*m);
        cv::Mat zeros((int)p->height, (int)p->width, CV_8UC3, cv::Scalar::all(0));
        m->outputs = forward_count(net, blob(*m, zeros), nullptr, 0);
        if (m->outputs == 0) {
            std::snprintf(err, errlen, "the network gives no output");
            return -EINVAL;
        }
        m->idle.push_back(std::move(net)); // the first job's
        return 0;
    });
    if (rc < 0)
        return rc;
    *outputs = m->outputs;
    *model = m.release();
    return 0;
}

int run(void *model, const pixd_net_pixels *px, float *scores, size_t outputs, double *pre_ms,
        double *infer_ms, char *err, size_t errlen) {
    Model &m = *static_cast<Model *>(model);
    init();
    return guarded(err, errlen, -EIO, [&] {
        auto t0 = std::chrono::steady_clock::now();
        static const int types[5] = {0, CV_8UC1, 0, CV_8UC3, CV_8UC4};
        if (px->channels < 1 || px->channels > 4 || !types[px->channels]) {
            std::snprintf(err, errlen, "unsupported pixel layout");
            return -EINVAL;
        }
        cv::Mat src((int)px->height, (int)px->width, types[px->channels],
                    const_cast<uint8_t *>(px->data), px->stride);
        cv::Mat bgr, sized;
        if (px->channels == 1)
            cv::cvtColor(src, bgr, cv::COLOR_GRAY2BGR);
        else if (px->channels == 4)
            cv::cvtColor(src, bgr, cv::COLOR_BGRA2BGR);
        else
            bgr = src;
        cv::Size to((int)m.p.width, (int)m.p.height);
        // Area averaging when shrinking (no aliasing); bilinear otherwise.
        int interp = bgr.cols >= to.width && bgr.rows >= to.height ? cv::INTER_AREA
                                                                    : cv::INTER_LINEAR;
        if (bgr.size() != to)
            cv::resize(bgr, sized, to, 0, 0, interp);
        else
            sized = bgr;
        cv::Mat in = blob(m, sized);
        *pre_ms = ms_since(t0);

        cv::dnn::Net net;
        {
            std::lock_guard<std::mutex> lock(m.mu);
            if (!m.idle.empty()) {
                net = std::move(m.idle.back());
                m.idle.pop_back();
            }
        }
        // Built outside the lock, and before the clock starts: building is a
        // one-off per concurrent job, not what inference costs.
        if (net.empty())
            net = build(m);
        auto t1 = std::chrono::steady_clock::now();
        // A network that throws is dropped here, not put back.
        size_t n = forward_count(net, in, scores, outputs);
        *infer_ms = ms_since(t1);
        {
            std::lock_guard<std::mutex> lock(m.mu);
            m.idle.push_back(std::move(net));
        }
        if (n != outputs) {
            std::snprintf(err, errlen, "the network gave %zu scores, %zu at load time", n,
                          outputs);
            return -EIO;
        }
        return 0;
    });
}

void free_model(void *model) { delete static_cast<Model *>(model); }

} // namespace

extern "C" __attribute__((visibility("default"))) const pixd_net_ops pixd_net_v1 = {
    PIXD_NET_ABI, load, run, free_model};
