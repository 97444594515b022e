// Ledger proofs: inclusion/consistency proof generation from an in-memory stored-hash array at
// 10^7 leaves, tree hash, verification, hashing and Ed25519 checkpoint costs.
// Target: an inclusion proof for a log of 10^7 entries in <= 1 ms given stored hashes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>

#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/tiles.h"

namespace chuqu::ledger {
namespace {

constexpr uint64_t kBigLog = 10'000'000;

// Built once (about 2*10^7 SHA-256 compressions).
const MemoryHashStore& BigLog() {
  static const MemoryHashStore* store = [] {
    auto* s = new MemoryHashStore;
    char buf[8];
    for (uint64_t i = 0; i < kBigLog; ++i) {
      std::memcpy(buf, &i, 8);
      s->Append(LeafHash(std::string_view(buf, 8)));
    }
    return s;
  }();
  return *store;
}

void BM_InclusionProof(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  uint64_t size = static_cast<uint64_t>(state.range(0));
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto proof = InclusionProof(rng() % size, size, log);
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_InclusionProof)->Arg(kBigLog)->Arg(kBigLog - 1)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_InclusionProofAndRoot(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    auto proof = InclusionProof(rng() % kBigLog, kBigLog, log);
    auto root = TreeHash(kBigLog, log);
    benchmark::DoNotOptimize(proof);
    benchmark::DoNotOptimize(root);
  }
}
BENCHMARK(BM_InclusionProofAndRoot)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    auto proof = ConsistencyProof(1 + rng() % (kBigLog - 1), kBigLog, log);
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_ConsistencyProof)->Unit(benchmark::kMicrosecond);

void BM_TreeHash(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  for (auto _ : state) {
    auto root = TreeHash(kBigLog, log);
    benchmark::DoNotOptimize(root);
  }
}
BENCHMARK(BM_TreeHash)->Unit(benchmark::kMicrosecond);

void BM_VerifyInclusion(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  uint64_t index = 1234567;
  char buf[8];
  std::memcpy(buf, &index, 8);
  Hash leaf = LeafHash(std::string_view(buf, 8));
  auto proof = *InclusionProof(index, kBigLog, log);
  Hash root = *TreeHash(kBigLog, log);
  for (auto _ : state) {
    Status st = VerifyInclusion(index, kBigLog, leaf, proof, root);
    benchmark::DoNotOptimize(st);
  }
  state.counters["proof_hashes"] = static_cast<double>(proof.size());
}
BENCHMARK(BM_VerifyInclusion)->Unit(benchmark::kMicrosecond);

void BM_VerifyConsistency(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  uint64_t old_size = 7654321;
  auto proof = *ConsistencyProof(old_size, kBigLog, log);
  Hash r1 = *TreeHash(old_size, log);
  Hash r2 = *TreeHash(kBigLog, log);
  for (auto _ : state) {
    Status st = VerifyConsistency(old_size, kBigLog, proof, r1, r2);
    benchmark::DoNotOptimize(st);
  }
  state.counters["proof_hashes"] = static_cast<double>(proof.size());
}
BENCHMARK(BM_VerifyConsistency)->Unit(benchmark::kMicrosecond);

void BM_LeafHash(benchmark::State& state) {
  std::string entry(static_cast<size_t>(state.range(0)), 'e');
  for (auto _ : state) benchmark::DoNotOptimize(LeafHash(entry));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LeafHash)->Arg(256)->Arg(4096)->Arg(65535);

void BM_NodeHash(benchmark::State& state) {
  Hash a = LeafHash("a"), b = LeafHash("b");
  for (auto _ : state) {
    a = NodeHash(a, b);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_NodeHash);

// Sequencer-side cost of one append: StoredHashes (amortized ~2 hashes) on an in-memory log.
void BM_Append(benchmark::State& state) {
  MemoryHashStore log;
  Hash leaf = LeafHash("entry");
  for (auto _ : state) benchmark::DoNotOptimize(log.Append(leaf));
}
BENCHMARK(BM_Append);

void BM_ReadTileData(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    auto data = ReadTileData({0, rng() % (kBigLog / 256), 256, false}, log);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_ReadTileData)->Unit(benchmark::kMicrosecond);

struct Keys {
  std::unique_ptr<Ed25519Signer> signer = std::move(*Ed25519Signer::Generate("bench.example/log"));
  std::unique_ptr<Ed25519Verifier> verifier = signer->MakeVerifier();
};

void BM_SignCheckpoint(benchmark::State& state) {
  Keys k;
  Checkpoint cp{"bench.example/log", kBigLog, LeafHash("root"), {}};
  const NoteSigner* signers[] = {k.signer.get()};
  for (auto _ : state) benchmark::DoNotOptimize(SignCheckpoint(cp, signers));
}
BENCHMARK(BM_SignCheckpoint)->Unit(benchmark::kMicrosecond);

void BM_OpenCheckpoint(benchmark::State& state) {
  Keys k;
  Checkpoint cp{"bench.example/log", kBigLog, LeafHash("root"), {}};
  const NoteSigner* signers[] = {k.signer.get()};
  std::string note = *SignCheckpoint(cp, signers);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OpenCheckpoint(note, *k.verifier, "bench.example/log"));
  }
}
BENCHMARK(BM_OpenCheckpoint)->Unit(benchmark::kMicrosecond);

// A full receipt for a 10^7 log: proof from stored hashes + formatting, then its verification.
void BM_BuildAndVerifyReceipt(benchmark::State& state) {
  const MemoryHashStore& log = BigLog();
  Keys k;
  Checkpoint cp{"bench.example/log", kBigLog, *TreeHash(kBigLog, log), {}};
  const NoteSigner* signers[] = {k.signer.get()};
  std::string note = *SignCheckpoint(cp, signers);
  ReceiptPolicy policy;
  policy.log_key = k.verifier.get();
  std::mt19937_64 rng(5);
  bool verify = state.range(0) != 0;
  for (auto _ : state) {
    uint64_t i = rng() % kBigLog;
    auto r = BuildReceipt(i, note, log);
    std::string text = FormatReceipt(*r);
    benchmark::DoNotOptimize(text);
    if (verify) {
      char buf[8];
      std::memcpy(buf, &i, 8);
      auto v = VerifyReceipt(*ParseReceipt(text), std::string_view(buf, 8), policy);
      if (!v.ok()) state.SkipWithError("receipt did not verify");
    }
  }
}
BENCHMARK(BM_BuildAndVerifyReceipt)->ArgName("verify")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace chuqu::ledger

BENCHMARK_MAIN();
