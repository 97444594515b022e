// UTF-8 validation, decoding and encoding (RFC 3629), shared by every module that checks
// or walks text: JSON canonicalisation, ISCC text units, text fingerprints, media text.
// Well-formed means RFC 3629 §4: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated sequence.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chuqu {

// Decodes the code point starting at s[*i] and advances *i past it. On a malformed or
// truncated sequence returns false and leaves *i and *cp unchanged. REQUIRES: *i < s.size().
// Inline: the text normaliser calls it once per code point.
inline bool NextUtf8(std::string_view s, size_t* i, char32_t* cp) {
  const auto b0 = static_cast<uint8_t>(s[*i]);
  if (b0 < 0x80) {
    *cp = b0;
    ++*i;
    return true;
  }
  size_t n;  // continuation bytes
  uint32_t c;
  uint32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 1;
    c = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 2;
    c = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 3;
    c = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - *i <= n) return false;
  for (size_t j = 1; j <= n; ++j) {
    const auto b = static_cast<uint8_t>(s[*i + j]);
    if ((b & 0xC0) != 0x80) return false;
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) return false;
  *cp = c;
  *i += n + 1;
  return true;
}

// Byte offset of the first byte that does not start a well-formed sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s);
bool IsValidUtf8(std::string_view s);

// Decodes to code points / UTF-16 code units; false (with `out` unspecified) on malformed
// input.
bool DecodeUtf8(std::string_view s, std::u32string* out);
bool Utf8ToUtf16(std::string_view s, std::u16string* out);

// REQUIRES: cp <= U+10FFFF and not a surrogate.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace chuqu
