#include "index/temporal_align.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace chuqu::index {
namespace {

// Votes of distinct query keys for pairs within `tolerance` of the line; fills `inliers`
// with the closest pair per key.
double CollectInliers(std::span<const TimePair> pairs, double speed, double offset,
                      double tolerance, std::vector<uint32_t>* inliers) {
  std::unordered_map<uint32_t, std::pair<uint32_t, double>> best;  // key -> (pair, residual)
  for (uint32_t i = 0; i < pairs.size(); ++i) {
    const double r = std::abs(pairs[i].work - (speed * pairs[i].query + offset));
    if (r > tolerance) continue;
    auto [it, fresh] = best.try_emplace(pairs[i].query_key, i, r);
    if (!fresh && r < it->second.second) it->second = {i, r};
  }
  double votes = 0;
  inliers->clear();
  for (const auto& [key, v] : best) {
    inliers->push_back(v.first);
    votes += pairs[v.first].weight;
  }
  std::sort(inliers->begin(), inliers->end(), [&](uint32_t a, uint32_t b) {
    return pairs[a].query != pairs[b].query ? pairs[a].query < pairs[b].query : a < b;
  });
  return votes;
}

}  // namespace

Alignment AlignPairs(std::span<const TimePair> pairs, const AlignOptions& options) {
  Alignment out;
  if (pairs.empty()) return out;
  std::vector<double> speeds;
  const int steps = std::max(1, options.speed_steps);
  const double lo = std::log(options.min_speed), hi = std::log(options.max_speed);
  for (int i = 0; i < steps; ++i) {
    speeds.push_back(steps == 1 ? 1.0 : std::exp(lo + (hi - lo) * i / (steps - 1)));
  }
  speeds.push_back(1.0);

  double best_votes = -1, best_speed = 1, best_offset = 0;
  std::unordered_map<int64_t, double> key_votes;  // (bin, key) -> max weight
  std::unordered_map<int64_t, double> bin_votes;
  for (double s : speeds) {
    key_votes.clear();
    bin_votes.clear();
    for (const TimePair& p : pairs) {
      const double x = std::floor((p.work - s * p.query) / options.offset_bin);
      if (!(std::abs(x) < 1e12)) continue;  // absurd (or NaN) times: no line through them
      const auto bin = static_cast<int64_t>(x);
      // Each pair votes for its bin and the next so a line on a bin edge is not split.
      for (int64_t b = bin; b <= bin + 1; ++b) {
        const int64_t k = (b << 32) ^ p.query_key;
        double& v = key_votes[k];
        if (p.weight > v) {
          bin_votes[b] += p.weight - v;
          v = p.weight;
        }
      }
    }
    const double factor = s == 1.0 ? 1.0 : options.other_speed_factor;
    for (const auto& [b, raw] : bin_votes) {
      const double v = raw * factor;
      // Ties: prefer speed 1 (pushed last, so use >= only for it) and the lower bin.
      if (v > best_votes || (v == best_votes && s == 1.0)) {
        best_votes = v;
        best_speed = s;
        best_offset = static_cast<double>(b) * options.offset_bin;  // bins b-1, b overlap here
      }
    }
  }

  // Refine: inliers of the coarse line, least-squares refit (speed clamped), inliers again.
  std::vector<uint32_t> inliers;
  CollectInliers(pairs, best_speed, best_offset, options.offset_bin + options.inlier_tolerance,
                 &inliers);
  double speed = best_speed, offset = best_offset;
  if (inliers.size() >= 3) {
    double sq = 0, sw = 0, sqq = 0, sqw = 0;
    for (uint32_t i : inliers) {
      sq += pairs[i].query;
      sw += pairs[i].work;
      sqq += double{pairs[i].query} * pairs[i].query;
      sqw += double{pairs[i].query} * pairs[i].work;
    }
    const double n = static_cast<double>(inliers.size());
    const double den = n * sqq - sq * sq;
    if (den > 1e-9) {
      const double s = (n * sqw - sq * sw) / den;
      if (s >= options.min_speed && s <= options.max_speed) speed = s;
    }
    offset = (sw - speed * sq) / n;
  } else if (!inliers.empty()) {
    double so = 0;
    for (uint32_t i : inliers) so += pairs[i].work - speed * pairs[i].query;
    offset = so / static_cast<double>(inliers.size());
  }
  out.votes = CollectInliers(pairs, speed, offset, options.inlier_tolerance, &out.inliers);
  out.speed = speed;
  out.offset = offset;
  return out;
}

}  // namespace chuqu::index
