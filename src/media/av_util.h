// FFmpeg plumbing private to src/media: opening inputs with limits, error strings.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <chrono>
#include <memory>
#include <string>

#include "chuqu/status.h"

namespace chuqu::media::internal {

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;

std::string AvErrorString(int err);

// An opened input whose blocking I/O gives up after `deadline` (FFmpeg's interrupt
// callback), so a stalled read cannot hang the caller.
struct AvInput {
  FormatPtr format;
  std::unique_ptr<std::chrono::steady_clock::time_point> deadline;
};

// Opens `path`, reads stream info. FFmpeg logging is silenced once per process.
Result<AvInput> OpenAvInput(const std::string& path, std::chrono::seconds timeout);

// Opens a decoder for stream `index` (single-threaded, bounded memory).
Result<CodecPtr> OpenDecoder(AVFormatContext* format, int index);

// The container or stream "title" tag (iscc-sdk's iscc_name/title/track/... order
// reduced to iscc_name, title), or "".
std::string AvTitle(AVFormatContext* format, int stream_index);

// True if the stream is a real video (not cover art / attached picture).
bool IsRealVideo(const AVStream* stream);

}  // namespace chuqu::media::internal
