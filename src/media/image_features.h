// Image fingerprints for copy detection (index/image_matcher.h): PDQ with its 8 dihedral
// variants, the ISCC Image-Code and ORB binary local features. OpenCV (features2d, 4.6) is
// linked only here, in the chuqu_image_features library, so the rest of chuqu_media does
// not carry it. Every OpenCV exception is caught here and returned as a Status.
// Thread-safety: the functions may be called from several threads (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/task_runner.h"
#include "chuqu/status.h"
#include "index/image_matcher.h"
#include "media/image.h"

namespace chuqu::media {

inline constexpr int kQueryFeatures = 600;

struct ImageFeatureOptions {
  // Images are decoded (shrink-on-load) so the long side is at most this; keypoint
  // coordinates are in pixels of the decoded image (ImageFingerprint::width/height).
  int decode_long_side = 1024;
  // ORB runs on a grey copy with this long side (pixels), then coordinates are scaled back.
  int feature_long_side = 768;
  // ORB keypoints kept (strongest Harris response first). References keep 300 (compact
  // stored fingerprint); queries should use kQueryFeatures, so that a copy occupying part of
  // the query (picture-in-picture, screenshot, in a background) still gets enough of them.
  int max_features = 300;
  int fast_threshold = 12;  // FAST corner threshold (OpenCV's default is 20; lower finds
                            // corners on soft photos and small copies)
  // Match path: decode a large JPEG by DCT scaling to about feature_long_side
  // (ImageDecodeOptions::jpeg_shrink_long_side); ~4x faster for a 12-MP photo.
  bool jpeg_shrink = false;
  // With jpeg_shrink: the smallest long side the DCT scaling may give (0 = feature_long_side).
  // Below feature_long_side, ORB runs on the decoded pixels as they are.
  int jpeg_shrink_long_side = 0;
  bool iscc = true;         // compute the ISCC Image-Code
  bool pdq = true;          // compute the 8 PDQ dihedrals (off: pdq left zero, quality 0)
  // 0 = keypoints in pixels of the image given. Otherwise an image whose long side exceeds
  // this reports width/height and keypoints in a frame scaled (aspect kept) to this long
  // side: CQIF stores coordinates in 1/16 pixel up to 4095 pixels, and the matcher's scale
  // bounds assume frames of similar size (references are fingerprinted at decode_long_side).
  int frame_long_side = 0;
  uint64_t max_pixels = 1'000'000'000;  // decompression-bomb guard (ImageDecodeOptions)
  // Not owned. If set, ORB runs concurrently with PDQ + ISCC (same results, lower latency,
  // no less CPU). Null (the default) runs everything on the calling thread: the right choice
  // for a server whose cores are busy with other requests.
  TaskRunner* runner = nullptr;
};

// Options for fingerprinting a query (more local features than a reference).
inline ImageFeatureOptions QueryFeatureOptions() {
  ImageFeatureOptions o;
  o.max_features = kQueryFeatures;
  o.jpeg_shrink = true;
  return o;
}

// Time spent in each stage of ImageFingerprintFromFile, for the benchmark.
struct ImageFeatureTimings {
  double decode_ms = 0;
  double pdq_ms = 0;
  double iscc_ms = 0;
  double orb_ms = 0;
};

// Fingerprint of decoded pixels. kInvalidArgument for an empty image; kInternal if OpenCV
// fails.
Result<index::ImageFingerprint> ImageFingerprintFromRgb(const RgbImage& image,
                                                        const ImageFeatureOptions& options = {},
                                                        ImageFeatureTimings* timings = nullptr);

// The decode ImageFingerprintFromFile does for `options` (shrink-on-load when jpeg_shrink).
ImageDecodeOptions DecodeOptionsFor(const ImageFeatureOptions& options);

// The 1024 grey pixels for GenImageCode from an area-averaged copy of the image (long side 256):
// nearly the conformant IsccImagePixels of the file and ~20x faster, so for matching only (a
// registered work's ISCC comes from the file). kInternal if OpenCV fails.
Result<std::array<uint8_t, 1024>> IsccPixelsForMatching(const RgbImage& image);

// Decodes (DecodeImageRgb errors) and fingerprints a file.
Result<index::ImageFingerprint> ImageFingerprintFromFile(const std::string& path,
                                                         const ImageFeatureOptions& options = {},
                                                         ImageFeatureTimings* timings = nullptr);

}  // namespace chuqu::media
