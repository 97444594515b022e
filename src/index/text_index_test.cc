#include "index/text_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <random>
#include <thread>
#include <string>
#include <unordered_map>

#include "base/utf8.h"

namespace chuqu::index {
namespace {

using text::NormalizedText;

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

// The first `n` code points of `s`.
std::string Prefix(const std::string& s, size_t n) {
  size_t i = 0;
  for (size_t cps = 0; i < s.size(); ++i) {
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80 && cps++ == n) break;
  }
  return s.substr(0, i);
}

// Pseudo-Chinese prose: random common ideographs with clause punctuation.
std::string ChineseText(std::mt19937* rng, size_t chars) {
  std::string s;
  size_t clause = 0;
  for (size_t i = 0; i < chars; ++i) {
    AppendUtf8(static_cast<char32_t>(0x4E00 + (*rng)() % 3000), &s);
    if (++clause >= 6 + (*rng)() % 8) {
      s += (*rng)() % 3 == 0 ? "。\n" : "，";
      clause = 0;
    }
  }
  return s;
}

std::string EnglishText(std::mt19937* rng, size_t words) {
  static const char* kSyll[] = {"ka", "lo", "mi", "ner", "sta", "ve", "ri", "on", "tu", "pha",
                                "gre", "dul", "xo", "bis", "quo", "ent", "ar", "ly", "sem", "ho"};
  std::string s;
  for (size_t i = 0; i < words; ++i) {
    const int syll = 1 + static_cast<int>((*rng)() % 3);
    for (int j = 0; j < syll; ++j) s += kSyll[(*rng)() % 20];
    s += (*rng)() % 9 == 0 ? ". " : " ";
  }
  return s;
}

NormalizedText Norm(std::string_view s) {
  Result<NormalizedText> n = text::Normalize(s);
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : NormalizedText{};
}

class MapTexts : public WorkTextSource {
 public:
  const NormalizedText* Find(uint64_t work) const override {
    auto it = texts_.find(work);
    return it == texts_.end() ? nullptr : &it->second;
  }
  std::unordered_map<uint64_t, NormalizedText> texts_;
};

struct Fixture {
  TextIndex index;
  MapTexts texts;
  std::unordered_map<uint64_t, std::string> raw;

  explicit Fixture(const TextIndexOptions& o = {}) : index(o) {}

  void Add(uint64_t id, const std::string& s) {
    NormalizedText n = Norm(s);
    Result<text::TextFingerprints> f = text::Winnow(n, index.options().winnow);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(index.Add(id, *f).ok());
    texts.texts_[id] = std::move(n);
    raw[id] = s;
  }
};

// Registers `poem` as work 1 and 29 random texts as works 2..30 in every fixture.
void AddPoemAndFiller(const std::string& poem, std::mt19937* rng,
                      std::initializer_list<Fixture*> fixtures) {
  for (Fixture* x : fixtures) x->Add(1, poem);
  for (uint64_t id = 2; id <= 30; ++id) {
    const std::string t = ChineseText(rng, 200);
    for (Fixture* x : fixtures) x->Add(id, t);
  }
}

TEST(TextIndex, EmptyIndexAnswersNoMatches) {
  TextIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.Search(Norm("床前明月光，疑是地上霜。举头望明月，低头思故乡。")).empty());
  Fixture f;
  f.Add(1, "床前明月光，疑是地上霜。举头望明月，低头思故乡。");
  EXPECT_TRUE(f.index.Search(Norm("")).empty());
  EXPECT_TRUE(f.index.Search(Norm("短")).empty());
}

// A passage lifted into a longer host is found, with spans on both sides in original
// code points: exact with the work's text, within one winnowing threshold from
// fingerprints alone.
TEST(TextIndex, ParagraphLiftedIntoLongerHostIsFoundWithSpans) {
  std::mt19937 rng(11);
  Fixture f;
  for (uint64_t id = 1; id <= 50; ++id) f.Add(id, ChineseText(&rng, 400 + rng() % 1500));
  const std::string& src = f.raw[17];
  // The passage: a whole clause-aligned range of work 17.
  const size_t from = src.find("，", src.size() / 4) + 3;
  const size_t to = src.find("，", src.size() / 2) + 3;
  const std::string passage = src.substr(from, to - from);
  const std::string pre = ChineseText(&rng, 700) + "\n";
  const std::string query = pre + passage + "\n" + ChineseText(&rng, 900);
  const uint32_t q0 = static_cast<uint32_t>(CodePoints(pre));
  const uint32_t q1 = q0 + static_cast<uint32_t>(CodePoints(passage));
  const uint32_t w0 = static_cast<uint32_t>(CodePoints(src.substr(0, from)));
  const uint32_t w1 = w0 + static_cast<uint32_t>(CodePoints(passage));

  for (bool with_text : {true, false}) {
    std::vector<TextMatch> m = f.index.Search(Norm(query), with_text ? &f.texts : nullptr);
    ASSERT_EQ(m.size(), 1u) << with_text;
    EXPECT_EQ(m[0].work, 17u);
    ASSERT_EQ(m[0].spans.size(), 1u);  // one detection per copied passage
    const TextSpan& s = m[0].spans[0];
    EXPECT_GT(m[0].score, 0.9);
    if (with_text) {
      // Exact up to the punctuation around the passage boundary (it is not a token).
      EXPECT_LE(s.query_begin - q0, 1u);
      EXPECT_LE(q1 - s.query_end, 1u);
      EXPECT_LE(s.work_begin - w0, 1u);
      EXPECT_LE(w1 - s.work_end, 1u);
    } else {
      const uint32_t slack = 14;  // w + k - 1 tokens plus punctuation
      // The query side is widened by up to w - 1 = 3 tokens (plus punctuation) past the
      // outermost fingerprints, so it may pass the copy's boundary by that much.
      const uint32_t widened = 5;
      EXPECT_GE(s.query_begin + widened, q0);
      EXPECT_LE(s.query_begin, q0 + slack);
      EXPECT_LE(s.query_end, q1 + widened);
      EXPECT_GE(s.query_end + slack, q1);
      EXPECT_GE(s.work_begin, w0);
      EXPECT_LE(s.work_begin, w0 + slack);
      EXPECT_LE(s.work_end, w1);
      EXPECT_GE(s.work_end + slack, w1);
    }
    EXPECT_NEAR(m[0].work_coverage,
                static_cast<double>(w1 - w0) / CodePoints(src), 0.1);
  }
}

// Without the work's text, the query side of a span is widened by at most w - 1 tokens at
// each end, never past the query or past the room the work has beyond its outermost seeds.
TEST(TextIndex, WindowExtensionWidensTheQuerySideByAtMostWMinusOneTokens) {
  std::mt19937 rng(12);
  TextIndexOptions narrow;
  narrow.extend_within_window = false;
  Fixture f;
  Fixture g(narrow);
  std::vector<std::string> works;
  for (uint64_t id = 1; id <= 20; ++id) {
    works.push_back(ChineseText(&rng, 600));
    f.Add(id, works.back());
    g.Add(id, works.back());
  }
  const int w = f.index.options().winnow.w;
  size_t widened = 0;
  for (uint64_t id = 1; id <= 20; ++id) {
    // The whole work inside a host, and the whole work alone (no room on either side).
    for (const std::string& query : {ChineseText(&rng, 300) + works[id - 1] + ChineseText(&rng, 300),
                                     works[id - 1]}) {
      const NormalizedText q = Norm(query);
      std::vector<TextMatch> a = f.index.Search(q);
      std::vector<TextMatch> b = g.index.Search(q);
      ASSERT_EQ(a.size(), 1u);
      ASSERT_EQ(b.size(), 1u);
      ASSERT_EQ(a[0].spans.size(), 1u);
      ASSERT_EQ(b[0].spans.size(), 1u);
      const TextSpan& wide = a[0].spans[0];
      const TextSpan& tight = b[0].spans[0];
      auto token_of = [&](uint32_t cp) {  // index of the token starting at code point cp
        return static_cast<int>(std::lower_bound(q.begin.begin(), q.begin.end(), cp) - q.begin.begin());
      };
      const int left = token_of(tight.query_begin) - token_of(wide.query_begin);
      EXPECT_GE(left, 0);
      EXPECT_LE(left, w - 1);
      EXPECT_GE(wide.query_end, tight.query_end);
      EXPECT_EQ(wide.work_begin, tight.work_begin);  // the work side is not widened
      EXPECT_EQ(wide.work_end, tight.work_end);
      EXPECT_LE(wide.query_end, q.original_length);
      widened += wide.query_end - wide.query_begin > tight.query_end - tight.query_begin;
    }
  }
  EXPECT_GT(widened, 0u);
}

TEST(TextIndex, TraditionalScriptAndOcrNoiseStillMatch) {
  Fixture f;
  const std::string poem =
      "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。";
  f.Add(7, poem);
  std::mt19937 rng(3);
  f.Add(8, ChineseText(&rng, 300));
  const std::string trad =
      "轉載：國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。烽火連三月，家書抵萬金。白頭搔更短，渾欲不勝簪。";
  std::vector<TextMatch> m = f.index.Search(Norm(trad), &f.texts);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].work, 7u);
  EXPECT_EQ(m[0].spans[0].query_begin, 3u);  // after "轉載："
  // OCR-like noise: two look-alike substitutions, one dropped character, half-width marks.
  const std::string ocr =
      "国破山河在,城春草木深.感时花溅泪,恨别乌惊心.烽火连三月,家书抵万金.白头搔更短,浑欲不胜替";
  m = f.index.Search(Norm(ocr), &f.texts);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].work, 7u);
}

// A lightly edited short poem keeps too few intact 8-grams for a strong chain; with the
// work's text the whole-work verification finds it, with a span covering the poem.
TEST(TextIndex, EditedShortPoemIsVerifiedWithTheWorkText) {
  std::mt19937 rng(4);
  TextIndexOptions no_verify;
  no_verify.verify_max_tokens = 0;
  Fixture f;
  Fixture g(no_verify);
  const std::string poem =
      "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。";
  AddPoemAndFiller(poem, &rng, {&f, &g});
  const std::string host = ChineseText(&rng, 300);
  const std::string edited =
      "国破山河在，城春草木深。感时花落泪，恨别鸟心惊。烽火连三月，家书值万金。白发搔更短，浑欲不胜簪。";
  const NormalizedText q = Norm(host + "\n" + edited + "\n" + ChineseText(&rng, 200));
  EXPECT_TRUE(g.index.Search(q, &g.texts).empty());  // too few seeds on their own
  std::vector<TextMatch> m = f.index.Search(q, &f.texts);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].work, 1u);
  ASSERT_EQ(m[0].spans.size(), 1u);
  const uint32_t q0 = static_cast<uint32_t>(CodePoints(host) + 1);
  EXPECT_EQ(m[0].spans[0].query_begin, q0);
  EXPECT_EQ(m[0].spans[0].query_end, q0 + CodePoints(edited) - 1);  // before the final "。"
  EXPECT_EQ(m[0].spans[0].work_begin, 0u);
  EXPECT_EQ(m[0].spans[0].work_end, CodePoints(poem) - 1);
  // Unrelated text sharing one line with the poem is not verified as a copy.
  const NormalizedText one_line = Norm(host + "国破山河在，城春草木深。" + ChineseText(&rng, 50));
  EXPECT_TRUE(f.index.Search(one_line, &f.texts).empty());
}

// A variant edition of a short poem (two characters changed, two exact seeds) is accepted
// by verification as a whole document, but not inside a longer unrelated text: there the
// verification needs verify_min_seeds (3) exact seeds.
TEST(TextIndex, TwoSeedVariantIsVerifiedOnlyAsAWholeDocument) {
  std::mt19937 rng(6);
  TextIndexOptions raw_options;  // fingerprint evidence only, nothing dropped
  raw_options.verify_max_tokens = 0;
  raw_options.min_score = 0;
  Fixture f;
  Fixture g(raw_options);
  const std::string poem = "禁里春浓蝶自飞，御蚕眠处弄新丝。碧窗尽日教鹦鹉，念得君王数首诗。";
  AddPoemAndFiller(poem, &rng, {&f, &g});
  const std::string variant = "禁里春浓蝶自飞，御蠺眠处弄新丝。碧琐尽日教鹦鹉，念得君王数首诗。";
  const std::string host = ChineseText(&rng, 300);
  const NormalizedText embedded = Norm(host + "\n" + variant + "\n" + ChineseText(&rng, 200));
  std::vector<TextMatch> raw = g.index.Search(embedded, &g.texts);
  ASSERT_FALSE(raw.empty());
  ASSERT_EQ(raw[0].work, 1u);
  ASSERT_EQ(raw[0].spans.size(), 1u);
  ASSERT_EQ(raw[0].spans[0].seeds, 2u);  // the case this rule is about
  EXPECT_LT(raw[0].spans[0].score, f.index.options().min_score);

  EXPECT_TRUE(f.index.Search(embedded, &f.texts).empty());
  std::vector<TextMatch> whole = f.index.Search(Norm(variant), &f.texts);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].work, 1u);
  EXPECT_GE(whole[0].score, 0.9);  // 26 of 28 characters aligned

  // With the two-seed rule for every query (the previous default) the embedded variant is
  // verified too.
  TextIndexOptions lenient;
  lenient.verify_min_seeds = 2;
  Fixture h(lenient);
  h.Add(1, poem);
  std::vector<TextMatch> m = h.index.Search(embedded, &h.texts);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].work, 1u);
}

TEST(TextIndex, EnglishPassageIsFound) {
  std::mt19937 rng(5);
  Fixture f(TextIndexOptions{});
  for (uint64_t id = 1; id <= 20; ++id) f.Add(id, EnglishText(&rng, 300));
  const std::string& src = f.raw[4];
  const size_t from = src.find(' ', 400) + 1;
  const size_t to = src.find(' ', 1200);
  const std::string passage = src.substr(from, to - from);
  const std::string pre = EnglishText(&rng, 200);
  const std::string query = pre + "\"" + passage + "\" " + EnglishText(&rng, 100);
  std::vector<TextMatch> m = f.index.Search(Norm(query), &f.texts);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].work, 4u);
  ASSERT_EQ(m[0].spans.size(), 1u);
  EXPECT_EQ(m[0].spans[0].query_begin, CodePoints(pre) + 1);
  EXPECT_EQ(m[0].spans[0].query_end, CodePoints(pre) + 1 + CodePoints(passage));
  EXPECT_EQ(m[0].spans[0].work_begin, from);
  EXPECT_EQ(m[0].spans[0].work_end, to);
}

// A formula shared by many registered works (boilerplate) never produces a match by itself,
// while a real copy next to it still does.
TEST(TextIndex, BoilerplateAloneGivesNoMatch) {
  std::mt19937 rng(9);
  Fixture f;
  const std::string formula =
      "本法自公布之日起施行。国务院有关部门应当依照本法规定，在各自的职责范围内做好相关工作。";
  for (uint64_t id = 1; id <= 30; ++id) {
    f.Add(id, ChineseText(&rng, 300) + formula + ChineseText(&rng, 200));
  }
  const std::string query = ChineseText(&rng, 500) + formula + ChineseText(&rng, 500);
  EXPECT_TRUE(f.index.Search(Norm(query)).empty());
  EXPECT_TRUE(f.index.Search(Norm(query), &f.texts).empty());
  const std::string& src = f.raw[12];
  const std::string with_copy = query + Prefix(src, 200);
  std::vector<TextMatch> m = f.index.Search(Norm(with_copy), &f.texts);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].work, 12u);
}

// Many works sharing the query's text: the answer is bounded and ranked.
TEST(TextIndex, CommonPassageGivesBoundedRankedList) {
  std::mt19937 rng(13);
  TextIndexOptions o;
  o.max_df = 1u << 30;  // boilerplate filter off: every work matches
  o.max_results = 10;
  Fixture f(o);
  const std::string common = ChineseText(&rng, 200);
  for (uint64_t id = 1; id <= 300; ++id) {
    f.Add(id, Prefix(common, 60 + id % 50) + ChineseText(&rng, 100));
  }
  std::vector<TextMatch> m = f.index.Search(Norm(common));
  ASSERT_EQ(m.size(), 10u);
  for (size_t i = 1; i < m.size(); ++i) EXPECT_GE(m[i - 1].score, m[i].score);
}

TEST(TextIndex, AddRemoveCompactAndErrors) {
  std::mt19937 rng(17);
  Fixture f;
  for (uint64_t id = 1; id <= 40; ++id) f.Add(id, ChineseText(&rng, 300));
  const NormalizedText q = Norm(ChineseText(&rng, 200) + f.raw[5] + ChineseText(&rng, 200));
  ASSERT_FALSE(f.index.Search(q).empty());
  EXPECT_EQ(f.index.Search(q)[0].work, 5u);

  Result<text::TextFingerprints> fp = text::FingerprintText(f.raw[5], f.index.options().winnow);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(f.index.Add(5, *fp).code(), StatusCode::kAlreadyExists);
  Result<text::TextFingerprints> other = text::FingerprintText(f.raw[5], {13, 8});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(f.index.Add(99, *other).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(f.index.Remove(5).ok());
  EXPECT_EQ(f.index.Remove(5).code(), StatusCode::kNotFound);
  EXPECT_EQ(f.index.size(), 39u);
  EXPECT_TRUE(f.index.Search(q).empty());
  f.index.Compact();
  EXPECT_TRUE(f.index.Search(q).empty());
  // Re-registered from stored fingerprints only (no text): found again.
  Result<text::TextFingerprints> decoded = text::DecodeFingerprints(text::EncodeFingerprints(*fp));
  ASSERT_TRUE(decoded.ok());
  ASSERT_TRUE(f.index.Add(5, *decoded).ok());
  std::vector<TextMatch> m = f.index.Search(q);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].work, 5u);
  EXPECT_GT(f.index.MemoryBytes(), 0u);
}

// Compaction changes storage only: every answer is the same before and after.
TEST(TextIndex, CompactDoesNotChangeAnswers) {
  std::mt19937 rng(21);
  Fixture f;
  for (uint64_t id = 1; id <= 60; ++id) f.Add(id, ChineseText(&rng, 200 + rng() % 400));
  std::vector<NormalizedText> queries;
  for (int i = 0; i < 20; ++i) {
    const std::string& src = f.raw[1 + rng() % 60];
    queries.push_back(Norm(ChineseText(&rng, 100) + Prefix(src, CodePoints(src) / 2)));
  }
  std::vector<std::vector<TextMatch>> before;
  for (const auto& q : queries) before.push_back(f.index.Search(q, &f.texts));
  f.index.Compact();
  for (size_t i = 0; i < queries.size(); ++i) {
    std::vector<TextMatch> after = f.index.Search(queries[i], &f.texts);
    ASSERT_EQ(after.size(), before[i].size());
    for (size_t j = 0; j < after.size(); ++j) {
      EXPECT_EQ(after[j].work, before[i][j].work);
      EXPECT_EQ(after[j].spans.size(), before[i][j].spans.size());
    }
  }
}

// Search is const and keeps no shared scratch state: concurrent readers get the answers a
// single reader gets (run under ASan/TSan builds to catch races).
TEST(TextIndex, ConcurrentReadersAgreeWithSerialAnswers) {
  std::mt19937 rng(23);
  Fixture f;
  for (uint64_t id = 1; id <= 40; ++id) f.Add(id, ChineseText(&rng, 300));
  std::vector<NormalizedText> queries;
  for (int i = 0; i < 16; ++i) {
    queries.push_back(Norm(ChineseText(&rng, 200) + f.raw[1 + rng() % 40] + ChineseText(&rng, 100)));
  }
  std::vector<std::vector<TextMatch>> serial;
  for (const auto& q : queries) serial.push_back(f.index.Search(q, &f.texts));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        for (size_t i = 0; i < queries.size(); ++i) {
          std::vector<TextMatch> m = f.index.Search(queries[i], &f.texts);
          if (m.size() != serial[i].size() || (!m.empty() && m[0].work != serial[i][0].work)) {
            ++mismatches[static_cast<size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : mismatches) EXPECT_EQ(n, 0);
  for (const auto& s : serial) ASSERT_FALSE(s.empty());
}

}  // namespace
}  // namespace chuqu::index
