#include "media/av_fingerprint.h"

#include <chromaprint.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "fingerprint/pdq/pdq_hasher.h"
#include "media/audio.h"
#include "media/video_frames.h"
#include "media/video_regions.h"

namespace chuqu::media {

namespace {

struct PixelRect {
  int x = 0, y = 0, w = 0, h = 0;
};

PixelRect ToPixels(const index::VideoRegion& r, int width, int height) {
  PixelRect p;
  p.x = std::clamp(static_cast<int>(std::lround(r.x * width)), 0, width - 1);
  p.y = std::clamp(static_cast<int>(std::lround(r.y * height)), 0, height - 1);
  p.w = std::clamp(static_cast<int>(std::lround((r.x + r.width) * width)), p.x + 1, width) - p.x;
  p.h = std::clamp(static_cast<int>(std::lround((r.y + r.height) * height)), p.y + 1, height) -
        p.y;
  return p;
}

index::VideoRegion CentredCrop(float side) { return {(1 - side) / 2, (1 - side) / 2, side, side}; }

index::VideoRegionHash ToRegionHash(const Result<pdq::PdqResult>& r) {
  index::VideoRegionHash h;
  if (r.ok() && !r->too_small) {
    h.quality = static_cast<uint8_t>(std::clamp(r->quality, 0, 100));
    h.pdq = r->hash;
  }
  return h;
}

// Luma (PDQ weights) averaged over factor x factor blocks.
std::vector<uint8_t> BlockLuma(const RgbFrame& frame, int factor, int w, int h) {
  std::vector<uint8_t> out(static_cast<size_t>(w) * h);
  const float norm = 1.0f / static_cast<float>(factor * factor);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float sum = 0;
      for (int dy = 0; dy < factor; ++dy) {
        const uint8_t* p = frame.data + (static_cast<size_t>(y) * factor + dy) * frame.stride +
                           3 * static_cast<size_t>(x) * factor;
        for (int dx = 0; dx < factor; ++dx, p += 3) {
          sum += 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
        }
      }
      out[static_cast<size_t>(y) * w + x] = static_cast<uint8_t>(std::lround(sum * norm));
    }
  }
  return out;
}

}  // namespace

Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        double seconds_per_frame,
                                                        int dihedrals) {
  VideoFingerprintOptions options;
  options.seconds_per_frame = seconds_per_frame;
  options.dihedrals = dihedrals;
  return ExtractVideoFingerprint(path, options);
}

Result<index::VideoFingerprint> ExtractVideoFingerprint(const std::string& path,
                                                        const VideoFingerprintOptions& options) {
  VideoFrameOptions frame_options;
  frame_options.seconds_per_frame = options.seconds_per_frame;
  CHUQU_ASSIGN_OR_RETURN(auto reader, VideoFrameReader::Open(path, frame_options));
  const bool query = options.dihedrals == index::kVideoDihedrals;
  index::VideoFingerprint fp;
  fp.dihedrals = query ? index::kVideoDihedrals : 1;
  fp.frame_interval =
      static_cast<float>(options.seconds_per_frame > 0 ? options.seconds_per_frame : 0.04);
  std::vector<index::VideoView>& views = fp.views;
  auto add_view = [&](const index::VideoRegion& region, bool reference) {
    if (views.size() < index::kMaxVideoViews) views.push_back({region, reference, {}});
  };
  for (float c : options.reference_crops) {
    if (c > 0.1f && c < 1) add_view(CentredCrop(c), true);
  }
  if (query) {
    for (float c : options.query_crops) {
      if (c > 0.1f && c < 1) add_view(CentredCrop(c), false);
    }
  }
  const bool insets = query && options.max_insets > 0 && options.inset_frames > 0;
  bool first = true;
  int luma_factor = 1, luma_w = 0, luma_h = 0;
  std::vector<std::vector<uint8_t>> lumas;  // insets: the first inset_frames frames
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
    if (first) {
      first = false;
      const double aspect = static_cast<double>(frame.width) / frame.height;
      // The centred 16:9 and 4:3 regions of a letterboxed (taller) or pillarboxed (wider)
      // frame.
      for (const double picture : {16.0 / 9, 4.0 / 3}) {
        if (!query || !options.letterbox_view ||
            std::abs(std::log(aspect / picture)) <= std::log(1.05)) {
          continue;
        }
        const auto side = static_cast<float>(aspect < picture ? aspect / picture : picture / aspect);
        add_view(aspect < picture ? index::VideoRegion{0, (1 - side) / 2, 1, side}
                                  : index::VideoRegion{(1 - side) / 2, 0, side, 1},
                 false);
      }
      luma_factor = std::max({1, (frame.width + 639) / 640, (frame.height + 639) / 640});
      luma_w = frame.width / luma_factor;
      luma_h = frame.height / luma_factor;
    }
    for (index::VideoView& v : views) {
      const PixelRect p = ToPixels(v.region, frame.width, frame.height);
      v.hashes.push_back(ToRegionHash(hasher.HashRgb(
          {frame.data + p.y * frame.stride + 3 * static_cast<size_t>(p.x), p.w, p.h,
           frame.stride})));
    }
    if (insets && static_cast<int>(lumas.size()) < options.inset_frames &&
        lumas.size() + 1 == fp.frames.size() && frame.width / luma_factor == luma_w &&
        frame.height / luma_factor == luma_h) {
      lumas.push_back(BlockLuma(frame, luma_factor, luma_w, luma_h));
    }
    return Status::Ok();
  }));
  const double duration = reader->info().duration_seconds;
  fp.duration = static_cast<float>(duration > 0 ? duration : last + fp.frame_interval);
  if (lumas.empty()) return fp;

  std::vector<LumaFrame> frames;
  for (const auto& l : lumas) frames.push_back({l.data(), luma_w, luma_h});
  InsetOptions inset_options;
  inset_options.max_insets = options.max_insets;
  std::vector<float> region;
  for (const index::VideoRegion& r : FindInsets(frames, inset_options)) {
    if (views.size() >= index::kMaxVideoViews) break;
    index::VideoView v{r, false, {}};
    const PixelRect p = ToPixels(r, luma_w, luma_h);
    region.resize(static_cast<size_t>(p.w) * p.h);
    for (const auto& l : lumas) {
      for (int y = 0; y < p.h; ++y) {
        const uint8_t* src = l.data() + static_cast<size_t>(p.y + y) * luma_w + p.x;
        std::copy(src, src + p.w, region.begin() + static_cast<ptrdiff_t>(y) * p.w);
      }
      v.hashes.push_back(ToRegionHash(hasher.HashLuma({region.data(), p.w, p.h})));
    }
    v.hashes.resize(fp.frames.size());  // frames after inset_frames: no hash
    views.push_back(std::move(v));
  }
  return fp;
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
