#include "index/hamming_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "index/ranked_collector.h"

namespace chuqu::index {
namespace {

// Codes scanned per ComputeDistances call: 1024 x 32 B stays in L1/L2.
constexpr size_t kScanBlock = 1024;
// Flat index: stored codes per FilterBlocksWithin call (512 x 32 B = 16 KiB stays in L1
// across the queries of a batch) and queries per call (bounds the hit buffer).
constexpr size_t kFlatChunk = 512;
constexpr size_t kFlatQueryTile = 16;
// Candidates gathered before one distance kernel call in the MIH verify step.
constexpr size_t kGatherBlock = 256;
// How far ahead the gather prefetches candidate codes.
constexpr size_t kPrefetchDistance = 16;

// Scans codes[0..n) and offers every code within `radius` (and within the collector's
// bound) whose slot `keep` accepts.
template <size_t kWords, typename Keep>
void ScanInto(const BinaryCode<kWords>* codes, const uint64_t* ids, size_t n,
              const BinaryCode<kWords>& query, uint32_t radius, RankedCollector* out, Keep keep) {
  uint16_t dist[kScanBlock];
  for (size_t base = 0; base < n; base += kScanBlock) {
    const size_t len = std::min(kScanBlock, n - base);
    ComputeDistances<kWords>(codes + base, len, query, dist);
    const uint32_t limit = std::min(radius, out->Bound());
    for (size_t j = 0; j < len; ++j) {
      if (dist[j] > radius || !keep(base + j)) continue;
      if (dist[j] <= limit) {
        out->Offer({ids[base + j], dist[j]});
      } else {
        out->CountOnly();
      }
    }
  }
}

Status CheckBuildInput(size_t ids, size_t codes) {
  if (ids != codes) {
    return Status::InvalidArgument("index build: " + std::to_string(ids) + " ids but " +
                                   std::to_string(codes) + " codes");
  }
  if (codes >= std::numeric_limits<uint32_t>::max()) {
    return Status::ResourceExhausted("index build: more than 2^32-1 codes in one index");
  }
  return Status::Ok();
}

// Number of b-bit values within Hamming distance s of a given one.
double Ball(uint32_t b, int s) {
  double total = 0, term = 1;  // term = C(b, k)
  for (int k = 0; k <= s && k <= static_cast<int>(b); ++k) {
    total += term;
    term = term * (b - k) / (k + 1);
  }
  return total;
}

// Calls visit(mask) for every b-bit mask with exactly k bits set (Gosper's hack).
// REQUIRES: b <= 32.
template <typename Visit>
void ForEachMask(uint32_t b, uint32_t k, Visit visit) {
  if (k == 0) {
    visit(uint64_t{0});
    return;
  }
  if (k > b) return;
  const uint64_t end = uint64_t{1} << b;
  for (uint64_t mask = (uint64_t{1} << k) - 1; mask < end;) {
    visit(mask);
    const uint64_t c = mask & (~mask + 1);
    const uint64_t r = mask + c;
    mask = (((r ^ mask) >> 2) >> std::countr_zero(c)) | r;
  }
}

// Appends to `keys` every b-bit value at exactly distance s from `centre`, grouped so that
// values differing only in their low 4 bits are adjacent: their offsets share a cache line
// and their buckets are neighbours in the postings.
void ForEachKeyAtDistance(uint32_t b, uint32_t s, uint32_t centre, std::vector<uint32_t>* keys) {
  if (b <= 4) {
    ForEachMask(b, s,
                [&](uint64_t mask) { keys->push_back(centre ^ static_cast<uint32_t>(mask)); });
    return;
  }
  for (uint32_t high = 0; high <= s && high <= b - 4; ++high) {
    const uint32_t low = s - high;
    if (low > 4) continue;
    ForEachMask(b - 4, high, [&](uint64_t h) {
      ForEachMask(4, low, [&](uint64_t l) {
        keys->push_back(centre ^ static_cast<uint32_t>((h << 4) | l));
      });
    });
  }
}

// Per-thread bitmap of the slots a query has met (const queries may run concurrently).
struct ScratchBits {
  std::vector<uint64_t> bits;
};
ScratchBits& ThreadScratch() {
  thread_local ScratchBits scratch;
  return scratch;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HammingIndex: default batch forms.

template <size_t kWords>
std::vector<std::vector<Neighbor>> HammingIndex<kWords>::RangeSearchBatch(
    std::span<const Code> queries, uint32_t radius, size_t max_results) const {
  std::vector<std::vector<Neighbor>> out;
  out.reserve(queries.size());
  for (const Code& q : queries) out.push_back(RangeSearch(q, radius, max_results));
  return out;
}

template <size_t kWords>
std::vector<std::vector<Neighbor>> HammingIndex<kWords>::KNearestBatch(
    std::span<const Code> queries, size_t k) const {
  std::vector<std::vector<Neighbor>> out;
  out.reserve(queries.size());
  for (const Code& q : queries) out.push_back(KNearest(q, k));
  return out;
}

// ---------------------------------------------------------------------------------------------
// FlatHammingIndex.

template <size_t kWords>
Status FlatHammingIndex<kWords>::Build(std::span<const uint64_t> ids, std::span<const Code> codes) {
  if (Status s = CheckBuildInput(ids.size(), codes.size()); !s.ok()) return s;
  std::unordered_map<uint64_t, uint32_t> position;
  position.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!position.emplace(ids[i], static_cast<uint32_t>(i)).second) {
      return Status::InvalidArgument("index build: id " + std::to_string(ids[i]) + " repeats");
    }
  }
  blocks_.assign((codes.size() + 7) / 8, CodeBlock<kWords>{});
  for (size_t i = 0; i < codes.size(); ++i) SetBlockCode(blocks_.data(), i, codes[i]);
  ids_.assign(ids.begin(), ids.end());
  position_ = std::move(position);
  return Status::Ok();
}

template <size_t kWords>
Status FlatHammingIndex<kWords>::Add(uint64_t id, const Code& code) {
  const size_t n = ids_.size();
  if (n >= std::numeric_limits<uint32_t>::max() - 1) {
    return Status::ResourceExhausted("index: more than 2^32-1 codes in one index");
  }
  if (!position_.emplace(id, static_cast<uint32_t>(n)).second) {
    return Status::AlreadyExists("index: id " + std::to_string(id) + " is already indexed");
  }
  if (n % 8 == 0) blocks_.emplace_back();
  SetBlockCode(blocks_.data(), n, code);
  ids_.push_back(id);
  return Status::Ok();
}

template <size_t kWords>
Status FlatHammingIndex<kWords>::Remove(uint64_t id) {
  auto it = position_.find(id);
  if (it == position_.end()) {
    return Status::NotFound("index: id " + std::to_string(id) + " is not indexed");
  }
  const uint32_t pos = it->second;
  position_.erase(it);
  const size_t last = ids_.size() - 1;
  if (pos != last) {
    SetBlockCode(blocks_.data(), pos, GetBlockCode(blocks_.data(), last));
    ids_[pos] = ids_[last];
    position_[ids_[pos]] = pos;
  }
  SetBlockCode(blocks_.data(), last, Code{});
  ids_.pop_back();
  if (ids_.size() % 8 == 0) blocks_.pop_back();
  return Status::Ok();
}

template <size_t kWords>
size_t FlatHammingIndex<kWords>::MemoryBytes() const {
  // Node-based map: key, value, next pointer and cached hash per node, plus the bucket array.
  return blocks_.capacity() * sizeof(CodeBlock<kWords>) + ids_.capacity() * sizeof(uint64_t) +
         position_.size() * 32 + position_.bucket_count() * sizeof(void*);
}

template <size_t kWords>
template <typename Collector>
void FlatHammingIndex<kWords>::Scan(std::span<const Code> queries, uint32_t radius,
                                    std::span<Collector> out, bool count_all) const {
  const size_t n = ids_.size();
  uint32_t limits[kFlatQueryTile];
  std::vector<ScanHit> hits(kFlatChunk * std::min(kFlatQueryTile, queries.size()));
  for (size_t base = 0; base < n; base += kFlatChunk) {
    const size_t len = std::min(kFlatChunk, n - base);
    for (size_t q0 = 0; q0 < queries.size(); q0 += kFlatQueryTile) {
      const size_t nq = std::min(kFlatQueryTile, queries.size() - q0);
      for (size_t q = 0; q < nq; ++q) {
        limits[q] = count_all ? radius : std::min(radius, out[q0 + q].Bound());
      }
      const size_t found = FilterBlocksWithin<kWords>(blocks_.data() + base / 8, len,
                                                      queries.data() + q0, nq, limits, hits.data());
      for (size_t h = 0; h < found; ++h) {
        out[q0 + hits[h].query].Offer({ids_[base + hits[h].code], hits[h].distance});
      }
    }
  }
}

template <size_t kWords>
std::vector<Neighbor> FlatHammingIndex<kWords>::RangeSearch(const Code& query, uint32_t radius,
                                                            size_t max_results,
                                                            SearchStats* stats) const {
  RankedCollector out(max_results);
  // Counting every code within the radius (stats) filters at the radius, not the bound; a
  // radius of the whole width (k-NN) matches every code, which needs no count (emitting all
  // of them made a counted k-NN scan 4-9x slower than an uncounted one).
  const bool whole_width = radius >= HammingIndex<kWords>::kBits;
  const bool count_all = stats != nullptr && !whole_width;
  if (max_results > 0) Scan(std::span(&query, 1), radius, std::span(&out, 1), count_all);
  if (stats != nullptr) {
    *stats = {.candidates = max_results > 0 ? ids_.size() : 0,
              .matches = max_results == 0 ? 0 : whole_width ? ids_.size() : out.offered(),
              .flat_fallback = true};
  }
  return out.Take();
}

template <size_t kWords>
std::vector<Neighbor> FlatHammingIndex<kWords>::KNearest(const Code& query, size_t k,
                                                         SearchStats* stats) const {
  return RangeSearch(query, HammingIndex<kWords>::kBits, k, stats);
}

template <size_t kWords>
std::vector<std::vector<Neighbor>> FlatHammingIndex<kWords>::ScanBatch(
    std::span<const Code> queries, uint32_t radius, size_t cap) const {
  std::vector<RankedCollector> out(queries.size(), RankedCollector(cap));
  if (cap > 0) Scan(queries, radius, std::span(out), false);
  std::vector<std::vector<Neighbor>> results;
  results.reserve(queries.size());
  for (RankedCollector& c : out) results.push_back(c.Take());
  return results;
}

template <size_t kWords>
std::vector<std::vector<Neighbor>> FlatHammingIndex<kWords>::RangeSearchBatch(
    std::span<const Code> queries, uint32_t radius, size_t max_results) const {
  return ScanBatch(queries, radius, max_results);
}

template <size_t kWords>
std::vector<std::vector<Neighbor>> FlatHammingIndex<kWords>::KNearestBatch(
    std::span<const Code> queries, size_t k) const {
  return ScanBatch(queries, HammingIndex<kWords>::kBits, k);
}

// ---------------------------------------------------------------------------------------------
// MihHammingIndex.

template <size_t kWords>
struct MihHammingIndex<kWords>::Hit {
  uint32_t slot;
  uint32_t distance;
};

template <size_t kWords>
MihHammingIndex<kWords>::MihHammingIndex(MihOptions options) : options_(options) {
  if (options_.design_radius == 0) options_.design_radius = kWords == 4 ? 31 : 8;
}

template <size_t kWords>
uint32_t MihHammingIndex<kWords>::ChooseSubstrings(size_t n, uint32_t r) {
  // A probe costs about one cache miss, and so does a candidate unless its code is stored
  // inline (a sequential scan, measured ~30-50x cheaper). Offsets may take at most
  // 24 B per code (or 1 MiB), which keeps 256-bit codes under 128 B each at m <= 16.
  const double offsets_cap = std::max(24.0 * static_cast<double>(n), double{1 << 20});
  const uint32_t min_m = (kBits + kMaxSubstringBits - 1) / kMaxSubstringBits;
  uint32_t best_m = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  for (uint32_t m = min_m; m <= kBits / 4; ++m) {
    const uint32_t s = r / m, a = r % m;
    double probes = 0, candidates = 0, offsets = 0;
    for (uint32_t t = 0; t < m; ++t) {
      const uint32_t b = kBits / m + (t < kBits % m ? 1 : 0);
      const int radius_t = t <= a ? static_cast<int>(s) : static_cast<int>(s) - 1;
      const double ball = radius_t < 0 ? 0 : Ball(b, radius_t);
      probes += ball;
      candidates += ball * static_cast<double>(n) / std::ldexp(1.0, static_cast<int>(b));
      offsets += 4 * std::ldexp(1.0, static_cast<int>(b));
    }
    if (offsets > offsets_cap) continue;
    const double cost = probes + kCandidateCost * candidates;
    if (cost < best_cost) {
      best_cost = cost;
      best_m = m;
    }
  }
  return best_m == 0 ? kBits / 4 : best_m;
}

template <size_t kWords>
uint32_t MihHammingIndex<kWords>::Substring(const Code& code, const Table& table) const {
  const uint32_t word = table.bit_offset / 64, shift = table.bit_offset % 64;
  uint64_t v = code[word] >> shift;
  if (shift + table.bits > 64) v |= code[word + 1] << (64 - shift);
  return static_cast<uint32_t>(v & ((uint64_t{1} << table.bits) - 1));
}

template <size_t kWords>
Status MihHammingIndex<kWords>::Build(std::span<const uint64_t> ids, std::span<const Code> codes) {
  if (Status s = CheckBuildInput(ids.size(), codes.size()); !s.ok()) return s;
  const size_t n = ids.size();
  const uint32_t m = options_.num_substrings != 0
                         ? options_.num_substrings
                         : ChooseSubstrings(n, std::min(options_.design_radius, kBits));
  if (m == 0 || m > kBits || (kBits + m - 1) / m > kMaxSubstringBits) {
    return Status::InvalidArgument("index build: " + std::to_string(m) + " substrings of a " +
                                   std::to_string(kBits) + "-bit code (each must be 1.." +
                                   std::to_string(kMaxSubstringBits) + " bits)");
  }
  // Slots in id order. The store usually hands ids over ascending: then no sort is needed.
  HugeVector<Code> sorted_codes;
  HugeVector<uint64_t> sorted_ids;
  if (std::is_sorted(ids.begin(), ids.end())) {
    sorted_codes.assign(codes.begin(), codes.end());
    sorted_ids.assign(ids.begin(), ids.end());
  } else {
    std::vector<std::pair<uint64_t, uint32_t>> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = {ids[i], static_cast<uint32_t>(i)};
    std::sort(order.begin(), order.end());
    sorted_codes.resize(n);
    sorted_ids.resize(n);
    for (size_t i = 0; i < n; ++i) {
      sorted_codes[i] = codes[order[i].second];
      sorted_ids[i] = order[i].first;
    }
  }
  for (size_t i = 1; i < n; ++i) {
    if (sorted_ids[i] == sorted_ids[i - 1]) {
      return Status::InvalidArgument("index build: id " + std::to_string(sorted_ids[i]) +
                                     " repeats");
    }
  }
  codes_ = std::move(sorted_codes);
  ids_ = std::move(sorted_ids);
  dead_.assign((n + 63) / 64, 0);
  live_base_ = n;
  pending_codes_.clear();
  pending_ids_.clear();
  pending_position_.clear();
  tables_.clear();
  if (n > 0) BuildTables(m);
  return Status::Ok();
}

template <size_t kWords>
void MihHammingIndex<kWords>::BuildTables(uint32_t m) {
  const size_t n = codes_.size();
  tables_.assign(m, Table{});
  uint32_t bit = 0;
  for (uint32_t t = 0; t < m; ++t) {
    tables_[t].bit_offset = bit;
    tables_[t].bits = kBits / m + (t < kBits % m ? 1 : 0);
    bit += tables_[t].bits;
  }
  CHUQU_CHECK(bit == kBits);
  std::vector<uint32_t> keys(n);
  for (uint32_t t = 0; t < m; ++t) {
    Table& table = tables_[t];
    // Counting sort of slots by substring value; stable, so buckets list slots in order.
    table.offsets.assign((size_t{1} << table.bits) + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = Substring(codes_[i], table);
      ++table.offsets[keys[i] + 1];
    }
    for (size_t v = 1; v < table.offsets.size(); ++v) table.offsets[v] += table.offsets[v - 1];
    table.postings.resize(n);
    std::vector<uint32_t> cursor(table.offsets.begin(), table.offsets.end() - 1);
    if constexpr (kInlineSketch) {
      table.sketch.resize(n);
      const uint32_t window = (table.bit_offset + table.bits) % kBits;
      for (uint32_t k = 0; k < 32; ++k) {
        const uint32_t b = (window + k) % kBits;
        for (uint32_t v = 0; v < m; ++v) {
          if (b >= tables_[v].bit_offset && b < tables_[v].bit_offset + tables_[v].bits) {
            table.sketch_tables |= uint64_t{1} << v;
          }
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const uint32_t pos = cursor[keys[i]]++;
      table.postings[pos] = static_cast<uint32_t>(i);
      if constexpr (kInlineSketch) table.sketch[pos] = Sketch(codes_[i], table);
    }
  }
}

template <size_t kWords>
Status MihHammingIndex<kWords>::Rebuild() {
  std::vector<uint64_t> ids;
  std::vector<Code> codes;
  ids.reserve(size());
  codes.reserve(size());
  for (size_t i = 0; i < codes_.size(); ++i) {
    if (!IsDead(static_cast<uint32_t>(i))) {
      ids.push_back(ids_[i]);
      codes.push_back(codes_[i]);
    }
  }
  ids.insert(ids.end(), pending_ids_.begin(), pending_ids_.end());
  codes.insert(codes.end(), pending_codes_.begin(), pending_codes_.end());
  return Build(ids, codes);
}

template <size_t kWords>
Status MihHammingIndex<kWords>::Add(uint64_t id, const Code& code) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if ((it != ids_.end() && *it == id && !IsDead(static_cast<uint32_t>(it - ids_.begin()))) ||
      pending_position_.contains(id)) {
    return Status::AlreadyExists("index: id " + std::to_string(id) + " is already indexed");
  }
  if (size() >= std::numeric_limits<uint32_t>::max() - 1) {
    return Status::ResourceExhausted("index: more than 2^32-1 codes in one index");
  }
  pending_position_.emplace(id, static_cast<uint32_t>(pending_codes_.size()));
  pending_codes_.push_back(code);
  pending_ids_.push_back(id);
  if (pending_codes_.size() > options_.max_pending) return Rebuild();
  return Status::Ok();
}

template <size_t kWords>
Status MihHammingIndex<kWords>::Remove(uint64_t id) {
  if (auto p = pending_position_.find(id); p != pending_position_.end()) {
    const uint32_t pos = p->second;
    pending_position_.erase(p);
    if (pos + 1 != pending_codes_.size()) {
      pending_codes_[pos] = pending_codes_.back();
      pending_ids_[pos] = pending_ids_.back();
      pending_position_[pending_ids_[pos]] = pos;
    }
    pending_codes_.pop_back();
    pending_ids_.pop_back();
    return Status::Ok();
  }
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  const uint32_t slot = static_cast<uint32_t>(it - ids_.begin());
  if (it == ids_.end() || *it != id || IsDead(slot)) {
    return Status::NotFound("index: id " + std::to_string(id) + " is not indexed");
  }
  dead_[slot >> 6] |= uint64_t{1} << (slot & 63);
  --live_base_;
  // Dead slots still cost probes and candidates; compact once they are a quarter.
  if (codes_.size() - live_base_ > codes_.size() / 4 + 1024) return Rebuild();
  return Status::Ok();
}

template <size_t kWords>
size_t MihHammingIndex<kWords>::MemoryBytes() const {
  size_t bytes = codes_.capacity() * sizeof(Code) + ids_.capacity() * sizeof(uint64_t) +
                 dead_.capacity() * sizeof(uint64_t) + pending_codes_.capacity() * sizeof(Code) +
                 pending_ids_.capacity() * sizeof(uint64_t) + pending_position_.size() * 32 +
                 pending_position_.bucket_count() * sizeof(void*);
  for (const Table& t : tables_) {
    bytes += t.offsets.capacity() * sizeof(uint32_t) + t.postings.capacity() * sizeof(uint32_t) +
             t.sketch.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

template <size_t kWords>
bool MihHammingIndex<kWords>::ProbeBase(const Code& query, uint32_t radius, size_t cap,
                                        double budget, std::vector<Hit>* hits,
                                        SearchStats* stats) const {
  const uint32_t m = num_substrings();
  std::vector<uint32_t> qsub(m);
  for (uint32_t t = 0; t < m; ++t) qsub[t] = Substring(query, tables_[t]);
  // Shells in the order of Norouzi et al.'s k-NN search (§4.2): shell j = s*m + t holds the
  // keys of table t at exactly distance s from the query's substring. After shells 0..j
  // every code within distance j has been a candidate (Prop. 2 with r = j).
  // `limit` is the smallest distance within which `cap` hits lie (or `radius`): a code
  // farther than it cannot enter the first `cap` by (distance, id), so candidates are
  // filtered at `limit`, and the search is complete once the shells pass it. A full search
  // (cap never reached) probes exactly the radius-r balls.
  uint32_t limit = radius;
  size_t within_limit = 0;                        // hits with distance <= limit
  std::vector<uint32_t> by_distance(radius + 1);  // hits by distance
  auto record = [&](uint32_t slot, uint32_t distance) {
    if (distance > limit) return;  // `limit` fell while a block was being filtered
    hits->push_back({slot, distance});
    ++by_distance[distance];
    ++within_limit;
    while (limit > 0 && within_limit - by_distance[limit] >= cap) {
      within_limit -= by_distance[limit--];
    }
  };
  struct Range {
    uint32_t begin, end;
  };
  std::vector<uint32_t> keys;
  std::vector<Range> ranges;
  uint32_t hit_index[kGatherBlock];
  uint16_t hit_distance[kGatherBlock];
  // A code is met once per table whose probed ball holds its substring; a hit is kept only
  // in its first shell, min over u of (substring-u distance)*m + u.
  auto first_here = [&](const Code& code, uint32_t t, uint32_t shell) {
    for (uint32_t u = 0; u < m; ++u) {
      if (u == t) continue;
      const auto e = static_cast<uint32_t>(std::popcount(Substring(code, tables_[u]) ^ qsub[u]));
      if (e * m + u < shell) return false;
    }
    return true;
  };
  // 256-bit codes are gathered from codes_. Once a query has met many candidates (large,
  // clustered buckets, where most are met again in later shells), a bitmap of the slots met
  // (per thread, cleared after the query) skips re-gathering them; with few candidates the
  // bitmap's own misses cost more than it saves.
  ScratchBits* seen = nullptr;
  std::vector<uint32_t> cand;
  std::vector<uint32_t> marked;  // slots set in `seen`
  auto clear_seen = [&] {
    if (seen != nullptr) {
      for (uint32_t slot : marked) seen->bits[slot >> 6] = 0;
    }
  };
  double cost = 0;
  size_t probes = 0, candidates = 0;
  bool complete = true;
  for (uint32_t shell = 0; shell <= limit; ++shell) {
    const uint32_t t = shell % m, s = shell / m;
    const Table& table = tables_[t];
    if (s > table.bits) continue;
    const double shell_keys = Ball(table.bits, static_cast<int>(s)) -
                              (s == 0 ? 0 : Ball(table.bits, static_cast<int>(s) - 1));
    if (cost + shell_keys > budget) {
      complete = false;
      break;
    }
    keys.clear();
    ForEachKeyAtDistance(table.bits, s, qsub[t], &keys);
    // Pass 1: bucket lookups; the offsets arrays are megabytes, so prefetch ahead.
    ranges.clear();
    size_t shell_candidates = 0;
    const uint32_t* offsets = table.offsets.data();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i + kPrefetchDistance < keys.size()) {
        __builtin_prefetch(offsets + keys[i + kPrefetchDistance]);
      }
      const uint32_t lo = offsets[keys[i]], hi = offsets[keys[i] + 1];
      if (hi > lo) {
        ranges.push_back({lo, hi});
        shell_candidates += hi - lo;
      }
    }
    probes += keys.size();
    // Gathered codes are charged once deduplicated (below); a posting alone is cheap.
    cost += static_cast<double>(keys.size()) +
            (kInlineSketch ? kCandidateCost : kPostingCost) * static_cast<double>(shell_candidates);
    if constexpr (kInlineSketch) candidates += shell_candidates;
    if (cost > budget) {
      complete = false;
      break;
    }
    // Pass 2: verify with the fused distance filter.
    if constexpr (kInlineSketch) {
      // Sketches beside the postings, scanned in sequence. A code first met in this shell
      // has every substring v at least min_v = s (+1 for v < t), so the substrings the
      // sketch overlaps sum to at most limit - (sum of min_v outside it): the sketch
      // distance is bounded by that. Survivors' codes are fetched and checked in full; a
      // hit is kept only in its first shell, min over u of (substring-u distance)*m + u.
      uint32_t outside = 0;
      for (uint32_t v = 0; v < m; ++v) {
        if (((table.sketch_tables >> v) & 1) == 0) outside += s + (v < t ? 1 : 0);
      }
      const uint32_t bound = limit - std::min(limit, outside);
      const uint32_t qsketch = Sketch(query, table);
      cand.clear();
      for (size_t r = 0; r < ranges.size(); ++r) {
        if (r + 4 < ranges.size()) {  // start the next buckets' misses early
          const uint32_t* p = table.sketch.data() + ranges[r + 4].begin;
          const uint32_t len = ranges[r + 4].end - ranges[r + 4].begin;
          for (uint32_t line = 0; line < std::min<uint32_t>(len, 256); line += 16) {
            __builtin_prefetch(p + line);
          }
        }
        for (uint32_t i = ranges[r].begin; i < ranges[r].end; i += kGatherBlock) {
          const size_t count = std::min<size_t>(kGatherBlock, ranges[r].end - i);
          const size_t survivors =
              FilterSketch32(table.sketch.data() + i, count, qsketch, bound, hit_index);
          for (size_t h = 0; h < survivors; ++h) {
            __builtin_prefetch(&table.postings[i + hit_index[h]]);
            cand.push_back(i + hit_index[h]);
          }
        }
      }
      // Survivors cost two dependent misses (posting, then code): overlap them across the
      // whole shell.
      for (uint32_t& pos : cand) {
        pos = table.postings[pos];
        __builtin_prefetch(&codes_[pos]);
      }
      for (const uint32_t slot : cand) {
        const uint32_t d = HammingDistance(codes_[slot], query);
        if (d <= limit && !IsDead(slot) && first_here(codes_[slot], t, shell)) record(slot, d);
      }
    } else {
      cand.clear();
      if (seen == nullptr && candidates >= options_.seen_bitmap_after) {
        seen = &ThreadScratch();
        if (seen->bits.size() < (codes_.size() + 63) / 64) {
          seen->bits.resize((codes_.size() + 63) / 64);
        }
      }
      for (const Range& range : ranges) {
        if (seen == nullptr) {
          cand.insert(cand.end(), table.postings.begin() + range.begin,
                      table.postings.begin() + range.end);
          continue;
        }
        for (uint32_t i = range.begin; i < range.end; ++i) {
          const uint32_t slot = table.postings[i];
          uint64_t& word = seen->bits[slot >> 6];
          const uint64_t bit = uint64_t{1} << (slot & 63);
          if (word & bit) continue;
          if (word == 0) marked.push_back(slot);
          word |= bit;
          cand.push_back(slot);
        }
      }
      candidates += cand.size();
      cost += kCandidateCost * static_cast<double>(cand.size());
      if (cost > budget) {
        complete = false;
        break;
      }
      alignas(64) Code block[kGatherBlock];
      for (size_t base = 0; base < cand.size(); base += kGatherBlock) {
        const size_t count = std::min(kGatherBlock, cand.size() - base);
        for (size_t j = 0; j < count; ++j) {
          if (base + j + kPrefetchDistance < cand.size()) {
            __builtin_prefetch(&codes_[cand[base + j + kPrefetchDistance]]);
          }
          block[j] = codes_[cand[base + j]];
        }
        const size_t n_hits =
            FilterWithin<kWords>(block, count, query, limit, hit_index, hit_distance);
        for (size_t h = 0; h < n_hits; ++h) {
          const uint32_t slot = cand[base + hit_index[h]];
          if (!IsDead(slot) && first_here(block[hit_index[h]], t, shell)) {
            record(slot, hit_distance[h]);
          }
        }
      }
    }
  }
  clear_seen();
  if (stats != nullptr) {
    stats->probes += probes;
    stats->candidates += candidates;
  }
  if (!complete) hits->clear();
  return complete;
}

template <size_t kWords>
std::vector<Neighbor> MihHammingIndex<kWords>::Search(const Code& query, uint32_t radius,
                                                      size_t cap, uint32_t fallback_radius,
                                                      double budget, SearchStats* stats) const {
  RankedCollector out(cap);
  if (cap == 0) return {};
  radius = std::min(radius, kBits);
  if (!codes_.empty() && live_base_ > 0) {
    std::vector<Hit> hits;
    if (!tables_.empty() && ProbeBase(query, radius, cap, budget, &hits, stats)) {
      for (const Hit& h : hits) out.Offer({ids_[h.slot], h.distance});
    } else {
      if (stats != nullptr) {
        stats->flat_fallback = true;
        stats->candidates += codes_.size();
      }
      radius = std::min(std::max(radius, fallback_radius), kBits);
      ScanInto<kWords>(codes_.data(), ids_.data(), codes_.size(), query, radius, &out,
                       [this](size_t slot) { return !IsDead(static_cast<uint32_t>(slot)); });
    }
  }
  ScanInto<kWords>(pending_codes_.data(), pending_ids_.data(), pending_codes_.size(), query, radius,
                   &out, [](size_t) { return true; });
  if (stats != nullptr) {
    stats->candidates += pending_codes_.size();
    stats->matches = out.offered();
  }
  return out.Take();
}

template <size_t kWords>
std::vector<Neighbor> MihHammingIndex<kWords>::RangeSearch(const Code& query, uint32_t radius,
                                                           size_t max_results,
                                                           SearchStats* stats) const {
  if (stats != nullptr) *stats = {};
  return Search(query, radius, max_results, radius, Budget(), stats);
}

template <size_t kWords>
std::vector<Neighbor> MihHammingIndex<kWords>::KNearest(const Code& query, size_t k,
                                                        SearchStats* stats) const {
  if (stats != nullptr) *stats = {};
  if (k == 0 || size() == 0) return {};
  // The shell search stops once k codes lie within the shell reached: the k-th neighbour's
  // distance bounds the work. A far k-th neighbour (random codes) spends at most a share
  // of the budget before the flat scan answers at full width.
  return Search(query, kBits, k, kBits, kKnnBudgetShare * Budget(), stats);
}

template class HammingIndex<1>;
template class HammingIndex<4>;
template class FlatHammingIndex<1>;
template class FlatHammingIndex<4>;
template class MihHammingIndex<1>;
template class MihHammingIndex<4>;

}  // namespace chuqu::index
