// Planted copies built with libvips from the Kodak images in shared/data (read in place):
// crops, flips, rotations, overlays and picture-in-picture are found with the right region;
// distractors are not; blank images do not flood results.
#include "media/image_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#include <vips/vips.h>

namespace chuqu::media {
namespace {

using index::ImageFingerprint;
using index::ImageMatch;
using index::ImageMatcher;

std::string Kodak(int i) {
  char name[64];
  std::snprintf(name, sizeof(name), "/media/images/kodak/kodim%02d.png", i);
  return std::string(CHUQU_SHARED_DATA) + name;
}

// Owns one VipsImage reference.
class Img {
 public:
  explicit Img(VipsImage* im = nullptr) : im_(im) {}
  Img(Img&& o) noexcept : im_(o.im_) { o.im_ = nullptr; }
  Img& operator=(Img&& o) noexcept {
    std::swap(im_, o.im_);
    return *this;
  }
  ~Img() {
    if (im_ != nullptr) g_object_unref(im_);
  }
  VipsImage* get() const { return im_; }
  VipsImage** out() { return &im_; }
  int width() const { return vips_image_get_width(im_); }
  int height() const { return vips_image_get_height(im_); }

 private:
  VipsImage* im_;
};

Img Load(const std::string& path) {
  EXPECT_EQ(vips_init("chuqu-test"), 0);
  Img im(vips_image_new_from_file(path.c_str(), nullptr));
  EXPECT_NE(im.get(), nullptr) << path;
  return im;
}

// ctest runs each test in its own process, several at once: a path per process keeps one
// test from reading a JPEG another is still writing.
std::string TempJpeg(const std::string& name) {
  return ::testing::TempDir() + "/imatch_" + std::to_string(getpid()) + "_" + name + ".jpg";
}

// Writes `im` as a JPEG q90 and fingerprints the file.
ImageFingerprint Fingerprint(const Img& im, const std::string& name, bool query = true) {
  const std::string path = TempJpeg(name);
  EXPECT_EQ(vips_jpegsave(im.get(), path.c_str(), "Q", 90, nullptr), 0) << vips_error_buffer();
  auto fp = ImageFingerprintFromFile(path, query ? QueryFeatureOptions() : ImageFeatureOptions{});
  EXPECT_TRUE(fp.ok()) << fp.status().message();
  return fp.ok() ? *fp : ImageFingerprint{};
}

class ImageFeaturesTest : public ::testing::Test {
 protected:
  static constexpr int kRefs = 6;  // kodim01..06 are registered; 07..10 are distractors

  void SetUp() override {
    for (int i = 1; i <= kRefs; ++i) {
      ImageFingerprint fp = Fingerprint(Load(Kodak(i)), "ref" + std::to_string(i), false);
      ASSERT_GT(fp.descriptors.size(), 100u);
      ASSERT_TRUE(matcher_.Add(i, fp).ok());
    }
  }

  std::vector<ImageMatch> Search(const ImageFingerprint& q) {
    auto r = matcher_.Search(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<ImageMatch>{};
  }

  ImageMatcher matcher_;
};

TEST_F(ImageFeaturesTest, CropIsFoundWithItsRegion) {
  Img ref = Load(Kodak(3));  // 768 x 512
  Img crop;
  ASSERT_EQ(vips_crop(ref.get(), crop.out(), 300, 150, 320, 240, nullptr), 0);
  const auto r = Search(Fingerprint(crop, "crop"));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].id, 3u);
  EXPECT_EQ(r[0].method, index::ImageEvidence::kLocal);
  EXPECT_NEAR(r[0].ref_region[0].x, 300, 12);
  EXPECT_NEAR(r[0].ref_region[0].y, 150, 12);
  EXPECT_NEAR(r[0].ref_region[2].x, 620, 12);
  EXPECT_NEAR(r[0].ref_region[2].y, 390, 12);
}

TEST_F(ImageFeaturesTest, FlipAndRotationAreFound) {
  Img ref = Load(Kodak(5));
  Img flipped, rotated;
  ASSERT_EQ(vips_flip(ref.get(), flipped.out(), VIPS_DIRECTION_HORIZONTAL, nullptr), 0);
  ASSERT_EQ(vips_rot(ref.get(), rotated.out(), VIPS_ANGLE_D90, nullptr), 0);
  for (const auto& [im, name] : {std::pair{&flipped, "flip"}, std::pair{&rotated, "rot90"}}) {
    const auto r = Search(Fingerprint(*im, name));
    ASSERT_FALSE(r.empty()) << name;
    EXPECT_EQ(r[0].id, 5u) << name;
    EXPECT_GT(r[0].score, 0.7) << name;
  }
}

TEST_F(ImageFeaturesTest, OverlayAndPictureInPictureAreFound) {
  // A black box over the left 40% of the image.
  Img ref = Load(Kodak(2));
  Img box, box8, overlay;
  ASSERT_EQ(vips_black(box.out(), ref.width() * 2 / 5, ref.height(), "bands", 3, nullptr), 0);
  ASSERT_EQ(vips_cast_uchar(box.get(), box8.out(), nullptr), 0);
  ASSERT_EQ(vips_insert(ref.get(), box8.get(), overlay.out(), 0, 0, nullptr), 0);
  auto r = Search(Fingerprint(overlay, "overlay"));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].id, 2u);

  // Reference 1 at 75% inside an unregistered background at (150, 100).
  Img background = Load(Kodak(9));
  Img small, pip;
  Img ref4 = Load(Kodak(1));
  ASSERT_EQ(vips_resize(ref4.get(), small.out(), 0.75, nullptr), 0);
  ASSERT_EQ(vips_insert(background.get(), small.get(), pip.out(), 150, 100, nullptr), 0);
  r = Search(Fingerprint(pip, "pip"));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].id, 1u);
  EXPECT_EQ(r[0].method, index::ImageEvidence::kLocal);
  const double tol = 0.04 * std::max(pip.width(), pip.height());
  EXPECT_NEAR(r[0].query_region[0].x, 150, tol);
  EXPECT_NEAR(r[0].query_region[0].y, 100, tol);
  EXPECT_NEAR(r[0].query_region[2].x, std::min(150 + small.width(), pip.width()), tol);
  EXPECT_NEAR(r[0].query_region[2].y, std::min(100 + small.height(), pip.height()), tol);
  EXPECT_NEAR(r[0].ref_region[0].x, 0, tol);
}

TEST_F(ImageFeaturesTest, DistractorsAndBlankImagesAreNotMatched) {
  for (int i = 7; i <= 10; ++i) {
    Img im = Load(Kodak(i));
    Img flipped;
    ASSERT_EQ(vips_flip(im.get(), flipped.out(), VIPS_DIRECTION_HORIZONTAL, nullptr), 0);
    EXPECT_TRUE(Search(Fingerprint(im, "distractor" + std::to_string(i))).empty()) << i;
    EXPECT_TRUE(Search(Fingerprint(flipped, "distractor_flip" + std::to_string(i))).empty()) << i;
  }
  Img black, grey, grey8;
  ASSERT_EQ(vips_black(black.out(), 640, 480, "bands", 3, nullptr), 0);
  ASSERT_EQ(vips_linear1(black.get(), grey.out(), 1.0, 128.0, nullptr), 0);
  ASSERT_EQ(vips_cast_uchar(grey.get(), grey8.out(), nullptr), 0);
  const ImageFingerprint blank = Fingerprint(grey8, "blank");
  EXPECT_LT(blank.pdq_quality, kPdqMinUsefulQuality);
  EXPECT_TRUE(blank.descriptors.empty());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(matcher_.Add(100 + i, blank).ok());
  EXPECT_TRUE(Search(blank).empty());
}

// A large JPEG query is decoded by DCT scaling (3200 x 2400 -> 1/4 = 800 x 600, the largest
// shrink keeping the long side >= feature_long_side 768) and still found with its region;
// the same file decoded for a reference (no jpeg_shrink) is resampled to 1024.
TEST_F(ImageFeaturesTest, LargeJpegQueryIsShrunkOnLoadAndFound) {
  Img ref = Load(Kodak(4));  // 512 x 768 (portrait)
  Img big;
  ASSERT_EQ(vips_resize(ref.get(), big.out(), 3200.0 / 768, nullptr), 0);
  ASSERT_EQ(std::max(big.width(), big.height()), 3200);
  const ImageFingerprint q = Fingerprint(big, "big");
  EXPECT_EQ(std::max(q.width, q.height), 800);
  const auto r = Search(q);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].id, 4u);
  EXPECT_GT(r[0].score, 0.9);

  const std::string path = TempJpeg("big");
  ImageDecodeOptions o;
  o.jpeg_shrink_long_side = 768;
  auto shrunk = DecodeImageRgb(path, o);
  ASSERT_TRUE(shrunk.ok()) << shrunk.status().message();
  EXPECT_EQ(std::max(shrunk->width, shrunk->height), 800);
  o.max_long_side = 700;  // shrink-on-load, then resampled to the bound
  shrunk = DecodeImageRgb(path, o);
  ASSERT_TRUE(shrunk.ok()) << shrunk.status().message();
  EXPECT_EQ(std::max(shrunk->width, shrunk->height), 700);
  auto as_ref = ImageFingerprintFromFile(path);
  ASSERT_TRUE(as_ref.ok());
  EXPECT_EQ(std::max(as_ref->width, as_ref->height), 1024);
  // A PNG is never shrunk on load.
  o = {};
  o.jpeg_shrink_long_side = 100;
  auto png = DecodeImageRgb(Kodak(4), o);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->width, 512);
}

// frame_long_side: features of a large image are reported in a bounded frame (CQIF stores
// coordinates below 4096 pixels), pdq/iscc can be skipped.
TEST(ImageFeaturesFrameTest, CoordinatesAreInTheRequestedFrame) {
  auto img = DecodeImageRgb(Kodak(7));
  ASSERT_TRUE(img.ok());
  ImageFeatureOptions o;
  o.frame_long_side = 384;
  o.pdq = false;
  o.iscc = false;
  auto fp = ImageFingerprintFromRgb(*img, o);
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  EXPECT_EQ(fp->width, 384);
  EXPECT_EQ(fp->height, 256);
  EXPECT_EQ(fp->pdq_quality, 0);
  EXPECT_FALSE(fp->iscc_image.has_value());
  ASSERT_GT(fp->keypoints.size(), 100u);
  float max_x = 0;
  for (const auto& p : fp->keypoints) max_x = std::max(max_x, p.x);
  EXPECT_LE(max_x, 384.0f);
  EXPECT_GT(max_x, 300.0f);  // spread over the frame, not the corner of a larger one
  EXPECT_TRUE(index::ValidateImageFingerprint(*fp).ok());
}

// The level-by-level ORB gives what one 8-level cv::ORB gives on the same grey frame: the
// same keypoints, in the same order, with the same descriptors (images of several sizes,
// down to one whose last pyramid levels are empty), with and without a pool.
TEST(ImageFeaturesOrbTest, SameAsOpenCvOrb) {
  ThreadPool pool(1);
  Img kodak = Load(Kodak(4));  // 512 x 768
  Img big, tiny, odd;
  ASSERT_EQ(vips_resize(kodak.get(), big.out(), 2.5, nullptr), 0);
  ASSERT_EQ(vips_crop(kodak.get(), tiny.out(), 100, 200, 90, 40, nullptr), 0);
  // 573 rows: 573 / 1.2f rounds to 477, 573 * (1 / 1.2f) to 478 (what cv::ORB uses).
  ASSERT_EQ(vips_crop(kodak.get(), odd.out(), 0, 100, 512, 573, nullptr), 0);
  int checked = 0;
  for (const Img* im : {&kodak, &big, &tiny, &odd}) {
    const std::string path = TempJpeg("orb" + std::to_string(checked));
    ASSERT_EQ(vips_jpegsave(im->get(), path.c_str(), "Q", 90, nullptr), 0);
    auto rgb = DecodeImageRgb(path);
    ASSERT_TRUE(rgb.ok());
    for (int max_features : {300, kQueryFeatures}) {
      ImageFeatureOptions o;
      o.max_features = max_features;
      o.pdq = false;
      o.iscc = false;
      // The frame ORB sees, as the extractor makes it.
      cv::Mat grey;
      cv::cvtColor(cv::Mat(rgb->height, rgb->width, CV_8UC3, rgb->rgb.data()), grey,
                   cv::COLOR_RGB2GRAY);
      const int long_side = std::max(rgb->width, rgb->height);
      if (long_side > o.feature_long_side) {
        const double s = static_cast<double>(o.feature_long_side) / long_side;
        cv::Mat small;
        cv::resize(grey, small,
                   cv::Size(static_cast<int>(rgb->width * s + 0.5),
                            static_cast<int>(rgb->height * s + 0.5)),
                   0, 0, cv::INTER_AREA);
        grey = small;
      }
      std::vector<cv::KeyPoint> want;
      cv::Mat want_desc;
      cv::ORB::create(max_features, 1.2f, 8, 31, 0, 2, cv::ORB::HARRIS_SCORE, 31,
                      o.fast_threshold)
          ->detectAndCompute(grey, cv::noArray(), want, want_desc);
      for (TaskRunner* runner : {static_cast<TaskRunner*>(nullptr),
                                 static_cast<TaskRunner*>(&pool)}) {
        o.runner = runner;
        auto fp = ImageFingerprintFromRgb(*rgb, o);
        ASSERT_TRUE(fp.ok()) << fp.status().message();
        ASSERT_EQ(fp->descriptors.size(), want.size()) << "image " << checked;
        const double sx = static_cast<double>(fp->width) / grey.cols;
        const double sy = static_cast<double>(fp->height) / grey.rows;
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(fp->keypoints[i].x, (want[i].pt.x + 0.5) * sx, 1e-3) << i;
          ASSERT_NEAR(fp->keypoints[i].y, (want[i].pt.y + 0.5) * sy, 1e-3) << i;
          ASSERT_EQ(std::memcmp(fp->descriptors[i].data(), want_desc.ptr(static_cast<int>(i)),
                                32),
                    0)
              << "descriptor " << i << " of image " << checked;
        }
      }
    }
    ++checked;
  }
}

// With a runner, ORB runs beside PDQ + ISCC: the fingerprint is the same, and the query
// path's JPEG shrink-on-load (1/4 of a 3072-px photo) keeps the copy found with its region.
TEST(ImageFeaturesRunnerTest, SameFingerprintWithAPool) {
  Img ref = Load(Kodak(4));  // 512 x 768
  Img big;
  ASSERT_EQ(vips_resize(ref.get(), big.out(), 4.0, nullptr), 0);
  const std::string path = TempJpeg("runner");
  ASSERT_EQ(vips_jpegsave(big.get(), path.c_str(), "Q", 90, nullptr), 0);
  ThreadPool pool(1);
  ImageFeatureOptions with_pool = QueryFeatureOptions();
  with_pool.runner = &pool;
  auto alone = ImageFingerprintFromFile(path, QueryFeatureOptions());
  auto pooled = ImageFingerprintFromFile(path, with_pool);
  ASSERT_TRUE(alone.ok() && pooled.ok());
  EXPECT_EQ(std::max(alone->width, alone->height), 768);  // 3072 / 4
  EXPECT_GT(alone->descriptors.size(), 300u);
  EXPECT_TRUE(alone->iscc_image.has_value());
  EXPECT_EQ(*alone, *pooled);

  auto ref_fp = ImageFingerprintFromFile(Kodak(4));
  ASSERT_TRUE(ref_fp.ok());
  ImageMatcher matcher;
  ASSERT_TRUE(matcher.Add(4, *ref_fp).ok());
  auto r = matcher.Search(*pooled);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->empty());
  EXPECT_EQ((*r)[0].id, 4u);
  EXPECT_GT((*r)[0].score, 0.9);
}

TEST(ImageFeaturesErrorsTest, CorruptAndEmptyInputsAreErrors) {
  const std::string path = TempJpeg("corrupt");
  {
    std::ofstream f(path, std::ios::binary);
    f << "\xff\xd8\xff\xe0 not really a jpeg";
  }
  EXPECT_FALSE(ImageFingerprintFromFile(path).ok());
  EXPECT_FALSE(ImageFingerprintFromFile(path + ".missing").ok());
  RgbImage empty;
  EXPECT_EQ(ImageFingerprintFromRgb(empty).status().code(), StatusCode::kInvalidArgument);
  RgbImage tiny{2, 2, std::vector<uint8_t>(12, 7)};  // too small for PDQ and ORB: no error
  auto fp = ImageFingerprintFromRgb(tiny);
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  EXPECT_EQ(fp->pdq_quality, 0);
  EXPECT_TRUE(fp->descriptors.empty());
}

}  // namespace
}  // namespace chuqu::media
