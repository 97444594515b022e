#include "index/audio_matcher.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "index/temporal_align.h"

namespace chuqu::index {
namespace {

constexpr char kMagic[4] = {'C', 'Q', 'A', 'F'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 4 + 4;
// 24 hours of Chromaprint items.
constexpr uint32_t kMaxValues = static_cast<uint32_t>(24 * 3600 / kChromaprintItemSeconds);

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

std::vector<uint8_t> EncodeAudioFingerprint(const AudioFingerprint& fp) {
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  out.push_back(kVersion);
  PutU32(out, std::bit_cast<uint32_t>(fp.time_scale));
  PutU32(out, static_cast<uint32_t>(fp.values.size()));
  for (uint32_t v : fp.values) PutU32(out, v);
  return out;
}

Result<AudioFingerprint> DecodeAudioFingerprint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Status::InvalidArgument("audio fingerprint: not CQAF data");
  }
  if (bytes[4] != kVersion) {
    return Status::InvalidArgument("audio fingerprint: unsupported version " +
                                   std::to_string(bytes[4]));
  }
  AudioFingerprint fp;
  fp.time_scale = std::bit_cast<float>(GetU32(&bytes[5]));
  if (!std::isfinite(fp.time_scale) || fp.time_scale < 0.25f || fp.time_scale > 4.0f) {
    return Status::InvalidArgument("audio fingerprint: time scale outside [0.25, 4]");
  }
  const uint32_t n = GetU32(&bytes[9]);
  if (n > kMaxValues) return Status::InvalidArgument("audio fingerprint: too many values");
  if (bytes.size() != kHeaderBytes + 4 * size_t{n}) {
    return Status::InvalidArgument("audio fingerprint: length does not match value count");
  }
  fp.values.resize(n);
  for (uint32_t i = 0; i < n; ++i) fp.values[i] = GetU32(&bytes[kHeaderBytes + 4 * size_t{i}]);
  return fp;
}

AudioMatcher::AudioMatcher(const AudioMatcherOptions& options) : options_(options) {}

Status AudioMatcher::Add(uint64_t work, const AudioFingerprint& fp) {
  if (works_.contains(work)) {
    return Status::AlreadyExists("audio work " + std::to_string(work) + " already indexed");
  }
  if (fp.values.empty()) return Status::InvalidArgument("audio fingerprint is empty");
  if (fp.values.size() > kMaxValues) {
    return Status::InvalidArgument("audio fingerprint: too many values");
  }
  const auto slot = static_cast<uint32_t>(work_ids_.size());
  work_ids_.push_back(work);
  values_.push_back(fp.values);
  works_[work] = slot;
  for (uint32_t i = 0; i < fp.values.size(); ++i) postings_[fp.values[i]].push_back({slot, i});
  return Status::Ok();
}

std::vector<AudioMatch> AudioMatcher::Search(std::span<const AudioFingerprint> variants,
                                             size_t max_results) const {
  std::vector<AudioMatch> out;
  if (works_.empty() || max_results == 0) return out;
  const double item = kChromaprintItemSeconds;

  // (work slot, variant) -> pairs in seconds (query time of the variant's own clock).
  std::map<std::pair<uint32_t, int>, std::vector<TimePair>> pairs;
  for (int v = 0; v < static_cast<int>(variants.size()); ++v) {
    const std::vector<uint32_t>& q = variants[v].values;
    for (uint32_t i = 0; i < q.size(); ++i) {
      const int lookups = options_.one_bit_neighbours ? 33 : 1;
      for (int b = 0; b < lookups; ++b) {
        const uint32_t key = b == 0 ? q[i] : q[i] ^ (uint32_t{1} << (b - 1));
        auto it = postings_.find(key);
        if (it == postings_.end() || it->second.size() > options_.max_postings) continue;
        const float weight = b == 0 ? 1.0f : 0.5f;
        for (const Posting& p : it->second) {
          pairs[{p.work_slot, v}].push_back({static_cast<float>(i * item),
                                             static_cast<float>(p.position * item), weight, i});
        }
      }
    }
  }

  struct Candidate {
    std::pair<uint32_t, int> key;
    size_t votes;
  };
  std::vector<Candidate> candidates;
  for (const auto& [key, list] : pairs) {
    std::vector<uint32_t> keys;
    keys.reserve(list.size());
    for (const TimePair& p : list) keys.push_back(p.query_key);
    std::sort(keys.begin(), keys.end());
    const auto votes = static_cast<size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
    if (votes >= static_cast<size_t>(options_.min_votes)) candidates.push_back({key, votes});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.votes != b.votes ? a.votes > b.votes : a.key < b.key;
  });
  if (candidates.size() > options_.max_candidates) candidates.resize(options_.max_candidates);

  AlignOptions align;
  align.min_speed = options_.min_speed;
  align.max_speed = options_.max_speed;
  align.speed_steps = 41;
  align.offset_bin = 0.5;
  align.inlier_tolerance = 0.5;
  std::unordered_map<uint64_t, AudioMatch> best;
  for (const Candidate& c : candidates) {
    const std::vector<uint32_t>& q = variants[c.key.second].values;
    const std::vector<uint32_t>& ref = values_[c.key.first];
    const Alignment a = AlignPairs(pairs.at(c.key), align);
    if (a.inliers.size() < static_cast<size_t>(options_.min_votes)) continue;
    // Bit errors of each query item against the work item on the line (-1: off the work).
    std::vector<int> errors(q.size(), -1);
    for (size_t i = 0; i < q.size(); ++i) {
      const double w = a.speed * (static_cast<double>(i) * item) + a.offset;
      const auto j = static_cast<int64_t>(std::llround(w / item));
      if (j >= 0 && j < static_cast<int64_t>(ref.size())) {
        errors[i] = std::popcount(q[i] ^ ref[static_cast<size_t>(j)]);
      }
    }
    // Windows [s, s + window) under the threshold; the longest run of them is the segment.
    const int win = std::max(1, std::min<int>(options_.window, static_cast<int>(q.size())));
    size_t best_begin = 0, best_end = 0, run_begin = 0;
    bool in_run = false;
    std::vector<char> good(q.size() + 1, 0);
    for (size_t s = 0; s + static_cast<size_t>(win) <= q.size(); ++s) {
      int sum = 0, n = 0;
      for (int k = 0; k < win; ++k) {
        if (errors[s + k] >= 0) sum += errors[s + k], ++n;
      }
      good[s] = n == win && sum < options_.max_window_ber * 32.0 * win;
    }
    for (size_t s = 0; s <= q.size(); ++s) {
      if (good[s] && !in_run) run_begin = s, in_run = true;
      if (!good[s] && in_run) {
        in_run = false;
        if (s - run_begin > best_end - best_begin) best_begin = run_begin, best_end = s;
      }
    }
    if (best_end == best_begin) continue;
    size_t seg_begin = best_begin;
    size_t seg_end = best_end - 1 + static_cast<size_t>(win);  // exclusive item
    // A window half over the copy can pass; trim edges to where 4 items in a row pass too.
    auto short_ok = [&](size_t s) {
      int e = 0;
      for (size_t k = s; k < s + 4; ++k) e += errors[k];
      return e < options_.max_window_ber * 32.0 * 4;
    };
    while (seg_end - seg_begin > 4 && !short_ok(seg_begin)) ++seg_begin;
    while (seg_end - seg_begin > 4 && !short_ok(seg_end - 4)) --seg_end;
    best_begin = seg_begin;
    int sum = 0;
    for (size_t i = best_begin; i < seg_end; ++i) sum += errors[i];
    const double ber = sum / (32.0 * static_cast<double>(seg_end - best_begin));
    const double scale = variants[c.key.second].time_scale;
    AudioMatch m;
    m.work = work_ids_[c.key.first];
    m.variant = c.key.second;
    m.bit_error_rate = ber;
    m.speed = a.speed / scale;
    // A value describes kChromaprintValueSpan seconds from its start and matches once most of
    // that span is inside the copy, so a segment's first and last values stand for the
    // centres of their spans; at either end of a fingerprint the copy reaches that end.
    auto centre = [&](size_t i) { return static_cast<double>(i) * item + kChromaprintValueSpan / 2; };
    const size_t last = seg_end - 1;
    const double tq_start = best_begin == 0 ? 0.0 : centre(best_begin) - item / 2;
    const double tq_end = last + 1 == q.size() ? static_cast<double>(last) * item + kChromaprintValueSpan
                                               : centre(last) + item / 2;
    m.query_start = tq_start * scale;
    m.query_end = tq_end * scale;
    const double work_span_end = static_cast<double>(ref.size() - 1) * item + kChromaprintValueSpan;
    auto work_item = [&](size_t i) {
      return std::llround((a.speed * static_cast<double>(i) * item + a.offset) / item);
    };
    m.work_start = work_item(best_begin) <= 0 ? 0.0 : a.speed * tq_start + a.offset;
    m.work_end = work_item(last) >= static_cast<int64_t>(ref.size()) - 1
                     ? work_span_end
                     : a.speed * tq_end + a.offset;
    m.work_start = std::clamp(m.work_start, 0.0, work_span_end);
    m.work_end = std::clamp(m.work_end, m.work_start, work_span_end);
    const double length = (seg_end - best_begin) * item;
    m.score = std::clamp((0.5 - ber) / 0.5, 0.0, 1.0) *
              std::min(1.0, length / options_.full_score_seconds);
    if (m.score < options_.min_score) continue;
    auto [it, fresh] = best.try_emplace(m.work, m);
    if (!fresh && m.score > it->second.score) it->second = m;
  }
  for (auto& [work, m] : best) out.push_back(m);
  std::sort(out.begin(), out.end(), [](const AudioMatch& a, const AudioMatch& b) {
    return a.score != b.score ? a.score > b.score : a.work < b.work;
  });
  if (out.size() > max_results) out.resize(max_results);
  return out;
}

}  // namespace chuqu::index
