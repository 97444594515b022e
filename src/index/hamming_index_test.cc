#include "index/hamming_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace chuqu::index {
namespace {

template <size_t kWords>
BinaryCode<kWords> RandomCode(std::mt19937_64& rng) {
  BinaryCode<kWords> c;
  for (auto& w : c) w = rng();
  return c;
}

// Flips k distinct bits chosen at random.
template <size_t kWords>
BinaryCode<kWords> FlipBits(BinaryCode<kWords> c, uint32_t k, std::mt19937_64& rng) {
  std::vector<uint32_t> pos(64 * kWords);
  std::iota(pos.begin(), pos.end(), 0u);
  for (uint32_t i = 0; i < k; ++i) {
    std::swap(pos[i], pos[i + rng() % (pos.size() - i)]);
    c[pos[i] / 64] ^= uint64_t{1} << (pos[i] % 64);
  }
  return c;
}

TEST(HammingDistanceTest, FlippingKBitsGivesDistanceK) {
  std::mt19937_64 rng(1);
  for (uint32_t k = 0; k <= 256; k += 5) {
    Code256 a = RandomCode<4>(rng);
    EXPECT_EQ(HammingDistance(a, FlipBits(a, k, rng)), k);
  }
  Code64 a = RandomCode<1>(rng);
  EXPECT_EQ(HammingDistance(a, FlipBits(a, 64, rng)), 64u);
}

TEST(HammingDistanceTest, PdqCodeKeepsPdqDistance) {
  auto a = Hash256::ParseHex("48d966d9673cb325b92be90b0bdacad377a6102dbf69c2d4cc956cf40034bd50");
  auto b = Hash256::ParseHex("48d966d9673cb325b92be90b0bdacad277a6102dbf69c6d4cc956ce40034bd52");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(HammingDistance(PdqCode(*a), PdqCode(*b)), static_cast<uint32_t>(Distance(*a, *b)));
  EXPECT_EQ(HammingDistance(PdqCode(*a), PdqCode(*b)), 4u);
}

template <size_t kWords>
void CheckKernelsAgree() {
  std::mt19937_64 rng(7);
  for (size_t n : {0, 1, 7, 8, 9, 31, 1000}) {
    std::vector<BinaryCode<kWords>> codes(n);
    for (auto& c : codes) c = RandomCode<kWords>(rng);
    if (n > 0) codes[0] = FlipBits(codes[0], 0, rng);
    const BinaryCode<kWords> q = n > 1 ? FlipBits(codes[1], 3, rng) : RandomCode<kWords>(rng);
    std::vector<uint16_t> want(n), got(n);
    ComputeDistancesWith<kWords>(ScanKernel::kPortable, codes.data(), n, q, want.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(want[i], HammingDistance(codes[i], q));
    for (ScanKernel k : {ScanKernel::kPopcnt, ScanKernel::kAvx512}) {
      if (!CpuSupports(k)) continue;
      std::fill(got.begin(), got.end(), 0xFFFF);
      ComputeDistancesWith<kWords>(k, codes.data(), n, q, got.data());
      EXPECT_EQ(got, want) << ScanKernelName(k) << " n=" << n;
    }
  }
}

TEST(ScanKernelTest, EveryKernelMatchesPortable64) { CheckKernelsAgree<1>(); }
TEST(ScanKernelTest, EveryKernelMatchesPortable256) { CheckKernelsAgree<4>(); }

// The fused filter returns exactly the positions within the radius, in order, with their
// distances, for every kernel, block length (SIMD body and tail) and radius.
template <size_t kWords>
void CheckFilterKernelsAgree() {
  std::mt19937_64 rng(17);
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 33, 1000}) {
    std::vector<BinaryCode<kWords>> codes(n);
    const BinaryCode<kWords> q = RandomCode<kWords>(rng);
    for (auto& c : codes) c = FlipBits(q, static_cast<uint32_t>(rng() % (64 * kWords + 1)), rng);
    for (uint32_t radius : {0u, 1u, 20u, uint32_t{32 * kWords}, uint32_t{64 * kWords}}) {
      std::vector<uint32_t> want_index;
      std::vector<uint16_t> want_distance;
      for (size_t i = 0; i < n; ++i) {
        const uint32_t d = HammingDistance(codes[i], q);
        if (d <= radius) {
          want_index.push_back(static_cast<uint32_t>(i));
          want_distance.push_back(static_cast<uint16_t>(d));
        }
      }
      for (ScanKernel k : {ScanKernel::kPortable, ScanKernel::kPopcnt, ScanKernel::kAvx512}) {
        if (!CpuSupports(k)) continue;
        std::vector<uint32_t> index(n, 0xFFFFFFFF);
        std::vector<uint16_t> distance(n, 0xFFFF);
        const size_t hits =
            FilterWithinWith<kWords>(k, codes.data(), n, q, radius, index.data(), distance.data());
        index.resize(hits);
        distance.resize(hits);
        EXPECT_EQ(index, want_index) << ScanKernelName(k) << " n=" << n << " r=" << radius;
        EXPECT_EQ(distance, want_distance) << ScanKernelName(k) << " n=" << n << " r=" << radius;
      }
    }
  }
}

TEST(ScanKernelTest, SketchFilterMatchesPopcount) {
  std::mt19937_64 rng(18);
  for (size_t n : {0, 1, 15, 16, 17, 31, 32, 33, 1000}) {
    const auto q = static_cast<uint32_t>(rng());
    std::vector<uint32_t> sketches(n);
    for (auto& x : sketches) x = q ^ static_cast<uint32_t>(FlipBits(Code64{0}, rng() % 33, rng)[0]);
    for (uint32_t bound : {0u, 3u, 16u, 32u, 40u}) {
      std::vector<uint32_t> want;
      for (size_t i = 0; i < n; ++i) {
        if (static_cast<uint32_t>(std::popcount(sketches[i] ^ q)) <= bound) {
          want.push_back(static_cast<uint32_t>(i));
        }
      }
      for (ScanKernel k : {ScanKernel::kPortable, ScanKernel::kPopcnt, ScanKernel::kAvx512}) {
        if (!CpuSupports(k)) continue;
        std::vector<uint32_t> got(n, 0xFFFFFFFF);
        got.resize(FilterSketch32With(k, sketches.data(), n, q, bound, got.data()));
        EXPECT_EQ(got, want) << ScanKernelName(k) << " n=" << n << " bound=" << bound;
      }
    }
  }
}

TEST(ScanKernelTest, FilterMatchesPortable64) { CheckFilterKernelsAgree<1>(); }
TEST(ScanKernelTest, FilterMatchesPortable256) { CheckFilterKernelsAgree<4>(); }

// The multi-query block filter returns exactly the pairs within each query's limit, for
// every kernel, code count (full blocks and a partial last one), query count (whole tiles of
// the AVX-512 kernel and remainders) and limit.
template <size_t kWords>
void CheckBlockKernelsAgree() {
  std::mt19937_64 rng(19);
  const uint32_t kAll = std::numeric_limits<uint32_t>::max();
  for (size_t n : {0, 1, 7, 8, 9, 17, 64, 513}) {
    std::vector<BinaryCode<kWords>> codes(n);
    std::vector<CodeBlock<kWords>> blocks((n + 7) / 8);
    // Fill the padding lanes with the first query: they must never be reported.
    std::vector<BinaryCode<kWords>> queries(9);
    for (auto& q : queries) q = RandomCode<kWords>(rng);
    for (size_t i = 0; i < 8 * blocks.size(); ++i) SetBlockCode(blocks.data(), i, queries[0]);
    for (size_t i = 0; i < n; ++i) {
      codes[i] = FlipBits(queries[rng() % queries.size()],
                          static_cast<uint32_t>(rng() % (64 * kWords + 1)), rng);
      SetBlockCode(blocks.data(), i, codes[i]);
      ASSERT_EQ(GetBlockCode(blocks.data(), i), codes[i]);
    }
    for (size_t nq : {0, 1, 2, 3, 4, 5, 8, 9}) {
      std::vector<uint32_t> limits(nq);
      for (size_t q = 0; q < nq; ++q) {
        const uint32_t choices[] = {0u, 1u, 20u, uint32_t{32 * kWords}, uint32_t{64 * kWords},
                                    kAll};
        limits[q] = choices[rng() % std::size(choices)];
      }
      std::vector<ScanHit> want;
      for (size_t q = 0; q < nq; ++q) {
        for (size_t i = 0; i < n; ++i) {
          const uint32_t d = HammingDistance(codes[i], queries[q]);
          if (d <= limits[q]) {
            want.push_back({static_cast<uint32_t>(q), static_cast<uint32_t>(i), d});
          }
        }
      }
      auto order = [](const ScanHit& a, const ScanHit& b) {
        return a.query != b.query ? a.query < b.query : a.code < b.code;
      };
      for (ScanKernel k : {ScanKernel::kPortable, ScanKernel::kPopcnt, ScanKernel::kAvx512}) {
        if (!CpuSupports(k)) continue;
        std::vector<ScanHit> got(n * nq, ScanHit{kAll, kAll, kAll});
        got.resize(FilterBlocksWithinWith<kWords>(k, blocks.data(), n, queries.data(), nq,
                                                  limits.data(), got.data()));
        std::sort(got.begin(), got.end(), order);
        EXPECT_EQ(got, want) << ScanKernelName(k) << " n=" << n << " nq=" << nq;
      }
    }
  }
}

TEST(ScanKernelTest, BlockFilterMatchesPopcount64) { CheckBlockKernelsAgree<1>(); }
TEST(ScanKernelTest, BlockFilterMatchesPopcount256) { CheckBlockKernelsAgree<4>(); }

template <size_t kWords>
struct Corpus {
  std::vector<uint64_t> ids;
  std::vector<BinaryCode<kWords>> codes;
  void Push(uint64_t id, const BinaryCode<kWords>& c) {
    ids.push_back(id);
    codes.push_back(c);
  }
};

// A random base of n codes plus, around `query`, planted neighbours at every distance
// 0..max_planted (several per distance, so ties by distance are ranked by id). Ids are
// shuffled so id order is unrelated to insertion order.
template <size_t kWords>
Corpus<kWords> PlantedCorpus(size_t n, const BinaryCode<kWords>& query, uint32_t max_planted,
                             std::mt19937_64& rng) {
  Corpus<kWords> c;
  for (size_t i = 0; i < n; ++i) c.Push(0, RandomCode<kWords>(rng));
  for (uint32_t d = 0; d <= max_planted; ++d) {
    for (int copies = 0; copies < 3; ++copies) c.Push(0, FlipBits(query, d, rng));
  }
  std::vector<uint64_t> ids(c.codes.size());
  std::iota(ids.begin(), ids.end(), 1000u);
  std::shuffle(ids.begin(), ids.end(), rng);
  c.ids = ids;
  return c;
}

template <size_t kWords>
void ExpectSameAsOracle(const HammingIndex<kWords>& oracle, const HammingIndex<kWords>& index,
                        const BinaryCode<kWords>& q, uint32_t radius) {
  for (size_t cap : {size_t{1}, size_t{5}, size_t{1} << 30}) {
    ASSERT_EQ(index.RangeSearch(q, radius, cap), oracle.RangeSearch(q, radius, cap))
        << "radius=" << radius << " cap=" << cap;
  }
  for (size_t k : {1, 4, 10}) {
    ASSERT_EQ(index.KNearest(q, k), oracle.KNearest(q, k)) << "k=" << k;
  }
}

struct PlantedCase {
  size_t n;
  uint32_t radius;
  uint32_t num_substrings;  // 0 = automatic
  double flat_fraction;
  size_t seen_bitmap_after = MihOptions{}.seen_bitmap_after;
};

template <size_t kWords>
void RunPlanted(const PlantedCase& pc, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const BinaryCode<kWords> q = RandomCode<kWords>(rng);
  Corpus<kWords> c = PlantedCorpus<kWords>(pc.n, q, pc.radius + 2, rng);
  FlatHammingIndex<kWords> flat;
  ASSERT_TRUE(flat.Build(c.ids, c.codes).ok());
  MihHammingIndex<kWords> mih({.num_substrings = pc.num_substrings,
                               .flat_fraction = pc.flat_fraction,
                               .seen_bitmap_after = pc.seen_bitmap_after});
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  ASSERT_EQ(mih.size(), c.ids.size());

  // Every planted neighbour within the radius is found (independent of the oracle).
  std::vector<Neighbor> got = mih.RangeSearch(q, pc.radius, size_t{1} << 30);
  for (size_t i = pc.n; i < c.ids.size(); ++i) {
    const uint32_t d = HammingDistance(c.codes[i], q);
    const bool found = std::count(got.begin(), got.end(), Neighbor{c.ids[i], d}) == 1;
    EXPECT_EQ(found, d <= pc.radius) << "planted at distance " << d;
  }
  for (uint32_t r : {pc.radius, pc.radius + 1, pc.radius / 2}) {
    ExpectSameAsOracle<kWords>(flat, mih, q, r);
  }
  // Queries that are stored codes, and a query far from everything.
  ExpectSameAsOracle<kWords>(flat, mih, c.codes[c.codes.size() / 2], pc.radius);
  ExpectSameAsOracle<kWords>(flat, mih, RandomCode<kWords>(rng), pc.radius);
}

TEST(MihPlantedTest, Codes256) {
  const double kNever = 1e9, kDefault = MihOptions{}.flat_fraction;
  const PlantedCase cases[] = {
      {1, 31, 0, kDefault},     {200, 31, 0, kDefault},      {5000, 31, 0, kDefault},
      {5000, 31, 16, kNever},   {5000, 31, 14, kNever},      {5000, 31, 20, kNever},
      {5000, 31, 32, kNever},   {5000, 15, 16, kNever},      {5000, 0, 16, kNever},
      {5000, 7, 64, kNever},    {5000, 33, 15, kNever},      {20000, 31, 0, kNever},
      {3000, 31, 16, 0.0},  // every query falls back to the flat scan
      {5000, 31, 0, kNever, 0}, {5000, 31, 16, kNever, 100},  // seen-bitmap from the start / later
  };
  uint64_t seed = 100;
  for (const PlantedCase& pc : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "n=" << pc.n << " r=" << pc.radius << " m=" << pc.num_substrings);
    RunPlanted<4>(pc, ++seed);
  }
}

TEST(MihPlantedTest, Codes64) {
  const double kNever = 1e9, kDefault = MihOptions{}.flat_fraction;
  const PlantedCase cases[] = {
      {1, 8, 0, kDefault},   {200, 8, 0, kDefault},  {5000, 8, 0, kDefault}, {5000, 3, 4, kNever},
      {5000, 12, 3, kNever}, {5000, 12, 4, kNever},  {5000, 8, 5, kNever},   {5000, 0, 16, kNever},
      {5000, 6, 8, kNever},  {20000, 12, 0, kNever}, {3000, 8, 4, 0.0},
  };
  uint64_t seed = 200;
  for (const PlantedCase& pc : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "n=" << pc.n << " r=" << pc.radius << " m=" << pc.num_substrings);
    RunPlanted<1>(pc, ++seed);
  }
}

TEST(MihTest, ProbesRatherThanScansForSmallRadius) {
  std::mt19937_64 rng(3);
  Corpus<4> c;
  for (uint64_t i = 0; i < 20000; ++i) c.Push(i, RandomCode<4>(rng));
  MihHammingIndex<4> mih;
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  SearchStats stats;
  auto got = mih.RangeSearch(c.codes[17], 31, 100, &stats);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (Neighbor{17, 0}));
  EXPECT_FALSE(stats.flat_fallback);
  EXPECT_LT(stats.candidates, c.ids.size() / 4);
}

TEST(HammingIndexTest, EmptyIndexAnswersNoMatches) {
  FlatHammingIndex<4> flat;
  MihHammingIndex<4> mih;
  MihHammingIndex<1> mih64;
  std::mt19937_64 rng(4);
  const Code256 q = RandomCode<4>(rng);
  for (HammingIndex<4>* index :
       {static_cast<HammingIndex<4>*>(&flat), static_cast<HammingIndex<4>*>(&mih)}) {
    EXPECT_TRUE(index->RangeSearch(q, 256, 10).empty());
    EXPECT_TRUE(index->KNearest(q, 10).empty());
    EXPECT_TRUE(index->RangeSearchBatch(std::vector<Code256>{q, q}, 31, 10)[1].empty());
    EXPECT_EQ(index->Remove(5).code(), StatusCode::kNotFound);
    ASSERT_TRUE(index->Build({}, {}).ok());
    EXPECT_TRUE(index->KNearest(q, 3).empty());
    EXPECT_EQ(index->size(), 0u);
  }
  EXPECT_TRUE(mih64.RangeSearch(Code64{1}, 64, 10).empty());
}

TEST(HammingIndexTest, BadBuildInputIsRejected) {
  const std::vector<uint64_t> ids = {1, 2, 1};
  const std::vector<Code64> codes = {{1}, {2}, {3}};
  FlatHammingIndex<1> flat;
  MihHammingIndex<1> mih;
  EXPECT_EQ(flat.Build(ids, codes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mih.Build(ids, codes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mih.Build(std::span(ids).first(2), codes).code(), StatusCode::kInvalidArgument);
  // Ascending ids take the no-sort path; a repeat is still caught.
  EXPECT_EQ(mih.Build(std::vector<uint64_t>{1, 1, 2}, codes).code(), StatusCode::kInvalidArgument);
  // Two 32-bit substrings would need 2^32-entry tables.
  MihHammingIndex<1> too_wide({.num_substrings = 2});
  EXPECT_EQ(too_wide.Build(std::span(ids).first(2), std::span(codes).first(2)).code(),
            StatusCode::kInvalidArgument);
  MihHammingIndex<1> too_many({.num_substrings = 65});
  EXPECT_EQ(too_many.Build(std::span(ids).first(2), std::span(codes).first(2)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(mih.size(), 0u);
}

TEST(HammingIndexTest, RadiusBeyondWidthActsAsWidth) {
  MihHammingIndex<1> mih({.num_substrings = 4});
  ASSERT_TRUE(mih.Build(std::vector<uint64_t>{9, 8}, std::vector<Code64>{{0}, {~0ull}}).ok());
  EXPECT_EQ(mih.RangeSearch(Code64{0}, 1000, 10), (std::vector<Neighbor>{{9, 0}, {8, 64}}));
  EXPECT_EQ(mih.KNearest(Code64{~0ull}, 5), (std::vector<Neighbor>{{8, 0}, {9, 64}}));
}

// Random Add/Remove interleavings keep the fast index equal to the oracle, through pending
// scans, rebuilds on Add and compaction on Remove.
template <size_t kWords>
void RunAddRemove(uint64_t seed) {
  std::mt19937_64 rng(seed);
  FlatHammingIndex<kWords> flat;
  MihHammingIndex<kWords> mih({.max_pending = 64});
  std::vector<BinaryCode<kWords>> centres(20);
  for (auto& c : centres) c = RandomCode<kWords>(rng);
  std::vector<uint64_t> live;
  const uint32_t radius = kWords == 4 ? 31 : 8;
  for (int step = 0; step < 3000; ++step) {
    const uint64_t r = rng() % 10;
    if (r < 6 || live.empty()) {
      const uint64_t id = rng() % 5000;
      const auto code = FlipBits(centres[rng() % centres.size()], rng() % (radius + 3), rng);
      const Status a = flat.Add(id, code);
      const Status b = mih.Add(id, code);
      ASSERT_EQ(a.code(), b.code());
      if (a.ok()) live.push_back(id);
    } else if (r < 9) {
      const size_t i = rng() % live.size();
      ASSERT_TRUE(flat.Remove(live[i]).ok());
      ASSERT_TRUE(mih.Remove(live[i]).ok());
      live[i] = live.back();
      live.pop_back();
    } else {
      const uint64_t id = rng() % 5000;
      ASSERT_EQ(flat.Remove(id).code(), mih.Remove(id).code());
      std::erase(live, id);
    }
    ASSERT_EQ(flat.size(), mih.size());
    if (step % 50 == 0) {
      const auto q = FlipBits(centres[rng() % centres.size()], rng() % 4, rng);
      ExpectSameAsOracle<kWords>(flat, mih, q, radius);
    }
  }
  EXPECT_GT(mih.num_substrings(), 0u);  // the tables were built on the way
}

TEST(HammingIndexTest, AddRemoveMatchesOracle256) { RunAddRemove<4>(11); }
TEST(HammingIndexTest, AddRemoveMatchesOracle64) { RunAddRemove<1>(12); }

// Naive ranking: every code within the radius, sorted by (distance, id), cut at cap.
template <size_t kWords>
std::vector<Neighbor> NaiveSearch(const std::vector<uint64_t>& ids,
                                  const std::vector<BinaryCode<kWords>>& codes,
                                  const BinaryCode<kWords>& q, uint32_t radius, size_t cap) {
  std::vector<Neighbor> all;
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t d = HammingDistance(codes[i], q);
    if (d <= radius) all.push_back({ids[i], d});
  }
  std::sort(all.begin(), all.end(), NeighborLess);
  if (all.size() > cap) all.resize(cap);
  return all;
}

// The flat index (blocked layout, chunked multi-query scan) against the naive ranking,
// through Add/Remove (holes filled from the last block, blocks appended and dropped), single
// and batch queries, caps cutting inside tie groups, and planted neighbours.
template <size_t kWords>
void RunFlatAgainstNaive(uint64_t seed) {
  std::mt19937_64 rng(seed);
  FlatHammingIndex<kWords> flat;
  std::vector<uint64_t> ids;
  std::vector<BinaryCode<kWords>> codes;
  std::vector<BinaryCode<kWords>> centres(5);
  for (auto& c : centres) c = RandomCode<kWords>(rng);
  const uint32_t radius = kWords == 4 ? 56 : 12;
  for (int step = 0; step < 4000; ++step) {
    if (rng() % 10 < 7 || ids.empty()) {
      const uint64_t id = rng() % 100000;
      const auto code = FlipBits(centres[rng() % centres.size()],
                                 static_cast<uint32_t>(rng() % (2 * radius)), rng);
      const Status s = flat.Add(id, code);
      if (std::count(ids.begin(), ids.end(), id) != 0) {
        ASSERT_EQ(s.code(), StatusCode::kAlreadyExists);
        continue;
      }
      ASSERT_TRUE(s.ok());
      ids.push_back(id);
      codes.push_back(code);
    } else {
      const size_t i = rng() % ids.size();
      ASSERT_TRUE(flat.Remove(ids[i]).ok());
      ids[i] = ids.back();
      codes[i] = codes.back();
      ids.pop_back();
      codes.pop_back();
    }
    ASSERT_EQ(flat.size(), ids.size());
    if (step % 400 != 399) continue;
    std::vector<BinaryCode<kWords>> queries;
    for (int i = 0; i < 21; ++i) {
      queries.push_back(FlipBits(centres[rng() % centres.size()],
                                 static_cast<uint32_t>(rng() % radius), rng));
    }
    for (size_t cap : {size_t{1}, size_t{7}, size_t{1} << 30}) {
      const auto batch = flat.RangeSearchBatch(queries, radius, cap);
      const auto knn = flat.KNearestBatch(queries, cap == size_t{1} << 30 ? 50 : cap);
      ASSERT_EQ(batch.size(), queries.size());
      for (size_t q = 0; q < queries.size(); ++q) {
        const auto want = NaiveSearch<kWords>(ids, codes, queries[q], radius, cap);
        ASSERT_EQ(batch[q], want) << "cap=" << cap;
        SearchStats stats;
        ASSERT_EQ(flat.RangeSearch(queries[q], radius, cap), want);
        ASSERT_EQ(flat.RangeSearch(queries[q], radius, cap, &stats), want);
        ASSERT_EQ(stats.matches, NaiveSearch<kWords>(ids, codes, queries[q], radius,
                                                     ids.size()).size());
        const size_t k = cap == size_t{1} << 30 ? 50 : cap;
        ASSERT_EQ(knn[q], NaiveSearch<kWords>(ids, codes, queries[q], 64 * kWords, k));
        ASSERT_EQ(flat.KNearest(queries[q], k),
                  NaiveSearch<kWords>(ids, codes, queries[q], 64 * kWords, k));
        SearchStats knn_stats;
        ASSERT_EQ(flat.KNearest(queries[q], k, &knn_stats),
                  NaiveSearch<kWords>(ids, codes, queries[q], 64 * kWords, k));
        ASSERT_EQ(knn_stats.matches, ids.size());  // the whole width matches every code
      }
    }
  }
  // Every planted neighbour of a fresh query within the radius is found.
  const BinaryCode<kWords> q = RandomCode<kWords>(rng);
  for (uint32_t d = 0; d <= radius + 2; ++d) {
    const uint64_t id = 1000000 + d;
    ASSERT_TRUE(flat.Add(id, FlipBits(q, d, rng)).ok());
  }
  const auto got = flat.RangeSearch(q, radius, size_t{1} << 30);
  for (uint32_t d = 0; d <= radius + 2; ++d) {
    EXPECT_EQ(std::count(got.begin(), got.end(), Neighbor{1000000 + d, d}), d <= radius ? 1 : 0)
        << "planted at distance " << d;
  }
}

TEST(HammingIndexTest, FlatMatchesNaive256) { RunFlatAgainstNaive<4>(31); }
TEST(HammingIndexTest, FlatMatchesNaive64) { RunFlatAgainstNaive<1>(32); }

TEST(HammingIndexTest, DuplicateAddAndUnknownRemove) {
  MihHammingIndex<4> mih({.max_pending = 2});
  const Code256 a{1, 2, 3, 4}, b{5, 6, 7, 8};
  ASSERT_TRUE(mih.Add(1, a).ok());
  EXPECT_EQ(mih.Add(1, b).code(), StatusCode::kAlreadyExists);  // pending
  ASSERT_TRUE(mih.Add(2, b).ok());
  ASSERT_TRUE(mih.Add(3, b).ok());  // triggers a build
  EXPECT_GT(mih.num_substrings(), 0u);
  EXPECT_EQ(mih.Add(1, b).code(), StatusCode::kAlreadyExists);  // built
  ASSERT_TRUE(mih.Remove(1).ok());
  EXPECT_EQ(mih.Remove(1).code(), StatusCode::kNotFound);
  ASSERT_TRUE(mih.Add(1, b).ok());  // re-added with a new code
  EXPECT_EQ(mih.KNearest(b, 5), (std::vector<Neighbor>{{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(mih.RangeSearch(a, 0, 5), std::vector<Neighbor>{});
}

// Many near-identical codes: buckets hold most of the index. Results stay exact, the list
// is bounded and ranked, and the index chooses the flat scan rather than probing.
TEST(HammingIndexTest, ClusteredCodesBoundedAndExact) {
  std::mt19937_64 rng(5);
  Corpus<4> c;
  std::vector<Code256> centres(30);
  for (auto& x : centres) x = RandomCode<4>(rng);
  uint64_t id = 0;
  for (int i = 0; i < 6000; ++i) c.Push(id++, FlipBits(centres[0], rng() % 6, rng));
  for (int i = 0; i < 6000; ++i) c.Push(id++, FlipBits(centres[rng() % 30], rng() % 12, rng));
  for (int i = 0; i < 3000; ++i) c.Push(id++, RandomCode<4>(rng));
  FlatHammingIndex<4> flat;
  MihHammingIndex<4> mih;
  ASSERT_TRUE(flat.Build(c.ids, c.codes).ok());
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  for (int i = 0; i < 10; ++i) {
    const Code256 q = FlipBits(centres[i % 3], i, rng);
    ExpectSameAsOracle<4>(flat, mih, q, 31);
    ExpectSameAsOracle<4>(flat, mih, q, 8);
  }
  SearchStats stats;
  auto top = mih.RangeSearch(centres[0], 31, 20, &stats);
  ASSERT_EQ(top.size(), 20u);
  EXPECT_GE(stats.matches, 6000u);
  EXPECT_TRUE(stats.flat_fallback);
  EXPECT_TRUE(std::is_sorted(top.begin(), top.end(), NeighborLess));
}

// A capped search stops at the shell where `cap` hits lie within it: fewer candidates than
// the full search, and still the oracle's ranking (ties at the cut included).
template <size_t kWords>
void RunEarlyStop(uint64_t seed, size_t seen_bitmap_after) {
  std::mt19937_64 rng(seed);
  const uint32_t radius = kWords == 4 ? 31 : 12;
  const BinaryCode<kWords> centre = RandomCode<kWords>(rng);
  Corpus<kWords> c;
  uint64_t id = 0;
  for (int i = 0; i < 3000; ++i) c.Push(id++, RandomCode<kWords>(rng));
  // A dense cluster: 40 exact copies, then 400 codes at every distance up to the radius.
  for (int i = 0; i < 40; ++i) c.Push(id++, centre);
  for (int i = 0; i < 400; ++i) c.Push(id++, FlipBits(centre, 1 + rng() % radius, rng));
  std::shuffle(c.ids.begin(), c.ids.end(), rng);
  FlatHammingIndex<kWords> flat;
  MihHammingIndex<kWords> mih({.flat_fraction = 1e9, .seen_bitmap_after = seen_bitmap_after});
  ASSERT_TRUE(flat.Build(c.ids, c.codes).ok());
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  SearchStats capped, full;
  const auto top = mih.RangeSearch(centre, radius, 10, &capped);
  const auto all = mih.RangeSearch(centre, radius, size_t{1} << 30, &full);
  EXPECT_EQ(top, flat.RangeSearch(centre, radius, 10));
  EXPECT_EQ(all, flat.RangeSearch(centre, radius, size_t{1} << 30));
  EXPECT_FALSE(capped.flat_fallback);
  EXPECT_FALSE(full.flat_fallback);
  EXPECT_GE(all.size(), 440u);
  EXPECT_LT(capped.candidates, full.candidates / 2);
  EXPECT_LT(capped.matches, all.size());  // stopped before meeting every match
  // Cuts inside a tie group (40 codes at distance 0, then many at each distance).
  for (size_t cap : {1, 39, 40, 41, 60, 200}) {
    for (uint32_t flips : {0u, 2u, 5u}) {
      const BinaryCode<kWords> q = FlipBits(centre, flips, rng);
      ASSERT_EQ(mih.RangeSearch(q, radius, cap), flat.RangeSearch(q, radius, cap))
          << "cap=" << cap << " flips=" << flips;
      ASSERT_EQ(mih.KNearest(q, cap), flat.KNearest(q, cap)) << "k=" << cap;
    }
  }
}

TEST(MihTest, CappedSearchStopsEarly256) {
  RunEarlyStop<4>(21, MihOptions{}.seen_bitmap_after);
  RunEarlyStop<4>(23, 0);     // every candidate deduplicated by the seen-bitmap
  RunEarlyStop<4>(24, 1000);  // bitmap switched on mid-query
}
TEST(MihTest, CappedSearchStopsEarly64) { RunEarlyStop<1>(22, 0); }

TEST(HammingIndexTest, BatchEqualsSingleQueries) {
  std::mt19937_64 rng(6);
  Corpus<4> c = PlantedCorpus<4>(3000, RandomCode<4>(rng), 40, rng);
  FlatHammingIndex<4> flat;
  MihHammingIndex<4> mih;
  ASSERT_TRUE(flat.Build(c.ids, c.codes).ok());
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  std::vector<Code256> queries;
  for (int i = 0; i < 9; ++i)
    queries.push_back(FlipBits(c.codes[rng() % c.codes.size()], i * 3, rng));
  for (const HammingIndex<4>* index :
       {static_cast<const HammingIndex<4>*>(&flat), static_cast<const HammingIndex<4>*>(&mih)}) {
    auto range = index->RangeSearchBatch(queries, 31, 7);
    auto knn = index->KNearestBatch(queries, 3);
    ASSERT_EQ(range.size(), queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      EXPECT_EQ(range[i], flat.RangeSearch(queries[i], 31, 7));
      EXPECT_EQ(knn[i], flat.KNearest(queries[i], 3));
    }
  }
}

TEST(HammingIndexTest, ConstQueriesRunConcurrently) {
  std::mt19937_64 rng(8);
  const Code256 centre = RandomCode<4>(rng);
  Corpus<4> c = PlantedCorpus<4>(4000, centre, 35, rng);
  MihHammingIndex<4> mih;
  ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
  const auto want = mih.RangeSearch(centre, 31, 1000);
  std::vector<int> ok(2, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      int same = 0;
      for (int i = 0; i < 50; ++i) same += mih.RangeSearch(centre, 31, 1000) == want;
      ok[t] = same;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, (std::vector<int>{50, 50}));
}

TEST(MihTest, AutomaticSubstringsFitTheMemoryTarget) {
  // 10^7 PDQ codes at radius 31: offsets + postings + code + id within 128 B per code.
  const uint32_t m = MihHammingIndex<4>::ChooseSubstrings(10'000'000, 31);
  EXPECT_GE(m, 10u);
  double offsets = 0;
  for (uint32_t t = 0; t < m; ++t) offsets += 4.0 * (1u << (256 / m + (t < 256 % m ? 1 : 0)));
  EXPECT_LE(32 + 8 + 4.0 * m + offsets / 1e7, 128.0) << "m=" << m;
}

}  // namespace
}  // namespace chuqu::index

namespace chuqu::index {
namespace {

// Real PDQ hashes: every frame of ThreatExchange's vPDQ sample videos. Frames of one video
// and its re-encodes are a few bits apart, so buckets grow as they do in a real registry.
std::vector<Code256> LoadVpdqSampleHashes() {
  std::vector<Code256> out;
  const std::string dir = std::string(CHUQU_SHARED_DATA) + "/vpdq/sample-hashes/";
  for (const char* name : {"chair-22-with-large-logo-bar.txt", "chair-22-with-small-logo-bar.txt",
                           "chair-orig-22-hd-no-bar.txt", "chair-orig-22-hd-no-bar-128x128.txt",
                           "doorknob-hd-no-bar.txt", "pattern-hd-no-bar.txt",
                           "pattern-longer-no-bar.txt", "pattern-sd-with-large-logo-bar.txt"}) {
    std::ifstream in(dir + name);
    std::string line;
    while (std::getline(in, line)) {
      // frame,quality,hex,seconds
      const size_t a = line.find(',');
      const size_t b = a == std::string::npos ? a : line.find(',', a + 1);
      if (b == std::string::npos || line.size() < b + 65) continue;
      Code256 c{};
      for (int i = 0; i < 64; ++i) {
        const char ch = line[b + 1 + i];
        const uint64_t v = ch <= '9' ? ch - '0' : ch - 'a' + 10;
        c[i / 16] |= (v & 15) << (60 - 4 * (i % 16));
      }
      out.push_back(c);
    }
  }
  return out;
}

TEST(HammingIndexRealPdqTest, VpdqFrameHashesMatchOracle) {
  const std::vector<Code256> real = LoadVpdqSampleHashes();
  if (real.size() < 1000) GTEST_SKIP() << "vPDQ sample hashes not found under " CHUQU_SHARED_DATA;
  std::mt19937_64 rng(9);
  Corpus<4> c;
  for (size_t i = 0; i < real.size(); ++i) c.Push(rng(), real[i]);
  for (int i = 0; i < 5000; ++i) c.Push(rng(), RandomCode<4>(rng));  // unrelated works
  FlatHammingIndex<4> flat;
  ASSERT_TRUE(flat.Build(c.ids, c.codes).ok());
  for (uint32_t m : {0u, 16u}) {
    MihHammingIndex<4> mih({.num_substrings = m,
                            .flat_fraction = m == 0 ? 0.03 : 1e9,
                            .seen_bitmap_after = m == 0 ? size_t{16384} : size_t{500}});
    ASSERT_TRUE(mih.Build(c.ids, c.codes).ok());
    size_t big = 0;
    for (int i = 0; i < 40; ++i) {
      const Code256 q = FlipBits(real[rng() % real.size()], rng() % 20, rng);
      ExpectSameAsOracle<4>(flat, mih, q, 31);
      big += mih.RangeSearch(q, 31, 1 << 30).size() >= 20;
    }
    EXPECT_GT(big, 0u) << "real frames should match many near-duplicate frames";
  }
}

}  // namespace
}  // namespace chuqu::index
