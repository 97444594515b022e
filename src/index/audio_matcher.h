// Audio copy detection over stored Chromaprint raw fingerprints (pure: audio is decoded and
// fingerprinted by the caller, src/media/audio.h = fpcalc -raw).
//
// A raw fingerprint is one 32-bit value per kChromaprintItemSeconds (~8.08 per second). Every
// registered value goes into an inverted index value -> (work, position). A query (one or
// more variants: the query audio resampled by known factors, to undo speed or pitch changes)
// looks up each value and its 32 one-bit neighbours; works are voted for by distinct matched
// query items, the best-voted are aligned in time (work_time = speed * query_time + offset,
// speed in [0.7, 1.4] to absorb tempo changes; temporal_align.h), and the alignment is
// verified as AcoustID does, by the bit error rate (popcount of XOR) of aligned values over
// sliding windows. The longest run of windows under `max_window_ber` is the segment; the
// score in [0,1] is (0.5 - its mean bit error rate) / 0.5, damped for segments shorter than
// `full_score_seconds`. Segment bounds in seconds: a value describes kChromaprintValueSpan
// seconds of audio from its start, so an inner bound is the centre of its first/last value's
// span; a segment that reaches either end of a fingerprint extends to that end.
//
// Thread-safety: Search is const and may run concurrently; Add needs exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::index {

// Chromaprint's default algorithm: 11025 Hz, a frame every 4096/3 samples; one value per frame.
inline constexpr double kChromaprintItemSeconds = 4096.0 / 3.0 / 11025.0;
// Audio one value depends on: 20 frames (16-frame classifiers over a 5-tap chroma filter),
// the last one 4096 samples long.
inline constexpr double kChromaprintValueSpan = (19 * 4096.0 / 3.0 + 4096.0) / 11025.0;

struct AudioFingerprint {
  std::vector<uint32_t> values;  // Chromaprint raw fingerprint (fpcalc -raw; sign-cast)
  // Query variants only: the audio was resampled so that one second of this fingerprint is
  // `time_scale` seconds of the original query (1 = as is).
  float time_scale = 1;
};

// Compact binary form ("CQAF", version 1, little-endian): time_scale (f32), count (u32),
// values (u32 each).
std::vector<uint8_t> EncodeAudioFingerprint(const AudioFingerprint& fp);
// kInvalidArgument for truncated, oversized or malformed data.
Result<AudioFingerprint> DecodeAudioFingerprint(std::span<const uint8_t> bytes);

struct AudioMatch {
  uint64_t work = 0;
  double score = 0;  // [0,1]
  double query_start = 0, query_end = 0;  // seconds in the (original) query
  double work_start = 0, work_end = 0;    // seconds in the work
  double speed = 1;                       // work seconds per query second
  double bit_error_rate = 0.5;            // mean over the segment
  int variant = 0;                        // index of the query variant that matched
};

struct AudioMatcherOptions {
  bool one_bit_neighbours = true;  // also look up each value with one bit flipped (32x work)
  size_t max_postings = 4096;      // values more common than this are not looked up
  size_t max_candidates = 32;      // (work, variant) pairs aligned per query
  int min_votes = 3;
  int window = 16;                 // items per bit-error window (~2 s)
  double max_window_ber = 0.35;    // a window matches below this bit error rate
  double full_score_seconds = 5;
  double min_score = 0.05;
  double min_speed = 0.7, max_speed = 1.4;
};

class AudioMatcher {
 public:
  explicit AudioMatcher(const AudioMatcherOptions& options = {});

  // kAlreadyExists for a work added before; kInvalidArgument for an empty fingerprint.
  [[nodiscard]] Status Add(uint64_t work, const AudioFingerprint& fp);
  size_t works() const { return works_.size(); }

  // `variants[0]` is normally the query as is. Ranked by score descending (then work id), at
  // most max_results, one match per work; empty for an empty index or no match.
  std::vector<AudioMatch> Search(std::span<const AudioFingerprint> variants,
                                 size_t max_results) const;
  std::vector<AudioMatch> Search(const AudioFingerprint& query, size_t max_results) const {
    return Search(std::span<const AudioFingerprint>(&query, 1), max_results);
  }

 private:
  struct Posting {
    uint32_t work_slot;
    uint32_t position;
  };
  AudioMatcherOptions options_;
  std::vector<uint64_t> work_ids_;             // slot -> work
  std::vector<std::vector<uint32_t>> values_;  // slot -> fingerprint
  std::unordered_map<uint64_t, uint32_t> works_;
  std::unordered_map<uint32_t, std::vector<Posting>> postings_;
};

}  // namespace chuqu::index
