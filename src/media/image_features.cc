#include "media/image_features.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <span>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "chuqu/iscc.h"
#include "fingerprint/pdq/pdq_hasher.h"
#include "media/iscc_image.h"

namespace chuqu::media {
namespace {

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ORB as cv::ORB::create(max_features, 1.2, 8 levels, edge 31, first level 0, WTA_K 2,
// Harris score, patch 31, fast_threshold) computes it, but level by level so the levels can
// run on two threads. cv::ORB (OpenCV 4.6 orb.cpp) builds level l by resizing level l-1
// with INTER_LINEAR_EXACT to cvRound(size * (1 / 1.2^l)), splits max_features over the levels in a
// geometric series, and detects, scores, keeps and describes each level on its own; a
// one-level detector on our copy of level l with that level's share gives the same keypoints
// and descriptors in the same order (image_features_test compares them with cv::ORB).
constexpr int kOrbLevels = 8;
constexpr float kOrbScale = 1.2f;

// getScale() of orb.cpp: the scale factor is held as a double made from the float.
float OrbLevelScale(int level) {
  return static_cast<float>(std::pow(static_cast<double>(kOrbScale), static_cast<double>(level)));
}

struct OrbFrame {
  std::array<cv::Mat, kOrbLevels> pyramid;   // level 0: grey, long side <= feature_long_side
  std::array<int, kOrbLevels> features{};    // each level's share of max_features
  double sx = 1, sy = 1;                     // fingerprint-frame pixels per level-0 pixel
};

struct OrbLevel {
  std::vector<cv::KeyPoint> keypoints;  // in level-0 pixels
  cv::Mat descriptors;
  Status status;
};

// Grey frame, pyramid and per-level feature counts.
Status PrepareOrb(const RgbImage& image, const ImageFeatureOptions& options,
                  const index::ImageFingerprint& fp, OrbFrame* frame) {
  try {
    const cv::Mat rgb(image.height, image.width, CV_8UC3,
                      const_cast<uint8_t*>(image.rgb.data()));
    cv::Mat grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    const int long_side = std::max(image.width, image.height);
    if (options.feature_long_side > 0 && long_side > options.feature_long_side) {
      const double scale = static_cast<double>(options.feature_long_side) / long_side;
      cv::Mat small;
      cv::resize(grey, small,
                 cv::Size(std::max(1, static_cast<int>(image.width * scale + 0.5)),
                          std::max(1, static_cast<int>(image.height * scale + 0.5))),
                 0, 0, cv::INTER_AREA);
      grey = small;
    }
    frame->pyramid[0] = grey;
    for (int l = 1; l < kOrbLevels; ++l) {
      // As orb.cpp: times the float inverse (dividing rounds differently, e.g. 573 rows).
      const float inv = 1.f / OrbLevelScale(l);
      const cv::Size size(cvRound(grey.cols * inv), cvRound(grey.rows * inv));
      if (size.width < 1 || size.height < 1) break;  // too small: no features there
      cv::resize(frame->pyramid[l - 1], frame->pyramid[l], size, 0, 0, cv::INTER_LINEAR_EXACT);
    }
    frame->sx = static_cast<double>(fp.width) / grey.cols;
    frame->sy = static_cast<double>(fp.height) / grey.rows;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("OpenCV resize failed: ") + e.what());
  }
  // computeKeyPoints() of orb.cpp.
  const float factor = static_cast<float>(1.0 / static_cast<double>(kOrbScale));
  float per_scale = static_cast<float>(options.max_features) * (1 - factor) /
                    (1 - static_cast<float>(std::pow(static_cast<double>(factor),
                                                     static_cast<double>(kOrbLevels))));
  int sum = 0;
  for (int l = 0; l < kOrbLevels - 1; ++l) {
    frame->features[l] = cvRound(per_scale);
    sum += frame->features[l];
    per_scale *= factor;
  }
  frame->features[kOrbLevels - 1] = std::max(options.max_features - sum, 0);
  return Status::Ok();
}

void DetectOrbLevel(const OrbFrame& frame, int level, int fast_threshold, OrbLevel* out) {
  const cv::Mat& img = frame.pyramid[level];
  if (img.empty() || frame.features[level] <= 0) return;
  try {
    cv::Ptr<cv::ORB> orb = cv::ORB::create(frame.features[level], kOrbScale, 1, 31, 0, 2,
                                           cv::ORB::HARRIS_SCORE, 31, fast_threshold);
    orb->detectAndCompute(img, cv::noArray(), out->keypoints, out->descriptors);
    if (!out->keypoints.empty() &&
        (out->descriptors.type() != CV_8U || out->descriptors.cols != 32 ||
         out->descriptors.rows != static_cast<int>(out->keypoints.size()))) {
      out->status = Status::Internal("ORB returned descriptors of an unexpected shape");
      return;
    }
    const float s = OrbLevelScale(level);
    for (cv::KeyPoint& k : out->keypoints) k.pt *= s;
  } catch (const std::exception& e) {
    out->status = Status::Internal(std::string("OpenCV ORB failed: ") + e.what());
  }
}

// Appends the levels' keypoints (level order, as cv::ORB returns them) to fp, in its frame.
Status CollectOrb(const OrbFrame& frame, std::span<const OrbLevel> levels,
                  index::ImageFingerprint& fp) {
  for (const OrbLevel& level : levels) {
    CHUQU_RETURN_IF_ERROR(level.status);
    for (size_t i = 0; i < level.keypoints.size(); ++i) {
      if (fp.descriptors.size() == index::kMaxImageDescriptors) return Status::Ok();
      // OpenCV's pixel centres are at integers; ours at +0.5.
      const float x = static_cast<float>((level.keypoints[i].pt.x + 0.5) * frame.sx);
      const float y = static_cast<float>((level.keypoints[i].pt.y + 0.5) * frame.sy);
      fp.keypoints.push_back({std::clamp(x, 0.0f, static_cast<float>(fp.width)),
                              std::clamp(y, 0.0f, static_cast<float>(fp.height))});
      index::Code256 code;
      std::memcpy(code.data(), level.descriptors.ptr<uint8_t>(static_cast<int>(i)), 32);
      fp.descriptors.push_back(code);
    }
  }
  return Status::Ok();
}

// The 8 PDQ dihedrals of the image into fp.
Status PdqHashes(const RgbImage& image, const ImageFeatureOptions& options,
                 index::ImageFingerprint& fp, ImageFeatureTimings* timings) {
  const auto t0 = Clock::now();
  if (options.pdq) {
    pdq::PdqHasher hasher;
    CHUQU_ASSIGN_OR_RETURN(
        pdq::PdqDihedralResult dih,
        hasher.HashRgbDihedral(pdq::RgbView{image.rgb.data(), image.width, image.height,
                                            3 * static_cast<size_t>(image.width)}));
    fp.pdq = dih.hashes;
    fp.pdq_quality = dih.too_small ? 0 : dih.quality;
  }
  if (timings != nullptr) timings->pdq_ms = MsSince(t0);
  return Status::Ok();
}

// The ISCC Image-Code of the image (for matching) into fp.
Status IsccImageCode(const RgbImage& image, const ImageFeatureOptions& options,
                     index::ImageFingerprint& fp, ImageFeatureTimings* timings) {
  if (options.iscc) {
    const auto t0 = Clock::now();
    CHUQU_ASSIGN_OR_RETURN(const auto grey, IsccPixelsForMatching(image));
    CHUQU_ASSIGN_OR_RETURN(std::string code, GenImageCode(grey));
    CHUQU_ASSIGN_OR_RETURN(IsccUnit unit, DecodeIscc(code));
    if (unit.body.size() != 8) return Status::Internal("ISCC Image-Code is not 64 bits");
    uint64_t body = 0;
    for (uint8_t b : unit.body) body = (body << 8) | b;
    fp.iscc_image = body;
    if (timings != nullptr) timings->iscc_ms = MsSince(t0);
  }

  return Status::Ok();
}

}  // namespace

Result<std::array<uint8_t, 1024>> IsccPixelsForMatching(const RgbImage& image) {
  // The Image-Code is computed from 32x32 pixels; an area-averaged copy with a long side of
  // kIsccWorkSide gives nearly the same code.
  constexpr int kIsccWorkSide = 256;
  int w = image.width, h = image.height;
  std::vector<uint8_t> rgba;
  try {
    cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
    cv::Mat small = rgb;
    if (std::max(w, h) > kIsccWorkSide) {
      const double s = static_cast<double>(kIsccWorkSide) / std::max(w, h);
      w = std::max(1, static_cast<int>(w * s + 0.5));
      h = std::max(1, static_cast<int>(h * s + 0.5));
      cv::resize(rgb, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    }
    cv::Mat out;
    cv::cvtColor(small, out, cv::COLOR_RGB2RGBA);
    rgba.assign(out.data, out.data + 4ull * w * h);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("OpenCV resize failed: ") + e.what());
  }
  return IsccImagePixelsFromRgba(rgba, w, h);
}

Result<index::ImageFingerprint> ImageFingerprintFromRgb(const RgbImage& image,
                                                        const ImageFeatureOptions& options,
                                                        ImageFeatureTimings* timings) {
  if (image.width < 1 || image.height < 1 || image.width > 65535 || image.height > 65535 ||
      image.rgb.size() != 3ull * image.width * image.height) {
    return Status::InvalidArgument("image fingerprint: empty or inconsistent RGB image");
  }
  index::ImageFingerprint fp;
  fp.width = image.width;
  fp.height = image.height;
  if (const int long_side = std::max(image.width, image.height);
      options.frame_long_side > 0 && long_side > options.frame_long_side) {
    const double s = static_cast<double>(options.frame_long_side) / long_side;
    fp.width = std::max(1, static_cast<int>(image.width * s + 0.5));
    fp.height = std::max(1, static_cast<int>(image.height * s + 0.5));
  }

  // The stages read the same pixels and write disjoint members of fp (and of timings). With
  // a runner: the ORB frame beside PDQ, then the ORB levels (largest first) beside ISCC, each
  // task taken by whichever thread is free.
  const auto t0 = Clock::now();
  OrbFrame frame;
  Status pdq_status, frame_status, iscc_status;
  const std::function<void()> first[] = {
      [&] { frame_status = PrepareOrb(image, options, fp, &frame); },
      [&] { pdq_status = PdqHashes(image, options, fp, timings); }};
  RunAll(options.runner, first);
  CHUQU_RETURN_IF_ERROR(pdq_status);
  CHUQU_RETURN_IF_ERROR(frame_status);
  std::array<OrbLevel, kOrbLevels> levels;
  std::vector<std::function<void()>> second;
  second.push_back([&] { DetectOrbLevel(frame, 0, options.fast_threshold, &levels[0]); });
  second.push_back([&] { iscc_status = IsccImageCode(image, options, fp, timings); });
  for (int l = 1; l < kOrbLevels; ++l) {
    second.push_back([&, l] { DetectOrbLevel(frame, l, options.fast_threshold, &levels[l]); });
  }
  RunAll(options.runner, second);
  CHUQU_RETURN_IF_ERROR(iscc_status);
  CHUQU_RETURN_IF_ERROR(CollectOrb(frame, levels, fp));
  if (timings != nullptr) {
    // Without a runner, the time outside PDQ and ISCC; with one, the stages overlap.
    timings->orb_ms = MsSince(t0);
    if (options.runner == nullptr) timings->orb_ms -= timings->pdq_ms + timings->iscc_ms;
  }
  return fp;
}

ImageDecodeOptions DecodeOptionsFor(const ImageFeatureOptions& options) {
  ImageDecodeOptions decode;
  decode.max_pixels = options.max_pixels;
  decode.max_long_side = options.decode_long_side;
  if (options.jpeg_shrink) {
    decode.jpeg_shrink_long_side = options.jpeg_shrink_long_side > 0
                                       ? options.jpeg_shrink_long_side
                                       : options.feature_long_side;
  }
  return decode;
}

Result<index::ImageFingerprint> ImageFingerprintFromFile(const std::string& path,
                                                         const ImageFeatureOptions& options,
                                                         ImageFeatureTimings* timings) {
  const auto t0 = Clock::now();
  CHUQU_ASSIGN_OR_RETURN(RgbImage image, DecodeImageRgb(path, DecodeOptionsFor(options)));
  if (timings != nullptr) timings->decode_ms = MsSince(t0);
  return ImageFingerprintFromRgb(image, options, timings);
}

}  // namespace chuqu::media
