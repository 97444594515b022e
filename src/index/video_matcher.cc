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
constexpr uint8_t kVersionViews = 2;  // version 1 + views
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 4 + 4 + 4;  // magic, version, dihedrals, dur, int, n
// 24 hours at 8 frames per second.
constexpr uint32_t kMaxFrames = 24 * 3600 * 8;
// Times and durations beyond a week are corrupt data (and would overflow time arithmetic).
constexpr float kMaxSeconds = 7 * 24 * 3600;

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

namespace {

void PutHash(std::vector<uint8_t>& out, const Hash256& h) {
  for (uint64_t w : h.words) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
  }
}
Hash256 GetHash(const uint8_t* p) {
  Hash256 h;
  for (uint64_t& w : h.words) {
    w = 0;
    for (int i = 0; i < 8; ++i) w |= uint64_t{p[i]} << (8 * i);
    p += 8;
  }
  return h;
}
bool StoredView(const VideoFingerprint& fp, const VideoView& v) {
  return v.reference || fp.dihedrals != 1;
}
bool ValidRegion(const VideoRegion& r) {
  constexpr float kSlack = 1e-4f;
  for (float v : {r.x, r.y, r.width, r.height}) {
    if (!std::isfinite(v)) return false;
  }
  return r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 && r.x + r.width <= 1 + kSlack &&
         r.y + r.height <= 1 + kSlack;
}

}  // namespace

std::vector<uint8_t> EncodeVideoFingerprint(const VideoFingerprint& fp) {
  const int dihedrals = std::clamp(fp.dihedrals, 1, kVideoDihedrals);
  size_t views = 0;
  for (const VideoView& v : fp.views) {
    CHUQU_CHECK(v.hashes.size() == fp.frames.size());
    views += StoredView(fp, v);
  }
  CHUQU_CHECK(views <= kMaxVideoViews);
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  out.push_back(views > 0 ? kVersionViews : kVersion);
  out.push_back(static_cast<uint8_t>(dihedrals));
  PutF32(out, fp.duration);
  PutF32(out, fp.frame_interval);
  PutU32(out, static_cast<uint32_t>(fp.frames.size()));
  for (const VideoFrameHash& f : fp.frames) {
    PutF32(out, f.time);
    out.push_back(f.quality);
    for (int d = 0; d < dihedrals; ++d) PutHash(out, f.pdq[d]);
  }
  if (views == 0) return out;
  out.push_back(static_cast<uint8_t>(views));
  for (const VideoView& v : fp.views) {
    if (!StoredView(fp, v)) continue;
    out.push_back(v.reference ? 1 : 0);
    for (float r : {v.region.x, v.region.y, v.region.width, v.region.height}) PutF32(out, r);
    for (const VideoRegionHash& h : v.hashes) {
      out.push_back(h.quality);
      PutHash(out, h.pdq);
    }
  }
  return out;
}

Result<VideoFingerprint> DecodeVideoFingerprint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Status::InvalidArgument("video fingerprint: not CQVF data");
  }
  const uint8_t version = bytes[4];
  if (version != kVersion && version != kVersionViews) {
    return Status::InvalidArgument("video fingerprint: unsupported version " +
                                   std::to_string(version));
  }
  VideoFingerprint fp;
  fp.dihedrals = bytes[5];
  if (fp.dihedrals != 1 && fp.dihedrals != kVideoDihedrals) {
    return Status::InvalidArgument("video fingerprint: dihedral count must be 1 or 8");
  }
  fp.duration = GetF32(&bytes[6]);
  fp.frame_interval = GetF32(&bytes[10]);
  const uint32_t n = GetU32(&bytes[14]);
  if (!std::isfinite(fp.duration) || fp.duration < 0 || fp.duration > kMaxSeconds ||
      !std::isfinite(fp.frame_interval) || fp.frame_interval <= 0 ||
      fp.frame_interval > kMaxSeconds) {
    return Status::InvalidArgument("video fingerprint: bad duration or frame interval");
  }
  if (n > kMaxFrames) return Status::InvalidArgument("video fingerprint: too many frames");
  const size_t per_frame = 5 + 32 * static_cast<size_t>(fp.dihedrals);
  const size_t frames_end = kHeaderBytes + per_frame * n;
  size_t views = 0;
  if (version == kVersion) {
    if (bytes.size() != frames_end) {
      return Status::InvalidArgument("video fingerprint: length does not match frame count");
    }
  } else {
    if (bytes.size() <= frames_end) {
      return Status::InvalidArgument("video fingerprint: truncated before the views");
    }
    views = bytes[frames_end];
    if (views == 0 || views > kMaxVideoViews) {
      return Status::InvalidArgument("video fingerprint: view count must be 1..16");
    }
    if (bytes.size() != frames_end + 1 + views * (17 + 33 * size_t{n})) {
      return Status::InvalidArgument("video fingerprint: length does not match view count");
    }
  }
  fp.frames.resize(n);
  const uint8_t* p = bytes.data() + kHeaderBytes;
  for (VideoFrameHash& f : fp.frames) {
    f.time = GetF32(p);
    f.quality = p[4];
    if (!std::isfinite(f.time) || f.time < 0 || f.time > kMaxSeconds || f.quality > 100) {
      return Status::InvalidArgument("video fingerprint: bad frame time or quality");
    }
    p += 5;
    for (int d = 0; d < fp.dihedrals; ++d, p += 32) f.pdq[d] = GetHash(p);
  }
  if (views > 0) ++p;
  fp.views.resize(views);
  for (VideoView& v : fp.views) {
    if (p[0] > 1) return Status::InvalidArgument("video fingerprint: unknown view flags");
    v.reference = p[0] == 1;
    if (!StoredView(fp, v)) {
      return Status::InvalidArgument("video fingerprint: query view in a reference form");
    }
    v.region = {GetF32(p + 1), GetF32(p + 5), GetF32(p + 9), GetF32(p + 13)};
    if (!ValidRegion(v.region)) {
      return Status::InvalidArgument("video fingerprint: view region outside the frame");
    }
    p += 17;
    v.hashes.resize(n);
    for (VideoRegionHash& h : v.hashes) {
      h.quality = p[0];
      if (h.quality > 100) return Status::InvalidArgument("video fingerprint: bad view quality");
      h.pdq = GetHash(p + 1);
      p += 33;
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
  std::vector<const VideoView*> views;
  for (const VideoView& v : fp.views) {
    if (v.hashes.size() != fp.frames.size()) {
      return Status::InvalidArgument("video fingerprint view has " +
                                     std::to_string(v.hashes.size()) + " hashes for " +
                                     std::to_string(fp.frames.size()) + " frames");
    }
    if (v.reference && views.size() < kMaxVideoViews) views.push_back(&v);
  }
  WorkData data;
  data.duration = fp.duration;
  data.tracks.resize(1 + views.size());
  data.regions.push_back(VideoRegion{});
  for (const VideoView* v : views) data.regions.push_back(v->region);
  for (size_t i = 0; i < fp.frames.size(); ++i) {
    const VideoFrameHash& f = fp.frames[i];
    data.tracks[0].push_back({f.time, f.quality, f.pdq[0]});
    for (size_t t = 0; t < views.size(); ++t) {
      const VideoRegionHash& h = views[t]->hashes[i];
      data.tracks[t + 1].push_back({f.time, h.quality, h.pdq});
    }
  }
  for (uint8_t t = 0; t < data.tracks.size(); ++t) {
    std::vector<StoredFrame>& track = data.tracks[t];
    for (const StoredFrame& f : track) {
      if (f.quality < options_.min_quality) continue;
      const uint64_t id = frame_refs_.size();
      CHUQU_RETURN_IF_ERROR(index_->Add(id, PdqCode(f.pdq)));
      frame_refs_.push_back({work, f.time, t});
    }
    std::stable_sort(track.begin(), track.end(),
                     [](const StoredFrame& a, const StoredFrame& b) { return a.time < b.time; });
  }
  works_.emplace(work, std::move(data));
  return Status::Ok();
}

std::vector<VideoMatch> VideoMatcher::Search(const VideoFingerprint& query,
                                             size_t max_results) const {
  std::vector<VideoMatch> out;
  if (works_.empty() || max_results == 0) return out;
  const size_t n = query.frames.size();

  // Hash sources: whole frames in each dihedral variant, then each view (variant 0).
  struct Source {
    int view = 0;  // 0 whole frames, v + 1 views[v]
    int dihedral = 0;
  };
  std::vector<Source> sources;
  const int dihedrals = std::clamp(query.dihedrals, 1, kVideoDihedrals);
  for (int d = 0; d < dihedrals; ++d) sources.push_back({0, d});
  for (size_t v = 0; v < query.views.size(); ++v) {
    if (query.views[v].hashes.size() == n) sources.push_back({static_cast<int>(v + 1), 0});
  }
  auto quality = [&](const Source& s, size_t i) {
    return s.view == 0 ? query.frames[i].quality : query.views[s.view - 1].hashes[i].quality;
  };
  auto hash = [&](const Source& s, size_t i) -> const Hash256& {
    return s.view == 0 ? query.frames[i].pdq[s.dihedral] : query.views[s.view - 1].hashes[i].pdq;
  };

  // Pairs per (work, dihedral): every source of variant 0 (whole frames and views) pools its
  // pairs, so a copy seen through different regions at different times (a pan over a crop)
  // aligns as one segment; a frame votes once per line (query_key = frame index).
  struct Group {
    std::vector<TimePair> pairs;
    std::vector<std::pair<uint8_t, uint8_t>> via;  // per pair: (source, work track)
  };
  std::map<std::pair<uint64_t, int>, Group> groups;
  for (uint32_t i = 0; i < n; ++i) {
    for (size_t si = 0; si < sources.size(); ++si) {
      const Source& s = sources[si];
      if (quality(s, i) < options_.min_quality) continue;
      for (const Neighbor& nb : index_->RangeSearch(PdqCode(hash(s, i)), options_.radius,
                                                    options_.max_hits_per_frame)) {
        const FrameRef& ref = frame_refs_[nb.id];
        const float weight =
            1.0f - 0.5f * static_cast<float>(nb.distance) / static_cast<float>(options_.radius + 1);
        Group& g = groups[{ref.work, s.dihedral}];
        g.pairs.push_back({query.frames[i].time, ref.time, weight, i});
        g.via.emplace_back(static_cast<uint8_t>(si), ref.track);
      }
    }
  }
  if (groups.empty()) return out;

  // Candidates by distinct matched query frames.
  struct Candidate {
    std::pair<uint64_t, int> key;
    size_t votes;
  };
  std::vector<Candidate> candidates;
  for (const auto& [key, g] : groups) {
    std::vector<uint32_t> keys;
    for (const TimePair& p : g.pairs) keys.push_back(p.query_key);
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
    const Group& g = groups.at(c.key);
    const std::vector<TimePair>& list = g.pairs;
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
    // The (source, work track) routes of the segment's inliers; the most used is reported.
    std::map<std::pair<uint8_t, uint8_t>, int> routes;
    for (size_t k = best_begin; k < best_end; ++k) ++routes[g.via[a.inliers[k]]];
    std::pair<uint8_t, uint8_t> primary = routes.begin()->first;
    int primary_count = 0;
    for (const auto& [route, count] : routes) {
      if (count > primary_count) primary = route, primary_count = count;
    }
    double qmin = list[a.inliers[best_begin]].query;
    double qmax = list[a.inliers[best_end - 1]].query;
    const uint64_t work_id = c.key.first;
    const WorkData& work = works_.at(work_id);
    auto usable = [&](size_t i) {
      for (const auto& [route, count] : routes) {
        if (quality(sources[route.first], i) >= options_.min_quality) return true;
      }
      return false;
    };
    // Extend along the line through frames the index could not see (low quality) or missed:
    // a frame continues the copy if one of the segment's routes is within extend_radius of the
    // work frame at the aligned time, or whole frames of both are below min_quality.
    // REQUIRES (for the walk below): query frames in time order.
    int extended = 0;
    auto accept = [&](size_t i) {
      const double wt = a.speed * query.frames[i].time + a.offset;
      for (const auto& [route, count] : routes) {
        const Source& s = sources[route.first];
        const std::vector<StoredFrame>& frames = work.tracks[route.second];
        auto it = std::lower_bound(frames.begin(), frames.end(), wt,
                                   [](const StoredFrame& f, double t) { return f.time < t; });
        const StoredFrame* near = nullptr;
        double gap = 1e9;
        for (auto j = it == frames.begin() ? it : it - 1; j != frames.end() && j <= it; ++j) {
          if (std::abs(j->time - wt) < gap) gap = std::abs(j->time - wt), near = &*j;
        }
        if (near == nullptr || gap > interval + 0.05) continue;
        if (s.view == 0 && route.second == 0 && quality(s, i) < options_.min_quality &&
            near->quality < options_.min_quality) {
          return true;
        }
        if (HammingDistance(PdqCode(hash(s, i)), PdqCode(near->pdq)) <= options_.extend_radius) {
          return true;
        }
      }
      return false;
    };
    // Frames that fail are skipped while the next accepted one is within max_gap (a cut or a
    // dip to black inside the copy); the segment ends at the last accepted frame.
    for (size_t i = n; i-- > 0;) {  // backwards from the start
      const float t = query.frames[i].time;
      if (t >= qmin) continue;
      if (t < qmin - max_gap) break;
      if (accept(i)) qmin = t, ++extended;
    }
    for (size_t i = 0; i < n; ++i) {
      const float t = query.frames[i].time;
      if (t <= qmax) continue;
      if (t > qmax + max_gap) break;
      if (accept(i)) qmax = t, ++extended;
    }
    int usable_frames = 0;
    for (size_t i = 0; i < n; ++i) {
      const float t = query.frames[i].time;
      usable_frames += t >= qmin - 1e-4 && t <= qmax + 1e-4 && usable(i);
    }
    const double qdur = query.duration > 0 ? query.duration : qmax + interval;
    const double wdur = work.duration;
    VideoMatch m;
    m.work = work_id;
    m.dihedral = c.key.second;
    m.speed = a.speed;
    const Source& ps = sources[primary.first];
    m.view = ps.view;
    if (ps.view > 0) m.query_region = query.views[ps.view - 1].region;
    m.work_region = work.regions[primary.second];
    m.matched_frames = matched + extended;
    m.query_frames = std::max(usable_frames, m.matched_frames);
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
  std::sort(out.begin(), out.end(), [](const VideoMatch& a, const VideoMatch& b) {
    return a.score != b.score ? a.score > b.score : a.work < b.work;
  });
  if (out.size() > max_results) out.resize(max_results);
  return out;
}

}  // namespace chuqu::index
