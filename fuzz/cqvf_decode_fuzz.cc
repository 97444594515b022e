// The CQVF video fingerprint decoder (index::DecodeVideoFingerprint) on arbitrary bytes:
// clean errors, never a crash; a decoded value re-encodes to the same bytes (the form is
// canonical) and can be indexed and searched (segments inside the clip, scores in [0, 1]).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "index/video_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  chuqu::Result<chuqu::index::VideoFingerprint> fp = chuqu::index::DecodeVideoFingerprint(bytes);
  if (!fp.ok()) {
    if (fp.status().code() != chuqu::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  const std::vector<uint8_t> again = chuqu::index::EncodeVideoFingerprint(*fp);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();

  chuqu::index::VideoMatcher matcher;
  if (!matcher.Add(7, *fp).ok()) return 0;  // e.g. no frame of usable quality
  fp->dihedrals = chuqu::index::kVideoDihedrals;  // search with what a query would carry
  for (const chuqu::index::VideoMatch& m : matcher.Search(*fp, 4)) {
    if (m.work != 7 || !(m.score >= 0 && m.score <= 1)) __builtin_trap();
    const chuqu::index::VideoSegment& s = m.segment;
    if (!(s.query_start <= s.query_end) || !(s.work_start <= s.work_end)) __builtin_trap();
  }
  return 0;
}
