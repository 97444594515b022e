#include "fingerprint/pdq/pdq_hasher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fingerprint/pdq/pdq_naive.h"

namespace chuqu::pdq {
namespace {

const std::string kData = std::string(CHUQU_SHARED_DATA) + "/pdq/";

TEST(Hash256Test, HexRoundTripAndBitLayout) {
  Hash256 h;
  h.SetBit(0);  // reference w[0] bit 0: the last hex digit
  EXPECT_EQ(h.Hex(), std::string(63, '0') + "1");
  h.SetBit(255);  // w[15] bit 15: the first hex digit's top bit
  EXPECT_EQ(h.Hex(), "8" + std::string(62, '0') + "1");
  EXPECT_TRUE(h.Bit(0));
  EXPECT_TRUE(h.Bit(255));
  EXPECT_FALSE(h.Bit(1));
  EXPECT_EQ(h.Popcount(), 2);

  const std::string hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  Result<Hash256> parsed = Hash256::ParseHex(hex);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Hex(), hex);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(*Hash256::ParseHex(upper), *parsed);
}

TEST(Hash256Test, ParseRejectsBadInput) {
  EXPECT_FALSE(Hash256::ParseHex("").ok());
  EXPECT_FALSE(Hash256::ParseHex(std::string(63, '0')).ok());
  EXPECT_FALSE(Hash256::ParseHex(std::string(65, '0')).ok());
  EXPECT_FALSE(Hash256::ParseHex(std::string(63, '0') + "g").ok());
  EXPECT_FALSE(Hash256::ParseHex(" " + std::string(63, '0')).ok());
  EXPECT_EQ(Hash256::ParseHex(std::string(63, '0') + "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Hash256Test, FlipKBitsGivesDistanceK) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    Hash256 a;
    for (auto& w : a.words) w = (uint64_t{rng()} << 32) | rng();
    Hash256 b = a;
    std::vector<int> bits(256);
    for (int i = 0; i < 256; ++i) bits[i] = i;
    std::shuffle(bits.begin(), bits.end(), rng);
    const int k = trial * 5 % 257;
    for (int i = 0; i < k; ++i) b.words[3 - bits[i] / 64] ^= uint64_t{1} << (bits[i] % 64);
    EXPECT_EQ(Distance(a, b), k);
    EXPECT_EQ(Distance(b, a), k);
  }
}

// Shared data rule 5 (pdq/README.md): norms and the distance matrix of short256.dat.
TEST(Hash256Test, Short256NormsAndDistances) {
  std::ifstream in(kData + "reg-test-input/short256.dat");
  ASSERT_TRUE(in) << "missing shared data";
  std::vector<Hash256> hashes;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Result<Hash256> h = Hash256::ParseHex(line);
    ASSERT_TRUE(h.ok()) << line;
    hashes.push_back(*h);
  }
  ASSERT_EQ(hashes.size(), 6u);
  const int norms[6] = {124, 122, 120, 119, 0, 256};
  const int matrix[6][6] = {{0, 4, 122, 125, 124, 132},   {4, 0, 124, 127, 122, 134},
                            {122, 124, 0, 3, 120, 136},   {125, 127, 3, 0, 119, 137},
                            {124, 122, 120, 119, 0, 256}, {132, 134, 136, 137, 256, 0}};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(hashes[i].Popcount(), norms[i]);
    for (int j = 0; j < 6; ++j) EXPECT_EQ(Distance(hashes[i], hashes[j]), matrix[i][j]);
  }
}

TEST(PdqBuildTest, NoFmaContractionNoFastMath) {
  EXPECT_TRUE(internal::FmaContractionIsOff());
  // The exact value a fused multiply-add would give, to show the probe can tell them apart.
  const float a = 1.0f + 0x1p-12f;
  EXPECT_EQ(std::fma(a, a, -(1.0f + 0x1p-11f)), 0x1p-24f);
#ifdef __FAST_MATH__
  ADD_FAILURE() << "built with fast-math";
#endif
}

// Reads "[section]" blocks of floats from the intermediates file.
std::vector<float> ReadSection(const std::string& text, const std::string& name, size_t count) {
  const size_t at = text.find("[" + name + "]");
  if (at == std::string::npos) return {};
  std::istringstream in(text.substr(text.find('\n', at) + 1));
  std::vector<float> values;
  std::string token;
  while (values.size() < count && in >> token) values.push_back(std::strtof(token.c_str(), nullptr));
  return values;
}

// Stage-by-stage exactness on the reference's own intermediates (no decoder involved).
TEST(PdqStagesTest, IntermediatesOfBridge) {
  std::ifstream in(kData + "expected/computed-intermediates-bridge-1-original.txt");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::vector<float> b64 = ReadSection(text, "buffer64x64", 4096);
  const std::vector<float> dct = ReadSection(text, "dct16x16", 256);
  ASSERT_EQ(b64.size(), 4096u);
  ASSERT_EQ(dct.size(), 256u);
  EXPECT_EQ(internal::JaroszWindow(1600), 13);
  EXPECT_EQ(internal::JaroszWindow(1004), 8);
  EXPECT_EQ(internal::QualityMetric(b64.data()), 100);
  float out[256];
  internal::Dct64To16(b64.data(), out);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(out[i], dct[i]) << "coefficient " << i;
  EXPECT_EQ(internal::Median256(out), 2.88863373f);
  EXPECT_EQ(internal::BitsFromDct(out).Hex(),
            "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
}

std::vector<uint8_t> RandomRgb(int w, int h, size_t stride, uint32_t seed, bool smooth) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> rgb(stride * h, 0xAB);
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      for (int k = 0; k < 3; ++k) {
        uint8_t v = smooth ? static_cast<uint8_t>((r * 3 + c * 5 + k * 40 + (rng() % 7)) & 0xff)
                           : static_cast<uint8_t>(rng());
        rgb[r * stride + 3 * c + k] = v;
      }
    }
  }
  return rgb;
}

// The fast hasher against the scalar transcription on many shapes (windows 1..4, strips
// with remainders, 64x64 skip, < 64 sides, padded strides).
TEST(PdqHasherTest, FastEqualsNaiveOnRandomImages) {
  const int sizes[][2] = {{5, 5},    {5, 9},    {7, 6},    {17, 33},  {63, 65},   {64, 64},
                          {64, 65},  {100, 37}, {128, 128}, {129, 130}, {200, 300}, {257, 31},
                          {333, 129}, {513, 511}, {1000, 24}};
  PdqHasher hasher;
  uint32_t seed = 1;
  for (const auto& s : sizes) {
    for (bool smooth : {false, true}) {
      const int w = s[0], h = s[1];
      const size_t stride = 3 * static_cast<size_t>(w) + (seed % 3) * 16;
      std::vector<uint8_t> rgb = RandomRgb(w, h, stride, seed++, smooth);
      RgbView view{rgb.data(), w, h, stride};
      Result<PdqResult> fast = hasher.HashRgb(view);
      ASSERT_TRUE(fast.ok());
      PdqResult slow = naive::HashRgb(view);
      EXPECT_EQ(fast->hash, slow.hash) << w << "x" << h;
      EXPECT_EQ(fast->quality, slow.quality) << w << "x" << h;
      Result<PdqDihedralResult> fast8 = hasher.HashRgbDihedral(view);
      ASSERT_TRUE(fast8.ok());
      PdqDihedralResult slow8 = naive::HashRgbDihedral(view);
      EXPECT_EQ(fast8->quality, slow8.quality);
      for (int d = 0; d < kNumDihedral; ++d) {
        EXPECT_EQ(fast8->hashes[d], slow8.hashes[d])
            << w << "x" << h << " " << DihedralName(static_cast<Dihedral>(d));
      }
    }
  }
}

TEST(PdqHasherTest, LumaAndRgbPathsAgree) {
  const int w = 150, h = 97;
  std::vector<uint8_t> rgb = RandomRgb(w, h, 3 * w, 99, true);
  std::vector<float> luma(w * h);
  for (int i = 0; i < w * h; ++i) {
    luma[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
  }
  PdqHasher hasher;
  Result<PdqResult> a = hasher.HashRgb({rgb.data(), w, h, 3 * static_cast<size_t>(w)});
  Result<PdqResult> b = hasher.HashLuma({luma.data(), w, h});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_EQ(a->quality, b->quality);
  EXPECT_EQ(b->hash, naive::HashLuma({luma.data(), w, h}).hash);
  Result<PdqFloat256> f = hasher.Float256Luma({luma.data(), w, h});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(internal::BitsFromDct(f->values.data()), a->hash);
  EXPECT_EQ(a->hash.Popcount(), 128);
}

TEST(PdqHasherTest, TooSmallIsZeroAndReported) {
  PdqHasher hasher;
  for (auto [w, h] : {std::pair{4, 100}, std::pair{100, 4}, std::pair{0, 0}, std::pair{1, 1}}) {
    std::vector<uint8_t> rgb(3 * static_cast<size_t>(w) * h + 1, 200);
    Result<PdqResult> r = hasher.HashRgb({rgb.data(), w, h, 3 * static_cast<size_t>(w)});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->too_small);
    EXPECT_TRUE(r->hash.IsZero());
    EXPECT_EQ(r->quality, 0);
    Result<PdqDihedralResult> d = hasher.HashRgbDihedral({rgb.data(), w, h, 3 * size_t(w)});
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->too_small);
    for (const Hash256& x : d->hashes) EXPECT_TRUE(x.IsZero());
  }
  std::vector<uint8_t> rgb(5 * 5 * 3, 7);
  Result<PdqResult> r = hasher.HashRgb({rgb.data(), 5, 5, 15});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->too_small);
  EXPECT_EQ(r->quality, 0);  // flat image: no gradients
}

TEST(PdqHasherTest, BadViewsAreErrors) {
  PdqHasher hasher;
  std::vector<uint8_t> rgb(300, 1);
  EXPECT_EQ(hasher.HashRgb({nullptr, 10, 10, 30}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hasher.HashRgb({rgb.data(), 10, 10, 29}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(hasher.HashRgb({rgb.data(), -1, 10, 30}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(hasher.HashRgb({rgb.data(), 70000, 70000, 210000}).status().code(),
            StatusCode::kResourceExhausted);
  std::vector<float> luma(100, 1.0f);
  luma[57] = std::nanf("");
  EXPECT_EQ(hasher.HashLuma({luma.data(), 10, 10}).status().code(), StatusCode::kInvalidArgument);
  luma[57] = INFINITY;
  EXPECT_EQ(hasher.HashLumaDihedral({luma.data(), 10, 10}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PdqHasherTest, MedianMatchesTorbenIncludingTies) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    float v[256];
    const int distinct = 1 + trial % 40;
    for (float& x : v) x = static_cast<float>(static_cast<int>(rng() % distinct)) - 7.5f;
    if (trial % 2) {
      for (float& x : v) x = std::ldexp(static_cast<float>(rng() % 100000) - 50000.0f, -10);
    }
    EXPECT_EQ(internal::Median256(v), naive::TorbenMedian(v, 256));
  }
}

TEST(PdqHasherTest, DihedralVariantsAreAPermutationGroup) {
  // FlipPlus1 twice and Rotate180 twice are the identity on the DCT.
  std::mt19937 rng(5);
  float a[256], b[256], c[256];
  for (float& x : a) x = static_cast<float>(rng() % 1000) - 500.0f;
  for (Dihedral d : {Dihedral::kRotate180, Dihedral::kFlipPlus1, Dihedral::kFlipX,
                     Dihedral::kFlipY, Dihedral::kFlipMinus1}) {
    internal::DihedralDct(a, d, b);
    internal::DihedralDct(b, d, c);
    for (int i = 0; i < 256; ++i) ASSERT_EQ(a[i], c[i]) << DihedralName(d);
  }
  internal::DihedralDct(a, Dihedral::kRotate90, b);
  internal::DihedralDct(b, Dihedral::kRotate270, c);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(a[i], c[i]);
}

}  // namespace
}  // namespace chuqu::pdq
