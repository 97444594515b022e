#include "index/image_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <string>

namespace chuqu::index {
namespace {

constexpr char kMagic[4] = {'C', 'Q', 'I', 'F'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 2 + 2 + 1 + kImageDihedrals * 32;

void PutU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// Keypoints are stored in 1/16 pixel.
uint16_t ToFixed(float v) {
  return static_cast<uint16_t>(std::clamp(std::lround(v * 16.0f), 0L, 65535L));
}

struct Correspondence {
  ImagePoint query;
  ImagePoint ref;
  uint32_t distance = 0;
  uint32_t ref_keypoint = 0;
  uint32_t query_index = 0;
};

// Solves the affine map taking r[k] -> q[k] for 3 points; false if the points are
// (nearly) collinear.
bool SolveAffine3(const ImagePoint* r, const ImagePoint* q, std::array<double, 6>& a) {
  const double x0 = r[0].x, y0 = r[0].y, x1 = r[1].x, y1 = r[1].y, x2 = r[2].x, y2 = r[2].y;
  const double det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
  if (std::abs(det) < 1.0) return false;  // twice the triangle area, in square pixels
  for (int row = 0; row < 2; ++row) {
    const double v0 = row == 0 ? q[0].x : q[0].y;
    const double v1 = row == 0 ? q[1].x : q[1].y;
    const double v2 = row == 0 ? q[2].x : q[2].y;
    // Cramer's rule on [x y 1] * [p0 p1 p2]^T = v.
    const double p0 = (v0 * (y1 - y2) - y0 * (v1 - v2) + (v1 * y2 - v2 * y1)) / det;
    const double p1 = (x0 * (v1 - v2) - v0 * (x1 - x2) + (x1 * v2 - x2 * v1)) / det;
    const double p2 = (x0 * (y1 * v2 - y2 * v1) - y0 * (x1 * v2 - x2 * v1) +
                       v0 * (x1 * y2 - x2 * y1)) /
                      det;
    a[3 * row + 0] = p0;
    a[3 * row + 1] = p1;
    a[3 * row + 2] = p2;
  }
  return true;
}

// Least squares affine fit over the given pairs; false if singular.
bool FitAffine(std::span<const ImagePoint> q, std::span<const ImagePoint> r,
               const std::vector<uint32_t>& use, std::array<double, 6>& a) {
  // Normal equations: (X^T X) p = X^T v with X rows [x y 1], centred for conditioning.
  double mx = 0, my = 0;
  for (uint32_t i : use) {
    mx += r[i].x;
    my += r[i].y;
  }
  mx /= use.size();
  my /= use.size();
  double sxx = 0, sxy = 0, syy = 0, n = static_cast<double>(use.size());
  double bx[2] = {0, 0}, by[2] = {0, 0}, b1[2] = {0, 0};
  for (uint32_t i : use) {
    const double x = r[i].x - mx, y = r[i].y - my;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
    const double v[2] = {q[i].x, q[i].y};
    for (int k = 0; k < 2; ++k) {
      bx[k] += x * v[k];
      by[k] += y * v[k];
      b1[k] += v[k];
    }
  }
  const double det = sxx * syy - sxy * sxy;
  if (!(std::abs(det) > 1e-9 * (sxx * syy + 1))) return false;
  for (int k = 0; k < 2; ++k) {
    const double p0 = (bx[k] * syy - by[k] * sxy) / det;
    const double p1 = (by[k] * sxx - bx[k] * sxy) / det;
    const double c = b1[k] / n;  // centred intercept
    a[3 * k + 0] = p0;
    a[3 * k + 1] = p1;
    a[3 * k + 2] = c - p0 * mx - p1 * my;
  }
  return true;
}

ImagePoint Apply(const std::array<double, 6>& a, double x, double y) {
  return {static_cast<float>(a[0] * x + a[1] * y + a[2]),
          static_cast<float>(a[3] * x + a[4] * y + a[5])};
}

int CountInliers(std::span<const ImagePoint> q, std::span<const ImagePoint> r,
                 const std::array<double, 6>& a, double t2, std::vector<uint32_t>* out) {
  int count = 0;
  if (out != nullptr) out->clear();
  for (size_t i = 0; i < q.size(); ++i) {
    const ImagePoint p = Apply(a, r[i].x, r[i].y);
    const double dx = p.x - q[i].x, dy = p.y - q[i].y;
    if (dx * dx + dy * dy <= t2) {
      ++count;
      if (out != nullptr) out->push_back(static_cast<uint32_t>(i));
    }
  }
  return count;
}

// A copy is shown at some scale, possibly flipped or rotated, and mildly stretched
// (aspect, perspective); a model outside this range is a coincidence of outliers.
bool PlausibleAffine(const std::array<double, 6>& a) {
  const double m00 = a[0], m01 = a[1], m10 = a[3], m11 = a[4];
  // Singular values of the 2x2 linear part.
  const double e = (m00 + m11) / 2, f = (m00 - m11) / 2, g = (m10 + m01) / 2,
               h = (m10 - m01) / 2;
  const double qq = std::sqrt(e * e + h * h), rr = std::sqrt(f * f + g * g);
  const double s1 = qq + rr, s2 = std::abs(qq - rr);
  if (!(s2 > 0.04) || !(s1 < 25.0)) return false;
  return s1 / s2 <= 3.0;
}

ImagePoint Clamp(ImagePoint p, int w, int h) {
  return {std::clamp(p.x, 0.0f, static_cast<float>(w)),
          std::clamp(p.y, 0.0f, static_cast<float>(h))};
}

ImageQuad Rect(int w, int h) {
  const float fw = static_cast<float>(w), fh = static_cast<float>(h);
  return {ImagePoint{0, 0}, ImagePoint{fw, 0}, ImagePoint{fw, fh}, ImagePoint{0, fh}};
}

}  // namespace

Status ValidateImageFingerprint(const ImageFingerprint& fp) {
  if (fp.width < 1 || fp.width > 65535 || fp.height < 1 || fp.height > 65535) {
    return Status::InvalidArgument("image fingerprint: size " + std::to_string(fp.width) + "x" +
                                   std::to_string(fp.height) + " outside 1..65535");
  }
  if (fp.pdq_quality < 0 || fp.pdq_quality > 100) {
    return Status::InvalidArgument("image fingerprint: PDQ quality outside 0..100");
  }
  if (fp.keypoints.size() != fp.descriptors.size()) {
    return Status::InvalidArgument("image fingerprint: " + std::to_string(fp.keypoints.size()) +
                                   " keypoints but " + std::to_string(fp.descriptors.size()) +
                                   " descriptors");
  }
  if (fp.descriptors.size() > kMaxImageDescriptors) {
    return Status::InvalidArgument("image fingerprint: more than " +
                                   std::to_string(kMaxImageDescriptors) + " descriptors");
  }
  for (const ImagePoint& p : fp.keypoints) {
    if (!(p.x >= 0 && p.x <= fp.width && p.y >= 0 && p.y <= fp.height)) {
      return Status::InvalidArgument("image fingerprint: keypoint outside the image");
    }
  }
  return Status::Ok();
}

std::vector<uint8_t> EncodeImageFingerprint(const ImageFingerprint& fp) {
  std::vector<uint8_t> out;
  out.resize(4);
  std::memcpy(out.data(), kMagic, 4);
  out.reserve(kHeaderBytes + 8 + 2 + fp.descriptors.size() * 36);
  out.push_back(kVersion);
  out.push_back(fp.iscc_image.has_value() ? 1 : 0);
  PutU16(out, static_cast<uint16_t>(fp.width));
  PutU16(out, static_cast<uint16_t>(fp.height));
  out.push_back(static_cast<uint8_t>(fp.pdq_quality));
  for (const Hash256& h : fp.pdq) {
    for (uint64_t w : h.words) {
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
    }
  }
  if (fp.iscc_image.has_value()) PutU64(out, *fp.iscc_image);
  PutU16(out, static_cast<uint16_t>(fp.keypoints.size()));
  for (const ImagePoint& p : fp.keypoints) {
    PutU16(out, ToFixed(p.x));
    PutU16(out, ToFixed(p.y));
  }
  for (const Code256& d : fp.descriptors) {
    for (uint64_t w : d) PutU64(out, w);
  }
  return out;
}

Result<ImageFingerprint> DecodeImageFingerprint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes + 2 || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Status::InvalidArgument("image fingerprint: not a CQIF record (bad magic or size)");
  }
  const uint8_t* p = bytes.data();
  if (p[4] != kVersion) {
    return Status::InvalidArgument("image fingerprint: unknown CQIF version " +
                                   std::to_string(p[4]));
  }
  const uint8_t flags = p[5];
  if ((flags & ~1u) != 0) return Status::InvalidArgument("image fingerprint: unknown flags");
  ImageFingerprint fp;
  fp.width = GetU16(p + 6);
  fp.height = GetU16(p + 8);
  fp.pdq_quality = p[10];
  size_t pos = 11;
  for (Hash256& h : fp.pdq) {
    for (uint64_t& w : h.words) {
      w = 0;
      for (int i = 0; i < 8; ++i) w = (w << 8) | p[pos++];
    }
  }
  const size_t iscc_bytes = (flags & 1u) ? 8 : 0;
  if (bytes.size() < pos + iscc_bytes + 2) {
    return Status::InvalidArgument("image fingerprint: truncated CQIF record");
  }
  if (iscc_bytes != 0) {
    fp.iscc_image = GetU64(p + pos);
    pos += 8;
  }
  const size_t n = GetU16(p + pos);
  pos += 2;
  if (bytes.size() != pos + n * 36) {
    return Status::InvalidArgument("image fingerprint: CQIF record holds " +
                                   std::to_string(bytes.size() - pos) + " bytes for " +
                                   std::to_string(n) + " keypoints (expected " +
                                   std::to_string(n * 36) + ")");
  }
  fp.keypoints.resize(n);
  fp.descriptors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    fp.keypoints[i] = {GetU16(p + pos) / 16.0f, GetU16(p + pos + 2) / 16.0f};
    pos += 4;
  }
  for (size_t i = 0; i < n; ++i) {
    for (uint64_t& w : fp.descriptors[i]) {
      w = GetU64(p + pos);
      pos += 8;
    }
  }
  if (Status s = ValidateImageFingerprint(fp); !s.ok()) return s;
  return fp;
}

std::string_view ImageEvidenceName(ImageEvidence e) {
  switch (e) {
    case ImageEvidence::kPdq:
      return "pdq";
    case ImageEvidence::kIscc:
      return "iscc";
    case ImageEvidence::kLocal:
      return "local";
  }
  return "?";
}

AffineModel EstimateAffineRansac(std::span<const ImagePoint> query,
                                 std::span<const ImagePoint> ref, double inlier_threshold,
                                 int iterations) {
  CHUQU_CHECK(query.size() == ref.size());
  AffineModel best;
  const size_t n = query.size();
  if (n < 3) return best;
  const double t2 = inlier_threshold * inlier_threshold;
  uint64_t state = 0x9e3779b97f4a7c15ull ^ n;  // fixed seed: same input, same answer
  auto next = [&state](size_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((state >> 33) % bound);
  };
  int budget = iterations;
  for (int it = 0; it < budget; ++it) {
    const size_t i0 = next(n), i1 = next(n), i2 = next(n);
    if (i0 == i1 || i1 == i2 || i0 == i2) continue;
    const ImagePoint r3[3] = {ref[i0], ref[i1], ref[i2]};
    const ImagePoint q3[3] = {query[i0], query[i1], query[i2]};
    std::array<double, 6> a;
    if (!SolveAffine3(r3, q3, a) || !PlausibleAffine(a)) continue;
    const int count = CountInliers(query, ref, a, t2, nullptr);
    if (count > best.inliers) {
      best.inliers = count;
      best.a = a;
      // Adaptive stop (Fischler & Bolles): enough samples for 99% confidence.
      const double w = static_cast<double>(count) / n;
      const double p_good = w * w * w;
      if (p_good > 1e-6) {
        const double needed = std::log(0.01) / std::log1p(-std::min(p_good, 0.999999));
        budget = std::min(iterations, static_cast<int>(std::ceil(needed)) + it + 1);
      }
    }
  }
  if (best.inliers < 3) return AffineModel{};
  // Refine on the inliers (least squares), twice; keep the refit only if it is no worse.
  std::vector<uint32_t> inl;
  for (int round = 0; round < 2; ++round) {
    CountInliers(query, ref, best.a, t2, &inl);
    std::array<double, 6> refit;
    if (!FitAffine(query, ref, inl, refit) || !PlausibleAffine(refit)) break;
    const int count = CountInliers(query, ref, refit, t2, nullptr);
    if (count < best.inliers) break;
    best.a = refit;
    best.inliers = count;
  }
  return best;
}

double ImageMatcher::PdqScore(int distance) {
  // A PDQ match (quality >= 50 on both sides) within pdq_radius 64 was a true copy for every
  // corpus query up to d ~ 62 (pixelate, combo and colour edits land at 30-60), while local
  // evidence has false positives between references sharing content: 1 - d/200 puts d <= 62
  // above the operating point (was 1 - d/100; corpus recall 0.858 -> 0.876, pixelate 0.77 ->
  // 0.92, docs/benchmarks.md "Image copy detection").
  return std::clamp(1.0 - distance / 200.0, 0.0, 1.0);
}
double ImageMatcher::IsccScore(int distance) {
  return std::clamp(1.0 - distance / 16.0, 0.0, 1.0);
}
double ImageMatcher::LocalScore(int inliers, double coverage) {
  if (inliers <= 0) return 0.0;
  return static_cast<double>(inliers) / (inliers + 8.0) * std::min(1.0, coverage / 0.1);
}

ImageMatcher::ImageMatcher(ImageMatcherOptions options) : options_(options) {
  if (options_.descriptor_search == ImageMatcherOptions::DescriptorSearch::kInvertedFile) {
    ivf_ = std::make_unique<IvfHammingIndex>(options_.ivf);
  }
}

ImageMatcher::~ImageMatcher() = default;

Status ImageMatcher::Add(uint64_t id, const ImageFingerprint& fp) {
  if (slot_of_.contains(id)) {
    return Status::AlreadyExists("image " + std::to_string(id) + " is already indexed");
  }
  if (Status s = ValidateImageFingerprint(fp); !s.ok()) return s;
  const uint32_t slot = static_cast<uint32_t>(refs_.size());
  CHUQU_CHECK(slot < (uint32_t{1} << 31));
  // Global hashes of flat images (quality < 50) match every other flat image: not indexed.
  if (fp.pdq_quality >= kPdqMinUsefulQuality) {
    CHUQU_RETURN_IF_ERROR(pdq_index_.Add(slot, PdqCode(fp.pdq[0])));
    if (fp.iscc_image.has_value()) {
      CHUQU_RETURN_IF_ERROR(iscc_index_.Add(slot, Code64{*fp.iscc_image}));
    }
  }
  for (size_t k = 0; k < fp.descriptors.size(); ++k) {
    const uint64_t did = (uint64_t{slot} << kKeypointBits) | k;
    CHUQU_RETURN_IF_ERROR(ivf_ != nullptr ? ivf_->Add(did, fp.descriptors[k])
                                          : descriptors_.Add(did, fp.descriptors[k]));
  }
  // The switch to the inverted file happens once, at a descriptor count, and the inverted
  // file retrains itself at fixed multiples of its trained size on its codes in id (= slot,
  // i.e. registration) order: so the same registrations in the same order — a restart
  // re-indexing the store — give the same vocabulary and the same answers, and training,
  // O(n) each time at sizes growing geometrically, costs O(1) per descriptor amortised.
  if (ivf_ == nullptr &&
      options_.descriptor_search == ImageMatcherOptions::DescriptorSearch::kAuto &&
      descriptors_.size() >= options_.ivf_min_descriptors) {
    std::vector<uint64_t> ids(descriptors_.size());
    std::vector<Code256> codes(descriptors_.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = descriptors_.id_at(i);
      codes[i] = descriptors_.code_at(i);
    }
    auto ivf = std::make_unique<IvfHammingIndex>(options_.ivf);
    CHUQU_RETURN_IF_ERROR(ivf->Build(ids, codes));
    descriptors_ = FlatHammingIndex<4>();  // frees the flat copy
    ivf_ = std::move(ivf);
  }
  refs_.push_back(Reference{id, fp.width, fp.height, true, fp.keypoints});
  pdq_quality_[slot] = fp.pdq_quality;
  slot_of_[id] = slot;
  return Status::Ok();
}

Status ImageMatcher::Remove(uint64_t id) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) {
    return Status::NotFound("image " + std::to_string(id) + " is not indexed");
  }
  const uint32_t slot = it->second;
  Reference& ref = refs_[slot];
  if (pdq_quality_[slot] >= kPdqMinUsefulQuality) {
    CHUQU_RETURN_IF_ERROR(pdq_index_.Remove(slot));
    if (Status s = iscc_index_.Remove(slot); !s.ok() && s.code() != StatusCode::kNotFound) {
      return s;
    }
  }
  for (size_t k = 0; k < ref.keypoints.size(); ++k) {
    const uint64_t did = (uint64_t{slot} << kKeypointBits) | k;
    CHUQU_RETURN_IF_ERROR(ivf_ != nullptr ? ivf_->Remove(did) : descriptors_.Remove(did));
  }
  ref.live = false;
  ref.keypoints.clear();
  ref.keypoints.shrink_to_fit();
  pdq_quality_.erase(slot);
  slot_of_.erase(it);
  return Status::Ok();
}

std::vector<std::vector<Neighbor>> ImageMatcher::DescriptorHits(
    std::span<const Code256> queries) const {
  return ivf_ != nullptr ? ivf_->RangeSearchBatch(queries, options_.descriptor_radius,
                                                  options_.max_hits_per_descriptor)
                         : descriptors_.RangeSearchBatch(queries, options_.descriptor_radius,
                                                         options_.max_hits_per_descriptor);
}

Result<std::vector<ImageMatch>> ImageMatcher::Search(const ImageFingerprint& query,
                                                     ImageSearchStats* stats) const {
  if (Status s = ValidateImageFingerprint(query); !s.ok()) return s;
  std::unordered_map<uint32_t, ImageMatch> found;  // slot -> evidence so far
  auto entry = [&](uint32_t slot) -> ImageMatch& {
    auto [it, inserted] = found.try_emplace(slot);
    if (inserted) it->second.id = refs_[slot].id;
    return it->second;
  };

  // Global tier.
  if (query.pdq_quality >= kPdqMinUsefulQuality) {
    for (int d = 0; d < kImageDihedrals; ++d) {
      for (const Neighbor& nb : pdq_index_.RangeSearch(PdqCode(query.pdq[d]), options_.pdq_radius,
                                                       options_.max_global_hits)) {
        ImageMatch& m = entry(static_cast<uint32_t>(nb.id));
        if (m.pdq_distance < 0 || static_cast<int>(nb.distance) < m.pdq_distance) {
          m.pdq_distance = static_cast<int>(nb.distance);
          m.pdq_dihedral = d;
        }
      }
    }
    if (query.iscc_image.has_value()) {
      for (const Neighbor& nb : iscc_index_.RangeSearch(
               Code64{*query.iscc_image}, options_.iscc_radius, options_.max_global_hits)) {
        entry(static_cast<uint32_t>(nb.id)).iscc_distance = static_cast<int>(nb.distance);
      }
    }
  }

  // Local tier: vote, then verify the best-voted references.
  if (!query.descriptors.empty() && (ivf_ != nullptr ? ivf_->size() : descriptors_.size()) > 0) {
    std::vector<std::vector<Neighbor>> hits;
    if (options_.runner == nullptr || query.descriptors.size() < 2) {
      hits = DescriptorHits(query.descriptors);
    } else {
      // Queries are independent: each half scans every stored code.
      const std::span<const Code256> all(query.descriptors);
      const size_t half = all.size() / 2;
      std::vector<std::vector<Neighbor>> second;
      const std::function<void()> tasks[] = {
          [&] { hits = DescriptorHits(all.first(half)); },
          [&] { second = DescriptorHits(all.subspan(half)); }};
      options_.runner->RunAll(tasks);
      hits.insert(hits.end(), std::make_move_iterator(second.begin()),
                  std::make_move_iterator(second.end()));
    }
    // slot -> best query descriptor per reference keypoint.
    std::unordered_map<uint32_t, std::unordered_map<uint32_t, Correspondence>> pairs;
    std::unordered_map<uint32_t, int> votes;
    std::vector<uint32_t> voted_by_this;
    for (size_t i = 0; i < hits.size(); ++i) {
      voted_by_this.clear();
      for (const Neighbor& nb : hits[i]) {
        const uint32_t slot = static_cast<uint32_t>(nb.id >> kKeypointBits);
        const uint32_t kp = static_cast<uint32_t>(nb.id & ((1u << kKeypointBits) - 1));
        if (stats != nullptr) ++stats->descriptor_hits;
        if (std::find(voted_by_this.begin(), voted_by_this.end(), slot) == voted_by_this.end()) {
          voted_by_this.push_back(slot);
          ++votes[slot];
        }
        auto& per_ref = pairs[slot];
        auto [it, inserted] = per_ref.try_emplace(kp);
        if (inserted || nb.distance < it->second.distance) {
          it->second = Correspondence{query.keypoints[i], refs_[slot].keypoints[kp], nb.distance,
                                      kp, static_cast<uint32_t>(i)};
        }
      }
    }
    std::vector<std::pair<int, uint32_t>> ranked;  // (votes, slot)
    for (const auto& [slot, v] : votes) {
      if (v >= options_.min_votes) ranked.emplace_back(v, slot);
    }
    std::sort(ranked.begin(), ranked.end(), [this](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : refs_[a.second].id < refs_[b.second].id;
    });
    if (ranked.size() > options_.max_verify) ranked.resize(options_.max_verify);
    if (stats != nullptr) {
      stats->voted_images = votes.size();
      stats->verified_images = ranked.size();
    }
    const double diag = std::hypot(query.width, query.height);
    const double threshold = std::max(3.0, 0.015 * diag);
    std::vector<ImagePoint> qpts, rpts;
    for (const auto& [v, slot] : ranked) {
      qpts.clear();
      rpts.clear();
      // One-to-one: of the pairs sharing a query keypoint keep the closest, so a cluster of
      // reference keypoints cannot all land on one query keypoint under a shrinking model.
      std::unordered_map<uint32_t, const Correspondence*> by_query;
      for (const auto& [kp, c] : pairs[slot]) {
        auto [it, inserted] = by_query.try_emplace(c.query_index, &c);
        if (!inserted && (c.distance < it->second->distance ||
                          (c.distance == it->second->distance &&
                           c.ref_keypoint < it->second->ref_keypoint))) {
          it->second = &c;
        }
      }
      std::vector<const Correspondence*> kept;
      kept.reserve(by_query.size());
      for (const auto& [qi, c] : by_query) kept.push_back(c);
      // Deterministic order for RANSAC (hash-map order is not).
      std::sort(kept.begin(), kept.end(), [](const Correspondence* a, const Correspondence* b) {
        return a->query_index < b->query_index;
      });
      for (const Correspondence* c : kept) {
        qpts.push_back(c->query);
        rpts.push_back(c->ref);
      }
      const AffineModel model = EstimateAffineRansac(qpts, rpts, threshold);
      if (model.inliers < options_.min_inliers) continue;
      ImageMatch& m = entry(slot);
      m.votes = v;
      m.inliers = model.inliers;
      {
        std::vector<uint32_t> inl;
        CountInliers(qpts, rpts, model.a, threshold * threshold, &inl);
        double distance_sum = 0;
        for (uint32_t i : inl) distance_sum += kept[i]->distance;
        m.descriptor_distance = inl.empty() ? 0.0 : distance_sum / inl.size();
        float qx0 = 1e9f, qy0 = 1e9f, qx1 = -1e9f, qy1 = -1e9f;
        float rx0 = 1e9f, ry0 = 1e9f, rx1 = -1e9f, ry1 = -1e9f;
        for (uint32_t i : inl) {
          qx0 = std::min(qx0, qpts[i].x), qx1 = std::max(qx1, qpts[i].x);
          qy0 = std::min(qy0, qpts[i].y), qy1 = std::max(qy1, qpts[i].y);
          rx0 = std::min(rx0, rpts[i].x), rx1 = std::max(rx1, rpts[i].x);
          ry0 = std::min(ry0, rpts[i].y), ry1 = std::max(ry1, rpts[i].y);
        }
        const Reference& r = refs_[slot];
        m.coverage = inl.empty() ? 0.0
                                 : std::max((qx1 - qx0) * (qy1 - qy0) /
                                                (static_cast<double>(query.width) * query.height),
                                            (rx1 - rx0) * (ry1 - ry0) /
                                                (static_cast<double>(r.width) * r.height));
      }
      // Region: the part of the reference the query shows, and where it is in the query.
      const Reference& ref = refs_[slot];
      const auto& a = model.a;
      const double det = a[0] * a[4] - a[1] * a[3];
      const ImageQuad qrect = Rect(query.width, query.height);
      for (int c = 0; c < 4; ++c) {
        const double x = qrect[c].x - a[2], y = qrect[c].y - a[5];
        const ImagePoint r{static_cast<float>((a[4] * x - a[1] * y) / det),
                           static_cast<float>((-a[3] * x + a[0] * y) / det)};
        m.ref_region[c] = Clamp(r, ref.width, ref.height);
      }
      for (int c = 0; c < 4; ++c) {
        m.query_region[c] =
            Clamp(Apply(a, m.ref_region[c].x, m.ref_region[c].y), query.width, query.height);
      }
    }
  }

  std::vector<ImageMatch> out;
  for (auto& [slot, m] : found) {
    double score = 0;
    if (m.pdq_distance >= 0) {
      score = PdqScore(m.pdq_distance);
      m.method = ImageEvidence::kPdq;
    }
    if (m.iscc_distance >= 0 && IsccScore(m.iscc_distance) > score) {
      score = IsccScore(m.iscc_distance);
      m.method = ImageEvidence::kIscc;
    }
    if (m.inliers > 0 && LocalScore(m.inliers, m.coverage) > score) {
      score = LocalScore(m.inliers, m.coverage);
      m.method = ImageEvidence::kLocal;
    }
    if (m.inliers == 0) {  // global evidence: whole images
      m.query_region = Rect(query.width, query.height);
      m.ref_region = Rect(refs_[slot].width, refs_[slot].height);
    }
    m.score = score;
    m.ref_width = refs_[slot].width;
    m.ref_height = refs_[slot].height;
    if (score >= options_.min_score) out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const ImageMatch& a, const ImageMatch& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (out.size() > options_.max_results) out.resize(options_.max_results);
  return out;
}

}  // namespace chuqu::index
