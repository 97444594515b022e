// BLAKE3: hashing a message in one Update() equals hashing it in arbitrary pieces, for
// every mode, any output length, and any pair of back ends (portable / SSE4.1 / AVX2 /
// AVX-512). The message is the fuzz payload repeated to a fuzzed length of up to 128 KiB,
// so small inputs still reach multi-level trees and the wide hash_many paths.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fingerprint/blake3/blake3.h"
#include "fingerprint/blake3/blake3_impl.h"

namespace {

namespace bi = chuqu::blake3_internal;

bi::Impl PickImpl(uint8_t selector) {
  std::vector<bi::Impl> supported;
  for (bi::Impl impl : bi::kAllImpls) {
    if (bi::ImplSupported(impl)) supported.push_back(impl);
  }
  return supported[selector % supported.size()];
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bi::Impl impl_one_shot = PickImpl(in.ConsumeIntegral<uint8_t>());
  const bi::Impl impl_streamed = PickImpl(in.ConsumeIntegral<uint8_t>());
  const int mode = in.ConsumeIntegralInRange<int>(0, 2);
  std::array<uint8_t, 32> key{};
  std::string context;
  if (mode == 1) {
    const std::vector<uint8_t> k = in.ConsumeBytes<uint8_t>(32);
    std::copy(k.begin(), k.end(), key.begin());
  } else if (mode == 2) {
    context = in.ConsumeRandomLengthString(64);
  }
  // Log-uniform length up to 128 KiB: mostly short (fast runs), sometimes several
  // 16-chunk runs and a multi-level tree.
  const int bits = in.ConsumeIntegralInRange<int>(0, 17);
  const size_t total = in.ConsumeIntegral<uint32_t>() % ((size_t{1} << bits) + 1);
  const size_t out_len = in.ConsumeIntegralInRange<size_t>(0, 300);
  // Cut points come from a seeded generator, so that every input gets many, spread over
  // the whole message and often near block and chunk boundaries.
  uint64_t state = in.ConsumeIntegral<uint64_t>();
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  };
  std::vector<size_t> cuts(next() % 25);
  for (auto& c : cuts) {
    const size_t unit = next() % 2 ? 1024 : 64;
    switch (next() % 3) {
      case 0: c = next() % (total + 1); break;
      case 1: c = next() % (total / unit + 1) * unit; break;
      default: c = next() % (total / unit + 1) * unit + next() % 3 - 1; break;
    }
    c = std::min(c, total);
  }
  std::sort(cuts.begin(), cuts.end());
  const std::vector<uint8_t> payload = in.ConsumeRemainingBytes<uint8_t>();

  std::vector<uint8_t> message(total);
  for (size_t i = 0; i < total; ++i) {
    message[i] = payload.empty() ? static_cast<uint8_t>(i * 31) : payload[i % payload.size()];
  }
  auto fresh = [&] {
    if (mode == 1) return chuqu::Blake3Hasher::Keyed(key);
    if (mode == 2) return chuqu::Blake3Hasher::DeriveKey(context);
    return chuqu::Blake3Hasher();
  };

  bi::SetImpl(impl_one_shot);
  chuqu::Blake3Hasher one = fresh();
  one.Update(message);
  std::vector<uint8_t> want(out_len);
  one.Finalize(want);
  const std::array<uint8_t, 32> want32 = one.Finalize();
  Check(std::equal(want.begin(), want.begin() + std::min<size_t>(32, out_len), want32.begin()));

  bi::SetImpl(impl_streamed);
  chuqu::Blake3Hasher streamed = fresh();
  size_t pos = 0;
  for (size_t cut : cuts) {
    streamed.Update(std::span<const uint8_t>(message).subspan(pos, cut - pos));
    pos = cut;
  }
  streamed.Update(std::span<const uint8_t>(message).subspan(pos));
  std::vector<uint8_t> got(out_len);
  streamed.Finalize(got);
  Check(got == want);
  return 0;
}
