#include "frames.hpp"

#include "output.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace pixctl {

namespace {

void expect(const pixproto::Frame &f, uint8_t type, const char *during)
{
    if (f.type != type)
        throw pixproto::Error(PIXPROTO_EBADTYPE, std::string("expected ") + pixproto::type_name(type) + " " +
                                                     during + ", got " + f.type_name(),
                              f.id);
}

CameraInfo parse_camera(const pixproto::Field &outer)
{
    CameraInfo cam;
    for (const pixproto::Field &f : pixproto::FieldReader(outer.data(), outer.size())) {
        switch (f.tag()) {
        case PIXPROTO_TAG_NAME: cam.name = f.str(); break;
        case PIXPROTO_TAG_SOURCE: cam.source = f.str(); break;
        case PIXPROTO_TAG_STATE: cam.state = f.str(); break;
        case PIXPROTO_TAG_WIDTH: cam.width = f.u64(); break;
        case PIXPROTO_TAG_HEIGHT: cam.height = f.u64(); break;
        case PIXPROTO_TAG_FPS_MILLI: cam.fps_milli = f.u64(); break;
        case PIXPROTO_TAG_SUBSCRIBERS: cam.subscribers = f.u64(); break;
        case PIXPROTO_TAG_FRAMES: cam.frames = f.u64(); break;
        case PIXPROTO_TAG_DELIVERED: cam.delivered = f.u64(); break;
        case PIXPROTO_TAG_DROPPED: cam.dropped = f.u64(); break;
        default: break; // a newer server's field
        }
    }
    return cam;
}

} // namespace

std::vector<CameraInfo> list_cameras(pixproto::Client &c)
{
    pixproto::Frame reply = c.request(PIXPROTO_T_CAMS);
    expect(reply, PIXPROTO_T_CAMS_REPLY, "in answer to CAMS");
    std::vector<CameraInfo> cams;
    for (const pixproto::Field &f : pixproto::FieldReader(reply))
        if (f.tag() == PIXPROTO_TAG_CAMERA)
            cams.push_back(parse_camera(f));
    return cams;
}

uint32_t start_watch(pixproto::Client &c, const std::string &name, uint64_t fps, uint64_t width,
                     uint64_t frames)
{
    pixproto::Fields body;
    body.str(PIXPROTO_TAG_NAME, name);
    if (fps)
        body.u64(PIXPROTO_TAG_FPS, fps);
    if (width)
        body.u64(PIXPROTO_TAG_WIDTH, width);
    if (frames)
        body.u64(PIXPROTO_TAG_FRAMES, frames);
    return c.send(PIXPROTO_T_WATCH, body.data(), body.size());
}

uint32_t start_snap(pixproto::Client &c, const std::string &name, uint64_t width)
{
    pixproto::Fields body;
    body.str(PIXPROTO_TAG_NAME, name);
    if (width)
        body.u64(PIXPROTO_TAG_WIDTH, width);
    return c.send(PIXPROTO_T_SNAP, body.data(), body.size());
}

bool FrameAssembler::add(pixproto::Frame &&f)
{
    if (!in_frame_) {
        if (f.type == PIXPROTO_T_END) {
            ended_ = true;
            return false;
        }
        if (f.type == PIXPROTO_T_CAM_STATE) {
            state_.clear();
            why_.clear();
            for (const pixproto::Field &fl : pixproto::FieldReader(f)) {
                if (fl.tag() == PIXPROTO_TAG_STATE)
                    state_ = fl.str();
                else if (fl.tag() == PIXPROTO_TAG_MESSAGE)
                    why_ = fl.str();
            }
            state_news_ = true;
            return false;
        }
        expect(f, PIXPROTO_T_FRAME, "in a video stream");
        building_ = VideoFrame();
        size_ = 0;
        for (const pixproto::Field &fl : pixproto::FieldReader(f)) {
            switch (fl.tag()) {
            case PIXPROTO_TAG_SEQ: building_.seq = fl.u64(); break;
            case PIXPROTO_TAG_TS_US: building_.ts_us = fl.u64(); break;
            case PIXPROTO_TAG_WIDTH: building_.width = fl.u64(); break;
            case PIXPROTO_TAG_HEIGHT: building_.height = fl.u64(); break;
            case PIXPROTO_TAG_SIZE: size_ = fl.u64(); break;
            default: break;
            }
        }
        if (!f.more())
            throw pixproto::Error(PIXPROTO_EBADFRAME, "a FRAME without the data that should follow it", f.id);
        // SIZE is the server's word; the reservation is capped all the same.
        building_.jpeg.reserve(static_cast<std::size_t>(std::min<uint64_t>(size_, 64u << 20)));
        in_frame_ = true;
        return false;
    }
    expect(f, PIXPROTO_T_DATA, "after FRAME");
    if (f.body.size() > size_ - building_.jpeg.size())
        throw pixproto::Error(PIXPROTO_EINTEGRITY, "a video frame longer than the " + std::to_string(size_) +
                                                       " bytes announced", f.id);
    building_.jpeg.insert(building_.jpeg.end(), f.body.begin(), f.body.end());
    if (f.more())
        return false;
    in_frame_ = false;
    if (building_.jpeg.size() != size_)
        throw pixproto::Error(PIXPROTO_EINTEGRITY, "a video frame of " + std::to_string(building_.jpeg.size()) +
                                                       " bytes, announced as " + std::to_string(size_), f.id);
    done_ = std::move(building_);
    return true;
}

bool FrameAssembler::take_state(std::string &state, std::string &why)
{
    if (!state_news_)
        return false;
    state_news_ = false;
    state = state_;
    why = why_;
    return true;
}

std::optional<VideoFrame> receive_video_frame(pixproto::Client &c, uint32_t id)
{
    FrameAssembler a;
    for (;;) {
        if (a.add(c.receive(id)))
            return a.take();
        if (a.ended()) {
            c.finish(id);
            return std::nullopt;
        }
    }
}

uint32_t start_push(pixproto::Client &c, const std::string &name)
{
    std::vector<uint8_t> body = pixproto::Fields().str(PIXPROTO_TAG_NAME, name).vector();
    uint32_t id = c.send(PIXPROTO_T_PUSH, body);
    pixproto::Frame reply = c.receive(id);
    expect(reply, PIXPROTO_T_PUSHING, "in answer to PUSH");
    return id;
}

void send_video_frame(pixproto::Client &c, uint32_t id, const uint8_t *jpeg, std::size_t len, uint64_t ts_us)
{
    pixproto::Fields head;
    head.u64(PIXPROTO_TAG_SIZE, len).u64(PIXPROTO_TAG_TS_US, ts_us);
    c.send_frame(PIXPROTO_T_FRAME, id, head.data(), head.size(), PIXPROTO_F_MORE);
    std::size_t off = 0;
    do {
        std::size_t n = std::min<std::size_t>(len - off, PIXPROTO_CHUNK);
        c.send_frame(PIXPROTO_T_DATA, id, jpeg + off, n, off + n < len ? PIXPROTO_F_MORE : 0);
        off += n;
    } while (off < len);
}

uint64_t now_us()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::size_t StreamStats::bucket(uint64_t us) noexcept
{
    if (us < 1)
        return 0;
    auto b = static_cast<std::size_t>(std::log(static_cast<double>(us)) / std::log(1.02)) + 1;
    return std::min(b, nbuckets - 1);
}

void StreamStats::add(const VideoFrame &f, uint64_t received_us)
{
    uint64_t latency = received_us > f.ts_us ? received_us - f.ts_us : 0;
    ++hist_[bucket(latency)];
    max_latency_us_ = std::max(max_latency_us_, latency);
    if (frames_ == 0) {
        first_seq_ = f.seq;
        first_us_ = received_us;
        first_ts_ = f.ts_us;
    }
    last_ts_ = f.ts_us;
    ++frames_;
    bytes_ += f.jpeg.size();
    last_seq_ = f.seq;
    last_us_ = received_us;
}

uint64_t StreamStats::missed() const noexcept
{
    if (frames_ == 0 || last_seq_ < first_seq_)
        return 0;
    uint64_t span = last_seq_ - first_seq_ + 1;
    return span > frames_ ? span - frames_ : 0;
}

double StreamStats::seconds() const noexcept
{
    return frames_ ? static_cast<double>(last_us_ - first_us_) / 1e6 : 0.0;
}

double StreamStats::fps() const noexcept
{
    double s = last_ts_ > first_ts_ ? static_cast<double>(last_ts_ - first_ts_) / 1e6 : 0.0;
    return frames_ >= 2 && s > 0 ? static_cast<double>(frames_ - 1) / s : 0.0;
}

double StreamStats::latency_ms(double q) const noexcept
{
    if (frames_ == 0)
        return std::numeric_limits<double>::quiet_NaN();
    // Nearest rank: the smallest latency that q of the frames do not exceed.
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(frames_)));
    rank = std::clamp<uint64_t>(rank, 1, frames_);
    uint64_t seen = 0;
    for (std::size_t b = 0; b < nbuckets; ++b) {
        seen += hist_[b];
        if (seen >= rank) {
            if (b == 0)
                return 0.0;
            // The middle of the bucket [1.02^(b-1), 1.02^b), capped by the
            // largest latency seen.
            double us = std::pow(1.02, static_cast<double>(b) - 0.5);
            return std::min(us, static_cast<double>(max_latency_us_)) / 1000.0;
        }
    }
    return max_latency_us_ / 1000.0;
}

std::string latency_text(double ms)
{
    if (std::isnan(ms))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f ms" : ms < 1000 ? "%.1f ms" : "%.0f ms", ms);
    return buf;
}

} // namespace pixctl
