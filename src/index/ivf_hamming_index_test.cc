#include "index/ivf_hamming_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "index/hamming_index.h"

namespace chuqu::index {
namespace {

constexpr uint32_t kRadius = 56;  // the ORB descriptor hit radius of ImageMatcher
constexpr size_t kUncapped = 1 << 20;
// Measured 0.969 on this data (clustered codes, 0..40 bits flipped, 256 words, default
// probes).
constexpr double kMinNearCopyRecall = 0.95;

// Flips k distinct bits chosen at random.
Code256 FlipBits(Code256 c, uint32_t k, std::mt19937_64& rng) {
  std::vector<uint32_t> pos(256);
  std::iota(pos.begin(), pos.end(), 0u);
  for (uint32_t i = 0; i < k; ++i) {
    std::swap(pos[i], pos[i + rng() % (pos.size() - i)]);
    c[pos[i] / 64] ^= uint64_t{1} << (pos[i] % 64);
  }
  return c;
}

// Clustered codes, as ORB descriptors are (their bits are correlated): `clusters` random
// centres, each code a centre with 20..60 bits flipped.
struct CodeSet {
  std::vector<uint64_t> ids;
  std::vector<Code256> codes;
};
CodeSet ClusteredCodes(size_t n, size_t clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Code256> centres(clusters);
  for (Code256& c : centres) c = {rng(), rng(), rng(), rng()};
  CodeSet set;
  for (size_t i = 0; i < n; ++i) {
    set.ids.push_back(1000 + 7 * i);
    set.codes.push_back(FlipBits(centres[rng() % clusters], 20 + rng() % 41, rng));
  }
  return set;
}

// Near copies of stored codes (0..40 bits flipped) and some unrelated codes.
std::vector<Code256> Queries(const CodeSet& set, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Code256> q;
  for (size_t i = 0; i < n; ++i) {
    if (i % 5 == 4) {
      q.push_back({rng(), rng(), rng(), rng()});
    } else {
      q.push_back(FlipBits(set.codes[rng() % set.codes.size()], rng() % 41, rng));
    }
  }
  return q;
}

TEST(IvfHammingIndexTest, HitsAreASubsetOfTheFlatScanWithExactDistances) {
  const CodeSet set = ClusteredCodes(30000, 300, 1);
  FlatHammingIndex<4> flat;
  IvfHammingIndex ivf(IvfOptions{.list_size = 64});
  ASSERT_TRUE(flat.Build(set.ids, set.codes).ok());
  ASSERT_TRUE(ivf.Build(set.ids, set.codes).ok());
  EXPECT_EQ(ivf.num_words(), 256u);  // 16 x 16: sqrt(30000 / 64) = 21.7 -> 16
  EXPECT_EQ(ivf.trained_size(), set.ids.size());
  const std::vector<Code256> queries = Queries(set, 400, 2);
  const auto all = flat.RangeSearchBatch(queries, kRadius, kUncapped);
  for (size_t cap : {size_t{16}, kUncapped}) {
    IvfSearchStats stats;
    const auto got = ivf.RangeSearchBatch(queries, kRadius, cap, &stats);
    ASSERT_EQ(got.size(), queries.size());
    for (size_t q = 0; q < queries.size(); ++q) {
      EXPECT_LE(got[q].size(), cap);
      EXPECT_TRUE(std::is_sorted(got[q].begin(), got[q].end(), NeighborLess));
      for (const Neighbor& nb : got[q]) {
        // Present in the flat answer with the same distance.
        EXPECT_TRUE(std::binary_search(all[q].begin(), all[q].end(), nb, NeighborLess))
            << "query " << q << " id " << nb.id << " d " << nb.distance;
      }
    }
    // 32 of 256 lists: about an eighth of the flat scan's distances.
    EXPECT_LT(stats.candidates, queries.size() * set.ids.size() / 4);
  }
  const auto capped = ivf.RangeSearchBatch(queries, kRadius, 16);
  const auto uncapped = ivf.RangeSearchBatch(queries, kRadius, kUncapped);
  for (size_t q = 0; q < queries.size(); ++q) {
    const size_t k = std::min<size_t>(16, uncapped[q].size());
    EXPECT_EQ(capped[q], std::vector<Neighbor>(uncapped[q].begin(), uncapped[q].begin() + k));
  }
}

// Recall of the stored code a near copy was made from (the hit ImageMatcher votes with).
TEST(IvfHammingIndexTest, FindsNearCopiesOfStoredCodes) {
  const CodeSet set = ClusteredCodes(40000, 400, 3);
  IvfHammingIndex ivf;
  ASSERT_TRUE(ivf.Build(set.ids, set.codes).ok());
  std::mt19937_64 rng(4);
  std::vector<Code256> queries;
  std::vector<size_t> source;
  for (size_t i = 0; i < 2000; ++i) {
    source.push_back(rng() % set.codes.size());
    queries.push_back(FlipBits(set.codes[source.back()], static_cast<uint32_t>(i % 41), rng));
  }
  const auto got = ivf.RangeSearchBatch(queries, kRadius, kUncapped);
  size_t found = 0, exact_found = 0, exact = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    const bool hit = std::any_of(got[i].begin(), got[i].end(), [&](const Neighbor& nb) {
      return nb.id == set.ids[source[i]];
    });
    found += hit;
    if (i % 41 == 0) {
      ++exact;
      exact_found += hit;
    }
  }
  // A stored code is always found by itself (its own word is always probed).
  EXPECT_EQ(exact_found, exact);
  EXPECT_GE(static_cast<double>(found) / queries.size(), kMinNearCopyRecall)
      << found << " of " << queries.size();
}

TEST(IvfHammingIndexTest, RemovedCodesAreNotFoundAndOthersStay) {
  const CodeSet set = ClusteredCodes(10000, 100, 5);
  IvfHammingIndex ivf;
  for (size_t i = 0; i < set.ids.size(); ++i) ASSERT_TRUE(ivf.Add(set.ids[i], set.codes[i]).ok());
  ASSERT_GT(ivf.num_words(), 1u);
  EXPECT_EQ(ivf.Add(set.ids[3], set.codes[3]).code(), StatusCode::kAlreadyExists);
  for (size_t i = 0; i < set.ids.size(); i += 2) ASSERT_TRUE(ivf.Remove(set.ids[i]).ok());
  EXPECT_EQ(ivf.Remove(set.ids[0]).code(), StatusCode::kNotFound);
  EXPECT_EQ(ivf.size(), set.ids.size() / 2);
  const auto got = ivf.RangeSearchBatch(set.codes, 0, kUncapped);
  for (size_t i = 0; i < set.ids.size(); ++i) {
    const bool removed = i % 2 == 0;
    const bool hit = std::any_of(got[i].begin(), got[i].end(),
                                 [&](const Neighbor& nb) { return nb.id == set.ids[i]; });
    EXPECT_EQ(hit, !removed) << i;
    for (const Neighbor& nb : got[i]) EXPECT_NE((nb.id - 1000) / 7 % 2, 0u) << nb.id;
  }
  // A removed id may be added again.
  ASSERT_TRUE(ivf.Add(set.ids[0], set.codes[0]).ok());
  const auto again = ivf.RangeSearchBatch(std::span(set.codes).first(1), 0, kUncapped);
  ASSERT_FALSE(again[0].empty());
  EXPECT_EQ(again[0][0].id, set.ids[0]);
}

TEST(IvfHammingIndexTest, SameInputGivesTheSameIndex) {
  const CodeSet set = ClusteredCodes(20000, 200, 6);
  const std::vector<Code256> queries = Queries(set, 300, 7);
  // Two indexes fed the same Adds (crossing the retraining sizes) answer alike.
  IvfHammingIndex a, b;
  for (size_t i = 0; i < set.ids.size(); ++i) {
    ASSERT_TRUE(a.Add(set.ids[i], set.codes[i]).ok());
    ASSERT_TRUE(b.Add(set.ids[i], set.codes[i]).ok());
  }
  EXPECT_EQ(a.trained_size(), 16384u);  // 4096, 8192, 16384
  EXPECT_EQ(a.RangeSearchBatch(queries, kRadius, 16), b.RangeSearchBatch(queries, kRadius, 16));
  // Training reads codes in id order: a build from shuffled input gives the same answers.
  std::vector<size_t> order(set.ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937_64(8));
  CodeSet shuffled;
  for (size_t i : order) {
    shuffled.ids.push_back(set.ids[i]);
    shuffled.codes.push_back(set.codes[i]);
  }
  IvfHammingIndex c, d;
  ASSERT_TRUE(c.Build(set.ids, set.codes).ok());
  ASSERT_TRUE(d.Build(shuffled.ids, shuffled.codes).ok());
  EXPECT_EQ(c.RangeSearchBatch(queries, kRadius, 16), d.RangeSearchBatch(queries, kRadius, 16));
  // A different seed trains another vocabulary (the seed is used).
  IvfHammingIndex e(IvfOptions{.seed = 99});
  ASSERT_TRUE(e.Build(set.ids, set.codes).ok());
  IvfSearchStats sc, se;
  (void)c.RangeSearchBatch(queries, kRadius, 16, &sc);
  (void)e.RangeSearchBatch(queries, kRadius, 16, &se);
  EXPECT_NE(sc.candidates, se.candidates);
}

// Past max_retrain_size, Adds keep the last vocabulary (no more stalls to retrain) and the
// codes added after it are still found.
TEST(IvfHammingIndexTest, AddsPastTheRetrainingCapKeepTheVocabulary) {
  const CodeSet set = ClusteredCodes(20000, 200, 9);
  IvfHammingIndex ivf(IvfOptions{.max_retrain_size = 10000});
  for (size_t i = 0; i < set.ids.size(); ++i) {
    ASSERT_TRUE(ivf.Add(set.ids[i], set.codes[i]).ok());
    if (i + 1 == 8192) {
      ASSERT_EQ(ivf.trained_size(), 8192u);
    }
  }
  EXPECT_EQ(ivf.trained_size(), 8192u);  // 4096, 8192; not 16384
  EXPECT_EQ(ivf.size(), set.ids.size());
  // Every code, before and after the cap, finds itself at distance 0.
  const std::vector<std::vector<Neighbor>> hits = ivf.RangeSearchBatch(set.codes, 0, 1);
  for (size_t i = 0; i < set.ids.size(); ++i) {
    ASSERT_FALSE(hits[i].empty()) << i;
    EXPECT_EQ(hits[i][0].distance, 0u) << i;
  }
}

TEST(IvfHammingIndexTest, UntrainedIndexIsTheFlatScan) {
  const CodeSet set = ClusteredCodes(3000, 50, 9);
  FlatHammingIndex<4> flat;
  IvfHammingIndex ivf;
  ASSERT_TRUE(flat.Build(set.ids, set.codes).ok());
  for (size_t i = 0; i < set.ids.size(); ++i) ASSERT_TRUE(ivf.Add(set.ids[i], set.codes[i]).ok());
  EXPECT_EQ(ivf.num_words(), 1u);
  EXPECT_EQ(ivf.trained_size(), 0u);
  const std::vector<Code256> queries = Queries(set, 200, 10);
  EXPECT_EQ(ivf.RangeSearchBatch(queries, kRadius, 16), flat.RangeSearchBatch(queries, kRadius, 16));
}

TEST(IvfHammingIndexTest, BadInputIsRefused) {
  IvfHammingIndex ivf;
  const std::vector<uint64_t> ids = {1, 2, 1};
  const std::vector<Code256> codes(3);
  EXPECT_EQ(ivf.Build(ids, codes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ivf.Build(std::span(ids).first(2), codes).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ivf.RangeSearchBatch(codes, kRadius, 16)[0].empty());
  EXPECT_EQ(ivf.Remove(5).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chuqu::index
