// The first `cap` neighbours by (distance, id) among those offered: the ranked, capped list
// every Hamming index answers (hamming_index.h, ivf_hamming_index.h). Bound() lets a scan
// filter at the current cap's distance instead of the radius. Internal to src/index.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "index/hamming.h"

namespace chuqu::index {

// Keeps the first `cap` neighbours by (distance, id) among those offered, and counts all.
class RankedCollector {
 public:
  explicit RankedCollector(size_t cap) : cap_(cap) {}

  // Counts a match without offering it (the caller knows it cannot enter).
  void CountOnly() { ++offered_; }
  void Offer(Neighbor n) {
    ++offered_;
    if (n.distance > Bound()) return;
    if (heap_.size() < cap_) {
      heap_.push_back(n);
      std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
    } else if (cap_ > 0 && NeighborLess(n, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), NeighborLess);
      heap_.back() = n;
      std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
    }
  }
  // No neighbour farther than this can enter any more.
  uint32_t Bound() const {
    return heap_.size() < cap_ || cap_ == 0 ? std::numeric_limits<uint32_t>::max()
                                            : heap_.front().distance;
  }
  size_t offered() const { return offered_; }
  std::vector<Neighbor> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), NeighborLess);
    return std::move(heap_);
  }

 private:
  size_t cap_;
  size_t offered_ = 0;
  std::vector<Neighbor> heap_;
};

}  // namespace chuqu::index
