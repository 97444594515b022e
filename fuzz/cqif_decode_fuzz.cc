// The CQIF image fingerprint codec (index/image_matcher.h) on arbitrary bytes: decoding never
// crashes; a record that decodes re-encodes to the same bytes and passes validation; it can
// be indexed and searched (RANSAC over arbitrary keypoints), and every match region lies
// inside the images.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "index/image_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  chuqu::Result<chuqu::index::ImageFingerprint> fp = chuqu::index::DecodeImageFingerprint(bytes);
  if (!fp.ok()) {
    if (fp.status().code() != chuqu::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  if (!chuqu::index::ValidateImageFingerprint(*fp).ok()) __builtin_trap();
  const std::vector<uint8_t> again = chuqu::index::EncodeImageFingerprint(*fp);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();

  chuqu::index::ImageMatcherOptions options;
  options.min_score = 0;
  options.min_votes = 1;
  options.min_inliers = 3;
  chuqu::index::ImageMatcher matcher(options);
  if (!matcher.Add(7, *fp).ok()) __builtin_trap();
  chuqu::Result<std::vector<chuqu::index::ImageMatch>> r = matcher.Search(*fp);
  if (!r.ok()) __builtin_trap();
  for (const chuqu::index::ImageMatch& m : *r) {
    if (m.id != 7 || !(m.score >= 0 && m.score <= 1)) __builtin_trap();
    for (int c = 0; c < 4; ++c) {
      const auto& q = m.query_region[c];
      const auto& w = m.ref_region[c];
      if (!(q.x >= 0 && q.x <= fp->width && q.y >= 0 && q.y <= fp->height)) __builtin_trap();
      if (!(w.x >= 0 && w.x <= fp->width && w.y >= 0 && w.y <= fp->height)) __builtin_trap();
    }
  }
  if (!matcher.Remove(7).ok() || matcher.size() != 0) __builtin_trap();
  return 0;
}
