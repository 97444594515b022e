// Registry::Open of an existing registry: the replay of its whole log into the in-memory
// state and the match indexes (what a restart after a crash, and every local CLI command,
// waits for). The registry is read from CHUQU_BENCH_REGISTRY (a data directory; never
// written); without it the benchmark says so and does nothing. load_gen makes one:
//   load_gen --spawn --chuqu build/release/apps/chuqu/chuqu --keep /tmp/reg --duration 120
//            --threads 8 --mix text=1,image=1   (one line; the registry is /tmp/reg/data)
// (docs/benchmarks.md "Registry open"). Arguments: 0 = replay on the calling thread, 1 = parse and verify on a
// ThreadPool of (cores - 1) workers a batch ahead of the replay (what `chuqu` does).
// Command: CHUQU_BENCH_REGISTRY=DIR registry_open_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "base/task_runner.h"
#include "registry/registry.h"

namespace {

void BM_Open(benchmark::State& state) {
  const char* dir = std::getenv("CHUQU_BENCH_REGISTRY");
  if (dir == nullptr) {
    state.SkipWithError("set CHUQU_BENCH_REGISTRY to a registry data directory (see the header)");
    return;
  }
  std::unique_ptr<chuqu::ThreadPool> pool;
  chuqu::registry::Options options;
  if (state.range(0) == 1) {
    pool = std::make_unique<chuqu::ThreadPool>(
        std::max(1u, std::thread::hardware_concurrency() - 1));
    options.open_runner = pool.get();
  }
  uint64_t entries = 0;
  for (auto _ : state) {
    chuqu::Result<std::unique_ptr<chuqu::registry::Registry>> r =
        chuqu::registry::Registry::Open(dir, options);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    entries = (*r)->size();
    state.PauseTiming();  // freeing the registry is not part of opening it
    r->reset();
    state.ResumeTiming();
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["us/entry"] = benchmark::Counter(
      static_cast<double>(entries) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Open)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
