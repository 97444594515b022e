// ISCC units on arbitrary input: Text/Meta never crash and succeed exactly when the text
// is valid UTF-8; text_collapse's fast paths equal the plain ICU pipeline; Data-Code
// streaming in fuzzed pieces equals one-shot hashing.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/iscc_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const std::string text = fdp.ConsumeRandomLengthString(4096);
  const bool valid = chuqu::iscc_internal::IsValidUtf8(text);
  auto t = chuqu::GenTextCode(text);
  if (t.ok() != valid) std::abort();
  auto clean = chuqu::IsccTextClean(text);
  if (clean.ok() != valid) std::abort();
  // The fast text_collapse paths equal the plain ICU pipeline.
  auto fast = chuqu::iscc_internal::TextCollapse(text);
  auto ref = chuqu::iscc_internal::TextCollapseReference(text);
  if (fast.ok() != valid || ref.ok() != valid || (valid && *fast != *ref)) std::abort();
  const std::string meta = fdp.ConsumeRandomLengthString(512);
  (void)chuqu::GenMetaCode(text, text, std::optional<std::string>(meta));
  (void)chuqu::GenMetaCode(text, "", std::nullopt);

  const std::vector<uint8_t> bytes = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, 40000));
  chuqu::DataHasher one;
  one.Update(bytes);
  chuqu::DataHasher pieces;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t step = std::min(bytes.size() - pos, fdp.ConsumeIntegralInRange<size_t>(1, 10000));
    pieces.Update(std::span<const uint8_t>(bytes).subspan(pos, step));
    pos += step;
  }
  if (one.Digest() != pieces.Digest()) std::abort();
  return 0;
}
