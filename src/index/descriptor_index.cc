#include "index/descriptor_index.h"

#include <algorithm>
#include <string>

namespace chuqu::index {

Status DescriptorIndex::Add(uint64_t id, const Code256& code) {
  if (position_.contains(id)) {
    return Status::AlreadyExists("descriptor " + std::to_string(id) + " is already indexed");
  }
  CHUQU_CHECK(codes_.size() < 0xffffffffu);
  position_.emplace(id, static_cast<uint32_t>(codes_.size()));
  prefixes_.push_back(Code64{code[0]});
  codes_.push_back(code);
  ids_.push_back(id);
  return Status::Ok();
}

Status DescriptorIndex::Remove(uint64_t id) {
  auto it = position_.find(id);
  if (it == position_.end()) {
    return Status::NotFound("descriptor " + std::to_string(id) + " is not indexed");
  }
  const uint32_t pos = it->second;
  position_.erase(it);
  const size_t last = codes_.size() - 1;
  if (pos != last) {
    prefixes_[pos] = prefixes_[last];
    codes_[pos] = codes_[last];
    ids_[pos] = ids_[last];
    position_[ids_[pos]] = pos;
  }
  prefixes_.pop_back();
  codes_.pop_back();
  ids_.pop_back();
  return Status::Ok();
}

uint32_t DescriptorIndex::PrefixRadius(uint32_t radius) const {
  return std::min<uint32_t>(64, radius / 4 + prefix_margin_);
}

std::vector<std::vector<Neighbor>> DescriptorIndex::RangeSearchBatch(
    std::span<const Code256> queries, uint32_t radius, size_t max_results) const {
  std::vector<std::vector<Neighbor>> out(queries.size());
  if (codes_.empty() || max_results == 0) return out;
  const uint32_t prefix_radius = PrefixRadius(radius);
  // Cache blocking: a block of prefixes (32 KiB) is scanned for every query while it is hot;
  // the few survivors' full codes are read from the matching block of codes_.
  constexpr size_t kBlock = 4096;
  std::vector<uint32_t> hit_index(kBlock);
  std::vector<uint16_t> hit_distance(kBlock);
  for (size_t begin = 0; begin < codes_.size(); begin += kBlock) {
    const size_t n = std::min(kBlock, codes_.size() - begin);
    for (size_t q = 0; q < queries.size(); ++q) {
      const size_t found = FilterWithin<1>(prefixes_.data() + begin, n, Code64{queries[q][0]},
                                           prefix_radius, hit_index.data(), hit_distance.data());
      for (size_t h = 0; h < found; ++h) {
        const size_t i = begin + hit_index[h];
        const uint32_t d = HammingDistance(codes_[i], queries[q]);
        if (d <= radius) out[q].push_back(Neighbor{ids_[i], d});
      }
    }
  }
  for (std::vector<Neighbor>& hits : out) {
    if (hits.size() > max_results) {
      std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(max_results),
                        hits.end(), NeighborLess);
      hits.resize(max_results);
    } else {
      std::sort(hits.begin(), hits.end(), NeighborLess);
    }
  }
  return out;
}

}  // namespace chuqu::index
