// A text/plain request body on the server's in-memory path (docs/api.md "Plain-text bodies"):
// media::IsUtf8PlainText, then media::ExtractPlainTextBytes, on arbitrary bytes. No crash; what
// the predicate accepts is decoded unchanged (a leading BOM dropped) or refused as blank; whatever
// is extracted is well-formed UTF-8 (U+FEFF may remain after the one leading BOM removed).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "media/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const bool plain = chuqu::media::IsUtf8PlainText(bytes);
  chuqu::Result<chuqu::media::Content> c = chuqu::media::ExtractPlainTextBytes(bytes);
  if (c.ok()) {
    if (c->type != chuqu::media::ContentType::kText || c->mime != "text/plain") __builtin_trap();
    if (!chuqu::IsValidUtf8(c->text)) __builtin_trap();
  }
  if (plain) {
    std::string_view expect = bytes;
    if (expect.starts_with(kBom)) expect.remove_prefix(kBom.size());
    if (c.ok() ? c->text != expect : c.status().message() != "no text content could be extracted") {
      __builtin_trap();
    }
  }
  return 0;
}
