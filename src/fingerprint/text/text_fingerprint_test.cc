#include "fingerprint/text/text_fingerprint.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_set>

namespace chuqu::text {
namespace {

std::string Norm(std::string_view s) {
  Result<std::string> r = NormalizeToString(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

// Code points of a UTF-8 string (test helper; input is valid).
std::u32string U32(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<uint8_t>(s[i]);
    const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int j = 1; j < n; ++j) c = (c << 6) | (static_cast<uint8_t>(s[i + j]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

std::string Utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

TEST(TextNormalize, FullWidthAndCaseFoldToAscii) {
  EXPECT_EQ(Norm("ＡＢＣ１２３"), "abc123");
  EXPECT_EQ(Norm("Hello,  World!"), "hello world");
  EXPECT_EQ(Norm("ｈｅｌｌｏ　ｗｏｒｌｄ"), "hello world");
}

TEST(TextNormalize, TraditionalToSimplified) {
  EXPECT_EQ(Norm("學而時習之，不亦說乎？"), "学而时习之不亦说乎");
  EXPECT_EQ(Norm("学而时习之，不亦说乎？"), "学而时习之不亦说乎");
  EXPECT_EQ(Norm("爲"), Norm("為"));
  EXPECT_EQ(Norm("國家"), "国家");
}

TEST(TextNormalize, PunctuationWhitespaceAndSymbolsDropped) {
  EXPECT_EQ(Norm("「床前明月光。」\n疑是、地上霜；"), "床前明月光疑是地上霜");
  EXPECT_EQ(Norm("床 前\t明\r\n月光"), "床前明月光");
  EXPECT_EQ(Norm("第1条,第２条"), "第 1 条第 2 条");
  EXPECT_EQ(Norm("——《中华人民共和国》☆"), "中华人民共和国");
  EXPECT_EQ(Norm(""), "");
  EXPECT_EQ(Norm("，。！？ \n"), "");
}

TEST(TextNormalize, WordsAreSingleTokens) {
  Result<NormalizedText> n = Normalize("The cat, the CAT!");
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 4u);
  EXPECT_EQ(n->tokens[0], n->tokens[2]);  // the == The
  EXPECT_EQ(n->tokens[1], n->tokens[3]);  // cat == CAT
  EXPECT_NE(n->tokens[0], n->tokens[1]);
  EXPECT_NE(n->tokens[0] & 0x80000000u, 0u);
  // A combining mark does not split a word.
  Result<NormalizedText> m = Normalize("cafe\u0301s");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 1u);
}

// Every token's original range re-normalises to exactly that token, ranges are increasing,
// and everything outside the ranges normalises to nothing.
void ExpectOffsetsMapBack(std::string_view text) {
  Result<NormalizedText> n = Normalize(text);
  ASSERT_TRUE(n.ok());
  const std::u32string cps = U32(text);
  ASSERT_EQ(n->original_length, cps.size());
  uint32_t prev_end = 0;
  for (size_t i = 0; i < n->size(); ++i) {
    ASSERT_LT(n->begin[i], n->end[i]);
    ASSERT_LE(prev_end, n->begin[i]);
    ASSERT_LE(n->end[i], cps.size());
    const std::string piece = Utf8(cps.substr(n->begin[i], n->end[i] - n->begin[i]));
    Result<NormalizedText> p = Normalize(piece);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->size(), 1u) << "token " << i << " piece '" << piece << "'";
    EXPECT_EQ(p->tokens[0], n->tokens[i]);
    const std::string gap = Utf8(cps.substr(prev_end, n->begin[i] - prev_end));
    Result<NormalizedText> g = Normalize(gap);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->size(), 0u) << "gap '" << gap << "'";
    prev_end = n->end[i];
  }
}

TEST(TextNormalize, OffsetsMapBackExactly) {
  ExpectOffsetsMapBack("轉載：「學而時習之，不亦說乎？」——Confucius (論語) 第１章\n𠀀𠀁 ﬁne ㈠");
  ExpectOffsetsMapBack("Ｔｈｅ　ｑｕｉｃｋ brown fox, 2024年3月！\t日本語のテキスト");
  ExpectOffsetsMapBack("");
}

TEST(TextNormalize, SupplementaryAndExpansions) {
  Result<NormalizedText> n = Normalize("𠀀a");  // U+20000 (CJK Ext. B), then a word
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 2u);
  EXPECT_EQ(n->tokens[0], 0x20000u);
  EXPECT_EQ(n->begin[1], 1u);
  EXPECT_EQ(Norm("ﬁne"), "fine");  // ligature expands inside one word
  EXPECT_EQ(Norm("㈠"), "一");      // parenthesised ideograph: parentheses dropped
  // One code point expanding to several tokens: they share its range.
  Result<NormalizedText> k = Normalize("a㍀b");
  ASSERT_TRUE(k.ok());
  ASSERT_EQ(k->size(), 5u);  // a ポ ン ド b
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(k->begin[i], 1u);
    EXPECT_EQ(k->end[i], 2u);
  }
  EXPECT_EQ(k->begin[4], 2u);
  // A word before an expansion with ideographs ends there ("e" | "20" "点").
  Result<NormalizedText> h = Normalize("e\u336C");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ(h->end[0], 1u);
  EXPECT_EQ(h->begin[1], 1u);
  EXPECT_EQ(h->begin[2], 1u);
}

TEST(TextNormalize, InvalidUtf8IsAnError) {
  for (std::string bad : {std::string("\xC3"), std::string("a\xC0\x80"), std::string("\xED\xA0\x80"),
                          std::string("\xF4\x90\x80\x80"), std::string("\xE4\xB8"),
                          std::string("\x80"), std::string("ok\xFF")}) {
    Result<NormalizedText> n = Normalize(bad);
    EXPECT_FALSE(n.ok());
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(FingerprintText(bad, {}).ok());
  }
}

TEST(Winnow, RejectsBadOptions) {
  NormalizedText t;
  EXPECT_FALSE(Winnow(t, {0, 4}).ok());
  EXPECT_FALSE(Winnow(t, {8, 0}).ok());
  EXPECT_FALSE(Winnow(t, {65, 4}).ok());
}

TEST(Winnow, ShortTexts) {
  Result<TextFingerprints> a = FingerprintText("床前明月光", {8, 4});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->fingerprints.empty());
  EXPECT_EQ(a->num_tokens, 5u);
  Result<TextFingerprints> b = FingerprintText("床前明月光疑是地上", {8, 4});  // 2 k-grams < w
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->fingerprints.size(), 1u);
}

TEST(Winnow, FingerprintsPointAtTheirKGrams) {
  const std::string text = "「床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。」李白 Quiet Night Thought";
  Result<NormalizedText> n = Normalize(text);
  ASSERT_TRUE(n.ok());
  Result<TextFingerprints> f = Winnow(*n, {5, 3});
  ASSERT_TRUE(f.ok());
  ASSERT_FALSE(f->fingerprints.empty());
  const std::vector<uint64_t> h = KGramHashes(n->tokens, 5);
  for (const TextFingerprint& fp : f->fingerprints) {
    EXPECT_EQ(fp.hash, h[fp.position]);
    EXPECT_EQ(fp.begin, n->begin[fp.position]);
    EXPECT_EQ(fp.end, n->end[fp.position + 4]);
  }
}

// The winnowing guarantee (SIGMOD 2003 §3): two texts sharing a run of >= w + k - 1 tokens
// share a fingerprint, for random texts and random k, w.
TEST(Winnow, SharedRunOfThresholdLengthSharesAFingerprint) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const int k = 1 + static_cast<int>(rng() % 13);
    const int w = 1 + static_cast<int>(rng() % 10);
    const size_t t = static_cast<size_t>(w + k - 1);
    auto rand_tokens = [&](size_t n) {
      std::vector<uint32_t> v(n);
      for (auto& x : v) x = 0x4E00 + rng() % 50;  // small alphabet: many repeats
      return v;
    };
    std::vector<uint32_t> shared = rand_tokens(t);
    auto make = [&](size_t pre, size_t post) {
      NormalizedText n;
      n.tokens = rand_tokens(pre);
      n.tokens.insert(n.tokens.end(), shared.begin(), shared.end());
      std::vector<uint32_t> tail = rand_tokens(post);
      n.tokens.insert(n.tokens.end(), tail.begin(), tail.end());
      for (uint32_t i = 0; i < n.tokens.size(); ++i) {
        n.begin.push_back(i);
        n.end.push_back(i + 1);
      }
      n.original_length = static_cast<uint32_t>(n.tokens.size());
      return n;
    };
    NormalizedText a = make(rng() % 40, rng() % 40);
    NormalizedText b = make(rng() % 40, rng() % 40);
    Result<TextFingerprints> fa = Winnow(a, {k, w});
    Result<TextFingerprints> fb = Winnow(b, {k, w});
    ASSERT_TRUE(fa.ok() && fb.ok());
    std::unordered_set<uint64_t> ha;
    for (const auto& f : fa->fingerprints) ha.insert(f.hash);
    bool common = false;
    for (const auto& f : fb->fingerprints) common |= ha.count(f.hash) > 0;
    EXPECT_TRUE(common) << "k=" << k << " w=" << w << " trial " << trial;
    // Density sanity: never more than one fingerprint per k-gram, positions increasing.
    for (size_t i = 1; i < fa->fingerprints.size(); ++i) {
      EXPECT_LT(fa->fingerprints[i - 1].position, fa->fingerprints[i].position);
    }
  }
}

TEST(FingerprintCodec, RoundTripAndRejections) {
  Result<TextFingerprints> f =
      FingerprintText("中华人民共和国民法典。为了保护民事主体的合法权益，调整民事关系。", {6, 3});
  ASSERT_TRUE(f.ok());
  ASSERT_FALSE(f->fingerprints.empty());
  const std::string bytes = EncodeFingerprints(*f);
  Result<TextFingerprints> g = DecodeFingerprints(bytes);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(*g, *f);
  EXPECT_EQ(DecodeFingerprints("").status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(DecodeFingerprints(bytes.substr(0, bytes.size() - 1)).ok());
  std::string bad = bytes;
  bad[4] = 9;  // version
  EXPECT_FALSE(DecodeFingerprints(bad).ok());
  bad = bytes;
  bad[5] = 0;  // k
  EXPECT_FALSE(DecodeFingerprints(bad).ok());
  bad = bytes;
  bad[bad.size() - 1] = '\x7F';  // last end offset beyond the text
  EXPECT_FALSE(DecodeFingerprints(bad).ok());
}

}  // namespace
}  // namespace chuqu::text
