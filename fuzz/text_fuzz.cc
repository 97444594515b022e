// Text normalisation, winnowing and the CQTF fingerprint codec on arbitrary bytes:
// Normalize never crashes and its ranges are ordered and inside the text; a decoded record
// re-encodes to the same bytes; fingerprints of valid text round-trip through the codec and
// can be indexed and searched.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fingerprint/text/text_fingerprint.h"
#include "index/text_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  chuqu::Result<chuqu::text::TextFingerprints> d = chuqu::text::DecodeFingerprints(bytes);
  if (d.ok() && chuqu::text::EncodeFingerprints(*d) != bytes) __builtin_trap();

  chuqu::Result<chuqu::text::NormalizedText> n = chuqu::text::Normalize(bytes);
  if (!n.ok()) return 0;
  for (size_t i = 0; i < n->size(); ++i) {
    if (n->begin[i] >= n->end[i] || n->end[i] > n->original_length) __builtin_trap();
    if (i > 0 && n->begin[i] != n->begin[i - 1] && n->begin[i] < n->end[i - 1]) __builtin_trap();
  }
  chuqu::text::WinnowOptions o{1 + static_cast<int>(size % 9), 1 + static_cast<int>(size % 5)};
  chuqu::Result<chuqu::text::TextFingerprints> f = chuqu::text::Winnow(*n, o);
  if (!f.ok()) __builtin_trap();
  chuqu::Result<chuqu::text::TextFingerprints> r =
      chuqu::text::DecodeFingerprints(chuqu::text::EncodeFingerprints(*f));
  if (!r.ok() || !(*r == *f)) __builtin_trap();
  chuqu::index::TextIndexOptions io;
  io.winnow = o;
  chuqu::index::TextIndex index(io);
  if (!index.Add(1, *f).ok()) __builtin_trap();
  for (const auto& m : index.Search(*n)) {
    for (const auto& s : m.spans) {
      if (s.query_begin >= s.query_end || s.query_end > n->original_length) __builtin_trap();
    }
  }
  return 0;
}
