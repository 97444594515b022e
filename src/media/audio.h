// Audio: FFmpeg decode → 11025 Hz mono S16 (libswresample with Chromaprint's "compatible
// mode" settings, as fpcalc's FFmpegAudioReader) → Chromaprint raw fingerprint with the
// default algorithm. Equals `fpcalc -raw -signed -length 0 FILE`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::media {

struct AudioOptions {
  double max_seconds = 0;  // 0 = whole file (fpcalc -length 0); otherwise stop after this
  std::chrono::seconds timeout{600};  // wall-clock bound on reading the input
};

struct AudioContent {
  std::vector<int32_t> chromaprint;  // raw fingerprint, signed (fpcalc -signed)
  double seconds = 0;                // decoded duration
  std::string title;                 // container/stream "iscc_name" or "title" tag
};

// Errors: unreadable path, not an audio/video container, no audio stream, no decoder,
// no decodable audio (kInvalidArgument / kUnsupported with a reason).
Result<AudioContent> ExtractAudio(const std::string& path, const AudioOptions& options = {});

}  // namespace chuqu::media
