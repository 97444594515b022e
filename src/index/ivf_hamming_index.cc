#include "index/ivf_hamming_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "index/ranked_collector.h"

namespace chuqu::index {
namespace {

// Stored codes per FilterBlocksWithin call (16 KiB stays in L1 across a tile of queries) and
// queries per call (bounds the hit buffer), as in the flat scan.
constexpr size_t kChunk = 512;
constexpr size_t kQueryTile = 16;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Index of the nearest of words[0..k), ties to the lowest index. `scratch` has k entries.
uint32_t Nearest(const Code256* words, size_t k, const Code256& code, uint16_t* scratch) {
  ComputeDistances<4>(words, k, code, scratch);
  return static_cast<uint32_t>(std::min_element(scratch, scratch + k) - scratch);
}

// k-majority: k words seeded with distinct sample codes chosen by a fixed-seed generator
// (a sample smaller than k repeats codes; a repeated word gets no codes), then `iterations`
// rounds of nearest-word assignment and per-bit majority over each word's codes. A word
// that no code chose keeps its value.
std::vector<Code256> KMajority(std::span<const Code256> sample, uint32_t k, uint32_t iterations,
                               uint64_t seed) {
  std::vector<Code256> words(k);
  if (sample.empty()) return words;
  std::vector<uint32_t> order(sample.size());
  std::iota(order.begin(), order.end(), 0u);
  uint64_t state = seed;
  for (uint32_t w = 0; w < k; ++w) {
    const size_t i = w % sample.size();
    if (w < sample.size()) {
      const size_t j = i + SplitMix64(state) % (sample.size() - i);
      std::swap(order[i], order[j]);
    }
    words[w] = sample[order[i]];
  }
  if (k == 1 && sample.size() == 1) return words;
  std::vector<uint16_t> scratch(k);
  std::vector<uint32_t> counts(size_t{k} * 256);
  std::vector<uint32_t> members(k);
  for (uint32_t it = 0; it < iterations; ++it) {
    std::fill(counts.begin(), counts.end(), 0u);
    std::fill(members.begin(), members.end(), 0u);
    for (const Code256& code : sample) {
      const uint32_t w = Nearest(words.data(), k, code, scratch.data());
      ++members[w];
      uint32_t* c = counts.data() + size_t{w} * 256;
      for (int word = 0; word < 4; ++word) {
        for (uint64_t x = code[word]; x != 0; x &= x - 1) ++c[word * 64 + std::countr_zero(x)];
      }
    }
    bool changed = false;
    for (uint32_t w = 0; w < k; ++w) {
      if (members[w] == 0) continue;
      Code256 next{};
      const uint32_t* c = counts.data() + size_t{w} * 256;
      for (int bit = 0; bit < 256; ++bit) {
        if (2 * c[bit] > members[w]) next[bit / 64] |= uint64_t{1} << (bit % 64);
      }
      changed |= next != words[w];
      words[w] = next;
    }
    if (!changed) break;
  }
  return words;
}

// Every `stride`-th of n items in order, at most `count` of them: a fixed, spread sample.
std::vector<size_t> StrideSample(size_t n, size_t count) {
  count = std::min(n, count);
  std::vector<size_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<size_t>((__uint128_t{i} * n) / count);
  return out;
}

}  // namespace

IvfHammingIndex::IvfHammingIndex(IvfOptions options) : options_(options) {
  CHUQU_CHECK(options_.list_size > 0 && options_.probes > 0 && options_.coarse_probes > 0);
  coarse_.assign(1, Code{});
  fine_.assign(1, Code{});
  lists_.resize(1);
}

Status IvfHammingIndex::Build(std::span<const uint64_t> ids, std::span<const Code> codes) {
  if (ids.size() != codes.size()) {
    return Status::InvalidArgument("index build: " + std::to_string(ids.size()) + " ids for " +
                                   std::to_string(codes.size()) + " codes");
  }
  std::unordered_map<uint64_t, uint32_t> list_of;
  list_of.reserve(ids.size());
  for (uint64_t id : ids) {
    if (!list_of.emplace(id, 0).second) {
      return Status::InvalidArgument("index build: id " + std::to_string(id) + " repeats");
    }
  }
  coarse_count_ = fine_count_ = 1;
  coarse_.assign(1, Code{});
  fine_.assign(1, Code{});
  lists_.assign(1, List{});
  list_of_ = std::move(list_of);
  trained_size_ = 0;
  List& all = lists_[0];
  all.blocks.assign((codes.size() + 7) / 8, CodeBlock<4>{});
  all.ids.assign(ids.begin(), ids.end());
  for (size_t i = 0; i < codes.size(); ++i) SetBlockCode(all.blocks.data(), i, codes[i]);
  if (size() >= options_.min_train_size) Train();
  return Status::Ok();
}

Status IvfHammingIndex::Add(uint64_t id, const Code& code) {
  if (size() >= std::numeric_limits<uint32_t>::max() - 1) {
    return Status::ResourceExhausted("index: more than 2^32-1 codes in one index");
  }
  std::vector<uint16_t> scratch;
  const uint32_t word = Assign(code, scratch);
  if (!list_of_.emplace(id, word).second) {
    return Status::AlreadyExists("index: id " + std::to_string(id) + " is already indexed");
  }
  Append(word, id, code);
  if (size() >= options_.min_train_size && size() <= options_.max_retrain_size &&
      static_cast<double>(size()) >= options_.retrain_growth * static_cast<double>(trained_size_)) {
    Train();
  }
  return Status::Ok();
}

Status IvfHammingIndex::Remove(uint64_t id) {
  auto it = list_of_.find(id);
  if (it == list_of_.end()) {
    return Status::NotFound("index: id " + std::to_string(id) + " is not indexed");
  }
  List& list = lists_[it->second];
  list_of_.erase(it);
  const size_t pos = static_cast<size_t>(std::find(list.ids.begin(), list.ids.end(), id) -
                                         list.ids.begin());
  CHUQU_CHECK(pos < list.ids.size());
  const size_t last = list.ids.size() - 1;
  if (pos != last) {
    SetBlockCode(list.blocks.data(), pos, GetBlockCode(list.blocks.data(), last));
    list.ids[pos] = list.ids[last];
  }
  SetBlockCode(list.blocks.data(), last, Code{});
  list.ids.pop_back();
  if (list.ids.size() % 8 == 0) list.blocks.pop_back();
  return Status::Ok();
}

void IvfHammingIndex::Append(uint32_t word, uint64_t id, const Code& code) {
  List& list = lists_[word];
  if (list.ids.size() % 8 == 0) list.blocks.emplace_back();
  SetBlockCode(list.blocks.data(), list.ids.size(), code);
  list.ids.push_back(id);
}

uint32_t IvfHammingIndex::Assign(const Code& code, std::vector<uint16_t>& scratch) const {
  if (lists_.size() == 1) return 0;
  scratch.resize(std::max(coarse_count_, fine_count_));
  const uint32_t c = Nearest(coarse_.data(), coarse_count_, code, scratch.data());
  const uint32_t base = c * fine_count_;
  return base + Nearest(fine_.data() + base, fine_count_, code, scratch.data());
}

void IvfHammingIndex::Train() {
  // Every stored code in id order: the training input does not depend on the list layout.
  const size_t n = size();
  std::vector<std::pair<uint64_t, Code>> all;
  all.reserve(n);
  for (const List& list : lists_) {
    for (size_t i = 0; i < list.ids.size(); ++i) {
      all.emplace_back(list.ids[i], GetBlockCode(list.blocks.data(), i));
    }
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  const double per_side = std::sqrt(static_cast<double>(n) / options_.list_size);
  const uint32_t k = per_side <= 1.0
                         ? 1u
                         : uint32_t{1} << static_cast<int>(std::lround(std::log2(per_side)));
  coarse_count_ = fine_count_ = k;

  std::vector<Code> sample;
  for (size_t i : StrideSample(n, options_.sample_per_word * k)) sample.push_back(all[i].second);
  coarse_ = KMajority(sample, k, options_.iterations, options_.seed);

  // Fine words: k-majority inside each coarse word over a larger sample.
  std::vector<uint16_t> scratch(k);
  std::vector<std::vector<Code>> groups(k);
  for (size_t i : StrideSample(n, options_.sample_per_word * size_t{k} * k)) {
    const Code& code = all[i].second;
    groups[Nearest(coarse_.data(), k, code, scratch.data())].push_back(code);
  }
  fine_.assign(size_t{k} * k, Code{});
  for (uint32_t c = 0; c < k; ++c) {
    std::vector<Code> words =
        groups[c].empty() ? std::vector<Code>(k, coarse_[c])
                          : KMajority(groups[c], k, options_.iterations, options_.seed + 1 + c);
    std::copy(words.begin(), words.end(), fine_.begin() + size_t{c} * k);
  }

  std::vector<uint32_t> word_of(n);
  std::vector<size_t> list_sizes(size_t{k} * k);
  lists_.clear();
  lists_.resize(size_t{k} * k);
  for (size_t i = 0; i < n; ++i) {
    word_of[i] = Assign(all[i].second, scratch);
    ++list_sizes[word_of[i]];
  }
  for (size_t w = 0; w < lists_.size(); ++w) {
    lists_[w].blocks.reserve((list_sizes[w] + 7) / 8);
    lists_[w].ids.reserve(list_sizes[w]);
  }
  for (size_t i = 0; i < n; ++i) {
    Append(word_of[i], all[i].first, all[i].second);
    list_of_[all[i].first] = word_of[i];
  }
  trained_size_ = n;
}

size_t IvfHammingIndex::MemoryBytes() const {
  size_t bytes = (coarse_.capacity() + fine_.capacity()) * sizeof(Code) +
                 lists_.capacity() * sizeof(List) + list_of_.size() * 32 +
                 list_of_.bucket_count() * sizeof(void*);
  for (const List& list : lists_) {
    bytes += list.blocks.capacity() * sizeof(CodeBlock<4>) + list.ids.capacity() * sizeof(uint64_t);
  }
  return bytes;
}

std::vector<std::vector<Neighbor>> IvfHammingIndex::RangeSearchBatch(std::span<const Code> queries,
                                                                     uint32_t radius,
                                                                     size_t max_results,
                                                                     IvfSearchStats* stats) const {
  if (max_results == 0 || size() == 0) return std::vector<std::vector<Neighbor>>(queries.size());
  std::vector<RankedCollector> out(queries.size(), RankedCollector(max_results));

  // Probes: (word, query), each query's nearest non-empty fine words under its nearest
  // coarse words.
  std::vector<std::pair<uint32_t, uint32_t>> probes;
  if (lists_.size() == 1) {
    for (uint32_t q = 0; q < queries.size(); ++q) probes.emplace_back(0, q);
  } else {
    const uint32_t coarse_probes = std::min(options_.coarse_probes, coarse_count_);
    std::vector<uint16_t> coarse_d(coarse_count_), fine_d(fine_count_);
    std::vector<std::pair<uint16_t, uint32_t>> ranked, candidates;
    for (uint32_t q = 0; q < queries.size(); ++q) {
      ComputeDistances<4>(coarse_.data(), coarse_count_, queries[q], coarse_d.data());
      ranked.clear();
      for (uint32_t c = 0; c < coarse_count_; ++c) ranked.emplace_back(coarse_d[c], c);
      std::partial_sort(ranked.begin(), ranked.begin() + coarse_probes, ranked.end());
      candidates.clear();
      // The word Assign gives the query is always probed, so a stored code is found by
      // itself: ranked[0] is the nearest coarse word with Nearest's tie rule.
      uint32_t own = 0;
      for (uint32_t r = 0; r < coarse_probes; ++r) {
        const uint32_t base = ranked[r].second * fine_count_;
        ComputeDistances<4>(fine_.data() + base, fine_count_, queries[q], fine_d.data());
        if (r == 0) {
          own = base + static_cast<uint32_t>(
                           std::min_element(fine_d.begin(), fine_d.end()) - fine_d.begin());
        }
        for (uint32_t f = 0; f < fine_count_; ++f) {
          if (base + f != own && !lists_[base + f].ids.empty()) {
            candidates.emplace_back(fine_d[f], base + f);
          }
        }
      }
      probes.emplace_back(own, q);
      const size_t take = std::min<size_t>(options_.probes - 1, candidates.size());
      std::partial_sort(candidates.begin(), candidates.begin() + take, candidates.end());
      for (size_t i = 0; i < take; ++i) probes.emplace_back(candidates[i].second, q);
      if (stats != nullptr) {
        stats->word_distances += coarse_count_ + size_t{coarse_probes} * fine_count_;
      }
    }
    std::sort(probes.begin(), probes.end());
  }

  // Each list is scanned once for all the queries that probe it, a tile at a time, each
  // query filtered at its capped list's current bound (near-duplicate descriptors put
  // thousands of codes within the radius; only the first max_results can enter).
  Code tile[kQueryTile];
  uint32_t tile_query[kQueryTile];
  uint32_t limits[kQueryTile];
  std::vector<ScanHit> hits(kChunk * kQueryTile);
  for (size_t p = 0; p < probes.size();) {
    const List& list = lists_[probes[p].first];
    size_t nq = 0;
    while (nq < kQueryTile && p < probes.size() && &lists_[probes[p].first] == &list) {
      tile_query[nq] = probes[p].second;
      tile[nq++] = queries[probes[p].second];
      ++p;
    }
    const size_t n = list.ids.size();
    if (stats != nullptr) stats->candidates += n * nq;
    for (size_t base = 0; base < n; base += kChunk) {
      const size_t len = std::min(kChunk, n - base);
      for (size_t i = 0; i < nq; ++i) limits[i] = std::min(radius, out[tile_query[i]].Bound());
      const size_t found =
          FilterBlocksWithin<4>(list.blocks.data() + base / 8, len, tile, nq, limits, hits.data());
      for (size_t h = 0; h < found; ++h) {
        out[tile_query[hits[h].query]].Offer({list.ids[base + hits[h].code], hits[h].distance});
      }
    }
  }
  std::vector<std::vector<Neighbor>> results;
  results.reserve(out.size());
  for (RankedCollector& c : out) results.push_back(c.Take());
  return results;
}

}  // namespace chuqu::index
