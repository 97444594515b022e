// Hamming indexes over fixed-width binary codes, in the spirit of faiss::IndexBinary: one
// small batch interface, a flat brute-force implementation that is also the test oracle
// (FlatHammingIndex), and multi-index hashing (MihHammingIndex, Norouzi, Punjani & Fleet,
// "Fast Exact Search in Hamming Space with Multi-Index Hashing", TPAMI 2014).
//
// Contract shared by every implementation, so they are interchangeable:
// - Ids are uint64 chosen by the caller (work or fingerprint ids); one code per id.
// - RangeSearch returns every stored code within `radius` (inclusive), ranked by
//   (distance, id) ascending, truncated to the first `max_results`. KNearest returns the
//   first k of the same ranking over all stored codes. Both are exact: a fast index returns
//   exactly what the flat scan returns, ties included.
// - An empty index, k == 0 or max_results == 0 answer an empty list; a radius above the
//   code width acts as the code width.
// Thread-safety: const methods may run concurrently; Add/Remove/Build need exclusive access.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"
#include "index/hamming.h"
#include "index/huge_pages.h"

namespace chuqu::index {

// Work done by one query, for benchmarks and adapters' logs.
struct SearchStats {
  size_t candidates = 0;       // codes whose full distance was computed
  size_t probes = 0;           // hash-table buckets looked up
  size_t matches = 0;          // codes within the radius before truncation
  bool flat_fallback = false;  // the index chose a flat scan as cheaper
};

template <size_t kWords>
class HammingIndex {
 public:
  using Code = BinaryCode<kWords>;
  static constexpr uint32_t kBits = 64 * kWords;

  virtual ~HammingIndex() = default;

  // Replaces the contents with ids[i] -> codes[i] (the start-up load from the store).
  // Fails with InvalidArgument if the spans differ in length or an id repeats.
  [[nodiscard]] virtual Status Build(std::span<const uint64_t> ids,
                                     std::span<const Code> codes) = 0;
  // Fails with AlreadyExists if `id` is stored.
  [[nodiscard]] virtual Status Add(uint64_t id, const Code& code) = 0;
  // Fails with NotFound if `id` is not stored.
  [[nodiscard]] virtual Status Remove(uint64_t id) = 0;
  virtual size_t size() const = 0;
  // Bytes held by the index, codes and ids included (counted, not RSS).
  virtual size_t MemoryBytes() const = 0;

  virtual std::vector<Neighbor> RangeSearch(const Code& query, uint32_t radius, size_t max_results,
                                            SearchStats* stats = nullptr) const = 0;
  virtual std::vector<Neighbor> KNearest(const Code& query, size_t k,
                                         SearchStats* stats = nullptr) const = 0;

  // Batch forms: result i answers queries[i].
  virtual std::vector<std::vector<Neighbor>> RangeSearchBatch(std::span<const Code> queries,
                                                              uint32_t radius,
                                                              size_t max_results) const;
  virtual std::vector<std::vector<Neighbor>> KNearestBatch(std::span<const Code> queries,
                                                           size_t k) const;
};

// Brute force over a dense array: exact by construction, the oracle for the fast index, and
// the right choice below ~10^5 codes. Remove is O(1) (moves the last code into the hole).
// Codes are stored word-major in blocks of eight (CodeBlock) and scanned by the multi-query
// kernel FilterBlocksWithin, a few hundred codes at a time so each chunk is scanned for
// every query while it is in L1.
template <size_t kWords>
class FlatHammingIndex final : public HammingIndex<kWords> {
 public:
  using Code = BinaryCode<kWords>;

  [[nodiscard]] Status Build(std::span<const uint64_t> ids, std::span<const Code> codes) override;
  [[nodiscard]] Status Add(uint64_t id, const Code& code) override;
  [[nodiscard]] Status Remove(uint64_t id) override;
  size_t size() const override { return ids_.size(); }
  size_t MemoryBytes() const override;
  // The i-th stored pair, i < size(), in storage order (to move the codes to another index).
  uint64_t id_at(size_t i) const { return ids_[i]; }
  Code code_at(size_t i) const { return GetBlockCode(blocks_.data(), i); }

  std::vector<Neighbor> RangeSearch(const Code& query, uint32_t radius, size_t max_results,
                                    SearchStats* stats = nullptr) const override;
  std::vector<Neighbor> KNearest(const Code& query, size_t k,
                                 SearchStats* stats = nullptr) const override;
  // Each chunk of stored codes is scanned for every query while it is in L1.
  std::vector<std::vector<Neighbor>> RangeSearchBatch(std::span<const Code> queries,
                                                      uint32_t radius,
                                                      size_t max_results) const override;
  std::vector<std::vector<Neighbor>> KNearestBatch(std::span<const Code> queries,
                                                   size_t k) const override;

 private:
  // Every stored code within `radius` of queries[q] is offered to a collector of the first
  // `cap` by (distance, id). With count_all false a chunk is filtered at the collector's
  // current bound, so codes that cannot enter are not offered (nor counted in offered()).
  template <typename Collector>
  void Scan(std::span<const Code> queries, uint32_t radius, std::span<Collector> out,
            bool count_all) const;
  std::vector<std::vector<Neighbor>> ScanBatch(std::span<const Code> queries, uint32_t radius,
                                               size_t cap) const;

  std::vector<CodeBlock<kWords>> blocks_;  // code i in lane i % 8 of blocks_[i / 8]
  std::vector<uint64_t> ids_;
  std::unordered_map<uint64_t, uint32_t> position_;  // id -> index into codes_/ids_
};

struct MihOptions {
  // Number of substrings m. 0 picks m at each (re)build from the number of codes and
  // `design_radius` with a cost model (probes + candidates, memory-capped).
  uint32_t num_substrings = 0;
  // The radius the automatic choice of m is tuned for; 0 means the width's default
  // (31 of 256 bits: the PDQ match threshold; 8 of 64 bits).
  uint32_t design_radius = 0;
  // Codes added after the last build are scanned flat until there are this many, then the
  // tables are rebuilt with them (amortised O(1) per Add).
  size_t max_pending = 65536;
  // A range query whose work exceeds this fraction of the indexed codes, counted in random
  // memory accesses (a probe, or a distinct 256-bit candidate), is answered by a flat scan
  // instead (clustered codes make buckets grow). A prefetched random access on huge pages
  // costs ~7-10x a 256-bit code in the sequential AVX-512 scan (measured,
  // docs/benchmarks.md); smaller codes scale down. A k-NN query, whose k-th neighbour may be
  // far beyond any radius an index helps with, gets kKnnBudgetShare of it.
  double flat_fraction = 0.1;
  // 256-bit codes: after this many gathered candidates a query skips codes it has already
  // met with a per-thread bitmap (clustered buckets meet each code in several tables).
  size_t seen_bitmap_after = 16384;
};

// Multi-index hashing: the code is cut into m substrings of about 256/m bits; table t maps
// each substring value to the codes holding it (CSR: a 2^b offset array plus a posting array
// of 32-bit slots). A code within distance r of the query has, by the pigeonhole principle,
// some substring within floor(r/m); Norouzi et al. Prop. 2 tightens it to: with r = s*m + a,
// one of the first a+1 substrings within s, or one of the rest within s-1. Each candidate's
// full distance is then checked, so the result is exact. Slots are ordered by id, so ids are
// found by binary search and no id map is needed for built codes.
// Queries visit the tables shell by shell (Norouzi et al. §4.2) and stop once the capped
// ranking is final. Each querying thread keeps a bitmap of n bits (1.25 MiB at 10^7 codes)
// to skip codes met twice; it is reused, not freed, between queries.
template <size_t kWords>
class MihHammingIndex final : public HammingIndex<kWords> {
 public:
  using Code = BinaryCode<kWords>;
  static constexpr uint32_t kBits = 64 * kWords;
  // Widest substring: 2^26 four-byte offsets is 256 MiB per table.
  static constexpr uint32_t kMaxSubstringBits = 26;

  explicit MihHammingIndex(MihOptions options = {});

  [[nodiscard]] Status Build(std::span<const uint64_t> ids, std::span<const Code> codes) override;
  [[nodiscard]] Status Add(uint64_t id, const Code& code) override;
  [[nodiscard]] Status Remove(uint64_t id) override;
  size_t size() const override { return live_base_ + pending_codes_.size(); }
  size_t MemoryBytes() const override;

  std::vector<Neighbor> RangeSearch(const Code& query, uint32_t radius, size_t max_results,
                                    SearchStats* stats = nullptr) const override;
  std::vector<Neighbor> KNearest(const Code& query, size_t k,
                                 SearchStats* stats = nullptr) const override;

  // The substring count of the current tables (0 before the first build).
  uint32_t num_substrings() const { return static_cast<uint32_t>(tables_.size()); }
  // The substring count the cost model picks for n codes at radius r (exposed for tests and
  // the benchmark).
  static uint32_t ChooseSubstrings(size_t n, uint32_t r);

 private:
  struct Table {
    uint32_t bit_offset = 0;  // first bit of the substring in the code
    uint32_t bits = 0;        // substring width b
    // 2^b + 1 entries; bucket v is postings[offsets[v], offsets[v+1]).
    HugeVector<uint32_t> offsets;
    HugeVector<uint32_t> postings;  // slots, grouped by substring value
    // kInlineSketch only: sketch[i] holds the 32 code bits that follow the substring
    // (cyclically) in codes_[postings[i]]; sketch_tables marks the substrings they overlap.
    HugeVector<uint32_t> sketch;
    uint64_t sketch_tables = 0;
  };
  // 64-bit codes keep a 32-bit sketch beside each table's postings (4 B per code per table):
  // a sequential scan of sketches rejects almost every candidate by a lower bound on its
  // distance, and only the survivors' codes are fetched.
  static constexpr bool kInlineSketch = kWords == 1;
  // A candidate's cost relative to a probe (a cache miss): the same when its code is fetched
  // from codes_, ~30-50x less when read in sequence beside the postings (measured).
  static constexpr double kCandidateCost = kInlineSketch ? 0.02 : 1.0;
  static constexpr double kKnnBudgetShare = 0.3;
  // Reading a posting and testing the seen-bitmap (wide codes), relative to a probe.
  static constexpr double kPostingCost = 0.05;
  struct Hit;

  [[nodiscard]] Status Rebuild();
  void BuildTables(uint32_t m);
  uint32_t Substring(const Code& code, const Table& table) const;
  // The 32 bits after `table`'s substring, cyclically (kInlineSketch only).
  static uint32_t Sketch(const Code& code, const Table& table) {
    return static_cast<uint32_t>(
        std::rotr(code[0], static_cast<int>((table.bit_offset + table.bits) % kBits)));
  }
  // Appends base-slot hits within `radius` (unranked, deduplicated) to `hits`: all of them,
  // or at least the first `cap` by (distance, id) and every hit ranked before them. Returns
  // false with `hits` empty once the work exceeds `budget` (a flat scan is then cheaper).
  bool ProbeBase(const Code& query, uint32_t radius, size_t cap, double budget,
                 std::vector<Hit>* hits, SearchStats* stats) const;
  // Work a query may cost, in random memory accesses (probes + kCandidateCost * candidates),
  // before a flat scan is cheaper; the scan's cost scales with the code's bytes.
  double Budget() const {
    return options_.flat_fraction * static_cast<double>(codes_.size()) * kWords / 4.0;
  }
  // A flat fallback scans with max(radius, fallback_radius): KNearest passes the full width
  // so that a fallback answers it at once.
  std::vector<Neighbor> Search(const Code& query, uint32_t radius, size_t cap,
                               uint32_t fallback_radius, double budget, SearchStats* stats) const;
  bool IsDead(uint32_t slot) const { return (dead_[slot >> 6] >> (slot & 63)) & 1; }

  MihOptions options_;
  // Built part: slots 0..n-1 sorted by id.
  HugeVector<Code> codes_;
  HugeVector<uint64_t> ids_;
  std::vector<uint64_t> dead_;  // removed-slot bitset
  size_t live_base_ = 0;
  std::vector<Table> tables_;
  // Added since the last build: scanned flat.
  std::vector<Code> pending_codes_;
  std::vector<uint64_t> pending_ids_;
  std::unordered_map<uint64_t, uint32_t> pending_position_;
};

extern template class HammingIndex<1>;
extern template class HammingIndex<4>;
extern template class FlatHammingIndex<1>;
extern template class FlatHammingIndex<4>;
extern template class MihHammingIndex<1>;
extern template class MihHammingIndex<4>;

}  // namespace chuqu::index
