// Video frames as 8-bit RGB for vPDQ: FFmpeg demux + decode + sws_scale to RGB24 at the
// frame's native size, frames chosen at a sampling rate. Follows the vPDQ reference
// (ThreatExchange vpdq/cpp/vpdq/cpp/hashing/{ffmpegwrapper,filehasher}.cpp; notes §2):
// first video stream, frame number = 0-based decode index, SWS_AREA, frame rate =
// avg_frame_rate else r_frame_rate, every (int)(seconds * fps)-th frame, timestamp =
// (float)n / (float)fps. When the stream has no usable frame rate, frames are chosen by
// their presentation timestamps instead (SamplingClock::kTimestamp).
//
// Every loop is bounded (packet, error and frame budgets) and every size is checked before
// memory is allocated. Thread-safety: one reader per thread; FFmpeg logging is silenced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chuqu/status.h"

namespace chuqu::media {

struct VideoFrameOptions {
  // Seconds between hashed frames (vPDQ default 1). <= 0 selects every frame.
  double seconds_per_frame = 1.0;
  // Frames larger than this are refused with kResourceExhausted (8K UHD fits).
  int max_width = 16384;
  int max_height = 16384;
  int64_t max_pixels = 40'000'000;
  // Decoding stops with kResourceExhausted after this many decoded frames (about 9 hours
  // at 30 fps), so a hostile file cannot keep the reader busy forever.
  int64_t max_decoded_frames = 1'000'000;
  // Packets that fail to decode are skipped; more than this many is kInvalidArgument.
  int max_decode_errors = 64;
  // FFmpeg decoder threads: 1 keeps the core single-threaded; 0 lets FFmpeg choose.
  int decoder_threads = 1;
  // Choose frames by presentation timestamp even when the stream declares a frame rate
  // (variable-frame-rate sources). Off = the reference's frame-index sampling.
  bool by_timestamp = false;
};

enum class SamplingClock : uint8_t {
  kFrameIndex,  // reference semantics: decode index and the stream's frame rate
  kTimestamp,   // no usable frame rate: presentation timestamps
};

struct VideoInfo {
  int width = 0;   // coded size from the container (frames may differ)
  int height = 0;
  double fps = 0;  // 0 when unknown
  SamplingClock clock = SamplingClock::kFrameIndex;
  int frame_step = 1;  // every frame_step-th decoded frame (kFrameIndex only)
  std::string codec;
  double duration_seconds = 0;  // 0 when unknown
};

// A decoded frame, borrowed: valid only during the callback.
struct RgbFrame {
  const uint8_t* data = nullptr;  // RGB24, row-major
  int width = 0;
  int height = 0;
  size_t stride = 0;      // bytes per row (>= 3 * width; FFmpeg pads rows)
  int frame_number = 0;   // 0-based decode index
  double timestamp = 0;   // seconds (see the header comment)
};

struct VideoReadStats {
  int64_t packets = 0;
  int64_t frames_decoded = 0;
  int64_t frames_delivered = 0;
  int64_t decode_errors = 0;
  bool truncated = false;  // the demuxer stopped with an error before a clean end of file
  double decode_seconds = 0;   // demux + decode (wall clock)
  double convert_seconds = 0;  // sws_scale to RGB24
};

class VideoFrameReader {
 public:
  // Opens `path` and its first video stream. Errors: kNotFound/kIOError for unreadable
  // files, kInvalidArgument for data FFmpeg cannot parse (incl. zero-length files),
  // kUnsupported for a file without a video stream or with an unknown codec,
  // kResourceExhausted for frames over the size limits.
  static Result<std::unique_ptr<VideoFrameReader>> Open(const std::string& path,
                                                        const VideoFrameOptions& options = {});
  ~VideoFrameReader();
  VideoFrameReader(const VideoFrameReader&) = delete;
  VideoFrameReader& operator=(const VideoFrameReader&) = delete;

  const VideoInfo& info() const;

  // Decodes the stream once, calling `on_frame` for each selected frame in decode order.
  // Stops early (returning that status) if on_frame returns non-OK. A stream that yields
  // no decodable frame is kInvalidArgument ("no decodable video frames"). Call once.
  Status ForEachFrame(const std::function<Status(const RgbFrame&)>& on_frame);

  const VideoReadStats& stats() const;

 private:
  struct Impl;
  explicit VideoFrameReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chuqu::media
