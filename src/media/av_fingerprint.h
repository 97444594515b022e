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

// vPDQ-style frames every `seconds_per_frame` (0.5 s by default: segment bounds within 1 s
// need >= 2 fps, docs/benchmarks.md "Video copy detection"). `dihedrals` = 8 for a query
// (all PDQ dihedral variants, from one DCT), 1 for a reference. Errors as
// VideoFrameReader::Open/ForEachFrame (unreadable, no video stream, oversized frames).
Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        double seconds_per_frame = 0.5,
                                                        int dihedrals = 1);

// The views of a query video for VideoMatcher::Search: [0] as ExtractVideoFingerprint with 8
// dihedrals; [1], only when the frames are taller or wider than 16:9 by more than 5 %, the
// centred 16:9 region (letterbox or pillarbox bars of a 16:9 original cut away; one
// orientation). Same errors as ExtractVideoFingerprint.
Result<std::vector<index::VideoFingerprint>> ExtractVideoQuery(const std::string& path,
                                                               double seconds_per_frame = 0.5);

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
