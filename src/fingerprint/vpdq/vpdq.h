// vPDQ video hashes (Meta ThreatExchange vpdq/): PDQ of sampled frames, the reference's
// hash-file text format, and its video-to-video match scoring (notes §2, vpdq/README.md).
// Pure: frames come in as RGB views from the caller (src/media/video_frames.h decodes).
// Thread-safety: free functions are stateless; a VpdqFrameHasher is used by one thread.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/pdq.h"
#include "chuqu/status.h"
#include "fingerprint/pdq/pdq_hasher.h"

namespace chuqu::vpdq {

// One hashed frame (reference vpdqFeature).
struct VpdqFeature {
  Hash256 hash;
  int frame_number = 0;  // 0-based decode index of the frame in its video stream
  int quality = 0;       // PDQ quality 0..100
  double timestamp = 0;  // seconds

  friend bool operator==(const VpdqFeature&, const VpdqFeature&) = default;
};

// The reference's timestamp: (float)frame_number / (float)fps (hasher.h), kept as double.
double ReferenceTimestamp(int frame_number, double fps);

// The reference's sampling step: every `FrameStep`-th decoded frame is hashed, with
// FrameStep = (int)(seconds_per_hash * fps), 0 meaning 1 (filehasher.cpp).
// seconds_per_hash <= 0 means every frame.
int FrameStep(double seconds_per_hash, double fps);

// Hashes RGB frames with PDQ (reference PDQFrameBufferHasher: full PDQ incl. the blur, the
// 64x64 skip, no pre-resize).
class VpdqFrameHasher {
 public:
  // Errors: kInvalidArgument for a bad view or a frame with a side under 5 pixels (the
  // reference refuses those frames too).
  Result<VpdqFeature> HashFrame(const pdq::RgbView& frame, int frame_number, double timestamp);

 private:
  pdq::PdqHasher hasher_;
};

// Hash-file text format (vpdq/cpp/vpdq/cpp/io/vpdqio.cpp): one line per frame,
// "frameNumber,quality,hex,timestamp" with the timestamp printed with 3 decimals, "\n" ends.
std::string FormatHashFile(std::span<const VpdqFeature> features);
std::string FormatHashLine(const VpdqFeature& feature);  // without the newline
// Parses that format. Accepts "\r\n" line ends and a missing final newline; an empty text is
// an empty list. Errors: kInvalidArgument naming the 1-based line for anything malformed
// (field count, non-numeric or out-of-range numbers, a hash that is not 64 hex digits).
Result<std::vector<VpdqFeature>> ParseHashFile(std::string_view text);

// Video-to-video match scoring. The reference has two variants; both are offered.
struct MatchOptions {
  int distance = 31;      // frame match threshold
  bool inclusive = true;  // distance <= threshold (pytx) or < threshold (C++ reference)
  int min_quality = 50;   // frames with quality below this are dropped first
  bool dedupe = true;     // drop repeated identical hashes (keeping the first) before filtering

  // C++ matchTwoHashBrute: distance < 31, quality >= 50, no de-duplication.
  static MatchOptions CppReference() { return {31, false, 50, false}; }
  // python-threatexchange match_VPDQ_hash_brute: de-duplicate, quality >= 50, distance <= 31.
  static MatchOptions Pytx() { return {31, true, 50, true}; }
};

struct MatchResult {
  double query_match_pct = 0;     // share of kept query frames with a match in `compared`
  double compared_match_pct = 0;  // share of kept compared frames with a match in `query`
  size_t query_frames = 0;        // frames kept after dedupe and the quality filter
  size_t compared_frames = 0;
  // True if either side kept no frame; both percentages are then 0 (the C++ reference's
  // answer; pytx divides by zero).
  bool empty = false;
};

MatchResult MatchVideos(std::span<const VpdqFeature> query, std::span<const VpdqFeature> compared,
                        const MatchOptions& options = {});

// pytx VPDQSignal acceptance: query% >= 80 and compared% >= 0.
inline constexpr double kPytxQueryMatchThresholdPct = 80.0;

}  // namespace chuqu::vpdq
