#include "index/image_matcher.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace chuqu::index {
namespace {

Hash256 RandomHash(std::mt19937_64& rng) {
  Hash256 h;
  for (uint64_t& w : h.words) w = rng();
  return h;
}

Code256 Flip(Code256 c, int bits, std::mt19937_64& rng) {
  for (int i = 0; i < bits; ++i) {
    const int b = static_cast<int>(rng() % 256);
    c[b / 64] ^= uint64_t{1} << (b % 64);
  }
  return c;
}

// A synthetic reference: random descriptors at random keypoints.
ImageFingerprint RandomFingerprint(std::mt19937_64& rng, int w, int h, int n) {
  ImageFingerprint fp;
  fp.width = w;
  fp.height = h;
  for (Hash256& p : fp.pdq) p = RandomHash(rng);
  fp.pdq_quality = 90;
  fp.iscc_image = rng();
  std::uniform_real_distribution<float> ux(0, w), uy(0, h);
  for (int i = 0; i < n; ++i) {
    fp.keypoints.push_back({ux(rng), uy(rng)});
    fp.descriptors.push_back({rng(), rng(), rng(), rng()});
  }
  return fp;
}

// The query a crop [x0, x0+cw) x [y0, y0+ch) of `ref` scaled by `s` would give: the
// reference keypoints inside the crop, moved, with a few descriptor bits changed, plus
// unrelated keypoints.
ImageFingerprint CropQuery(const ImageFingerprint& ref, float x0, float y0, float cw, float ch,
                           float s, std::mt19937_64& rng) {
  ImageFingerprint q;
  q.width = static_cast<int>(cw * s);
  q.height = static_cast<int>(ch * s);
  for (Hash256& p : q.pdq) p = RandomHash(rng);  // a crop's PDQ is unrelated
  q.pdq_quality = 80;
  for (size_t i = 0; i < ref.keypoints.size(); ++i) {
    const ImagePoint p = ref.keypoints[i];
    if (p.x < x0 || p.y < y0 || p.x >= x0 + cw || p.y >= y0 + ch) continue;
    q.keypoints.push_back({(p.x - x0) * s, (p.y - y0) * s});
    q.descriptors.push_back(Flip(ref.descriptors[i], 20, rng));
  }
  std::uniform_real_distribution<float> ux(0, static_cast<float>(q.width)),
      uy(0, static_cast<float>(q.height));
  for (int i = 0; i < 50; ++i) {
    q.keypoints.push_back({ux(rng), uy(rng)});
    q.descriptors.push_back({rng(), rng(), rng(), rng()});
  }
  return q;
}

TEST(ImageFingerprintTest, EncodeDecodeRoundTrip) {
  std::mt19937_64 rng(1);
  ImageFingerprint fp = RandomFingerprint(rng, 1024, 768, 300);
  for (ImagePoint& p : fp.keypoints) {  // 1/16 pixel grid survives exactly
    p.x = std::round(p.x * 16) / 16;
    p.y = std::round(p.y * 16) / 16;
  }
  const std::vector<uint8_t> bytes = EncodeImageFingerprint(fp);
  EXPECT_EQ(bytes.size(), 11u + 256 + 8 + 2 + 300 * 36);
  auto back = DecodeImageFingerprint(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, fp);

  fp.iscc_image.reset();
  fp.keypoints.clear();
  fp.descriptors.clear();
  auto empty = DecodeImageFingerprint(EncodeImageFingerprint(fp));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, fp);
}

TEST(ImageFingerprintTest, CorruptDataIsAClearError) {
  std::mt19937_64 rng(2);
  const std::vector<uint8_t> good = EncodeImageFingerprint(RandomFingerprint(rng, 640, 480, 10));
  auto expect_bad = [](std::vector<uint8_t> b, const char* what) {
    auto r = DecodeImageFingerprint(b);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_NE(r.status().message().find("image fingerprint"), std::string::npos) << what;
  };
  expect_bad({}, "empty");
  for (size_t cut : {size_t{3}, size_t{100}, good.size() - 1}) {
    expect_bad(std::vector<uint8_t>(good.begin(), good.begin() + cut), "truncated");
  }
  std::vector<uint8_t> b = good;
  b[0] = 'X';
  expect_bad(b, "magic");
  b = good;
  b[4] = 2;
  expect_bad(b, "version");
  b = good;
  b[5] = 0x80;
  expect_bad(b, "flags");
  b = good;
  b.push_back(0);
  expect_bad(b, "trailing byte");
  b = good;
  b[6] = b[7] = 0;  // width 0
  expect_bad(b, "zero width");
  b = good;
  const size_t kp = 11 + 256 + 8 + 2;  // first keypoint x
  b[kp] = b[kp + 1] = 0xff;            // x = 4096 px > width 640
  expect_bad(b, "keypoint outside");
  b = good;
  b[10] = 101;
  expect_bad(b, "quality");
  // More descriptors than kMaxImageDescriptors, with every byte present.
  const std::vector<uint8_t> many = EncodeImageFingerprint(
      RandomFingerprint(rng, 640, 480, static_cast<int>(kMaxImageDescriptors) + 1));
  expect_bad(many, "too many descriptors");
  // No descriptors at all is a valid record (a flat image) and round-trips.
  const ImageFingerprint none = RandomFingerprint(rng, 64, 48, 0);
  auto r = DecodeImageFingerprint(EncodeImageFingerprint(none));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, none);
}

TEST(ImageFingerprintTest, ValidateRefusesMismatchedCounts) {
  ImageFingerprint fp;
  fp.width = 10;
  fp.height = 10;
  fp.keypoints.push_back({1, 1});
  EXPECT_FALSE(ValidateImageFingerprint(fp).ok());
  fp.descriptors.push_back({});
  EXPECT_TRUE(ValidateImageFingerprint(fp).ok());
}

TEST(EstimateAffineRansacTest, RecoversModelAmongOutliers) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(0, 1000);
  // q = 0.5 * R(30 deg) r + (100, 50), mirrored in x.
  const double c = 0.5 * std::cos(0.5236), s = 0.5 * std::sin(0.5236);
  std::vector<ImagePoint> q, r;
  for (int i = 0; i < 60; ++i) {
    const float x = u(rng), y = u(rng);
    r.push_back({x, y});
    q.push_back({static_cast<float>(-(c * x - s * y) + 600), static_cast<float>(s * x + c * y + 50)});
  }
  for (int i = 0; i < 140; ++i) {
    r.push_back({u(rng), u(rng)});
    q.push_back({u(rng), u(rng)});
  }
  const AffineModel m = EstimateAffineRansac(q, r, 4.0);
  EXPECT_GE(m.inliers, 60);
  EXPECT_LE(m.inliers, 66);  // a few outliers may fall within 4 px by chance
  EXPECT_NEAR(m.a[0], -c, 0.01);
  EXPECT_NEAR(m.a[2], 600, 2.0);
  EXPECT_NEAR(m.a[4], c, 0.01);

  // Pure noise gives no model with many inliers; fewer than 3 points give none.
  const AffineModel noise = EstimateAffineRansac(std::span(q).subspan(60), std::span(r).subspan(60), 4.0);
  EXPECT_LT(noise.inliers, 8);
  EXPECT_EQ(EstimateAffineRansac(std::span(q).first(2), std::span(r).first(2), 4.0).inliers, 0);
}

TEST(ImageMatcherTest, EmptyIndexAnswersNoMatches) {
  std::mt19937_64 rng(4);
  ImageMatcher matcher;
  auto r = matcher.Search(RandomFingerprint(rng, 100, 100, 50));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ImageMatcherTest, PlantedCropIsFoundWithItsRegion) {
  std::mt19937_64 rng(5);
  ImageMatcher matcher;
  std::vector<ImageFingerprint> refs;
  for (int i = 0; i < 50; ++i) {
    refs.push_back(RandomFingerprint(rng, 1000, 800, 300));
    ASSERT_TRUE(matcher.Add(1000 + i, refs.back()).ok());
  }
  const ImageFingerprint q = CropQuery(refs[7], 200, 100, 500, 400, 1.5f, rng);
  ImageSearchStats stats;
  auto r = matcher.Search(q, &stats);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);  // distractors are not reported
  const ImageMatch& m = (*r)[0];
  EXPECT_EQ(m.id, 1007u);
  EXPECT_EQ(m.method, ImageEvidence::kLocal);
  EXPECT_GE(m.inliers, 50);
  EXPECT_GT(m.score, 0.8);
  // The reference region is the crop window; the query region is the whole query.
  EXPECT_NEAR(m.ref_region[0].x, 200, 3);
  EXPECT_NEAR(m.ref_region[0].y, 100, 3);
  EXPECT_NEAR(m.ref_region[2].x, 700, 3);
  EXPECT_NEAR(m.ref_region[2].y, 500, 3);
  EXPECT_NEAR(m.query_region[2].x, q.width, 3);
  EXPECT_NEAR(m.query_region[2].y, q.height, 3);
  EXPECT_GT(stats.descriptor_hits, 0u);

  // After removal it is gone; removing twice is NotFound; re-adding is allowed.
  ASSERT_TRUE(matcher.Remove(1007).ok());
  EXPECT_EQ(matcher.Remove(1007).code(), StatusCode::kNotFound);
  auto gone = matcher.Search(q);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  EXPECT_EQ(matcher.Add(1008, refs[8]).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(matcher.Add(1007, refs[7]).ok());
  EXPECT_EQ(matcher.Search(q)->size(), 1u);
}

// A runner splits the descriptor scan: the matches are the same as on one thread.
TEST(ImageMatcherTest, RunnerGivesTheSameMatches) {
  std::mt19937_64 rng(9);
  ThreadPool pool(1);
  ImageMatcher alone;
  ImageMatcher pooled(ImageMatcherOptions{.runner = &pool});
  std::vector<ImageFingerprint> refs;
  for (int i = 0; i < 30; ++i) {
    refs.push_back(RandomFingerprint(rng, 900, 700, 300));
    ASSERT_TRUE(alone.Add(i, refs.back()).ok());
    ASSERT_TRUE(pooled.Add(i, refs.back()).ok());
  }
  for (int t = 0; t < 4; ++t) {
    const ImageFingerprint q = CropQuery(refs[3 * t], 100, 80, 600, 500, 0.8f + 0.2f * t, rng);
    ImageSearchStats s1, s2;
    auto a = alone.Search(q, &s1);
    auto b = pooled.Search(q, &s2);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_FALSE(a->empty());
    EXPECT_EQ((*a)[0].id, static_cast<uint64_t>(3 * t));
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].id, (*b)[i].id);
      EXPECT_EQ((*a)[i].score, (*b)[i].score);
      EXPECT_EQ((*a)[i].inliers, (*b)[i].inliers);
      EXPECT_EQ((*a)[i].votes, (*b)[i].votes);
      EXPECT_EQ((*a)[i].ref_region, (*b)[i].ref_region);
    }
    EXPECT_EQ(s1.descriptor_hits, s2.descriptor_hits);
  }
}

// The inverted file (forced, or chosen above ivf_min_descriptors) still finds a crop, the
// same way twice; below the threshold kAuto answers exactly as the flat scan.
TEST(ImageMatcherTest, InvertedFileFindsTheCrop) {
  using Search = ImageMatcherOptions::DescriptorSearch;
  std::mt19937_64 rng(11);
  ImageMatcher flat(ImageMatcherOptions{.descriptor_search = Search::kFlat});
  ImageMatcher ivf(ImageMatcherOptions{.descriptor_search = Search::kInvertedFile});
  ImageMatcher ivf_again(ImageMatcherOptions{.descriptor_search = Search::kInvertedFile});
  ImageMatcher auto_low(ImageMatcherOptions{.ivf_min_descriptors = 6000});  // switches
  ImageMatcher auto_high;  // default threshold: stays flat
  std::vector<ImageFingerprint> refs;
  for (int i = 0; i < 60; ++i) {
    refs.push_back(RandomFingerprint(rng, 1000, 800, 300));
    for (ImageMatcher* m : {&flat, &ivf, &ivf_again, &auto_low, &auto_high}) {
      ASSERT_TRUE(m->Add(500 + i, refs.back()).ok());
    }
  }
  for (int t = 0; t < 3; ++t) {
    const ImageFingerprint q = CropQuery(refs[5 + 20 * t], 150, 120, 600, 450, 1.2f, rng);
    ImageSearchStats s_flat, s_ivf, s_ivf_again, s_low, s_high;
    auto a = flat.Search(q, &s_flat);
    auto b = ivf.Search(q, &s_ivf);
    auto c = ivf_again.Search(q, &s_ivf_again);
    auto d = auto_low.Search(q, &s_low);
    auto e = auto_high.Search(q, &s_high);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok() && e.ok());
    for (const auto* r : {&*a, &*b, &*d}) {
      ASSERT_EQ(r->size(), 1u);
      EXPECT_EQ((*r)[0].id, static_cast<uint64_t>(505 + 20 * t));
      EXPECT_EQ((*r)[0].method, ImageEvidence::kLocal);
      EXPECT_GE((*r)[0].inliers, 30);
      EXPECT_NEAR((*r)[0].ref_region[0].x, 150, 5);
    }
    // Approximate: never more hits than the flat scan.
    EXPECT_LE(s_ivf.descriptor_hits, s_flat.descriptor_hits);
    EXPECT_GT(s_ivf.descriptor_hits, 0u);
    // Deterministic: the same Adds give the same answers.
    ASSERT_EQ(b->size(), c->size());
    EXPECT_EQ((*b)[0].inliers, (*c)[0].inliers);
    EXPECT_EQ((*b)[0].score, (*c)[0].score);
    EXPECT_EQ(s_ivf.descriptor_hits, s_ivf_again.descriptor_hits);
    // auto_low switched to the inverted file (trained at other sizes than ivf's).
    EXPECT_LE(s_low.descriptor_hits, s_flat.descriptor_hits);
    EXPECT_NE(s_low.descriptor_hits, s_flat.descriptor_hits);
    // Below the threshold: the flat scan's answer exactly.
    ASSERT_EQ(e->size(), a->size());
    EXPECT_EQ((*e)[0].score, (*a)[0].score);
    EXPECT_EQ((*e)[0].inliers, (*a)[0].inliers);
    EXPECT_EQ(s_high.descriptor_hits, s_flat.descriptor_hits);
  }
  // Removal works on the inverted file too.
  ASSERT_TRUE(ivf.Remove(505).ok());
  EXPECT_EQ(ivf.Remove(505).code(), StatusCode::kNotFound);
  auto gone = ivf.Search(CropQuery(refs[5], 150, 120, 600, 450, 1.2f, rng));
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
}

TEST(ImageMatcherTest, DihedralPdqMatchIsGlobal) {
  std::mt19937_64 rng(6);
  ImageMatcher matcher;
  const ImageFingerprint ref = RandomFingerprint(rng, 640, 480, 0);
  ASSERT_TRUE(matcher.Add(1, ref).ok());
  ASSERT_TRUE(matcher.Add(2, RandomFingerprint(rng, 640, 480, 0)).ok());
  ImageFingerprint q = RandomFingerprint(rng, 480, 640, 0);
  q.iscc_image.reset();
  q.pdq[3] = ref.pdq[0];  // the query is the reference rotated: its rot270 variant matches
  q.pdq[3].words[1] ^= 0xff;  // 8 bits off
  auto r = matcher.Search(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, 1u);
  EXPECT_EQ((*r)[0].method, ImageEvidence::kPdq);
  EXPECT_EQ((*r)[0].pdq_distance, 8);
  EXPECT_EQ((*r)[0].pdq_dihedral, 3);
  EXPECT_EQ((*r)[0].ref_region[2].x, 640);
}

TEST(ImageMatcherTest, FlatImagesDoNotFloodAndListIsBounded) {
  ImageMatcher matcher(ImageMatcherOptions{.max_results = 5});
  ImageFingerprint blank;
  blank.width = 100;
  blank.height = 100;
  blank.pdq_quality = 0;  // PDQ of a uniform image
  blank.iscc_image = 0;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(matcher.Add(i, blank).ok());
  auto r = matcher.Search(blank);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  // Thousands of identical informative references: the list stays bounded and ranked.
  std::mt19937_64 rng(7);
  ImageFingerprint same = RandomFingerprint(rng, 200, 200, 0);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(matcher.Add(10'000 + i, same).ok());
  auto many = matcher.Search(same);
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 5u);
  EXPECT_EQ((*many)[0].id, 10'000u);
  EXPECT_EQ((*many)[0].score, 1.0);
}

TEST(ImageMatcherTest, InvalidInputIsRefused) {
  ImageMatcher matcher;
  ImageFingerprint bad;  // width 0
  EXPECT_EQ(matcher.Add(1, bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(matcher.Search(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(matcher.size(), 0u);
}

}  // namespace
}  // namespace chuqu::index
