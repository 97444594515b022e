#include "registry/matcher.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "chuqu/iscc.h"
#include "fingerprint/pdq/pdq_hasher.h"
#include "index/hamming_index.h"
#include "index/text_index.h"

namespace chuqu::registry {
namespace {

// Same SHA-256: a byte-identical copy.
class ExactMatcher final : public MediaMatcher {
 public:
  std::string_view name() const override { return "exact"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.sha256.empty()) works_.emplace(fp.sha256, work);
    return Status::Ok();
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    if (q.sha256.empty()) return out;
    auto [b, e] = works_.equal_range(q.sha256);
    for (auto it = b; it != e && out.size() < max_results; ++it) {
      Match m;
      m.work = it->second;
      m.score = 1.0;
      m.evidence = {{"method", "exact"}, {"sha256", q.sha256}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  std::multimap<std::string, uint64_t> works_;
};

// 64-bit ISCC Content-Code units, one index per media (a text code never matches an image's).
class IsccContentMatcher final : public MediaMatcher {
 public:
  explicit IsccContentMatcher(uint32_t radius) : radius_(radius) {}
  std::string_view name() const override { return "iscc-content"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    std::optional<index::Code64> code = CodeOf(fp);
    if (!code) return Status::Ok();
    auto& idx = indexes_[fp.media];
    if (!idx) idx = std::make_unique<index::MihHammingIndex<1>>();
    return idx->Add(work, *code);
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    std::optional<index::Code64> code = CodeOf(q);
    auto it = indexes_.find(q.media);
    if (!code || it == indexes_.end()) return out;
    for (const index::Neighbor& n : it->second->RangeSearch(*code, radius_, max_results)) {
      Match m;
      m.work = n.id;
      // A 64-bit ISCC unit is coarse (many near-duplicates share it): weaker than PDQ or
      // exact evidence at the same distance.
      m.score = 0.9 * std::max(0.0, 1.0 - n.distance / 32.0);
      m.evidence = {{"method", "iscc-content"}, {"distance", n.distance}, {"bits", 64},
                    {"query_code", q.content_code}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  static std::optional<index::Code64> CodeOf(const Fingerprints& fp) {
    if (fp.content_code.empty()) return std::nullopt;
    Result<IsccUnit> u = DecodeIscc(fp.content_code);
    if (!u.ok() || u->main_type != MainType::kContent || u->body.size() < 8) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | u->body[i];
    return index::Code64{v};
  }
  uint32_t radius_;
  std::map<std::string, std::unique_ptr<index::MihHammingIndex<1>>> indexes_;
};

// PDQ: the query's 8 dihedral variants against the registered originals (finds rotated and
// mirrored copies; notes/pdq-vpdq-tmk-hma.md).
class PdqMatcher final : public MediaMatcher {
 public:
  explicit PdqMatcher(uint32_t radius) : radius_(radius) {}
  std::string_view name() const override { return "pdq"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.pdq) return Status::Ok();
    return index_.Add(work, index::PdqCode(*fp.pdq));
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Hash256> queries = q.pdq_dihedral;
    if (queries.empty() && q.pdq) queries.push_back(*q.pdq);
    std::map<uint64_t, std::pair<uint32_t, size_t>> best;  // work -> (distance, variant)
    for (size_t v = 0; v < queries.size(); ++v) {
      for (const index::Neighbor& n :
           index_.RangeSearch(index::PdqCode(queries[v]), radius_, max_results)) {
        auto [it, added] = best.emplace(n.id, std::make_pair(n.distance, v));
        if (!added && n.distance < it->second.first) it->second = {n.distance, v};
      }
    }
    std::vector<Match> out;
    for (const auto& [work, dv] : best) {
      Match m;
      m.work = work;
      m.score = std::max(0.0, 1.0 - dv.first / 128.0);
      m.evidence = {{"method", "pdq"},
                    {"distance", dv.first},
                    {"bits", 256},
                    {"transform", pdq::DihedralName(static_cast<pdq::Dihedral>(dv.second % 8))},
                    {"query_quality", q.pdq_quality},
                    {"region", {{"query", "whole"}, {"work", "whole"}}}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  uint32_t radius_;
  index::MihHammingIndex<4> index_;
};

// Text: winnowed fingerprints, spans in code points on both sides. Default TextIndexOptions
// and no WorkTextSource: the registry keeps works' fingerprints, not their text, so this is
// the "fingerprints only" mode of docs/benchmarks.md "Text copy detection".
class TextMatcher final : public MediaMatcher {
 public:
  std::string_view name() const override { return "text"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.text) return Status::Ok();
    if (fp.text->options.k != index_.options().winnow.k ||
        fp.text->options.w != index_.options().winnow.w) {
      return Status::Ok();  // other winnowing options: cannot be searched here
    }
    return index_.Add(work, *fp.text);
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    if (q.query_text.empty() || index_.size() == 0) return out;
    Result<text::NormalizedText> norm = text::Normalize(q.query_text);
    if (!norm.ok()) return out;
    for (const index::TextMatch& t : index_.Search(*norm)) {
      if (out.size() >= max_results) break;
      Match m;
      m.work = t.work;
      m.score = t.score;
      nlohmann::json spans = nlohmann::json::array();
      for (const index::TextSpan& s : t.spans) {
        spans.push_back({{"query", {s.query_begin, s.query_end}},
                         {"work", {s.work_begin, s.work_end}},
                         {"seeds", s.seeds},
                         {"score", s.score}});
      }
      m.evidence = {{"method", "text"},
                    {"unit", "code points, half-open"},
                    {"spans", std::move(spans)},
                    {"query_coverage", t.query_coverage},
                    {"work_coverage", t.work_coverage}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  index::TextIndex index_;
};

// Video: segment alignment over vPDQ frames (src/index/video_matcher.h).
class VideoPlugin final : public MediaMatcher {
 public:
  std::string_view name() const override { return "video"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.video || fp.video->frames.empty()) return Status::Ok();
    return index_.Add(work, *fp.video);
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    if (!q.video || q.video->frames.empty()) return out;
    for (const index::VideoMatch& v : index_.Search(*q.video, max_results)) {
      Match m;
      m.work = v.work;
      m.score = std::clamp(v.score, 0.0, 1.0);
      m.evidence = {{"method", "video-segment"},
                    {"unit", "seconds"},
                    {"segments", {{{"query", {v.segment.query_start, v.segment.query_end}},
                                   {"work", {v.segment.work_start, v.segment.work_end}}}}},
                    {"speed", v.speed},
                    {"transform", pdq::DihedralName(static_cast<pdq::Dihedral>(v.dihedral % 8))},
                    {"matched_frames", v.matched_frames},
                    {"query_frames", v.query_frames},
                    // Regions as [x, y, width, height], fractions of the frame: where in the
                    // query the work was seen (an inset, a crop) and what part of the work.
                    {"query_region", {v.query_region.x, v.query_region.y,
                                      v.query_region.width, v.query_region.height}},
                    {"work_region", {v.work_region.x, v.work_region.y, v.work_region.width,
                                     v.work_region.height}}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  index::VideoMatcher index_;
};

// Audio: Chromaprint offset alignment (src/index/audio_matcher.h).
class AudioPlugin final : public MediaMatcher {
 public:
  std::string_view name() const override { return "audio"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.audio || fp.audio->values.empty()) return Status::Ok();
    return index_.Add(work, *fp.audio);
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    if (!q.audio || q.audio->values.empty()) return out;
    for (const index::AudioMatch& a : index_.Search(*q.audio, max_results)) {
      Match m;
      m.work = a.work;
      m.score = std::clamp(a.score, 0.0, 1.0);
      m.evidence = {{"method", "audio-segment"},
                    {"unit", "seconds"},
                    {"segments", {{{"query", {a.query_start, a.query_end}},
                                   {"work", {a.work_start, a.work_end}}}}},
                    {"speed", a.speed},
                    {"bit_error_rate", a.bit_error_rate}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  index::AudioMatcher index_;
};

// Image local features: index::ImageMatcher's local tier only (PDQ and the ISCC Content-Code
// are the plugins above), at its precision >= 0.99 operating point (min_score).
class ImageLocalPlugin final : public MediaMatcher {
 public:
  explicit ImageLocalPlugin(TaskRunner* runner)
      : index_(index::ImageMatcherOptions{.runner = runner}) {}
  std::string_view name() const override { return "image-local"; }
  Status Add(uint64_t work, const Fingerprints& fp) override {
    if (!fp.image || fp.image->descriptors.empty()) return Status::Ok();
    return index_.Add(work, LocalOnly(*fp.image));
  }
  std::vector<Match> Search(const Fingerprints& q, size_t max_results) const override {
    std::vector<Match> out;
    if (!q.image || q.image->descriptors.empty() || index_.size() == 0) return out;
    Result<std::vector<index::ImageMatch>> found = index_.Search(LocalOnly(*q.image));
    if (!found.ok()) return out;  // an invalid query fingerprint has no local evidence
    for (const index::ImageMatch& im : *found) {
      if (out.size() >= max_results) break;
      if (im.method != index::ImageEvidence::kLocal) continue;
      Match m;
      m.work = im.id;
      m.score = std::clamp(im.score, 0.0, 1.0);
      m.evidence = {{"method", "image-local"},
                    {"unit", "fraction of width and height"},
                    {"region",
                     {{"query", RegionJson(im.query_region, q.image->width, q.image->height)},
                      {"work", RegionJson(im.ref_region, im.ref_width, im.ref_height)}}},
                    {"inliers", im.inliers},
                    {"votes", im.votes},
                    {"coverage", im.coverage},
                    {"descriptor_distance", im.descriptor_distance},
                    {"bits", 256}};
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  static index::ImageFingerprint LocalOnly(index::ImageFingerprint fp) {
    fp.pdq_quality = 0;  // global hashes are not indexed or searched below PDQ quality 50
    fp.iscc_image.reset();
    return fp;
  }
  // Axis-aligned bounds of the quad and its corners, as fractions of the image.
  static nlohmann::json RegionJson(const index::ImageQuad& quad, int width, int height) {
    const double w = std::max(1, width), h = std::max(1, height);
    double x0 = 1, y0 = 1, x1 = 0, y1 = 0;
    nlohmann::json corners = nlohmann::json::array();
    for (const index::ImagePoint& p : quad) {
      const double x = std::clamp(p.x / w, 0.0, 1.0), y = std::clamp(p.y / h, 0.0, 1.0);
      x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      corners.push_back({Round4(x), Round4(y)});
    }
    return {{"rect", {Round4(x0), Round4(y0), Round4(x1), Round4(y1)}}, {"quad", corners}};
  }
  static double Round4(double v) { return std::round(v * 1e4) / 1e4; }

  index::ImageMatcher index_;
};

}  // namespace

Matcher::Matcher(const MatcherOptions& options) : options_(options) {
  plugins_.push_back(std::make_unique<ExactMatcher>());
  plugins_.push_back(std::make_unique<PdqMatcher>(options.pdq_radius));
  plugins_.push_back(std::make_unique<TextMatcher>());
  plugins_.push_back(std::make_unique<VideoPlugin>());
  plugins_.push_back(std::make_unique<AudioPlugin>());
  plugins_.push_back(std::make_unique<ImageLocalPlugin>(options.runner));
  plugins_.push_back(std::make_unique<IsccContentMatcher>(options.iscc_radius));
}

Matcher::~Matcher() = default;

void Matcher::AddPlugin(std::unique_ptr<MediaMatcher> plugin) {
  plugins_.push_back(std::move(plugin));
}

Status Matcher::Add(uint64_t work, const Fingerprints& fp, const FirstRegistration& first) {
  if (works_.count(work)) return Status::InvalidArgument("work already indexed");
  for (auto& p : plugins_) {
    Status s = p->Add(work, fp);
    if (!s.ok()) return Status(s.code(), std::string(p->name()) + ": " + s.message());
  }
  works_[work] = {fp.media, first};
  return Status::Ok();
}

std::vector<Match> Matcher::Search(const Fingerprints& query) const {
  // Each plugin returns a bounded list, so the merge is bounded whatever the index size.
  std::map<uint64_t, Match> best;
  for (const auto& p : plugins_) {
    for (Match& m : p->Search(query, options_.max_results)) {
      if (m.score < options_.min_score) continue;
      auto it = best.find(m.work);
      if (it == best.end()) {
        best.emplace(m.work, std::move(m));
        continue;
      }
      Match& b = it->second;
      if (m.score > b.score) std::swap(b, m);
      nlohmann::json& also = b.evidence["also"];
      if (!also.is_array()) also = nlohmann::json::array();
      also.push_back(std::move(m.evidence));
    }
  }
  std::vector<Match> out;
  out.reserve(best.size());
  for (auto& [work, m] : best) {
    auto it = works_.find(work);
    if (it == works_.end()) continue;
    m.media = it->second.media;
    m.first = it->second.first;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    return a.score != b.score ? a.score > b.score : a.first.index < b.first.index;
  });
  if (out.size() > options_.max_results) out.resize(options_.max_results);
  return out;
}

size_t Matcher::size() const { return works_.size(); }

}  // namespace chuqu::registry
