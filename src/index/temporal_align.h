// Temporal alignment shared by the video and audio matchers: the best line
// work_time = speed * query_time + offset through matched (query time, work time) pairs, by a
// Hough vote over a geometric grid of speeds and binned offsets, then a least-squares refit on
// the inliers. Internal to chuqu_av_index. Pure and stateless.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace chuqu::index {

struct TimePair {
  float query = 0;       // seconds in the query
  float work = 0;        // seconds in the registered work
  float weight = 1;      // vote weight (e.g. 1 - distance / radius)
  uint32_t query_key = 0;  // pairs with the same key vote at most once per line (frame index)
};

struct AlignOptions {
  double min_speed = 0.5;
  double max_speed = 2.0;
  int speed_steps = 61;      // geometric grid over [min_speed, max_speed], 1.0 always included
  double offset_bin = 0.5;   // seconds
  double inlier_tolerance = 0.6;  // seconds from the line
  // Votes for a speed other than 1 are scaled by this when lines are compared: copies are
  // mostly at speed 1, and a few noisy matches fit some other speed by chance.
  double other_speed_factor = 0.85;
};

struct Alignment {
  double speed = 1;
  double offset = 0;
  double votes = 0;                // summed weight of distinct inlier query keys
  std::vector<uint32_t> inliers;   // indexes into the pairs, sorted by query time
};

// Empty alignment (votes 0) when `pairs` is empty. Pairs more than 1e12 offset bins off any
// line (absurd or non-finite times) do not vote.
Alignment AlignPairs(std::span<const TimePair> pairs, const AlignOptions& options);

}  // namespace chuqu::index
