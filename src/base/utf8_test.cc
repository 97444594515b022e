#include "base/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace chuqu {
namespace {

// Oracle: RFC 3629 §4 byte-range grammar, written independently of the decoder. Length of
// the well-formed sequence at s[i], or 0.
size_t Rfc3629Length(std::string_view s, size_t i) {
  auto in = [&](size_t k, int lo, int hi) {
    if (i + k >= s.size()) return false;
    const int b = static_cast<uint8_t>(s[i + k]);
    return b >= lo && b <= hi;
  };
  if (in(0, 0x00, 0x7F)) return 1;
  if (in(0, 0xC2, 0xDF)) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (in(0, 0xE0, 0xE0)) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (in(0, 0xE1, 0xEC) || in(0, 0xEE, 0xEF)) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (in(0, 0xED, 0xED)) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (in(0, 0xF0, 0xF0)) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (in(0, 0xF1, 0xF3)) return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (in(0, 0xF4, 0xF4)) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

size_t OracleFirstInvalid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Rfc3629Length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

TEST(Utf8, EveryCodePointRoundTrips) {
  std::string all;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::string one;
    AppendUtf8(c, &one);
    ASSERT_EQ(one.size(), c < 0x80 ? 1u : c < 0x800 ? 2u : c < 0x10000 ? 3u : 4u);
    ASSERT_EQ(Rfc3629Length(one, 0), one.size()) << std::hex << static_cast<uint32_t>(c);
    size_t i = 0;
    char32_t got = 0;
    ASSERT_TRUE(NextUtf8(one, &i, &got));
    ASSERT_EQ(got, c);
    ASSERT_EQ(i, one.size());
    if (c % 97 == 0) all += one;
  }
  std::u32string cps;
  ASSERT_TRUE(DecodeUtf8(all, &cps));
  std::string back;
  for (char32_t c : cps) AppendUtf8(c, &back);
  EXPECT_EQ(back, all);
  EXPECT_TRUE(IsValidUtf8(all));
}

// Every string of up to 3 bytes, and random longer ones: the validator agrees with the
// RFC 3629 grammar, including the offset of the first bad byte.
TEST(Utf8, ValidatorAgreesWithRfc3629Grammar) {
  std::string s(3, '\0');
  for (uint32_t v = 0; v < (1u << 24); ++v) {
    s[0] = static_cast<char>(v >> 16);
    s[1] = static_cast<char>(v >> 8);
    s[2] = static_cast<char>(v);
    ASSERT_EQ(FirstInvalidUtf8(s), OracleFirstInvalid(s)) << std::hex << v;
  }
  std::mt19937 rng(1);
  static const uint8_t kBytes[] = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
                                   0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x00};
  for (int t = 0; t < 200000; ++t) {
    std::string r(static_cast<size_t>(rng() % 24), 'a');
    for (char& c : r) {
      if (rng() % 3 != 0) c = static_cast<char>(kBytes[rng() % std::size(kBytes)]);
    }
    ASSERT_EQ(FirstInvalidUtf8(r), OracleFirstInvalid(r));
    std::u32string cps;
    ASSERT_EQ(DecodeUtf8(r, &cps), OracleFirstInvalid(r) == std::string_view::npos);
  }
}

TEST(Utf8, MalformedInputIsRejectedAtItsOffset) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("abc \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_EQ(FirstInvalidUtf8("0123456789\xC0\xAF"), 10u);         // overlong, after ASCII
  EXPECT_EQ(FirstInvalidUtf8("abcdefgh\xED\xA0\x80"), 8u);        // surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);            // > U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xE4\xB8\xAD\xE2\x82"), 3u);        // truncated
  size_t i = 1;
  char32_t cp = 7;
  EXPECT_FALSE(NextUtf8("a\xE2\x82", &i, &cp));
  EXPECT_EQ(i, 1u);  // unchanged on failure
  EXPECT_EQ(cp, 7u);
}

TEST(Utf8, Utf16UsesSurrogatePairs) {
  std::u16string u;
  ASSERT_TRUE(Utf8ToUtf16("a\xE2\x82\xAC\xF0\x9F\x98\x80", &u));
  EXPECT_EQ(u, std::u16string(u"a\u20AC\U0001F600"));
  EXPECT_FALSE(Utf8ToUtf16("\xED\xA0\x80", &u));
}

}  // namespace
}  // namespace chuqu
