// PostgreSQL store beside the SQLite store, same process and machine: sustained durable
// appends/s through the sequencer, one-entry commit latency, and an inclusion proof served
// from a snapshot. PostgreSQL runs need CHUQU_PG_URL (scripts/pg-test-server -- ...); without
// it those benchmarks report an error and the SQLite ones still run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <random>
#include <thread>

#include "ledger/sequencer.h"
#include "ledger/tiles.h"
#include "store/open_store.h"
#include "store/postgres/pg_store.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;

// A fresh initialized log on store kind `pg` (0 SQLite in /tmp, 1 PostgreSQL schema).
struct FreshLog {
  explicit FreshLog(bool pg) {
    if (pg) {
      const char* url = std::getenv("CHUQU_PG_URL");
      if (url == nullptr) {
        error = "CHUQU_PG_URL is not set (scripts/pg-test-server -- build/.../pg_store_bench)";
        return;
      }
      base_url = url;
      schema = "bench_" + std::to_string(std::random_device()());
      location = base_url + (base_url.find('?') == std::string::npos ? "?" : "&") +
                 "schema=" + schema;
    } else {
      dir = fs::temp_directory_path() / ("chuqu_pg_store_bench_" + std::to_string(getpid()));
      fs::remove_all(dir);
      fs::create_directories(dir);
      location = (dir / "log.db").string();
    }
    auto s = store::OpenStore(location);
    if (!s.ok()) {
      error = s.status().ToString();
      return;
    }
    store = std::move(*s);
    auto k = ledger::Ed25519Signer::Generate("bench.test/log");
    signer = std::move(*k);
    if (Status st = ledger::InitLog(*store, *signer); !st.ok()) error = st.ToString();
  }
  ~FreshLog() {
    store.reset();
    if (!dir.empty()) fs::remove_all(dir);
    if (!schema.empty()) (void)store::PgStore::DropSchema(base_url, schema);
  }
  std::string error, base_url, schema, location;
  fs::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ledger::Ed25519Signer> signer;
};

std::string Entry(uint64_t i) {
  std::string e = "{\"kind\":\"register\",\"seq\":" + std::to_string(i) + ",\"pad\":\"";
  e.resize(256, 'x');
  e.back() = '}';
  return e;
}

// Sustained durable appends: 4 submitters keep 256 appends each in flight; the sequencer
// batches them (5 ms window), one store transaction per batch.
void BM_SustainedAppends(benchmark::State& state) {
  FreshLog log(state.range(0) == 1);
  if (!log.error.empty()) {
    state.SkipWithError(log.error.c_str());
    return;
  }
  auto seq = ledger::Sequencer::Start(*log.store, *log.signer, {});
  if (!seq.ok()) {
    state.SkipWithError(seq.status().ToString().c_str());
    return;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<int> failures{0};
  uint64_t total = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        std::deque<std::future<Result<ledger::SequencedEntry>>> inflight;
        for (int k = 0; k < 1024; ++k) {
          if (inflight.size() >= 256) {
            if (!inflight.front().get().ok()) ++failures;
            inflight.pop_front();
          }
          inflight.push_back((*seq)->Append(Entry(next++)));
        }
        for (auto& f : inflight) {
          if (!f.get().ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    total += 4 * 1024;
  }
  if (failures.load() > 0) state.SkipWithError("appends failed");
  state.SetItemsProcessed(static_cast<int64_t>(total));
  ledger::SequencerStats stats = (*seq)->Stats();
  state.counters["mean_batch"] = static_cast<double>(stats.entries) / stats.batches;
  state.counters["commit_ms"] = stats.commit_micros / 1e3 / stats.batches;
}
BENCHMARK(BM_SustainedAppends)
    ->ArgName("pg")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// One entry per durable commit (no batching window): the latency floor of a lone writer.
void BM_OneEntryCommit(benchmark::State& state) {
  FreshLog log(state.range(0) == 1);
  if (!log.error.empty()) {
    state.SkipWithError(log.error.c_str());
    return;
  }
  ledger::SequencerOptions options;
  options.batch_interval = std::chrono::microseconds(0);
  auto seq = ledger::Sequencer::Start(*log.store, *log.signer, options);
  if (!seq.ok()) {
    state.SkipWithError(seq.status().ToString().c_str());
    return;
  }
  uint64_t i = 0;
  for (auto _ : state) {
    if (!(*seq)->Append(Entry(i++)).get().ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OneEntryCommit)->ArgName("pg")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->MinTime(2.0);

// A snapshot, the latest checkpoint and an inclusion proof for a random entry of a 10^5 log:
// what serving one receipt costs.
void BM_SnapshotInclusionProof(benchmark::State& state) {
  FreshLog log(state.range(0) == 1);
  if (!log.error.empty()) {
    state.SkipWithError(log.error.c_str());
    return;
  }
  ledger::SequencerOptions options;
  options.max_batch_entries = 4096;
  auto seq = ledger::Sequencer::Start(*log.store, *log.signer, options);
  if (!seq.ok()) {
    state.SkipWithError(seq.status().ToString().c_str());
    return;
  }
  const uint64_t n = 100000;
  {
    std::deque<std::future<Result<ledger::SequencedEntry>>> inflight;
    for (uint64_t i = 0; i < n; ++i) {
      inflight.push_back((*seq)->Append(Entry(i)));
      if (inflight.size() >= 8192) {
        (void)inflight.front().get();
        inflight.pop_front();
      }
    }
    for (auto& f : inflight) (void)f.get();
  }
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto snap = log.store->NewSnapshot();
    if (!snap.ok()) {
      state.SkipWithError(snap.status().ToString().c_str());
      break;
    }
    auto latest = (*snap)->LatestCheckpoint();
    const uint64_t size = (*latest)->size;
    store::SnapshotHashReader reader(**snap);
    auto proof = ledger::InclusionProof(rng() % size, size, reader);
    if (!proof.ok()) {
      state.SkipWithError(proof.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnapshotInclusionProof)->ArgName("pg")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace chuqu

BENCHMARK_MAIN();
