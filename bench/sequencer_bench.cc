// Sequencer and SQLite store: sustained durable appends/s, submit-to-receipt latency under an
// offered load, and inclusion proofs served from a store of 10^7 entries.
//
// Every commit is durable (WAL, synchronous=FULL). Stores live under $CHUQU_BENCH_DIR
// (default /tmp/chuqu_sequencer_bench); the 10^7-entry store is built once (takes minutes)
// and reused by later runs. $CHUQU_BENCH_BIG_N changes its size.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "ledger/log_view.h"
#include "ledger/sequencer.h"
#include "ledger/tiles.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path BenchDir() {
  const char* env = std::getenv("CHUQU_BENCH_DIR");
  fs::path dir = env ? env : "/tmp/chuqu_sequencer_bench";
  fs::create_directories(dir);
  return dir;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "sequencer_bench: %s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}
void Must(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "sequencer_bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

// A fresh, initialized log.
struct FreshLog {
  explicit FreshLog(const std::string& name) {
    path = BenchDir() / (name + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
    signer = Must(ledger::Ed25519Signer::Generate("bench.test/log"));
    store = Must(store::SqliteStore::Open(path.string()));
    Must(ledger::InitLog(*store, *signer));
  }
  fs::path path;
  std::unique_ptr<ledger::Ed25519Signer> signer;
  std::unique_ptr<store::SqliteStore> store;
};

// A registration-sized entry (DESIGN.md entries are canonical JSON, typically a few hundred B).
std::string Entry(uint64_t i, size_t size) {
  std::string e = "{\"kind\":\"register\",\"seq\":" + std::to_string(i) + ",\"pad\":\"";
  e.resize(std::max(size, e.size() + 2), 'x');
  e.back() = '}';
  return e;
}

// Sustained throughput: `window` appends in flight from each of `submitters` threads.
void BM_SustainedAppends(benchmark::State& state) {
  const int submitters = static_cast<int>(state.range(0));
  const size_t window = static_cast<size_t>(state.range(1));
  FreshLog log("throughput");
  ledger::SequencerOptions options;  // defaults: 5 ms interval
  auto sequencer = Must(ledger::Sequencer::Start(*log.store, *log.signer, options));
  std::atomic<uint64_t> next{0};
  uint64_t total = 0;
  for (auto _ : state) {
    // One iteration: every submitter pushes 4 windows, keeping `window` in flight.
    std::vector<std::thread> threads;
    for (int t = 0; t < submitters; ++t) {
      threads.emplace_back([&] {
        std::deque<std::future<Result<ledger::SequencedEntry>>> inflight;
        for (size_t k = 0; k < 4 * window; ++k) {
          if (inflight.size() >= window) {
            Must(inflight.front().get());
            inflight.pop_front();
          }
          inflight.push_back(sequencer->Append(Entry(next++, 256)));
        }
        for (auto& f : inflight) Must(f.get());
      });
    }
    for (auto& th : threads) th.join();
    total += 4 * window * submitters;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
  ledger::SequencerStats stats = sequencer->Stats();
  state.counters["mean_batch"] = static_cast<double>(stats.entries) / stats.batches;
  state.counters["commit_ms"] = stats.commit_micros / 1e3 / stats.batches;
}
BENCHMARK(BM_SustainedAppends)
    ->Args({4, 256})
    ->Args({8, 512})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);

// Open-loop offered load: one submission every 1/rate s for `seconds`; latency from submit
// to receipt in hand. Futures resolve in index order, so waiting on them in order is exact.
void BM_OfferedLoadLatency(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));
  const auto interval_us = state.range(1);
  const double seconds = 10;
  FreshLog log("latency");
  ledger::SequencerOptions options;
  options.batch_interval = std::chrono::microseconds(interval_us);
  auto sequencer = Must(ledger::Sequencer::Start(*log.store, *log.signer, options));
  std::vector<double> latencies_ms;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<Clock::time_point, std::future<Result<ledger::SequencedEntry>>>> q;
    bool done = false;
    std::thread collector([&] {
      while (true) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done || !q.empty(); });
        if (q.empty()) return;
        auto item = std::move(q.front());
        q.pop_front();
        lock.unlock();
        Must(item.second.get());
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - item.first).count());
      }
    });
    const auto start = Clock::now();
    const auto period = std::chrono::duration<double>(1.0 / rate);
    const uint64_t n = static_cast<uint64_t>(rate * seconds);
    for (uint64_t i = 0; i < n; ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(period * i));
      auto submitted = Clock::now();
      auto f = sequencer->Append(Entry(i, 256));
      {
        std::lock_guard<std::mutex> lock(mu);
        q.emplace_back(submitted, std::move(f));
      }
      cv.notify_one();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_one();
    collector.join();
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms[std::min(latencies_ms.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(latencies_ms.size())))];
  };
  state.counters["p50_ms"] = pct(0.50);
  state.counters["p99_ms"] = pct(0.99);
  state.counters["max_ms"] = latencies_ms.back();
  state.counters["entries"] = static_cast<double>(latencies_ms.size());
  ledger::SequencerStats stats = sequencer->Stats();
  state.counters["mean_batch"] = static_cast<double>(stats.entries) / stats.batches;
  state.counters["commit_ms"] = stats.commit_micros / 1e3 / stats.batches;
}
BENCHMARK(BM_OfferedLoadLatency)
    ->ArgNames({"rate", "interval_us"})
    ->Args({1000, 5000})
    ->Args({1000, 1000})
    ->Args({1000, 0})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// The big store: built once with direct store batches (the sequencer's own path would take
// N / (appends/s) seconds), then reused.
struct BigLog {
  std::unique_ptr<ledger::Ed25519Signer> signer;
  std::unique_ptr<ledger::Ed25519Verifier> verifier;
  std::unique_ptr<store::SqliteStore> store;
  uint64_t size = 0;
};

BigLog& Big() {
  static BigLog* big = [] {
    auto* b = new BigLog;
    const char* env = std::getenv("CHUQU_BENCH_BIG_N");
    const uint64_t n = env ? std::strtoull(env, nullptr, 10) : 10'000'000;
    const fs::path db = BenchDir() / ("big_" + std::to_string(n) + ".db");
    const fs::path key = BenchDir() / ("big_" + std::to_string(n) + ".key");
    store::SqliteOptions options;
    options.quick_check_on_open = false;  // O(file size); the bench measures proofs, not open
    if (fs::exists(db) && fs::exists(key)) {
      std::ifstream in(key);
      std::string skey;
      std::getline(in, skey);
      b->signer = Must(ledger::Ed25519Signer::FromSignerKey(skey));
      b->store = Must(store::SqliteStore::Open(db.string(), options));
    } else {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
      b->signer = Must(ledger::Ed25519Signer::Generate("bench.test/big"));
      b->store = Must(store::SqliteStore::Open(db.string(), options));
      Must(ledger::InitLog(*b->store, *b->signer));
      const auto t0 = Clock::now();
      ledger::MemoryHashStore tree;
      const ledger::NoteSigner* signers[] = {b->signer.get()};
      constexpr uint64_t kBatch = 100'000;
      for (uint64_t first = 0; first < n; first += kBatch) {
        store::AppendBatch batch;
        batch.old_size = first;
        const uint64_t count = std::min(kBatch, n - first);
        for (uint64_t i = first; i < first + count; ++i) {
          batch.entries.push_back(Entry(i, 64));
          tree.Append(ledger::LeafHash(batch.entries.back()));
        }
        const auto& hashes = tree.hashes();
        batch.hashes.assign(hashes.begin() + ledger::StoredHashCount(first), hashes.end());
        for (const ledger::Tile& tile : ledger::NewTiles(first, first + count)) {
          batch.tiles.push_back({tile.level, tile.index, Must(ledger::ReadTileData(tile, tree))});
        }
        ledger::Checkpoint cp;
        cp.origin = b->signer->name();
        cp.size = first + count;
        cp.root_hash = Must(ledger::TreeHash(cp.size, tree));
        batch.checkpoint = {cp.size, cp.root_hash, Must(ledger::SignCheckpoint(cp, signers))};
        Must(b->store->Append(batch));
      }
      std::fprintf(stderr, "built a %llu-entry store in %.0f s: %s (%.2f GB)\n",
                   static_cast<unsigned long long>(n),
                   std::chrono::duration<double>(Clock::now() - t0).count(), db.c_str(),
                   static_cast<double>(fs::file_size(db)) / 1e9);
      std::ofstream(key) << b->signer->SignerKey() << "\n";
      fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    }
    b->verifier = b->signer->MakeVerifier();
    auto snap = Must(b->store->NewSnapshot());
    b->size = Must(ledger::LatestCheckpoint(*snap, *b->verifier)).checkpoint.size;
    return b;
  }();
  return *big;
}

// The raw proof: ~2 log2(n) stored-hash lookups in SQLite.
void BM_InclusionProofFromStore(benchmark::State& state) {
  BigLog& big = Big();
  auto snap = Must(big.store->NewSnapshot());
  store::SnapshotHashReader reader(*snap);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto proof = Must(ledger::InclusionProof(rng() % big.size, big.size, reader));
    benchmark::DoNotOptimize(proof);
  }
  state.counters["log_size"] = static_cast<double>(big.size);
}
BENCHMARK(BM_InclusionProofFromStore)->Unit(benchmark::kMicrosecond);

// What `chuqu log prove` and the server serve: a fresh snapshot, the checkpoint's signature
// checked and its root recomputed from the stored hashes, the entry read and checked against
// its leaf hash, the proof built and verified, the receipt formatted.
void BM_CheckedReceiptFromStore(benchmark::State& state) {
  BigLog& big = Big();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    auto snap = Must(big.store->NewSnapshot());
    auto receipt = Must(ledger::ProveEntry(*snap, *big.verifier, rng() % big.size));
    benchmark::DoNotOptimize(ledger::FormatReceipt(receipt));
  }
  state.counters["log_size"] = static_cast<double>(big.size);
}
BENCHMARK(BM_CheckedReceiptFromStore)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace chuqu

BENCHMARK_MAIN();
