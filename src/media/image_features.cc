#include "media/image_features.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
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

// ORB keypoints and descriptors of the image (coordinates in image pixels).
Status ExtractOrb(const RgbImage& image, const ImageFeatureOptions& options,
                  index::ImageFingerprint& fp) {
  try {
    const cv::Mat rgb(image.height, image.width, CV_8UC3,
                      const_cast<uint8_t*>(image.rgb.data()));
    cv::Mat grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    const int long_side = std::max(image.width, image.height);
    double scale = 1.0;  // work pixels per image pixel
    if (options.feature_long_side > 0 && long_side > options.feature_long_side) {
      scale = static_cast<double>(options.feature_long_side) / long_side;
      cv::Mat small;
      cv::resize(grey, small,
                 cv::Size(std::max(1, static_cast<int>(image.width * scale + 0.5)),
                          std::max(1, static_cast<int>(image.height * scale + 0.5))),
                 0, 0, cv::INTER_AREA);
      grey = small;
    }
    cv::Ptr<cv::ORB> orb = cv::ORB::create(options.max_features, 1.2f, 8, 31, 0, 2,
                                           cv::ORB::HARRIS_SCORE, 31, options.fast_threshold);
    std::vector<cv::KeyPoint> keypoints;
    cv::Mat descriptors;
    orb->detectAndCompute(grey, cv::noArray(), keypoints, descriptors);
    if (keypoints.empty()) return Status::Ok();
    if (descriptors.type() != CV_8U || descriptors.cols != 32 ||
        descriptors.rows != static_cast<int>(keypoints.size())) {
      return Status::Internal("ORB returned descriptors of an unexpected shape");
    }
    const size_t n = std::min(keypoints.size(), index::kMaxImageDescriptors);
    fp.keypoints.reserve(n);
    fp.descriptors.reserve(n);
    // Into the fingerprint's frame (fp.width x fp.height).
    const double sx = static_cast<double>(fp.width) / grey.cols;
    const double sy = static_cast<double>(fp.height) / grey.rows;
    for (size_t i = 0; i < n; ++i) {
      // OpenCV's pixel centres are at integers; ours at +0.5.
      const float x = static_cast<float>((keypoints[i].pt.x + 0.5) * sx);
      const float y = static_cast<float>((keypoints[i].pt.y + 0.5) * sy);
      fp.keypoints.push_back({std::clamp(x, 0.0f, static_cast<float>(fp.width)),
                              std::clamp(y, 0.0f, static_cast<float>(fp.height))});
      index::Code256 code;
      std::memcpy(code.data(), descriptors.ptr<uint8_t>(static_cast<int>(i)), 32);
      fp.descriptors.push_back(code);
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("OpenCV ORB failed: ") + e.what());
  }
}

}  // namespace

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

  auto t0 = Clock::now();
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

  if (options.iscc) {
    t0 = Clock::now();
    // The Image-Code is computed from 32x32 pixels; an area-averaged copy with a long side
    // of kIsccWorkSide gives nearly the same code ~20x faster. It is for matching only (both
    // sides computed the same way); the registry's conformant ISCC comes from the file.
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
    const auto grey = IsccImagePixelsFromRgba(rgba, w, h);
    CHUQU_ASSIGN_OR_RETURN(std::string code, GenImageCode(grey));
    CHUQU_ASSIGN_OR_RETURN(IsccUnit unit, DecodeIscc(code));
    if (unit.body.size() != 8) return Status::Internal("ISCC Image-Code is not 64 bits");
    uint64_t body = 0;
    for (uint8_t b : unit.body) body = (body << 8) | b;
    fp.iscc_image = body;
    if (timings != nullptr) timings->iscc_ms = MsSince(t0);
  }

  t0 = Clock::now();
  CHUQU_RETURN_IF_ERROR(ExtractOrb(image, options, fp));
  if (timings != nullptr) timings->orb_ms = MsSince(t0);
  return fp;
}

Result<index::ImageFingerprint> ImageFingerprintFromFile(const std::string& path,
                                                         const ImageFeatureOptions& options,
                                                         ImageFeatureTimings* timings) {
  const auto t0 = Clock::now();
  ImageDecodeOptions decode;
  decode.max_pixels = options.max_pixels;
  decode.max_long_side = options.decode_long_side;
  if (options.jpeg_shrink) decode.jpeg_shrink_long_side = options.feature_long_side;
  CHUQU_ASSIGN_OR_RETURN(RgbImage image, DecodeImageRgb(path, decode));
  if (timings != nullptr) timings->decode_ms = MsSince(t0);
  return ImageFingerprintFromRgb(image, options, timings);
}

}  // namespace chuqu::media
