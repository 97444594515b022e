#include "index/video_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "index/temporal_align.h"

namespace chuqu::index {
namespace {

constexpr char kMagic[4] = {'C', 'Q', 'V', 'F'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 4 + 4 + 4;  // magic, version, dihedrals, dur, int, n
// 24 hours at 8 frames per second.
constexpr uint32_t kMaxFrames = 24 * 3600 * 8;

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutF32(std::vector<uint8_t>& out, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  PutU32(out, v);
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
float GetF32(const uint8_t* p) {
  const uint32_t v = GetU32(p);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}

}  // namespace

std::vector<uint8_t> EncodeVideoFingerprint(const VideoFingerprint& fp) {
  const int dihedrals = std::clamp(fp.dihedrals, 1, kVideoDihedrals);
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  out.push_back(kVersion);
  out.push_back(static_cast<uint8_t>(dihedrals));
  PutF32(out, fp.duration);
  PutF32(out, fp.frame_interval);
  PutU32(out, static_cast<uint32_t>(fp.frames.size()));
  for (const VideoFrameHash& f : fp.frames) {
    PutF32(out, f.time);
    out.push_back(f.quality);
    for (int d = 0; d < dihedrals; ++d) {
      for (uint64_t w : f.pdq[d].words) {
        for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
      }
    }
  }
  return out;
}

Result<VideoFingerprint> DecodeVideoFingerprint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Status::InvalidArgument("video fingerprint: not CQVF data");
  }
  if (bytes[4] != kVersion) {
    return Status::InvalidArgument("video fingerprint: unsupported version " +
                                   std::to_string(bytes[4]));
  }
  VideoFingerprint fp;
  fp.dihedrals = bytes[5];
  if (fp.dihedrals != 1 && fp.dihedrals != kVideoDihedrals) {
    return Status::InvalidArgument("video fingerprint: dihedral count must be 1 or 8");
  }
  fp.duration = GetF32(&bytes[6]);
  fp.frame_interval = GetF32(&bytes[10]);
  const uint32_t n = GetU32(&bytes[14]);
  if (!std::isfinite(fp.duration) || fp.duration < 0 || !std::isfinite(fp.frame_interval) ||
      fp.frame_interval <= 0) {
    return Status::InvalidArgument("video fingerprint: bad duration or frame interval");
  }
  if (n > kMaxFrames) return Status::InvalidArgument("video fingerprint: too many frames");
  const size_t per_frame = 5 + 32 * static_cast<size_t>(fp.dihedrals);
  if (bytes.size() != kHeaderBytes + per_frame * n) {
    return Status::InvalidArgument("video fingerprint: length does not match frame count");
  }
  fp.frames.resize(n);
  const uint8_t* p = bytes.data() + kHeaderBytes;
  for (VideoFrameHash& f : fp.frames) {
    f.time = GetF32(p);
    f.quality = p[4];
    if (!std::isfinite(f.time) || f.time < 0 || f.quality > 100) {
      return Status::InvalidArgument("video fingerprint: bad frame time or quality");
    }
    p += 5;
    for (int d = 0; d < fp.dihedrals; ++d) {
      for (uint64_t& w : f.pdq[d].words) {
        w = 0;
        for (int i = 0; i < 8; ++i) w |= uint64_t{p[i]} << (8 * i);
        p += 8;
      }
    }
  }
  return fp;
}

VideoMatcher::VideoMatcher(const VideoMatcherOptions& options)
    : options_(options), index_(std::make_unique<MihHammingIndex<4>>()) {}
VideoMatcher::~VideoMatcher() = default;
VideoMatcher::VideoMatcher(VideoMatcher&&) noexcept = default;
VideoMatcher& VideoMatcher::operator=(VideoMatcher&&) noexcept = default;

size_t VideoMatcher::frames() const { return index_->size(); }

Status VideoMatcher::Add(uint64_t work, const VideoFingerprint& fp) {
  if (works_.contains(work)) {
    return Status::AlreadyExists("video work " + std::to_string(work) + " already indexed");
  }
  size_t usable = 0;
  for (const VideoFrameHash& f : fp.frames) usable += f.quality >= options_.min_quality;
  if (usable == 0) {
    return Status::InvalidArgument("video fingerprint has no frame of quality >= " +
                                   std::to_string(options_.min_quality));
  }
  for (const VideoFrameHash& f : fp.frames) {
    if (f.quality < options_.min_quality) continue;
    const uint64_t id = frame_refs_.size();
    CHUQU_RETURN_IF_ERROR(index_->Add(id, PdqCode(f.pdq[0])));
    frame_refs_.push_back({work, f.time});
  }
  WorkData& data = works_[work];
  data.duration = fp.duration;
  for (const VideoFrameHash& f : fp.frames) data.frames.push_back({f.time, f.quality, f.pdq[0]});
  std::stable_sort(data.frames.begin(), data.frames.end(),
                   [](const StoredFrame& a, const StoredFrame& b) { return a.time < b.time; });
  return Status::Ok();
}

std::vector<VideoMatch> VideoMatcher::Search(std::span<const VideoFingerprint> views,
                                             size_t max_results) const {
  std::vector<VideoMatch> out;
  if (works_.empty() || max_results == 0) return out;
  std::unordered_map<uint64_t, VideoMatch> best;
  for (int v = 0; v < static_cast<int>(views.size()); ++v) {
    for (VideoMatch& m : SearchView(views[v])) {
      m.view = v;
      auto [it, fresh] = best.try_emplace(m.work, m);
      if (!fresh && m.score > it->second.score) it->second = m;
    }
  }
  for (auto& [work, m] : best) out.push_back(m);
  std::sort(out.begin(), out.end(), [](const VideoMatch& a, const VideoMatch& b) {
    return a.score != b.score ? a.score > b.score : a.work < b.work;
  });
  if (out.size() > max_results) out.resize(max_results);
  return out;
}

std::vector<VideoMatch> VideoMatcher::SearchView(const VideoFingerprint& query) const {
  std::vector<VideoMatch> out;
  const int dihedrals = std::clamp(query.dihedrals, 1, kVideoDihedrals);

  // (work, dihedral) -> pairs.
  std::map<std::pair<uint64_t, int>, std::vector<TimePair>> pairs;
  std::vector<float> usable_times;
  for (uint32_t i = 0; i < query.frames.size(); ++i) {
    const VideoFrameHash& f = query.frames[i];
    if (f.quality < options_.min_quality) continue;
    usable_times.push_back(f.time);
    for (int d = 0; d < dihedrals; ++d) {
      for (const Neighbor& n : index_->RangeSearch(PdqCode(f.pdq[d]), options_.radius,
                                                   options_.max_hits_per_frame)) {
        const FrameRef& ref = frame_refs_[n.id];
        const float weight =
            1.0f - 0.5f * static_cast<float>(n.distance) / static_cast<float>(options_.radius + 1);
        pairs[{ref.work, d}].push_back({f.time, ref.time, weight, i});
      }
    }
  }
  if (pairs.empty()) return out;

  // Candidates by distinct matched query frames.
  struct Candidate {
    std::pair<uint64_t, int> key;
    size_t votes;
  };
  std::vector<Candidate> candidates;
  for (const auto& [key, list] : pairs) {
    std::vector<uint32_t> keys;
    for (const TimePair& p : list) keys.push_back(p.query_key);
    std::sort(keys.begin(), keys.end());
    const auto votes = static_cast<size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
    if (votes >= static_cast<size_t>(options_.min_matched_frames)) candidates.push_back({key, votes});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.votes != b.votes ? a.votes > b.votes : a.key < b.key;
  });
  if (candidates.size() > options_.max_candidates) candidates.resize(options_.max_candidates);

  const double interval = std::max(0.01, static_cast<double>(query.frame_interval));
  const double max_gap = std::max(2.0, 4 * interval);
  AlignOptions align;
  align.inlier_tolerance = std::max(0.6, 1.2 * interval);
  std::unordered_map<uint64_t, VideoMatch> best;
  for (const Candidate& c : candidates) {
    const std::vector<TimePair>& list = pairs.at(c.key);
    const Alignment a = AlignPairs(list, align);
    if (a.inliers.size() < static_cast<size_t>(options_.min_matched_frames)) continue;
    // The run of inliers (gaps <= max_gap) with the most frames is the segment.
    size_t run_begin = 0, best_begin = 0, best_end = 0;
    for (size_t i = 1; i <= a.inliers.size(); ++i) {
      if (i == a.inliers.size() ||
          list[a.inliers[i]].query - list[a.inliers[i - 1]].query > max_gap) {
        if (i - run_begin > best_end - best_begin) best_begin = run_begin, best_end = i;
        run_begin = i;
      }
    }
    const int matched = static_cast<int>(best_end - best_begin);
    if (matched < options_.min_matched_frames) continue;
    double qmin = list[a.inliers[best_begin]].query;
    double qmax = list[a.inliers[best_end - 1]].query;
    int usable = 0;
    for (float t : usable_times) usable += t >= qmin - 1e-4 && t <= qmax + 1e-4;
    const WorkData& work = works_.at(c.key.first);
    const double wdur = work.duration;
    // Extend along the line through frames the index could not see (low quality) or missed.
    int extended = 0;
    auto accept = [&](const VideoFrameHash& f) {
      const double wt = a.speed * f.time + a.offset;
      auto it = std::lower_bound(
          work.frames.begin(), work.frames.end(), wt,
          [](const StoredFrame& s, double t) { return s.time < t; });
      const StoredFrame* near = nullptr;
      double gap = 1e9;
      for (auto j = it == work.frames.begin() ? it : it - 1;
           j != work.frames.end() && j <= it; ++j) {
        if (std::abs(j->time - wt) < gap) gap = std::abs(j->time - wt), near = &*j;
      }
      if (near == nullptr || gap > interval + 0.05) return false;
      if (f.quality < options_.min_quality && near->quality < options_.min_quality) return true;
      return HammingDistance(PdqCode(f.pdq[c.key.second]), PdqCode(near->pdq)) <=
             options_.extend_radius;
    };
    for (size_t i = query.frames.size(); i-- > 0;) {  // backwards from the start
      const VideoFrameHash& f = query.frames[i];
      if (f.time >= qmin) continue;
      if (f.time < qmin - interval - 0.05 || !accept(f)) break;
      qmin = f.time;
      ++extended;
    }
    for (const VideoFrameHash& f : query.frames) {
      if (f.time <= qmax) continue;
      if (f.time > qmax + interval + 0.05 || !accept(f)) break;
      qmax = f.time;
      ++extended;
    }
    const double qdur = query.duration > 0 ? query.duration : qmax + interval;
    VideoMatch m;
    m.work = c.key.first;
    m.dihedral = c.key.second;
    m.speed = a.speed;
    m.matched_frames = matched + extended;
    m.query_frames = std::max(usable, matched) + extended;
    // A copied interval starts anywhere between the last unmatched and first matched sample.
    m.segment.query_start = std::max(0.0, qmin - interval / 2);
    m.segment.query_end = std::min(qdur, qmax + interval / 2);
    auto work_time = [&](double q) {
      const double w = a.speed * q + a.offset;
      return wdur > 0 ? std::clamp(w, 0.0, wdur) : std::max(0.0, w);
    };
    m.segment.work_start = work_time(m.segment.query_start);
    m.segment.work_end = work_time(m.segment.query_end);
    const double length = m.segment.query_end - m.segment.query_start;
    m.score = static_cast<double>(m.matched_frames) / m.query_frames *
              std::min(1.0, length / options_.full_score_seconds);
    if (m.score < options_.min_score) continue;
    auto [it, fresh] = best.try_emplace(m.work, m);
    if (!fresh && m.score > it->second.score) it->second = m;
  }
  for (auto& [work, m] : best) out.push_back(m);
  return out;
}

}  // namespace chuqu::index
