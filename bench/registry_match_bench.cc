// Full image match through the registry, as `chuqu match` and POST /v1/match run it:
// Registry::MatchFile of a 12-megapixel JPEG (4000 x 3000, made at start-up from kodim05 with
// libvips) — content detection, SHA-256 / Data-Code / Instance-Code over the file, one
// shrink-on-load decode, PDQ dihedrals, ISCC Image-Code, ORB, and every matcher (exact, PDQ,
// ISCC, image-local) — against a registry holding the Kodak images and the media corpus
// references (CHUQU_IMAGE_CORPUS, default /work/corpus/default; skipped if absent), each
// registered with RegisterFile. image_match_bench times the image matcher alone.
// Command: registry_match_bench --benchmark_min_time=2 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <vips/vips.h>

#include "base/task_runner.h"
#include "registry/registry.h"
#include "twelve_mp_jpeg.h"

namespace {

namespace fs = std::filesystem;
using chuqu::registry::Registry;

struct Fixture {
  std::string dir;
  std::string jpeg;  // the 12-MP query
  std::unique_ptr<Registry> registry;
  chuqu::ThreadPool pool{1};  // the second core, as `chuqu match` passes it
  bool pooled = false;        // whether `registry` was opened with the pool
  uint64_t kodim05 = 0;
  size_t works = 0;

  Fixture() {
    if (vips_init("registry_match_bench") != 0) std::abort();
    std::string tmpl = (fs::temp_directory_path() / "chuqu_registry_match_bench_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
    const std::string kodak = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/";
    jpeg = dir + "/query_12mp.jpg";
    chuqu::bench::WriteTwelveMpJpeg(jpeg);

    auto r = Registry::Init(dir + "/reg", "bench.example/log");
    if (!r.ok()) std::abort();
    registry = std::move(*r);
    auto add = [&](const fs::path& path) {
      chuqu::registry::WorkInfo info;
      info.kind = "image";
      info.title = path.stem().string();
      auto w = registry->RegisterFile(registry->operator_key(), path.string(), info);
      if (!w.ok()) return;
      ++works;
      if (path.filename() == "kodim05.png") kodim05 = w->work;
    };
    for (const auto& e : fs::directory_iterator(kodak)) add(e.path());
    const char* env = std::getenv("CHUQU_IMAGE_CORPUS");
    const std::string corpus = env != nullptr ? env : "/work/corpus/default";
    if (fs::is_directory(corpus + "/images/refs")) {
      for (const auto& e : fs::directory_iterator(corpus + "/images/refs")) add(e.path());
    }
  }
  ~Fixture() { fs::remove_all(dir); }

  // Reopens the registry with or without the pool (MatcherOptions::runner).
  bool Use(bool with_pool) {
    if (with_pool == pooled) return true;
    registry.reset();
    chuqu::registry::Options options;
    if (with_pool) options.matcher.runner = &pool;
    auto r = Registry::Open(dir + "/reg", options);
    if (!r.ok()) return false;
    registry = std::move(*r);
    pooled = with_pool;
    return true;
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_RegistryMatchFile12MP(benchmark::State& state) {
  Fixture& f = Get();
  if (!f.Use(state.range(0) != 0)) {
    state.SkipWithError("cannot reopen the registry");
    return;
  }
  const double cpu0 = chuqu::bench::ProcessCpuMs();
  for (auto _ : state) {
    auto m = f.registry->MatchFile(f.jpeg);
    if (!m.ok() || m->empty() || (*m)[0].work != f.kodim05) {
      state.SkipWithError("the 12-MP copy of kodim05 was not the first match");
      return;
    }
    benchmark::DoNotOptimize(m);
  }
  state.counters["process_cpu_ms"] =
      (chuqu::bench::ProcessCpuMs() - cpu0) / static_cast<double>(state.iterations());
  state.counters["works"] = static_cast<double>(f.works);
}
// Arg: 0 = one thread (the server's default), 1 = with a one-worker pool (`chuqu match`).
// process_cpu_ms counts the pool's thread and libvips's.
BENCHMARK(BM_RegistryMatchFile12MP)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
