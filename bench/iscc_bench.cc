// ISCC hot paths: Data-Code (CDC + xxh32 + MinHash), Instance-Code (BLAKE3), ISCC-SUM,
// Text-Code (ICU normalisation + 13-gram xxh32 + MinHash), and the small units.
// Results and commands: docs/benchmarks.md "## ISCC".
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu {
namespace {

std::vector<uint8_t> RandomBytes(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t r = rng();
    std::memcpy(&v[i], &r, 8);
  }
  return v;
}

std::string EnglishLikeText(size_t n) {
  static const char* kWords[] = {"the", "registry", "of", "digital", "works", "records", "content", "codes",
                                 "and", "a", "verifiable", "log", "for", "copy", "detection", "Which", "is",
                                 "built", "from", "open", "standards,", "measured", "carefully."};
  std::mt19937 rng(7);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % std::size(kWords)];
    s += (rng() % 13 == 0) ? "\n" : " ";
  }
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80)) s.pop_back();
  return s;
}

std::string MultilingualText(size_t n) {
  static const char* kWords[] = {"Stra\xC3\x9F" "e", "\xC3\xBC" "ber", "Gr\xC3\xB6\xC3\x9F" "e",
                                 "\xE5\x87\xBA\xE5\xA4\x84", "\xE6\x95\xB0\xE5\xAD\x97",
                                 "\xD0\xBC\xD0\xB8\xD1\x80", "caf\xC3\xA9", "na\xC3\xAFve", "\xCE\xA3\xCE\xBF\xCF\x86"};
  std::mt19937 rng(9);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % std::size(kWords)];
    s += " ";
  }
  return s;
}

void BM_DataCode(benchmark::State& state) {
  const auto data = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    DataHasher h;
    h.Update(data);
    benchmark::DoNotOptimize(h.Digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DataCode)->Arg(64 << 10)->Arg(1 << 20)->Arg(16 << 20);

// Streaming in 64 KiB reads, as a file reader would.
void BM_DataCodeStreamed64K(benchmark::State& state) {
  const auto data = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    DataHasher h;
    for (size_t pos = 0; pos < data.size(); pos += 65536) {
      h.Update(std::span(data).subspan(pos, std::min<size_t>(65536, data.size() - pos)));
    }
    benchmark::DoNotOptimize(h.Digest());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DataCodeStreamed64K)->Arg(16 << 20);

void BM_InstanceCode(benchmark::State& state) {
  const auto data = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    InstanceHasher h;
    h.Update(data);
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_InstanceCode)->Arg(64 << 10)->Arg(1 << 20)->Arg(16 << 20);

void BM_IsccSum(benchmark::State& state) {
  const auto data = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    IsccSumHasher h;
    h.Update(data);
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_IsccSum)->Arg(1 << 20)->Arg(16 << 20);

void BM_TextCodeEnglish(benchmark::State& state) {
  const std::string text = EnglishLikeText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(GenTextCode(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_TextCodeEnglish)->Arg(1 << 10)->Arg(1 << 20);

void BM_TextCodeMultilingual(benchmark::State& state) {
  const std::string text = MultilingualText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(GenTextCode(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_TextCodeMultilingual)->Arg(1 << 20);

void BM_TextCollapse(benchmark::State& state) {
  const std::string text = EnglishLikeText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(IsccTextCollapse(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_TextCollapse)->Arg(1 << 20);

void BM_TextCollapseMultilingual(benchmark::State& state) {
  const std::string text = MultilingualText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(IsccTextCollapse(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_TextCollapseMultilingual)->Arg(1 << 20);

void BM_MinHashFeatures(benchmark::State& state) {
  std::vector<uint32_t> features(4096);
  std::mt19937 rng(3);
  for (auto& f : features) f = static_cast<uint32_t>(rng());
  const auto impl = static_cast<iscc_internal::MinHashImpl>(state.range(0));
  uint64_t mins[64];
  std::fill(std::begin(mins), std::end(mins), 0xFFFFFFFFull);
  for (auto _ : state) {
    iscc_internal::MinHashUpdate(mins, features, impl);
    benchmark::DoNotOptimize(mins);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 4096);
}
BENCHMARK(BM_MinHashFeatures)
    ->Arg(static_cast<int>(iscc_internal::MinHashImpl::kScalar))
    ->Arg(static_cast<int>(iscc_internal::MinHashImpl::kAvx2))
    ->Arg(static_cast<int>(iscc_internal::MinHashImpl::kAvx512));

void BM_MetaCode(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(GenMetaCode("Die Unendliche Geschichte", "Von Michael Ende", std::nullopt));
  }
}
BENCHMARK(BM_MetaCode);

void BM_ImageCode(benchmark::State& state) {
  const auto pixels = RandomBytes(1024);
  for (auto _ : state) benchmark::DoNotOptimize(GenImageCode(pixels));
}
BENCHMARK(BM_ImageCode);

void BM_AudioCode(benchmark::State& state) {
  std::vector<int32_t> cv(300);
  std::mt19937 rng(5);
  for (auto& v : cv) v = static_cast<int32_t>(rng());
  for (auto _ : state) benchmark::DoNotOptimize(GenAudioCode(cv, 256));
}
BENCHMARK(BM_AudioCode);

void BM_VideoCode(benchmark::State& state) {
  std::vector<FrameSignature> frames(10);
  std::mt19937 rng(5);
  for (auto& f : frames) {
    for (auto& v : f) v = static_cast<uint16_t>(rng() % 3);
  }
  for (auto _ : state) benchmark::DoNotOptimize(GenVideoCode(frames));
}
BENCHMARK(BM_VideoCode);

void BM_IsccCode(benchmark::State& state) {
  const std::vector<std::string> units = {"AAAYPXW445FTYNJ3", "EAARMJLTQCUWAND2", "GABVVC5DMJJGYKZ4ZBYVNYABFFYXG",
                                          "IADWIK7A7JTUAQ2D6QARX7OBEIK3OOUAM42LOBLCZ4ZOGDLRHMDL6TQ"};
  for (auto _ : state) benchmark::DoNotOptimize(GenIsccCode(units));
}
BENCHMARK(BM_IsccCode);

void BM_DecodeIscc(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeIscc("ISCC:KACYPXW445FTYNJ3CYSXHAFJMA2HUWULUNRFE3BLHRSCXYH2M5AEGQY"));
  }
}
BENCHMARK(BM_DecodeIscc);

}  // namespace
}  // namespace chuqu

BENCHMARK_MAIN();
