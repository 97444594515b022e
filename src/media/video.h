// Video: MPEG-7 video signatures (ISO/IEC 15938-3) from FFmpeg's signature filter, as
// iscc-sdk runs `ffmpeg -i FILE -vf fps=fps=5,signature=format=binary:filename=F -f null -`
// (display-matrix rotation applied like the ffmpeg CLI), then the binary file parsed as
// iscc_sdk/mp7.py does (notes/iscc.md §5 Video).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::media {

// 380 ternary values (0..2); the same type as chuqu::FrameSignature in chuqu/iscc.h.
using VideoFrameSignature = std::array<uint8_t, 380>;

struct VideoOptions {
  double max_seconds = 0;  // 0 = whole video; otherwise frames after this time are ignored
  std::chrono::seconds timeout{1800};  // wall-clock bound on reading the input
};

struct VideoContent {
  std::vector<VideoFrameSignature> frames;  // one per 1/5 s
  std::string title;                        // container/stream "iscc_name" or "title" tag
};

// Errors: no video stream, no decoder, no decodable frames (including streams without
// frame rate or timestamps), corrupt input.
Result<VideoContent> ExtractVideo(const std::string& path, const VideoOptions& options = {});

// Parses the signature filter's binary output. kCorruption if it is truncated.
Result<std::vector<VideoFrameSignature>> ParseMpeg7Signature(std::string_view bytes);

}  // namespace chuqu::media
