// The CQAF audio fingerprint decoder (index::DecodeAudioFingerprint) on arbitrary bytes:
// clean errors, never a crash; a decoded value re-encodes to the same bytes and can be
// indexed and searched (segments ordered, scores in [0, 1]).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "index/audio_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  chuqu::Result<chuqu::index::AudioFingerprint> fp = chuqu::index::DecodeAudioFingerprint(bytes);
  if (!fp.ok()) {
    if (fp.status().code() != chuqu::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  const std::vector<uint8_t> again = chuqu::index::EncodeAudioFingerprint(*fp);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();

  chuqu::index::AudioMatcher matcher;
  if (!matcher.Add(7, *fp).ok()) return 0;  // e.g. empty
  for (const chuqu::index::AudioMatch& m : matcher.Search(*fp, 4)) {
    if (m.work != 7 || !(m.score >= 0 && m.score <= 1)) __builtin_trap();
    if (!(m.query_start <= m.query_end) || !(m.work_start <= m.work_end)) __builtin_trap();
  }
  return 0;
}
