// Properties of the ISCC implementation beyond the conformance vectors: streaming equals
// one-shot, fast kernels equal the scalar oracle, codec round trips and rejections,
// distances under bit flips, clear errors for bad input.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/data_chunker.h"
#include "fingerprint/iscc/iscc_internal.h"
#include "fingerprint/iscc/iscc_tables.h"

namespace chuqu {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Mixed content: random stretches, long runs of one byte (forcing 8192-byte max-size
// chunks) and short repeated patterns.
std::vector<uint8_t> MixedBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v;
  while (v.size() < n) {
    const size_t len = 1 + rng() % 30000;
    switch (rng() % 3) {
      case 0:
        for (size_t i = 0; i < len; ++i) v.push_back(static_cast<uint8_t>(rng()));
        break;
      case 1: v.insert(v.end(), len, static_cast<uint8_t>(rng())); break;
      default:
        for (size_t i = 0; i < len; ++i) v.push_back(static_cast<uint8_t>("ISCC"[i % 4]));
    }
  }
  v.resize(n);
  return v;
}

template <typename T>
T Value(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : T{};
}

std::vector<size_t> CutPoints(std::span<const uint8_t> data) {
  std::vector<size_t> cuts;
  size_t pos = 0;
  do {
    pos += iscc_internal::CdcCut(data.data() + pos, data.size() - pos);
    cuts.push_back(pos);
  } while (pos < data.size());
  return cuts;
}

TEST(IsccDataCode, ChunkSizesRespectCdcLimits) {
  const auto data = MixedBytes(300000, 1);
  size_t prev = 0;
  const auto cuts = CutPoints(data);
  for (size_t i = 0; i < cuts.size(); ++i) {
    const size_t size = cuts[i] - prev;
    EXPECT_LE(size, iscc_internal::kCdcMax);
    if (i + 1 < cuts.size()) {
      EXPECT_GT(size, iscc_internal::kCdcMin);
    }
    prev = cuts[i];
  }
  // Long runs force max-size chunks; random data gives far smaller ones.
  EXPECT_NE(std::find(cuts.begin(), cuts.end(), cuts[0]), cuts.end());
  EXPECT_GT(cuts.size(), 300000 / iscc_internal::kCdcMax);
}

TEST(IsccDataCode, StreamingWithRandomSplitsEqualsOneShot) {
  std::mt19937 rng(7);
  for (const size_t n : {size_t{0}, size_t{1}, size_t{255}, size_t{8191}, size_t{8192}, size_t{8193},
                         size_t{20000}, size_t{250000}}) {
    for (const auto& data : {RandomBytes(n, static_cast<uint32_t>(n)), MixedBytes(n, static_cast<uint32_t>(n))}) {
      const std::string want = Value(GenDataCode(data, 256));
      for (int trial = 0; trial < 4; ++trial) {
        DataHasher h;
        size_t pos = 0;
        while (pos < data.size()) {
          const size_t max_step = trial == 0 ? 3 : trial == 1 ? 700 : trial == 2 ? 9000 : 40000;
          const size_t step = std::min(data.size() - pos, 1 + rng() % max_step);
          h.Update(std::span(data).subspan(pos, step));
          pos += step;
        }
        EXPECT_EQ(Value(h.Code(256)), want) << "n=" << n << " trial=" << trial;
      }
    }
  }
}

TEST(IsccDataCode, CodeDoesNotEndTheStream) {
  const auto data = MixedBytes(50000, 3);
  DataHasher h;
  h.Update(std::span(data).first(20000));
  EXPECT_EQ(Value(h.Code()), Value(GenDataCode(std::span(data).first(20000))));
  h.Update(std::span(data).subspan(20000));
  EXPECT_EQ(Value(h.Code()), Value(GenDataCode(data)));
}

TEST(IsccInstanceCode, StreamingEqualsOneShot) {
  std::mt19937 rng(9);
  const auto data = RandomBytes(100003, 5);
  const InstanceCode want = Value(GenInstanceCode(data, 256));
  EXPECT_EQ(want.filesize, data.size());
  InstanceHasher h;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t step = std::min(data.size() - pos, 1 + rng() % 5000);
    h.Update(std::span(data).subspan(pos, step));
    pos += step;
  }
  const InstanceCode got = Value(h.Finish(256));
  EXPECT_EQ(got.iscc, want.iscc);
  EXPECT_EQ(got.datahash, want.datahash);
  EXPECT_EQ(got.filesize, want.filesize);
}

TEST(IsccSum, EqualsComposedUnitsAndStreams) {
  std::mt19937 rng(11);
  const auto data = MixedBytes(120000, 13);
  IsccSumHasher whole;
  whole.Update(data);
  const std::string data_code = Value(GenDataCode(data, 256));
  const InstanceCode instance = Value(GenInstanceCode(data, 256));
  for (const bool wide : {false, true}) {
    const IsccSum sum = whole.Finish(wide);
    EXPECT_EQ(sum.units, (std::vector<std::string>{data_code, instance.iscc}));
    EXPECT_EQ(sum.datahash, instance.datahash);
    EXPECT_EQ(sum.filesize, data.size());
    EXPECT_EQ(sum.iscc, Value(GenIsccCode(sum.units, wide)));
    EXPECT_EQ(sum.iscc.substr(0, 7), wide ? "ISCC:K4" : "ISCC:KU");
    IsccSumHasher parts;
    size_t pos = 0;
    while (pos < data.size()) {
      const size_t step = std::min(data.size() - pos, 1 + rng() % 20000);
      parts.Update(std::span(data).subspan(pos, step));
      pos += step;
    }
    EXPECT_EQ(parts.Finish(wide).iscc, sum.iscc);
  }
}

TEST(IsccMinHash, KernelsMatchScalarOracle) {
  std::mt19937 rng(17);
  std::vector<uint32_t> features(1000);
  for (auto& f : features) f = static_cast<uint32_t>(rng());
  features[0] = 0;
  features[1] = 0xFFFFFFFFu;
  uint64_t oracle[64];
  std::fill(std::begin(oracle), std::end(oracle), 0xFFFFFFFFull);
  iscc_internal::MinHashUpdate(oracle, features, iscc_internal::MinHashImpl::kScalar);
  std::vector<iscc_internal::MinHashImpl> impls = {iscc_internal::MinHashImpl::kAuto};
  if (__builtin_cpu_supports("avx2")) impls.push_back(iscc_internal::MinHashImpl::kAvx2);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) {
    impls.push_back(iscc_internal::MinHashImpl::kAvx512);
  }
  for (const auto impl : impls) {
    uint64_t got[64];
    std::fill(std::begin(got), std::end(got), 0xFFFFFFFFull);
    // Split into uneven batches: the minima must not depend on batching.
    iscc_internal::MinHashUpdate(got, std::span(features).first(333), impl);
    iscc_internal::MinHashUpdate(got, std::span(features).subspan(333), impl);
    EXPECT_TRUE(std::equal(std::begin(got), std::end(got), std::begin(oracle))) << static_cast<int>(impl);
  }
}

TEST(IsccMinHash, MersenneReductionEdgeCases) {
  // Feature values whose a*f+b lands near multiples of 2^61-1 are checked against
  // 128-bit arithmetic for every lane.
  std::mt19937 rng(19);
  for (int i = 0; i < 2000; ++i) {
    const uint32_t f = static_cast<uint32_t>(rng());
    uint64_t mins[64];
    std::fill(std::begin(mins), std::end(mins), 0xFFFFFFFFull);
    iscc_internal::MinHashUpdate(mins, std::span<const uint32_t>(&f, 1));
    for (int k = 0; k < 64; ++k) {
      const uint64_t a = iscc_internal::kMinhashA[k], b = iscc_internal::kMinhashB[k];
      const uint64_t x = a * f + b;
      const uint64_t want = (x % ((uint64_t{1} << 61) - 1)) & 0xFFFFFFFFu;
      ASSERT_EQ(mins[k], want) << "k=" << k << " f=" << f;
    }
  }
}

TEST(IsccCodec, RoundTripsAllUnitTypesAndLengths) {
  std::mt19937 rng(23);
  for (const MainType mt : {MainType::kMeta, MainType::kSemantic, MainType::kContent, MainType::kData,
                            MainType::kInstance, MainType::kFlake}) {
    const int max_st = (mt == MainType::kSemantic || mt == MainType::kContent) ? 4 : 0;
    for (int st = 0; st <= max_st; ++st) {
      for (int bits = 32; bits <= 256; bits += 32) {
        IsccUnit u;
        u.main_type = mt;
        u.sub_type = static_cast<uint8_t>(st);
        u.body.resize(static_cast<size_t>(bits / 8));
        for (auto& b : u.body) b = static_cast<uint8_t>(rng());
        u.length = static_cast<uint16_t>(bits / 32 - 1);
        const std::string code = EncodeIscc(u);
        ASSERT_TRUE(code.starts_with("ISCC:"));
        EXPECT_EQ(Value(DecodeIscc(code)), u) << code;
        // Case-insensitive, scheme optional, dashes and whitespace ignored.
        std::string lower = code.substr(5);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
        lower.insert(0, "iscc:");
        EXPECT_EQ(Value(DecodeIscc(lower)), u);
        std::string dashed = " ";
        dashed.append(code, 0, 9).append("-").append(code, 9).append("\n");
        EXPECT_EQ(Value(DecodeIscc(dashed)), u);
      }
    }
  }
}

TEST(IsccCodec, KnownPrefixes) {
  auto prefix = [](MainType mt, uint8_t st, size_t bytes) {
    IsccUnit u;
    u.main_type = mt;
    u.sub_type = st;
    u.body.assign(bytes, 0);
    return EncodeIscc(u).substr(5, 3);
  };
  EXPECT_EQ(prefix(MainType::kMeta, 0, 8), "AAA");
  EXPECT_EQ(prefix(MainType::kContent, kSubTypeText, 8), "EAA");
  EXPECT_EQ(prefix(MainType::kContent, kSubTypeImage, 8), "EEA");
  EXPECT_EQ(prefix(MainType::kContent, kSubTypeAudio, 8), "EIA");
  EXPECT_EQ(prefix(MainType::kContent, kSubTypeVideo, 8), "EMA");
  EXPECT_EQ(prefix(MainType::kContent, kSubTypeMixed, 8), "EQA");
  EXPECT_EQ(prefix(MainType::kData, 0, 32), "GAD");
  EXPECT_EQ(prefix(MainType::kInstance, 0, 16), "IAB");
}

TEST(IsccCodec, DecomposeIsccCodeAndRecompose) {
  const std::vector<std::string> units = {"AAAYPXW445FTYNJ3", "EAARMJLTQCUWAND2", "GABVVC5DMJJGYKZ4ZBYVNYABFFYXG",
                                          "IADWIK7A7JTUAQ2D6QARX7OBEIK3OOUAM42LOBLCZ4ZOGDLRHMDL6TQ"};
  const std::string code = Value(GenIsccCode(units));
  EXPECT_EQ(code, "ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY");
  const auto parts = Value(DecomposeIscc(code));
  ASSERT_EQ(parts.size(), 4u);
  std::vector<std::string> encoded;
  for (const auto& p : parts) encoded.push_back(EncodeIscc(p));
  EXPECT_EQ(encoded[0], "ISCC:AAAYPXW445FTYNJ3");
  EXPECT_EQ(encoded[1], "ISCC:EAARMJLTQCUWAND2");
  EXPECT_EQ(parts[2].main_type, MainType::kData);
  EXPECT_EQ(parts[3].main_type, MainType::kInstance);
  EXPECT_EQ(Value(GenIsccCode(encoded)), code);
  // A dash-separated sequence of units decomposes into those units.
  const auto seq = Value(DecomposeIscc("ISCC:AAAYPXW445FTYNJ3-EAARMJLTQCUWAND2"));
  ASSERT_EQ(seq.size(), 2u);
  EXPECT_EQ(EncodeIscc(seq[1]), "ISCC:EAARMJLTQCUWAND2");
  // ...but DecodeIscc refuses a sequence.
  EXPECT_FALSE(DecodeIscc("AAAYPXW445FTYNJ3EAARMJLTQCUWAND2").ok());
}

TEST(IsccCodec, DecomposeWide) {
  const std::vector<std::string> units = {"ISCC:GADSL4F2WZY7KBXBYUZPREWZ26IXUJJOPJJAQMXVSY5IZVHJU7RRFNI",
                                          "ISCC:IAD26E2JXH27TINGUBAE32RW3TEUTG6LEXE23QISW7GJVE6K4QPTEYQ"};
  const std::string wide = Value(GenIsccCode(units, /*wide=*/true));
  EXPECT_EQ(wide, "ISCC:K4ACL4F2WZY7KBXBYUZPREWZ26IXVLYTJG47L6NBU2QEATPKG3OMSSI");
  const auto parts = Value(DecomposeIscc(wide));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].bits(), 128u);
  EXPECT_EQ(parts[0].main_type, MainType::kData);
  EXPECT_EQ(parts[1].main_type, MainType::kInstance);
  for (size_t i = 0; i < 2; ++i) {
    const IsccUnit full = Value(DecodeIscc(units[i]));
    EXPECT_TRUE(std::equal(parts[i].body.begin(), parts[i].body.end(), full.body.begin()));
  }
}

TEST(IsccCodec, Explain) {
  EXPECT_EQ(Value(ExplainIscc("ISCC:EAARMJLTQCUWAND2")), "CONTENT-TEXT-V0-64-16257380a960347a");
  EXPECT_EQ(Value(ExplainIscc("ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY")),
            "ISCC-TEXT-V0-MCDI-87dedce74b3c353b16257380a960347a5a8ba362526c2b3c642be0fa67404343");
  EXPECT_EQ(Value(ExplainIscc("GAASL4F2WZY7KBXB")), "DATA-NONE-V0-64-25f0bab671f506e1");
  // ISCC-ID v0 with a one-byte counter (header 0x60 0x01): hash hex, then the counter.
  IsccUnit id;
  id.main_type = MainType::kId;
  id.length = 1;
  id.body = {1, 2, 3, 4, 5, 6, 7, 8, 5};
  EXPECT_EQ(Value(ExplainIscc(EncodeIscc(id))), "ID-PRIVATE-V0-72-0102030405060708-5");
}

TEST(IsccCodec, RejectsMalformedCodes) {
  const char* bad[] = {
      "",                             // empty
      "ISCC:",                        // empty body
      "FOO:EAARMJLTQCUWAND2",         // unknown scheme
      "ISCC:EAARMJLTQCUWAND1",        // '1' is not base32
      "ISCC:EAARMJLTQCUWAND2A",       // impossible base32 length
      "ISCC:EAARMJLTQCUWAN",          // truncated body
      "ISCC:EAARMJLTQCUWAND2AAAAAAA",  // trailing bits (not a unit)
      "ISCC:EAAAAAAAAB",              // non-zero base32 pad bits
      "ISCC:EUA6GIKXN42IQV3S",        // Content SubType 5
      "ISCC:AE",                      // header only, SubType 4 on META
      "ISCC:A",                       // too short for a header
      "ISCC:KUAFVC5DMJJGYKZ4",        // ISCC-CODE with a 64-bit body
      "ISCC:AAA+PXW445FTYNJ3",        // symbol
      "ISCC:EAARMJLT\xC3\xA4QCUWAND2",  // non-ASCII
  };
  for (const char* code : bad) {
    auto r = DecodeIscc(code);
    EXPECT_FALSE(r.ok()) << code;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(r.status().message().empty());
    }
    EXPECT_FALSE(ExplainIscc(code).ok()) << code;
  }
}

TEST(IsccDistance, BitFlipsGiveThatDistance) {
  std::mt19937 rng(29);
  const auto unit = Value(DecodeIscc("ISCC:EADQ2JG5SGSB3UJPBYS3UWL7GY5BI5LXB4HATBTNVA4QG57VFL6G7NI"));
  const std::string a = EncodeIscc(unit);
  for (int k = 0; k <= 64; k += 8) {
    IsccUnit flipped = unit;
    std::vector<int> positions(256);
    for (int i = 0; i < 256; ++i) positions[static_cast<size_t>(i)] = i;
    std::shuffle(positions.begin(), positions.end(), rng);
    for (int i = 0; i < k; ++i) {
      const int p = positions[static_cast<size_t>(i)];
      flipped.body[static_cast<size_t>(p / 8)] ^= static_cast<uint8_t>(0x80 >> (p % 8));
    }
    const std::string b = EncodeIscc(flipped);
    EXPECT_EQ(Value(IsccDistance(a, b)), k);
    EXPECT_EQ(Value(IsccDistance(b, a)), k);
  }
  // Different types or lengths are not comparable.
  EXPECT_FALSE(IsccDistance("ISCC:EAARMJLTQCUWAND2", "ISCC:GAASL4F2WZY7KBXB").ok());
  EXPECT_FALSE(IsccDistance("ISCC:EAARMJLTQCUWAND2", a).ok());
}

TEST(IsccTextCode, SimilarTextsAreClose) {
  std::string base;
  std::mt19937 rng(31);
  static const char* kWords[] = {"archive", "river", "number", "light", "paper", "stone", "music", "garden",
                                 "window", "letter", "silver", "market", "winter", "forest", "signal"};
  for (int i = 0; i < 400; ++i) base += std::string(kWords[rng() % 15]) + (i % 11 == 10 ? ". " : " ");
  std::string edited = base;
  edited.replace(1000, 6, "XYZZY!");
  std::string other;
  for (int i = 0; i < 400; ++i) other += std::string(kWords[rng() % 15]) + " ";
  const std::string a = Value(GenTextCode(base)).iscc;
  const std::string b = Value(GenTextCode(edited)).iscc;
  const std::string c = Value(GenTextCode(other)).iscc;
  EXPECT_LE(Value(IsccDistance(a, b)), 8);
  EXPECT_GE(Value(IsccDistance(a, c)), 16);
  // Case, whitespace, punctuation and accents do not matter.
  EXPECT_EQ(Value(GenTextCode("Hello,  World!")).iscc, Value(GenTextCode("hello world")).iscc);
  EXPECT_EQ(Value(GenTextCode("H\xC3\xA9llo")).iscc, Value(GenTextCode("hello")).iscc);
  EXPECT_EQ(Value(GenTextCode("Hello World")).characters, 10);
}

TEST(IsccTextCode, InvalidUtf8IsAClearError) {
  for (const std::string& bad : {std::string("abc\xFF"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                                std::string("caf\xC3")}) {
    auto r = GenTextCode(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos) << r.status().message();
    EXPECT_FALSE(GenMetaCode(bad, "", std::nullopt).ok());
    EXPECT_FALSE(GenMetaCode("name", bad, std::nullopt).ok());
  }
}

TEST(IsccUnits, RejectBadBits) {
  for (const int bits : {0, 31, 48, 288, -64}) {
    EXPECT_FALSE(GenTextCode("hello", bits).ok()) << bits;
    EXPECT_FALSE(GenDataCode({}, bits).ok()) << bits;
    EXPECT_FALSE(GenAudioCode({}, bits).ok()) << bits;
    EXPECT_FALSE(GenMetaCode("x", "", std::nullopt, bits).ok()) << bits;
  }
}

TEST(IsccUnits, RejectBadInputsWithClearErrors) {
  EXPECT_FALSE(GenImageCode(std::vector<uint8_t>(1023, 0)).ok());
  EXPECT_FALSE(GenVideoCode({}).ok());
  const std::vector<std::string> one = {"EAARMJLTQCUWAND2"};
  EXPECT_FALSE(GenMixedCode(one).ok());
  const std::vector<std::string> not_content = {"EAARMJLTQCUWAND2", "GAASL4F2WZY7KBXB"};
  EXPECT_FALSE(GenMixedCode(not_content).ok());
  const std::vector<std::string> too_short = {"EAARMJLTQCUWAND2", "EAARMJLTQCUWAND2"};
  EXPECT_FALSE(GenMixedCode(too_short, 128).ok());
  const std::vector<std::string> no_instance = {"EAARMJLTQCUWAND2", "GAASL4F2WZY7KBXB"};
  EXPECT_FALSE(GenIsccCode(no_instance).ok());
  const std::vector<std::string> duplicate = {"EAARMJLTQCUWAND2", "EAARMJLTQCUWAND2", "GAASL4F2WZY7KBXB",
                                              "IAA26E2JXH27TING"};
  EXPECT_FALSE(GenIsccCode(duplicate).ok());
  ASSERT_TRUE(DecodeIscc("CEAQAAAAAAAAAAAA").ok());
  const std::vector<std::string> mixed_st = {"CEAQAAAAAAAAAAAA", "EAARMJLTQCUWAND2", "GAASL4F2WZY7KBXB",
                                             "IAA26E2JXH27TING"};
  EXPECT_FALSE(GenIsccCode(mixed_st).ok());
  const std::vector<std::string> short_unit = {"GAAAAAAA", "IAA26E2JXH27TING"};
  EXPECT_FALSE(GenIsccCode(short_unit).ok());
  // Meta: empty name after cleaning, bad meta JSON, payload cap.
  EXPECT_FALSE(GenMetaCode(" \t\x01 ", "", std::nullopt).ok());
  EXPECT_FALSE(GenMetaCode("x", "", std::string("[1,2]")).ok());
  EXPECT_FALSE(GenMetaCode("x", "", std::string("{not json")).ok());
  EXPECT_FALSE(GenMetaCode("x", "", std::string("data:application/json;base64,@@@")).ok());
  const std::string big = "{\"a\":\"" + std::string(128000, 'x') + "\"}";
  auto r = GenMetaCode("x", "", big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("128000"), std::string::npos);
  EXPECT_TRUE(GenMetaCode("x", "", "{\"a\":\"" + std::string(127000, 'x') + "\"}").ok());
}

TEST(IsccMetaCode, MetaFormsAgree) {
  // The same payload as a JSON object and as a Data-URL (base64 or %-escaped) hashes alike.
  const MetaCode from_json = Value(GenMetaCode("Hello", "", std::string(R"({"some": "object"})")));
  EXPECT_EQ(from_json.meta, "data:application/json;base64,eyJzb21lIjoib2JqZWN0In0=");
  const MetaCode from_url = Value(GenMetaCode("Hello", "", from_json.meta));
  EXPECT_EQ(from_url.iscc, from_json.iscc);
  EXPECT_EQ(from_url.metahash, from_json.metahash);
  const MetaCode from_pct =
      Value(GenMetaCode("Hello", "", std::string("data:application/json,%7B%22some%22%3A%22object%22%7D")));
  EXPECT_EQ(from_pct.iscc, from_json.iscc);
  // An empty object counts as no metadata.
  EXPECT_EQ(Value(GenMetaCode("Hello", "", std::string("{}"))).iscc, Value(GenMetaCode("Hello", "", std::nullopt)).iscc);
}

TEST(IsccText, CleanAndCollapse) {
  EXPECT_EQ(Value(IsccTextClean("  a\r\n\r\n\n\n b \x01\xE2\x80\x8B  \n")), "a\n\n b");
  EXPECT_EQ(Value(IsccTextClean("\xEF\xAC\x81")), "fi");  // NFKC ligature
  EXPECT_EQ(Value(IsccTextCollapse("\xC3\x89t\xC3\xA9, \xCE\xA3\xCE\x91\xCE\xA3!")), "ete\xCF\x83\xCE\xB1\xCF\x82");
}

}  // namespace
}  // namespace chuqu

namespace chuqu {
namespace {

std::string Utf8Of(char32_t c) {
  std::string s;
  iscc_internal::AppendUtf8(c, &s);
  return s;
}

// The table and ASCII fast paths of text_collapse equal the plain ICU computation.
TEST(IsccText, CollapseFastPathsMatchIcuForEveryBmpCodePoint) {
  for (char32_t c = 0; c < 0x10000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const std::string s = "Ab" + Utf8Of(c) + "\xCC\x81z";  // with a combining acute after it
    const auto fast = iscc_internal::TextCollapse(s);
    const auto ref = iscc_internal::TextCollapseReference(s);
    ASSERT_TRUE(fast.ok() && ref.ok());
    ASSERT_EQ(*fast, *ref) << "U+" << std::hex << static_cast<uint32_t>(c);
  }
}

TEST(IsccText, CollapseFastPathsMatchIcuOnTrickyStrings) {
  static const char32_t kPool[] = {
      U'a', U'Z', U' ', U'\t', U'\n', U'.', U'\'', U'-', U'1', 0x00E9, 0x0301, 0x0327, 0x0345, 0x03A3, 0x03C3,
      0x03C2, 0x0386, 0x0390, 0xD55C, 0x1100, 0x1161, 0x11A8, 0x3131, 0x314F, 0xFB01, 0x2460, 0xFF21, 0x0130,
      0x00DF, 0x1E9E, 0x0628, 0x0915, 0x093C, 0x0E01, 0x1F600, 0x1D400, 0x0F73, 0x0344, 0x212A, 0x2126, 0x00B5,
      0x0149, 0x01F0, 0x1E9B, 0x03D3, 0x00AD, 0x200D, 0x00A0, 0x3000, 0x2028, 0x0399, 0x1FBC, 0x1F88, 0x0316,
      0x05B0, 0x0E48, 0x3099, 0x304B, 0xFF76, 0xFF9E, 0x2000, 0x0041, 0x030A, 0x212B, 0x00C5};
  std::mt19937 rng(37);
  for (int trial = 0; trial < 5000; ++trial) {
    std::string s;
    const int len = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) s += Utf8Of(kPool[rng() % std::size(kPool)]);
    const auto fast = iscc_internal::TextCollapse(s);
    const auto ref = iscc_internal::TextCollapseReference(s);
    ASSERT_TRUE(fast.ok() && ref.ok());
    ASSERT_EQ(*fast, *ref) << "input: " << s;
  }
}

}  // namespace
}  // namespace chuqu
