// Video copy detection over stored vPDQ fingerprints (pure: frames are decoded and hashed by
// the caller, e.g. src/media/video_frames.h + pdq::PdqHasher::HashRgbDihedral).
//
// Every registered frame's PDQ hash goes into one 256-bit Hamming index (MIH). A query's frames
// (all 8 dihedral variants, so flips and 90-degree rotations match; frames under
// min_quality skipped) are looked up within `radius`; works are voted for by distinct matched
// query frames; the best-voted works are aligned in time: the best line
// work_time = speed * query_time + offset with speed in [0.5, 2] (Hough vote, least-squares
// refit; temporal_align.h). The inliers give one segment per work,
// [query_start, query_end] <-> [work_start, work_end] in seconds, and a score in [0,1] from
// the share of the segment's usable query frames that match on the line, damped for segments
// shorter than `full_score_seconds`.
//
// Regions (VideoView): besides whole frames, a fingerprint may carry hashes of one fixed
// region of every frame. A reference keeps its centred crops (indexed like whole frames, so a
// copy that crops and rescales the picture matches); a query adds region proposals (centred
// crops, a letterbox cut, picture-in-picture insets found by media::ExtractVideoFingerprint).
// Every query view is searched against every indexed hash; the frame pairs of all views
// (and of whole frames in the same orientation) are aligned together, so a copy seen through
// different regions at different times gives one segment.
//
// Thread-safety: Search is const and may run concurrently; Add needs exclusive access.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/pdq.h"
#include "chuqu/status.h"
#include "index/hamming_index.h"

namespace chuqu::index {

inline constexpr int kVideoDihedrals = 8;

// One sampled frame. References use pdq[0] only (Encode stores only it); queries use all 8
// (pdq::Dihedral order, index 0 = the frame as is); unused variants may be left zero when
// `dihedrals` of the fingerprint is 1.
struct VideoFrameHash {
  float time = 0;     // seconds from the start
  uint8_t quality = 0;  // PDQ quality 0..100
  std::array<Hash256, kVideoDihedrals> pdq{};
};

// A rectangle of the frame in fractions of its width and height.
struct VideoRegion {
  float x = 0, y = 0, width = 1, height = 1;
  bool operator==(const VideoRegion&) const = default;
};

struct VideoRegionHash {
  uint8_t quality = 0;  // 0 = no hash for this frame (e.g. outside the analysed span)
  Hash256 pdq;
};

// PDQ hashes of one region of every frame (no dihedral variants).
struct VideoView {
  VideoRegion region;
  // Kept in a reference's stored form and indexed by Add (centred crops); false for
  // query-only proposals.
  bool reference = false;
  std::vector<VideoRegionHash> hashes;  // one per frame, in the order of `frames`
};

inline constexpr size_t kMaxVideoViews = 16;

// A video's fingerprint: frames in time order, sampled every `frame_interval` seconds.
struct VideoFingerprint {
  float duration = 0;        // seconds
  float frame_interval = 0.5f;
  int dihedrals = 1;          // how many of pdq[] are filled: 1 (reference) or 8 (query)
  std::vector<VideoFrameHash> frames;
  std::vector<VideoView> views;  // at most kMaxVideoViews
};

// Compact binary form ("CQVF", little-endian): header (magic, version, dihedrals, duration,
// frame interval, frame count), then per frame time (f32), quality (u8), pdq[0..dihedrals)
// (32 bytes each): ~37 bytes per reference frame. Version 2 (written only when there are
// views to store) appends the view count (u8, 1..16) and per view: flags (u8, bit 0 =
// reference), region x, y, width, height (f32), then per frame quality (u8) and hash (32
// bytes). A reference form (dihedrals 1) stores only reference views: Encode drops the
// others. Version 1 data (no views) still decodes. Times, duration and interval must lie
// within [0, 1 week].
// REQUIRES: every view has one hash per frame.
std::vector<uint8_t> EncodeVideoFingerprint(const VideoFingerprint& fp);
// kInvalidArgument naming what is wrong for truncated, oversized, malformed or non-canonical
// data (a decoded value re-encodes to the same bytes).
Result<VideoFingerprint> DecodeVideoFingerprint(std::span<const uint8_t> bytes);

struct VideoSegment {
  double query_start = 0, query_end = 0;  // seconds
  double work_start = 0, work_end = 0;
};

struct VideoMatch {
  uint64_t work = 0;
  double score = 0;         // [0,1]
  VideoSegment segment;
  double speed = 1;         // work seconds per query second
  int dihedral = 0;         // the query variant that matched (pdq::Dihedral)
  // The route of most of the segment's matched frames: the query view (0 whole frames,
  // i + 1 views[i]) and its region, and the region of the work's frames it matched (whole
  // frames or a stored crop).
  int view = 0;
  VideoRegion query_region;
  VideoRegion work_region;
  int matched_frames = 0;   // distinct query frames on the line
  int query_frames = 0;     // usable query frames inside the query segment
};

struct VideoMatcherOptions {
  uint32_t radius = 48;          // PDQ distance for a frame match (of 256)
  int min_quality = 50;          // frames below are neither indexed nor queried
  size_t max_hits_per_frame = 64;  // nearest registered frames kept per query frame variant
  size_t max_candidates = 64;    // works aligned per query (by votes)
  int min_matched_frames = 2;
  double full_score_seconds = 3;  // a shorter matched segment scores proportionally less
  double min_score = 0.05;       // matches below are dropped
  // A segment is extended frame by frame along its line through query frames within this
  // distance of the work frame at the aligned time, or both below min_quality (flat or
  // dark scenes are not indexed but still continue a copy), skipping failing frames while
  // the next accepted one is within 2 s (4 frame intervals if longer). Unrelated frames are
  // ~128 apart; 72 keeps a cropped copy with a caption attached (docs/benchmarks.md).
  uint32_t extend_radius = 72;
};

class VideoMatcher {
 public:
  explicit VideoMatcher(const VideoMatcherOptions& options = {});
  ~VideoMatcher();
  VideoMatcher(VideoMatcher&&) noexcept;
  VideoMatcher& operator=(VideoMatcher&&) noexcept;

  // Indexes the frames of `work` (pdq[0] of frames with quality >= min_quality) and its
  // reference views' hashes (query-only views are ignored). kAlreadyExists for a work added
  // before; kInvalidArgument for a work of no usable frame or a view whose hash count is not
  // the frame count.
  [[nodiscard]] Status Add(uint64_t work, const VideoFingerprint& fp);
  size_t works() const { return works_.size(); }
  size_t frames() const;  // indexed hashes (whole frames and reference views)

  // Searches the whole frames (all `dihedrals` variants) and every view of `query`; one match
  // per work (its best segment). Ranked by score descending (then work id), at most
  // max_results; empty for an empty index, an empty query or no match.
  std::vector<VideoMatch> Search(const VideoFingerprint& query, size_t max_results) const;

 private:
  struct StoredFrame {
    float time = 0;
    uint8_t quality = 0;
    Hash256 pdq;
  };
  struct WorkData {
    float duration = 0;
    // [0] whole frames, [i + 1] reference view i: every frame (low quality too), by time,
    // for extension.
    std::vector<std::vector<StoredFrame>> tracks;
    std::vector<VideoRegion> regions;  // per track
  };
  struct FrameRef {
    uint64_t work = 0;
    float time = 0;
    uint8_t track = 0;
  };

  VideoMatcherOptions options_;
  std::unique_ptr<MihHammingIndex<4>> index_;
  std::vector<FrameRef> frame_refs_;  // index id -> frame
  std::unordered_map<uint64_t, WorkData> works_;
};

}  // namespace chuqu::index
