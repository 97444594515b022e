// BLAKE3 throughput per back end (portable, SSE4.1, AVX2, AVX-512): one-shot hashing of
// 4 B and 1 KiB .. 16 MiB, and 16 MiB streamed in 64 KiB, 4 KiB and 1000-byte updates.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "fingerprint/blake3/blake3.h"
#include "fingerprint/blake3/blake3_impl.h"

namespace {

namespace bi = chuqu::blake3_internal;

std::vector<uint8_t> Input(size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  return v;
}

void BM_OneShot(benchmark::State& state, bi::Impl impl) {
  bi::SetImpl(impl);
  const std::vector<uint8_t> in = Input(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(chuqu::Blake3(in));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

// range(0) bytes fed in pieces of range(1) bytes.
void BM_Streaming(benchmark::State& state, bi::Impl impl) {
  bi::SetImpl(impl);
  const std::vector<uint8_t> in = Input(static_cast<size_t>(state.range(0)));
  const auto piece = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    chuqu::Blake3Hasher h;
    for (size_t pos = 0; pos < in.size(); pos += piece) {
      h.Update(std::span<const uint8_t>(in).subspan(pos, std::min(piece, in.size() - pos)));
    }
    benchmark::DoNotOptimize(h.Finalize());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

}  // namespace

int main(int argc, char** argv) {
  for (bi::Impl impl : bi::kAllImpls) {
    if (!bi::ImplSupported(impl)) continue;
    const std::string name = bi::ImplName(impl);
    benchmark::RegisterBenchmark(("BM_Blake3/" + name).c_str(), BM_OneShot, impl)
        ->Arg(4)  // an ISCC Meta-Code n-gram
        ->Arg(1 << 10)
        ->Arg(64 << 10)
        ->Arg(1 << 20)
        ->Arg(16 << 20);
    benchmark::RegisterBenchmark(("BM_Blake3Streaming/" + name).c_str(), BM_Streaming, impl)
        ->Args({16 << 20, 64 << 10})
        ->Args({16 << 20, 4 << 10})
        ->Args({16 << 20, 1000});
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
