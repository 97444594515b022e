// Image match latency: decode + hash (PDQ dihedrals, ISCC Image-Code, ORB) + search + verify
// of a 12-megapixel JPEG (4000 x 3000, made at start-up from a Kodak image with libvips),
// against an index of the media corpus references (real fingerprints). The per-stage
// breakdown is reported as counters (milliseconds per match).
//
// Environment: CHUQU_IMAGE_CORPUS (default /work/corpus/default) names the corpus whose
// images/refs/ are indexed; without it only the Kodak images are indexed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <vips/vips.h>

#include "index/image_matcher.h"
#include "media/image_features.h"
#include "twelve_mp_jpeg.h"

namespace {

namespace fs = std::filesystem;
using chuqu::index::ImageMatcher;

struct Fixture {
  std::string jpeg;  // the 12-MP query
  // The second core for latency: one worker beside the calling thread.
  chuqu::ThreadPool pool{1};
  ImageMatcher matcher;                                           // single-threaded
  ImageMatcher pooled_matcher{{.runner = &pool}};                 // scan split in two
  size_t refs = 0;

  Fixture() {
    if (vips_init("image_match_bench") != 0) std::abort();
    const std::string kodak = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/";
    // 768 x 512 -> 4000 x 3000 (12.0 MP), JPEG q90, with the image registered beside others.
    jpeg = (fs::temp_directory_path() / "chuqu_image_match_bench_12mp.jpg").string();
    chuqu::bench::WriteTwelveMpJpeg(jpeg);

    uint64_t id = 0;
    auto add = [&](const std::string& path) {
      auto fp = chuqu::media::ImageFingerprintFromFile(path);
      if (fp.ok() && matcher.Add(id, *fp).ok() && pooled_matcher.Add(id, *fp).ok()) ++refs;
      ++id;
    };
    for (const auto& e : fs::directory_iterator(kodak)) add(e.path().string());
    const char* env = std::getenv("CHUQU_IMAGE_CORPUS");
    const std::string corpus = env != nullptr ? env : "/work/corpus/default";
    if (fs::is_directory(corpus + "/images/refs")) {
      for (const auto& e : fs::directory_iterator(corpus + "/images/refs")) {
        add(e.path().string());
      }
    }
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void BM_FullMatch12MP(benchmark::State& state) {
  Fixture& f = Get();
  chuqu::media::ImageFeatureTimings sum;
  double search_ms = 0;
  const double cpu0 = chuqu::bench::ProcessCpuMs();
  chuqu::media::ImageFeatureOptions options = chuqu::media::QueryFeatureOptions();
  options.jpeg_shrink_long_side = static_cast<int>(state.range(0));
  const bool use_pool = state.range(1) != 0;
  if (use_pool) options.runner = &f.pool;
  const ImageMatcher& matcher = use_pool ? f.pooled_matcher : f.matcher;
  int frame = 0;
  for (auto _ : state) {
    chuqu::media::ImageFeatureTimings t;
    auto fp = chuqu::media::ImageFingerprintFromFile(f.jpeg, options, &t);
    if (!fp.ok()) {
      state.SkipWithError(fp.status().message().c_str());
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto r = matcher.Search(*fp);
    search_ms += Ms(t0);
    if (!r.ok() || r->empty()) {
      state.SkipWithError("the 12-MP copy was not found");
      return;
    }
    benchmark::DoNotOptimize(r);
    frame = std::max(fp->width, fp->height);
    sum.decode_ms += t.decode_ms;
    sum.pdq_ms += t.pdq_ms;
    sum.iscc_ms += t.iscc_ms;
    sum.orb_ms += t.orb_ms;
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["process_cpu_ms"] = (chuqu::bench::ProcessCpuMs() - cpu0) / n;
  state.counters["decode_ms"] = sum.decode_ms / n;
  state.counters["pdq_ms"] = sum.pdq_ms / n;
  state.counters["iscc_ms"] = sum.iscc_ms / n;
  state.counters["orb_ms"] = sum.orb_ms / n;
  state.counters["search_verify_ms"] = search_ms / n;
  state.counters["refs"] = static_cast<double>(f.refs);
  state.counters["frame"] = frame;
}
// Args: the smallest long side JPEG DCT scaling may give (768: 1/4 of 4000 px, the default;
// 500: 1/8, measured and not kept), and 1 = with the pool (ORB beside PDQ + ISCC, descriptor
// scan in two halves). process_cpu_ms counts the pool's thread too.
BENCHMARK(BM_FullMatch12MP)
    ->Args({768, 0})
    ->Args({768, 1})
    ->Args({500, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Decode alone: arg 0 = resampled to 1024 px (vips_thumbnail, the reference path), arg 1 =
// JPEG DCT scaling to >= 768 px (the query path).
void BM_Decode12MP(benchmark::State& state) {
  Fixture& f = Get();
  chuqu::media::ImageDecodeOptions o;
  o.max_long_side = 1024;
  if (state.range(0) == 1) o.jpeg_shrink_long_side = 768;
  int width = 0;
  for (auto _ : state) {
    auto img = chuqu::media::DecodeImageRgb(f.jpeg, o);
    if (!img.ok()) {
      state.SkipWithError(img.status().message().c_str());
      return;
    }
    width = img->width;
    benchmark::DoNotOptimize(img);
  }
  state.counters["width"] = width;
}
BENCHMARK(BM_Decode12MP)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Search + verify alone (fingerprint computed once).
void BM_SearchVerify(benchmark::State& state) {
  Fixture& f = Get();
  const ImageMatcher& matcher = f.matcher;
  auto fp = chuqu::media::ImageFingerprintFromFile(f.jpeg, chuqu::media::QueryFeatureOptions());
  if (!fp.ok()) {
    state.SkipWithError(fp.status().message().c_str());
    return;
  }
  chuqu::index::ImageSearchStats stats;
  for (auto _ : state) {
    auto r = matcher.Search(*fp, &stats);
    benchmark::DoNotOptimize(r);
  }
  state.counters["descriptors"] = static_cast<double>(fp->descriptors.size());
  state.counters["verified"] = static_cast<double>(stats.verified_images);
}
BENCHMARK(BM_SearchVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
