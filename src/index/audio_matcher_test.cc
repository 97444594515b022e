#include "index/audio_matcher.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace chuqu::index {
namespace {

std::vector<uint32_t> RandomValues(std::mt19937_64& rng, size_t n) {
  std::vector<uint32_t> v(n);
  for (uint32_t& x : v) x = static_cast<uint32_t>(rng());
  return v;
}

// Flips each bit with probability p.
uint32_t Noisy(uint32_t v, double p, std::mt19937_64& rng) {
  std::bernoulli_distribution flip(p);
  for (int b = 0; b < 32; ++b) {
    if (flip(rng)) v ^= uint32_t{1} << b;
  }
  return v;
}

constexpr double kItem = kChromaprintItemSeconds;
// A segment's inner bounds sit at the centres of its first and last values' spans.
constexpr double kShift = (kChromaprintValueSpan - kItem) / 2;

TEST(AudioMatcherTest, EmptyIndexEmptyQueryDuplicates) {
  AudioMatcher m;
  std::mt19937_64 rng(1);
  AudioFingerprint fp{RandomValues(rng, 200)};
  EXPECT_TRUE(m.Search(fp, 10).empty());
  ASSERT_TRUE(m.Add(5, fp).ok());
  EXPECT_TRUE(m.Search(AudioFingerprint{}, 10).empty());
  EXPECT_EQ(m.Add(5, fp).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(m.Add(6, AudioFingerprint{}).code(), StatusCode::kInvalidArgument);
}

TEST(AudioMatcherTest, PlantedEmbedWithNoiseGivesTheSegment) {
  std::mt19937_64 rng(2);
  AudioMatcher m;
  std::vector<std::vector<uint32_t>> works;
  for (int w = 0; w < 30; ++w) {
    works.push_back(RandomValues(rng, 500));
    ASSERT_TRUE(m.Add(1000 + w, {works.back()}).ok());
  }
  // Query: 40 items of other audio, then work 7 items 100..219 (~15 s), then 40 more.
  AudioFingerprint q{RandomValues(rng, 40)};
  for (int i = 100; i < 220; ++i) q.values.push_back(Noisy(works[7][i], 0.05, rng));
  for (uint32_t v : RandomValues(rng, 40)) q.values.push_back(v);
  const auto found = m.Search(q, 5);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].work, 1007u);
  EXPECT_NEAR(found[0].speed, 1.0, 0.02);
  EXPECT_NEAR(found[0].query_start, 40 * kItem + kShift, 0.5);
  EXPECT_NEAR(found[0].query_end, 160 * kItem + kShift, 0.5);
  EXPECT_NEAR(found[0].work_start, 100 * kItem + kShift, 0.5);
  EXPECT_NEAR(found[0].work_end, 220 * kItem + kShift, 0.5);
  EXPECT_NEAR(found[0].bit_error_rate, 0.05, 0.03);
  EXPECT_GT(found[0].score, 0.7);
}

TEST(AudioMatcherTest, TempoChangeIsAligned) {
  std::mt19937_64 rng(3);
  AudioMatcher m;
  std::vector<uint32_t> work = RandomValues(rng, 600);
  ASSERT_TRUE(m.Add(1, {work}).ok());
  ASSERT_TRUE(m.Add(2, {RandomValues(rng, 600)}).ok());
  // Query item i is work item round(50 + 1.2 i): played 1.2x faster.
  AudioFingerprint q;
  for (int i = 0; i < 300; ++i) {
    q.values.push_back(Noisy(work[static_cast<size_t>(std::lround(50 + 1.2 * i))], 0.03, rng));
  }
  const auto found = m.Search(q, 5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].work, 1u);
  EXPECT_NEAR(found[0].speed, 1.2, 0.02);
  EXPECT_NEAR(found[0].work_start, 50 * kItem, 1.0);
}

TEST(AudioMatcherTest, ResampledVariantMatchesInOriginalQueryTime) {
  std::mt19937_64 rng(4);
  AudioMatcher m;
  std::vector<uint32_t> work = RandomValues(rng, 400);
  ASSERT_TRUE(m.Add(9, {work}).ok());
  std::vector<AudioFingerprint> variants(2);
  variants[0].values = RandomValues(rng, 150);  // as heard: nothing matches
  variants[1].time_scale = 1.25f;                // resampled: matches from work item 40
  for (int i = 0; i < 120; ++i) variants[1].values.push_back(work[40 + i]);
  const auto found = m.Search(variants, 5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].variant, 1);
  // The copy runs to the variant's end: the last value's whole span.
  EXPECT_NEAR(found[0].query_start, 0, 1e-9);
  EXPECT_NEAR(found[0].query_end, (119 * kItem + kChromaprintValueSpan) * 1.25, 0.5);
  EXPECT_NEAR(found[0].speed, 0.8, 0.02);
  EXPECT_NEAR(found[0].work_start, 40 * kItem, 0.5);
  EXPECT_GT(found[0].score, 0.95);
}

TEST(AudioMatcherTest, DistractorAndBoundedList) {
  std::mt19937_64 rng(5);
  AudioMatcher m;
  const std::vector<uint32_t> shared = RandomValues(rng, 200);
  for (int w = 0; w < 200; ++w) ASSERT_TRUE(m.Add(w, {shared}).ok());
  EXPECT_TRUE(m.Search(AudioFingerprint{RandomValues(rng, 200)}, 10).empty());
  const auto found = m.Search(AudioFingerprint{shared}, 10);
  EXPECT_EQ(found.size(), 10u);
}

TEST(AudioMatcherTest, EncodeDecodeAndCorruptData) {
  std::mt19937_64 rng(6);
  AudioFingerprint fp{RandomValues(rng, 50), 1.5f};
  const std::vector<uint8_t> bytes = EncodeAudioFingerprint(fp);
  auto back = DecodeAudioFingerprint(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->values, fp.values);
  EXPECT_EQ(back->time_scale, 1.5f);
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 2);
  EXPECT_EQ(DecodeAudioFingerprint(cut).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> version = bytes;
  version[4] = 9;
  EXPECT_FALSE(DecodeAudioFingerprint(version).ok());
  std::vector<uint8_t> scale = bytes;
  scale[8] = 0xff;  // NaN
  EXPECT_FALSE(DecodeAudioFingerprint(scale).ok());
  EXPECT_FALSE(DecodeAudioFingerprint({}).ok());
}

}  // namespace
}  // namespace chuqu::index
