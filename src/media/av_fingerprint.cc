#include "media/av_fingerprint.h"

#include <chromaprint.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "fingerprint/pdq/pdq_hasher.h"
#include "media/audio.h"
#include "media/video_frames.h"

namespace chuqu::media {

Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        double seconds_per_frame,
                                                        int dihedrals) {
  VideoFrameOptions options;
  options.seconds_per_frame = seconds_per_frame;
  CHUQU_ASSIGN_OR_RETURN(auto reader, VideoFrameReader::Open(path, options));
  index::VideoFingerprint fp;
  fp.dihedrals = dihedrals == index::kVideoDihedrals ? dihedrals : 1;
  fp.frame_interval = static_cast<float>(seconds_per_frame > 0 ? seconds_per_frame : 0.04);
  pdq::PdqHasher hasher;
  double last = 0;
  CHUQU_RETURN_IF_ERROR(reader->ForEachFrame([&](const RgbFrame& frame) -> Status {
    CHUQU_ASSIGN_OR_RETURN(
        pdq::PdqDihedralResult r,
        hasher.HashRgbDihedral({frame.data, frame.width, frame.height, frame.stride}));
    index::VideoFrameHash f;
    f.time = static_cast<float>(frame.timestamp);
    f.quality = static_cast<uint8_t>(std::clamp(r.quality, 0, 100));
    for (int d = 0; d < fp.dihedrals; ++d) f.pdq[d] = r.hashes[d];
    fp.frames.push_back(f);
    last = frame.timestamp;
    return Status::Ok();
  }));
  const double duration = reader->info().duration_seconds;
  fp.duration = static_cast<float>(duration > 0 ? duration : last + fp.frame_interval);
  return fp;
}

Result<std::vector<index::VideoFingerprint>> ExtractVideoQuery(const std::string& path,
                                                               double seconds_per_frame) {
  VideoFrameOptions options;
  options.seconds_per_frame = seconds_per_frame;
  CHUQU_ASSIGN_OR_RETURN(auto reader, VideoFrameReader::Open(path, options));
  std::vector<index::VideoFingerprint> views(2);
  views[0].dihedrals = index::kVideoDihedrals;
  for (auto& v : views) {
    v.frame_interval = static_cast<float>(seconds_per_frame > 0 ? seconds_per_frame : 0.04);
  }
  pdq::PdqHasher hasher;
  double last = 0;
  CHUQU_RETURN_IF_ERROR(reader->ForEachFrame([&](const RgbFrame& frame) -> Status {
    CHUQU_ASSIGN_OR_RETURN(
        pdq::PdqDihedralResult r,
        hasher.HashRgbDihedral({frame.data, frame.width, frame.height, frame.stride}));
    index::VideoFrameHash f;
    f.time = static_cast<float>(frame.timestamp);
    f.quality = static_cast<uint8_t>(std::clamp(r.quality, 0, 100));
    f.pdq = r.hashes;
    views[0].frames.push_back(f);
    last = frame.timestamp;
    // Centred 16:9 region.
    const double aspect = static_cast<double>(frame.width) / frame.height;
    int x = 0, y = 0, w = frame.width, h = frame.height;
    if (aspect < 16.0 / 9 / 1.05) {
      h = static_cast<int>(std::lround(frame.width * 9.0 / 16));
      y = (frame.height - h) / 2;
    } else if (aspect > 16.0 / 9 * 1.05) {
      w = static_cast<int>(std::lround(frame.height * 16.0 / 9));
      x = (frame.width - w) / 2;
    } else {
      return Status::Ok();
    }
    CHUQU_ASSIGN_OR_RETURN(
        pdq::PdqResult c,
        hasher.HashRgb({frame.data + y * frame.stride + 3 * static_cast<size_t>(x), w, h,
                        frame.stride}));
    index::VideoFrameHash cf;
    cf.time = f.time;
    cf.quality = static_cast<uint8_t>(std::clamp(c.quality, 0, 100));
    cf.pdq[0] = c.hash;
    views[1].frames.push_back(cf);
    return Status::Ok();
  }));
  const double duration = reader->info().duration_seconds;
  for (auto& v : views) {
    v.duration = static_cast<float>(duration > 0 ? duration : last + v.frame_interval);
  }
  if (views[1].frames.empty()) views.pop_back();
  return views;
}

Result<index::AudioFingerprint> ExtractAudioFingerprint(const std::string& path) {
  CHUQU_ASSIGN_OR_RETURN(AudioContent audio, ExtractAudio(path));
  index::AudioFingerprint fp;
  fp.values.reserve(audio.chromaprint.size());
  for (int32_t v : audio.chromaprint) fp.values.push_back(static_cast<uint32_t>(v));
  return fp;
}

namespace {
struct ContextDeleter {
  void operator()(ChromaprintContext* c) const { chromaprint_free(c); }
};
}  // namespace

Result<std::vector<index::AudioFingerprint>> ChromaprintVariants(std::span<const int16_t> pcm,
                                                                 std::span<const double> factors) {
  std::vector<index::AudioFingerprint> out;
  std::vector<int16_t> resampled;
  for (double f : factors) {
    if (!(f >= 0.5 && f <= 2.0)) {
      return Status::InvalidArgument("audio variant factor outside [0.5, 2]");
    }
    resampled.clear();
    for (double x = 0; x + 1 < static_cast<double>(pcm.size()); x += f) {
      const auto i = static_cast<size_t>(x);
      const double a = x - static_cast<double>(i);
      resampled.push_back(static_cast<int16_t>(std::lround((1 - a) * pcm[i] + a * pcm[i + 1])));
    }
    std::unique_ptr<ChromaprintContext, ContextDeleter> cp(
        chromaprint_new(CHROMAPRINT_ALGORITHM_DEFAULT));
    if (!cp || !chromaprint_start(cp.get(), 11025, 1)) {
      return Status::Internal("Chromaprint failed to start");
    }
    if (!resampled.empty() &&
        !chromaprint_feed(cp.get(), resampled.data(), static_cast<int>(resampled.size()))) {
      return Status::Internal("Chromaprint failed");
    }
    if (!chromaprint_finish(cp.get())) return Status::Internal("Chromaprint failed");
    uint32_t* raw = nullptr;
    int size = 0;
    if (!chromaprint_get_raw_fingerprint(cp.get(), &raw, &size)) {
      return Status::Internal("Chromaprint gave no fingerprint");
    }
    index::AudioFingerprint fp;
    fp.values.assign(raw, raw + size);
    fp.time_scale = static_cast<float>(f);
    chromaprint_dealloc(raw);
    out.push_back(std::move(fp));
  }
  return out;
}

std::vector<double> DefaultAudioVariantFactors() {
  std::vector<double> f = {1.0};
  for (int k = -8; k <= 8; ++k) {
    if (k != 0) f.push_back(std::exp2(k / 24.0));
  }
  return f;
}

}  // namespace chuqu::media
