// What cams, snap, watch, push and view share: the camera messages of the
// native protocol (CAMS, WATCH, SNAP, PUSH and the video frames they carry)
// over a pixproto::Client, and the rate and latency of a stream.
//
// A video frame on the wire is a FRAME frame (F_MORE; SEQ, TS_US, WIDTH,
// HEIGHT, SIZE) followed by DATA frames holding the JPEG, F_MORE on all but
// the last; a stream ends with END. See pixd-protocol(7), "CAMERAS".
#ifndef PIXCTL_FRAMES_HPP
#define PIXCTL_FRAMES_HPP

#include <pixproto_client.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace pixctl {

// One camera of CAMS_REPLY; a field the server did not send stays empty or 0.
struct CameraInfo {
    std::string name, source, state; // state: starting, online, offline
    uint64_t width = 0, height = 0;
    uint64_t fps_milli = 0;          // measured frames per 1000 s
    uint64_t subscribers = 0, frames = 0, delivered = 0, dropped = 0;
};

// CAMS: the server's cameras, in the order it lists them.
std::vector<CameraInfo> list_cameras(pixproto::Client &c);

struct VideoFrame {
    uint64_t seq = 0;   // per camera, from 1
    uint64_t ts_us = 0; // capture time, microseconds since the Unix epoch
    uint64_t width = 0, height = 0;
    std::vector<uint8_t> jpeg;
};

// WATCH name: fps (0: every frame), width (0: full size), frames (0: until
// cancelled). Returns the request id; the frames follow on it.
uint32_t start_watch(pixproto::Client &c, const std::string &name, uint64_t fps, uint64_t width,
                     uint64_t frames);
// SNAP name at width (0: full size): one video frame, then END.
uint32_t start_snap(pixproto::Client &c, const std::string &name, uint64_t width);

// Puts the video frames of one WATCH or SNAP stream together from its
// frames as they come, so that several streams can share a connection.
class FrameAssembler {
public:
    // Takes the next frame of the stream. Returns true when it completed a
    // video frame, which take() then hands out. Throws pixproto::Error for
    // a frame that does not belong where it came (the server broke the
    // protocol).
    bool add(pixproto::Frame &&f);
    // END came: the stream is over.
    bool ended() const noexcept { return ended_; }
    VideoFrame take() { return std::move(done_); }
    // CAM_STATE came (the camera went offline, or is back): true once per
    // event, with the state ("offline", "online") and the server's reason.
    bool take_state(std::string &state, std::string &why);

private:
    VideoFrame building_, done_;
    std::string state_, why_;
    bool state_news_ = false;
    uint64_t size_ = 0;
    bool in_frame_ = false, ended_ = false;
};

// Waits for the next video frame of stream id; nullopt at END.
std::optional<VideoFrame> receive_video_frame(pixproto::Client &c, uint32_t id);

// PUSH name: returns the id once the server answered PUSHING (throws
// pixproto::Error, e.g. EXISTS, if it refused).
uint32_t start_push(pixproto::Client &c, const std::string &name);
// Sends one video frame of a PUSH stream: FRAME (SIZE, TS_US) and the JPEG
// in DATA chunks. jpeg stays the caller's.
void send_video_frame(pixproto::Client &c, uint32_t id, const uint8_t *jpeg, std::size_t len, uint64_t ts_us);

// Wall-clock time in microseconds since the Unix epoch, as TS_US.
uint64_t now_us();

// Rate and latency of a stream of frames. Latency is receipt time minus
// capture time (TS_US): it assumes both clocks agree, so across machines it
// is as good as their clock synchronisation; a negative one counts as 0.
// Percentiles come from a histogram with 2% wide buckets, so memory stays
// the same however long a watch runs.
class StreamStats {
public:
    void add(const VideoFrame &f, uint64_t received_us);

    uint64_t frames() const noexcept { return frames_; }
    uint64_t bytes() const noexcept { return bytes_; }
    uint64_t first_seq() const noexcept { return first_seq_; }
    uint64_t last_seq() const noexcept { return last_seq_; }
    // Frames of the camera between the first and the last received that
    // this stream did not get (the fps cap, or skipped because the client
    // did not keep up).
    uint64_t missed() const noexcept;
    // Seconds from the first frame received to the last.
    double seconds() const noexcept;
    // Frames per second, over the capture times of the first and the last
    // frame (so that a late first frame, or a burst, does not skew it); 0
    // with fewer than two frames.
    double fps() const noexcept;
    // Latency in milliseconds at quantile q (0..1); NaN without frames.
    double latency_ms(double q) const noexcept;
    double max_latency_ms() const noexcept { return frames_ ? max_latency_us_ / 1000.0 : std::numeric_limits<double>::quiet_NaN(); }

private:
    static constexpr std::size_t nbuckets = 1200; // 1.02^1200 us: beyond a day
    static std::size_t bucket(uint64_t us) noexcept;
    std::array<uint32_t, nbuckets> hist_{};
    uint64_t frames_ = 0, bytes_ = 0, first_seq_ = 0, last_seq_ = 0;
    uint64_t first_us_ = 0, last_us_ = 0, max_latency_us_ = 0;
    uint64_t first_ts_ = 0, last_ts_ = 0; // capture times
};

// "12.3 ms", or "-" for NaN.
std::string latency_text(double ms);

} // namespace pixctl

#endif
