// ISCC codec: arbitrary strings never crash DecodeIscc / DecomposeIscc / ExplainIscc /
// IsccDistance, and whatever decodes re-encodes to a canonical string that decodes to the
// same unit (and whose decomposition re-encodes stably).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chuqu/iscc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto unit = chuqu::DecodeIscc(input);
  (void)chuqu::ExplainIscc(input);
  (void)chuqu::IsccDistance(input, input);
  if (unit.ok()) {
    const std::string canonical = chuqu::EncodeIscc(*unit);
    auto again = chuqu::DecodeIscc(canonical);
    if (!again.ok() || !(*again == *unit)) std::abort();
    if (chuqu::EncodeIscc(*again) != canonical) std::abort();
    auto d = chuqu::IsccDistance(canonical, canonical);
    if (!d.ok() || *d != 0) std::abort();
  }
  auto parts = chuqu::DecomposeIscc(input);
  if (parts.ok()) {
    for (const auto& p : *parts) {
      auto back = chuqu::DecodeIscc(chuqu::EncodeIscc(p));
      if (!back.ok() || !(*back == p)) std::abort();
    }
  }
  return 0;
}
