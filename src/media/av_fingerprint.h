// Fingerprints for the video and audio matchers (src/index/video_matcher.h, audio_matcher.h)
// from media files, built on what src/media already decodes.
// Thread-safety: every function is independent; no shared state.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chuqu/status.h"
#include "index/audio_matcher.h"
#include "index/video_matcher.h"

namespace chuqu::media {

struct VideoFingerprintOptions {
  // vPDQ-style frames every `seconds_per_frame` (0.5 s: segment bounds within 1 s need
  // >= 2 fps, docs/benchmarks.md "Video copy detection").
  double seconds_per_frame = 0.5;
  // 1 for a reference; 8 for a query (all PDQ dihedral variants, from one DCT, and the
  // query-only views below).
  int dihedrals = 1;
  // Centred crops (side fractions) hashed for every frame and stored with a reference: a
  // copy cropped to a fraction a of the sides and rescaled matches crop c directly when
  // a ~ c, or through a query crop q when a ~ c / q.
  std::vector<float> reference_crops = {0.7f};
  // Query only: centred crops (q above; with c = 0.7 they cover a = 0.7 .. 0.875 in ~6 %
  // steps, PDQ's tolerance to a zoom), ...
  std::vector<float> query_crops = {0.95f, 0.9f, 0.85f, 0.8f};
  // ... the centred 16:9 and 4:3 regions when the frames are taller or wider than that by
  // more than 5 % (letterbox or pillarbox bars cut away), ...
  bool letterbox_view = true;
  // ... and picture-in-picture insets (video_regions.h FindInsets; up to max_insets views),
  // found in and hashed for the first `inset_frames` sampled frames (their luma is kept in
  // memory, at most 640x640 per frame).
  int max_insets = 4;
  int inset_frames = 240;
};

// The fingerprint of a video file for index::VideoMatcher: whole frames and the views above.
// Errors as VideoFrameReader::Open/ForEachFrame (unreadable, no video stream, oversized
// frames).
Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        const VideoFingerprintOptions& options);
// Same with default options except these two.
Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        double seconds_per_frame = 0.5,
                                                        int dihedrals = 1);

// The Chromaprint raw fingerprint of a file (= fpcalc -raw), as the audio matcher's value type.
Result<index::AudioFingerprint> ExtractAudioFingerprint(const std::string& path);

// Query variants from 11025 Hz mono PCM: for each factor f, the audio resampled so it plays f
// times faster (linear interpolation), fingerprinted, with time_scale = f. Factors around 1
// undo speed changes; factors 2^(k/12) turn a pitch shift of k semitones into a tempo change the
// matcher's alignment absorbs. kInvalidArgument for a factor outside [0.5, 2].
Result<std::vector<index::AudioFingerprint>> ChromaprintVariants(std::span<const int16_t> pcm,
                                                                 std::span<const double> factors);

// The default variant factors: 2^(k/24) for k = -8..8 (quarter-tone steps over +-4 semitones,
// speed x0.79..1.26), 1 first.
std::vector<double> DefaultAudioVariantFactors();

}  // namespace chuqu::media
