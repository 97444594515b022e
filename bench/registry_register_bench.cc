// Registration of small images through the registry, without HTTP: what one registration costs
// a core, for the load benchmark's image uploads (docs/benchmarks.md "Registry server under
// load"). Each iteration registers a new unique 128 x 128 PNG (bench/small_png.h) into a
// registry already holding 1,000 of them, so the prior-art search runs against real works.
//   FingerprintImage — the in-memory path's fingerprints alone: detection, one decode, ISCC
//                      Image-Code, PDQ dihedrals, ORB, SHA-256 / Data-Code / Instance-Code;
//   RegisterImage    — that plus the prior-art search, the signed entry and its durable write;
//   RegisterFile     — the same through a file written first (the path every upload took
//                      before images were read from memory).
// Command: registry_register_bench --benchmark_min_time=2 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "registry/registry.h"
#include "small_png.h"

namespace {

namespace fs = std::filesystem;
using chuqu::registry::PartyKey;
using chuqu::registry::Registry;

constexpr int kRegistered = 1000;

struct Fixture {
  std::string dir;
  std::unique_ptr<Registry> registry;
  PartyKey alice = PartyKey::Generate();
  uint64_t next_seed = 1;

  Fixture() {
    std::string tmpl = (fs::temp_directory_path() / "chuqu_register_bench_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
    auto r = Registry::Init(dir + "/reg", "bench.example/log");
    if (!r.ok()) std::abort();
    registry = std::move(*r);
    if (!registry->RegisterParty(alice, "Alice").ok()) std::abort();
    for (int i = 0; i < kRegistered; ++i) {
      if (!registry->RegisterImage(alice, Next(), "seed.png", {}).ok()) std::abort();
    }
  }
  ~Fixture() { fs::remove_all(dir); }

  std::string Next() { return chuqu::bench::MakePng(next_seed++); }

  // `n` new images, made outside the timed loop.
  std::vector<std::string> Batch(size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(Next());
    return out;
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

// Runs `op` on a fresh image per iteration; images are made in batches with the timer paused.
template <typename Op>
void Run(benchmark::State& state, Op op) {
  Fixture& f = Get();
  std::vector<std::string> images;
  size_t used = 0;
  for (auto _ : state) {
    if (used == images.size()) {
      state.PauseTiming();
      images = f.Batch(256);
      used = 0;
      state.ResumeTiming();
    }
    if (!op(f, images[used++])) {
      state.SkipWithError("registration failed");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["registered"] = static_cast<double>(f.registry->size());
}

void BM_FingerprintImage(benchmark::State& state) {
  Run(state, [](Fixture&, const std::string& png) {
    auto fp = Registry::FingerprintImage(png, "image.png");
    benchmark::DoNotOptimize(fp);
    return fp.ok() && fp->pdq.has_value();
  });
}
BENCHMARK(BM_FingerprintImage)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RegisterImage(benchmark::State& state) {
  Run(state, [](Fixture& f, const std::string& png) {
    return f.registry->RegisterImage(f.alice, png, "image.png", {}).ok();
  });
}
BENCHMARK(BM_RegisterImage)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RegisterFile(benchmark::State& state) {
  Run(state, [](Fixture& f, const std::string& png) {
    const std::string path = f.dir + "/upload.png";
    std::ofstream(path, std::ios::binary) << png;
    const bool ok = f.registry->RegisterFile(f.alice, path, {}).ok();
    fs::remove(path);
    return ok;
  });
}
BENCHMARK(BM_RegisterFile)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
