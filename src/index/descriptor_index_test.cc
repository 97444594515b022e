#include "index/descriptor_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "index/hamming_index.h"

namespace chuqu::index {
namespace {

Code256 RandomCode(std::mt19937_64& rng) { return {rng(), rng(), rng(), rng()}; }

// Flips `k` distinct random bits.
Code256 Flip(Code256 c, int k, std::mt19937_64& rng) {
  std::set<int> bits;
  while (static_cast<int>(bits.size()) < k) bits.insert(static_cast<int>(rng() % 256));
  for (int b : bits) c[b / 64] ^= uint64_t{1} << (b % 64);
  return c;
}

TEST(DescriptorIndexTest, EmptyIndexAnswersEmptyLists) {
  DescriptorIndex index;
  std::mt19937_64 rng(1);
  const std::vector<Code256> q = {RandomCode(rng), RandomCode(rng)};
  const auto r = index.RangeSearchBatch(q, 256, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].empty());
  EXPECT_TRUE(r[1].empty());
  EXPECT_EQ(index.PrefixRadius(56), 22u);
  EXPECT_EQ(index.PrefixRadius(256), 64u);
}

// Every planted neighbour within the prefix radius is found, for several margins; the
// answer is a ranked subset of the flat scan's (the oracle) with exact distances, and holds
// every oracle hit whose prefix is within the prefix radius.
TEST(DescriptorIndexTest, PlantedNeighboursAreFoundAndAnswerIsSubsetOfFlat) {
  for (uint32_t margin : {0u, 8u, 16u}) {
    DescriptorIndex index(margin);
    FlatHammingIndex<4> flat;
    std::mt19937_64 rng(42 + margin);
    std::vector<Code256> base;
    for (uint64_t i = 0; i < 9000; ++i) {  // more than one scan block
      base.push_back(RandomCode(rng));
      ASSERT_TRUE(index.Add(i * 3, base.back()).ok());
      ASSERT_TRUE(flat.Add(i * 3, base.back()).ok());
    }
    constexpr uint32_t kRadius = 60;
    const uint32_t g = index.PrefixRadius(kRadius);
    EXPECT_EQ(g, kRadius / 4 + margin);
    std::vector<Code256> queries;
    std::vector<uint64_t> planted;
    for (int k = 0; k < 200; ++k) {
      const uint64_t target = rng() % base.size();
      // Half within the guarantee, half anywhere up to the radius.
      const int flips = static_cast<int>(rng() % ((k % 2 ? kRadius : g) + 1));
      queries.push_back(Flip(base[target], flips, rng));
      planted.push_back(target * 3);
    }
    const auto fast = index.RangeSearchBatch(queries, kRadius, 1000);
    const auto oracle = flat.RangeSearchBatch(queries, kRadius, 1000);
    size_t fast_total = 0, oracle_total = 0;
    for (size_t k = 0; k < queries.size(); ++k) {
      fast_total += fast[k].size();
      oracle_total += oracle[k].size();
      if (HammingDistance(base[planted[k] / 3], queries[k]) <= g) {
        bool found = false;
        for (const Neighbor& n : fast[k]) found |= n.id == planted[k];
        EXPECT_TRUE(found) << "margin " << margin << " query " << k;
      }
      for (size_t i = 0; i < fast[k].size(); ++i) {
        const Neighbor& n = fast[k][i];
        EXPECT_EQ(n.distance, HammingDistance(base[n.id / 3], queries[k]));
        EXPECT_NE(std::find(oracle[k].begin(), oracle[k].end(), n), oracle[k].end());
        if (i > 0) {
          EXPECT_TRUE(NeighborLess(fast[k][i - 1], n));
        }
      }
      for (const Neighbor& n : oracle[k]) {
        const uint32_t prefix = HammingDistance(Code64{base[n.id / 3][0]}, Code64{queries[k][0]});
        if (prefix <= g) {
          EXPECT_NE(std::find(fast[k].begin(), fast[k].end(), n), fast[k].end());
        }
      }
    }
    EXPECT_LE(fast_total, oracle_total);
    if (margin == 16) {
      EXPECT_EQ(fast_total, oracle_total);  // prefix radius 31: nothing missed here
    }
  }
}

TEST(DescriptorIndexTest, TruncatesToMaxResultsKeepingTheNearest) {
  DescriptorIndex index;
  std::mt19937_64 rng(7);
  const Code256 c = RandomCode(rng);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(index.Add(i, Flip(c, static_cast<int>(i), rng)).ok());
  const auto r = index.RangeSearchBatch(std::vector<Code256>{c}, 256, 3);
  ASSERT_EQ(r[0].size(), 3u);
  EXPECT_EQ(r[0][0], (Neighbor{0, 0}));
  EXPECT_EQ(r[0][1], (Neighbor{1, 1}));
  EXPECT_EQ(r[0][2], (Neighbor{2, 2}));
}

TEST(DescriptorIndexTest, AddRemoveContract) {
  DescriptorIndex index;
  std::mt19937_64 rng(9);
  const Code256 c = RandomCode(rng);
  ASSERT_TRUE(index.Add(5, c).ok());
  EXPECT_EQ(index.Add(5, c).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(index.size(), 1u);
  ASSERT_TRUE(index.Remove(5).ok());
  EXPECT_EQ(index.Remove(5).code(), StatusCode::kNotFound);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.RangeSearchBatch(std::vector<Code256>{c}, 10, 10)[0].empty());
  // The id can come back; nothing removed is returned.
  ASSERT_TRUE(index.Add(5, c).ok());
  const auto r = index.RangeSearchBatch(std::vector<Code256>{c}, 10, 10);
  ASSERT_EQ(r[0].size(), 1u);
  EXPECT_EQ(r[0][0], (Neighbor{5, 0}));
  // Removing one of several moves the last code into its place; the others stay found.
  const Code256 d = Flip(c, 3, rng), e = Flip(c, 5, rng);
  ASSERT_TRUE(index.Add(6, d).ok());
  ASSERT_TRUE(index.Add(7, e).ok());
  ASSERT_TRUE(index.Remove(5).ok());
  const auto r2 = index.RangeSearchBatch(std::vector<Code256>{c, e}, 10, 10);
  EXPECT_EQ(r2[0], (std::vector<Neighbor>{{6, 3}, {7, 5}}));
  EXPECT_EQ(r2[1].front(), (Neighbor{7, 0}));
  EXPECT_EQ(index.Remove(7).code(), StatusCode::kOk);
  EXPECT_EQ(index.size(), 1u);
}

}  // namespace
}  // namespace chuqu::index
