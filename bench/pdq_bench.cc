// PDQ and vPDQ: decode time and hash time measured separately.
//   BM_PdqHash/<image>         fast hasher, RGB already in memory, native size
//   BM_PdqHash512/<image>      the same after the reference CLI's 512x512 pre-resize
//                              (what Meta's "1.8 ms per photo" measures)
//   BM_PdqDihedral/<image>     all 8 dihedral hashes from one DCT
//   BM_PdqNaive*/<image>       the scalar transcription of the reference (oracle), same inputs
//   BM_DecodeImage/<image>     chuqu's libvips decode to RGB (no hashing)
//   BM_VpdqDecode/<video>      FFmpeg demux+decode+RGB24 of every frame, per frame
//   BM_VpdqHashFrame/<video>   PDQ of one decoded frame at native resolution
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "fingerprint/pdq/pdq_hasher.h"
#include "fingerprint/pdq/pdq_naive.h"
#include "fingerprint/vpdq/vpdq.h"
#include "media/image.h"
#include "media/video_frames.h"

namespace {

using chuqu::pdq::RgbBuffer;

const std::string kPdq = std::string(CHUQU_SHARED_DATA) + "/pdq/";
const std::string kVideos = std::string(CHUQU_SHARED_DATA) + "/tmk/sample-videos/";

const char* const kImages[] = {
    "decoded-rgb/bridge-1-original.libjpeg-turbo-rgb.png",  // 1600x1004
    "misc-images/c.png",                                    // 1432x812
    "decoded-rgb/square-512x512.libjpeg-turbo-rgb.png",     // 512x512
    "reg-test-input/labelme-subset/q0122.jpg",              // 256x256
};
const char* const kJpegs[] = {"bridge-mods/aaa-orig.jpg", "reg-test-input/labelme-subset/q0122.jpg"};
const char* const kVideoNames[] = {"chair-20-sd-bar.mp4", "doorknob-hd-no-bar.mp4",
                                   "test-padded-dimensions.mp4"};

RgbBuffer Load(const std::string& path) {
  RgbBuffer out;
  chuqu::Result<chuqu::media::RgbImage> img = chuqu::media::DecodeImageRgb(path);
  if (!img.ok()) return out;
  out.width = img->width;
  out.height = img->height;
  out.rgb = std::move(img->rgb);
  return out;
}

void Label(benchmark::State& state, const RgbBuffer& img, const char* name) {
  state.SetLabel(std::string(name) + " " + std::to_string(img.width) + "x" +
                 std::to_string(img.height));
}

void BM_PdqHash(benchmark::State& state, const char* name, bool resize512) {
  RgbBuffer img = Load(kPdq + name);
  if (resize512) img = chuqu::pdq::ResizeLikeReferenceCli(img.view());
  chuqu::pdq::PdqHasher hasher;
  for (auto _ : state) benchmark::DoNotOptimize(hasher.HashRgb(img.view()));
  Label(state, img, name);
}

void BM_PdqDihedral(benchmark::State& state, const char* name) {
  RgbBuffer img = Load(kPdq + name);
  chuqu::pdq::PdqHasher hasher;
  for (auto _ : state) benchmark::DoNotOptimize(hasher.HashRgbDihedral(img.view()));
  Label(state, img, name);
}

void BM_PdqNaive(benchmark::State& state, const char* name, bool resize512) {
  RgbBuffer img = Load(kPdq + name);
  if (resize512) img = chuqu::pdq::ResizeLikeReferenceCli(img.view());
  for (auto _ : state) benchmark::DoNotOptimize(chuqu::pdq::naive::HashRgb(img.view()));
  Label(state, img, name);
}

void BM_DecodeImage(benchmark::State& state, const char* name) {
  int w = 0, h = 0;
  for (auto _ : state) {
    chuqu::Result<chuqu::media::RgbImage> img = chuqu::media::DecodeImageRgb(kPdq + name);
    if (img.ok()) w = img->width, h = img->height;
    benchmark::DoNotOptimize(img);
  }
  state.SetLabel(std::string(name) + " " + std::to_string(w) + "x" + std::to_string(h));
}

// Decodes every frame of the video once per iteration; time reported per frame.
void BM_VpdqDecode(benchmark::State& state, const char* name) {
  int64_t frames = 0;
  for (auto _ : state) {
    chuqu::media::VideoFrameOptions options;
    options.seconds_per_frame = 0;
    auto reader = chuqu::media::VideoFrameReader::Open(kVideos + name, options);
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      return;
    }
    chuqu::Status s = (*reader)->ForEachFrame([&](const chuqu::media::RgbFrame& f) {
      benchmark::DoNotOptimize(f.data[0]);
      ++frames;
      return chuqu::Status::Ok();
    });
    benchmark::DoNotOptimize(s);
  }
  state.counters["frames"] = benchmark::Counter(static_cast<double>(frames));
  // Seconds per decoded frame.
  state.counters["frame_time"] = benchmark::Counter(
      static_cast<double>(frames), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(name);
}

// Keeps up to 30 decoded frames and hashes them round-robin.
void BM_VpdqHashFrame(benchmark::State& state, const char* name) {
  std::vector<RgbBuffer> frames;
  chuqu::media::VideoFrameOptions options;
  options.seconds_per_frame = 0;
  auto reader = chuqu::media::VideoFrameReader::Open(kVideos + name, options);
  if (!reader.ok()) {
    state.SkipWithError(reader.status().ToString().c_str());
    return;
  }
  chuqu::Status s = (*reader)->ForEachFrame([&](const chuqu::media::RgbFrame& f) {
    if (frames.size() >= 30) return chuqu::Status::Ok();
    RgbBuffer b;
    b.width = f.width;
    b.height = f.height;
    b.rgb.resize(3 * static_cast<size_t>(f.width) * f.height);
    for (int y = 0; y < f.height; ++y) {
      std::copy_n(f.data + y * f.stride, 3 * f.width, b.rgb.data() + 3 * y * f.width);
    }
    frames.push_back(std::move(b));
    return chuqu::Status::Ok();
  });
  if (!s.ok() || frames.empty()) {
    state.SkipWithError("decode failed");
    return;
  }
  chuqu::vpdq::VpdqFrameHasher hasher;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hasher.HashFrame(frames[i].view(), static_cast<int>(i), 0));
    i = (i + 1) % frames.size();
  }
  state.SetLabel(std::string(name) + " " + std::to_string(frames[0].width) + "x" +
                 std::to_string(frames[0].height));
}

void Register() {
  for (const char* name : kImages) {
    benchmark::RegisterBenchmark(("BM_PdqHash/" + std::string(name)).c_str(), BM_PdqHash, name,
                                 false)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PdqHash512/" + std::string(name)).c_str(), BM_PdqHash,
                                 name, true)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PdqDihedral/" + std::string(name)).c_str(),
                                 BM_PdqDihedral, name)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PdqNaive/" + std::string(name)).c_str(), BM_PdqNaive, name,
                                 false)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_PdqNaive512/" + std::string(name)).c_str(), BM_PdqNaive,
                                 name, true)->Unit(benchmark::kMillisecond);
  }
  for (const char* name : kJpegs) {
    benchmark::RegisterBenchmark(("BM_DecodeImage/" + std::string(name)).c_str(),
                                 BM_DecodeImage, name)->Unit(benchmark::kMillisecond);
  }
  for (const char* name : kVideoNames) {
    benchmark::RegisterBenchmark(("BM_VpdqDecode/" + std::string(name)).c_str(), BM_VpdqDecode,
                                 name)->Unit(benchmark::kMillisecond)->Iterations(1);
    benchmark::RegisterBenchmark(("BM_VpdqHashFrame/" + std::string(name)).c_str(),
                                 BM_VpdqHashFrame, name)->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
