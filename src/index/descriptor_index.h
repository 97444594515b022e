// Range search over 256-bit binary local descriptors (ORB) for the local tier of the image
// matcher (index/image_matcher.h), about 3x cheaper than the flat 256-bit scan.
//
// Two stages: a scan of each stored code's first 64 bits (the AVX-512 64-bit FilterWithin
// kernel, a quarter of the bytes of the full scan) keeps codes whose prefix is within
// `prefix_radius`; only those get the full 256-bit distance. A code within `radius` is missed
// only if more than prefix_radius of its differing bits fall in the prefix: for ORB at the
// matcher's radius 56 the prefix difference averages 14 (sd ~2.9), so the default
// prefix_radius = radius/4 + 8 = 22 loses well under 1% of the hits (measured against the
// flat scan on the media corpus: docs/benchmarks.md "Image copy detection"). ORB's first
// tests are its most discriminative (greedy selection order), which the prefix relies on.
// Exact up to distance prefix_radius (a prefix never differs more than the whole code).
//
// Multi-index hashing (index::MihHammingIndex) was measured slower here: ORB substrings are
// far from uniform (a 16-bit probe returns ~10 candidates at 67k codes) and radii of 40-56
// need many probes, each a cache miss, so a 600-descriptor query touched more memory than
// the sequential scan.
//
// Unlike index::HammingIndex implementations the result is not exact beyond prefix_radius;
// FlatHammingIndex is its oracle in tests.
// Thread-safety: RangeSearchBatch is const and may run concurrently; Add/Remove need
// exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"
#include "index/hamming.h"

namespace chuqu::index {

class DescriptorIndex {
 public:
  // prefix_margin: the prefix radius is radius / 4 + prefix_margin (capped at 64).
  explicit DescriptorIndex(uint32_t prefix_margin = 8) : prefix_margin_(prefix_margin) {}

  // AlreadyExists for a stored id.
  [[nodiscard]] Status Add(uint64_t id, const Code256& code);
  // NotFound if `id` is not stored. O(1): the last code moves into the hole.
  [[nodiscard]] Status Remove(uint64_t id);
  size_t size() const { return codes_.size(); }

  // Result i: stored codes within `radius` of queries[i] whose 64-bit prefix is within
  // PrefixRadius(radius) (so every code within that distance), ranked by (distance, id), at
  // most max_results.
  std::vector<std::vector<Neighbor>> RangeSearchBatch(std::span<const Code256> queries,
                                                      uint32_t radius, size_t max_results) const;

  uint32_t PrefixRadius(uint32_t radius) const;

 private:
  uint32_t prefix_margin_;
  std::vector<Code64> prefixes_;  // word 0 of each code, scanned first
  std::vector<Code256> codes_;
  std::vector<uint64_t> ids_;
  std::unordered_map<uint64_t, uint32_t> position_;  // id -> index
};

}  // namespace chuqu::index
