// vPDQ hash-file parser (fingerprint/vpdq/vpdq.h): arbitrary text either parses or returns
// kInvalidArgument; whatever parses must survive format -> parse unchanged except for the
// timestamp, which the format rounds to 3 decimals (so it is re-checked after one round),
// and the match scorer must accept it.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fingerprint/vpdq/vpdq.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  chuqu::Result<std::vector<chuqu::vpdq::VpdqFeature>> parsed = chuqu::vpdq::ParseHashFile(text);
  if (!parsed.ok()) {
    if (parsed.status().code() != chuqu::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  const std::string once = chuqu::vpdq::FormatHashFile(*parsed);
  chuqu::Result<std::vector<chuqu::vpdq::VpdqFeature>> again = chuqu::vpdq::ParseHashFile(once);
  if (!again.ok() || again->size() != parsed->size()) std::abort();
  for (size_t i = 0; i < parsed->size(); ++i) {
    const auto& a = (*parsed)[i];
    const auto& b = (*again)[i];
    if (a.hash != b.hash || a.frame_number != b.frame_number || a.quality != b.quality) {
      std::abort();
    }
    if (std::fabs(a.timestamp - b.timestamp) > 0.0005 * (1 + std::fabs(a.timestamp))) std::abort();
  }
  if (chuqu::vpdq::FormatHashFile(*again) != once) std::abort();
  const chuqu::vpdq::MatchResult m = chuqu::vpdq::MatchVideos(*parsed, *again);
  if (!m.empty && m.query_match_pct != 100.0) std::abort();
  return 0;
}
