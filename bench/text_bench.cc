// Timings of the text copy-detection hot paths: normalisation, winnowing, and search in an
// index of every registered work of shared/data/text (built once, ~15 s).
//
//   build/<dir>/bench/text_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fingerprint/text/text_fingerprint.h"
#include "index/text_index.h"

namespace {

using chuqu::index::TextIndex;
using chuqu::text::NormalizedText;

const std::string kData = std::string(CHUQU_SHARED_DATA) + "/text";

std::vector<std::string> ReadTexts(const std::string& file, bool registered_only, size_t limit) {
  std::vector<std::string> out;
  gzFile f = gzopen((kData + "/" + file).c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot open %s\n", file.c_str());
    std::exit(1);
  }
  std::string line;
  std::vector<char> buf(1 << 20);
  int n;
  auto flush = [&] {
    if (line.empty() || out.size() >= limit) return;
    auto j = nlohmann::json::parse(line);
    if (!registered_only || j.value("split", "registered") == "registered") {
      out.push_back(j["text"].get<std::string>());
    }
  };
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
    for (int i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        flush();
        line.clear();
      } else {
        line.push_back(buf[i]);
      }
    }
  }
  flush();
  gzclose(f);
  return out;
}

// ~`bytes` of law text (UTF-8, cut at a code-point boundary).
std::string LawText(size_t bytes) {
  static const std::vector<std::string> laws = ReadTexts("zh_works_laws.jsonl.gz", false, 200);
  std::string s;
  for (const auto& l : laws) {
    s += l;
    if (s.size() >= bytes) break;
  }
  size_t i = std::min(bytes, s.size());
  while (i > 0 && i < s.size() && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) --i;
  return s.substr(0, i);
}

void BM_Normalize(benchmark::State& state) {
  const std::string text = LawText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    chuqu::Result<NormalizedText> n = chuqu::text::Normalize(text);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Normalize)->Arg(1 << 10)->Arg(10 << 10)->Arg(1 << 20);

void BM_Winnow(benchmark::State& state) {
  const std::string text = LawText(static_cast<size_t>(state.range(0)));
  const NormalizedText n = *chuqu::text::Normalize(text);
  for (auto _ : state) {
    auto f = chuqu::text::Winnow(n, {});
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Winnow)->Arg(10 << 10)->Arg(1 << 20);

// The registry index, built once for every search benchmark.
struct Registry {
  TextIndex index;
  size_t works = 0;
};

const Registry& GetRegistry() {
  static const std::unique_ptr<Registry> r = [] {
    auto reg = std::make_unique<Registry>();
    uint64_t id = 0;
    for (const char* file : {"zh_works_poetry.jsonl.gz", "zh_works_laws.jsonl.gz"}) {
      for (const std::string& t : ReadTexts(file, true, SIZE_MAX)) {
        auto f = chuqu::text::FingerprintText(t, reg->index.options().winnow);
        if (!f.ok() || !reg->index.Add(id++, *f).ok()) std::exit(1);
      }
    }
    reg->index.Compact();
    reg->works = id;
    return reg;
  }();
  return *r;
}

// A query of held-out law text (unregistered) of `bytes`, with a registered law passage in
// its last kilobyte when `with_copy`.
std::string Query(size_t bytes, bool with_copy) {
  static const std::vector<std::string> heldout = [] {
    std::vector<std::string> out;
    gzFile f = gzopen((kData + "/zh_works_laws.jsonl.gz").c_str(), "rb");
    std::string line;
    std::vector<char> buf(1 << 20);
    int n;
    while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
      for (int i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
          line.push_back(buf[i]);
          continue;
        }
        auto j = nlohmann::json::parse(line);
        if (j["split"] == "heldout") out.push_back(j["text"].get<std::string>());
        line.clear();
      }
    }
    gzclose(f);
    return out;
  }();
  std::string s;
  for (const auto& h : heldout) {
    s += h;
    if (s.size() >= bytes) break;
  }
  auto cut = [](const std::string& t, size_t b) {
    size_t i = std::min(b, t.size());
    while (i > 0 && i < t.size() && (static_cast<uint8_t>(t[i]) & 0xC0) == 0x80) --i;
    return t.substr(0, i);
  };
  if (!with_copy) return cut(s, bytes);
  const std::string law = LawText(8192);
  size_t from = 2048;
  while (from < law.size() && (static_cast<uint8_t>(law[from]) & 0xC0) == 0x80) ++from;
  const size_t copy = std::min<size_t>(bytes / 2, 1024);
  return cut(s, bytes - copy) + cut(law.substr(from), copy);
}

void BM_Search(benchmark::State& state) {
  const Registry& reg = GetRegistry();
  const std::string q = Query(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  size_t matches = 0;
  for (auto _ : state) {
    chuqu::Result<NormalizedText> n = chuqu::text::Normalize(q);
    std::vector<chuqu::index::TextMatch> m = reg.index.Search(*n);
    matches = m.size();
    benchmark::DoNotOptimize(m);
  }
  state.counters["works"] = static_cast<double>(reg.works);
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["index_MiB"] = reg.index.MemoryBytes() / 1048576.0;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * q.size()));
}
// {query bytes, contains a registered passage}; normalise + search, fingerprints only.
BENCHMARK(BM_Search)->Args({1 << 10, 1})->Args({10 << 10, 0})->Args({10 << 10, 1})->Args({100 << 10, 1})
    ->Unit(benchmark::kMicrosecond);

// A common phrase shared by thousands of works (boilerplate filter off): bounded answer.
void BM_SearchCommonPhrase(benchmark::State& state) {
  static const std::unique_ptr<TextIndex> index = [] {
    chuqu::index::TextIndexOptions o;
    o.max_df = 1u << 30;
    auto idx = std::make_unique<TextIndex>(o);
    const std::string phrase = "中华人民共和国国务院依照本法规定制定实施细则";
    const std::string filler = LawText(1 << 20);
    for (uint64_t id = 0; id < 5000; ++id) {
      auto boundary = [&](size_t i) {
        while (i < filler.size() && (static_cast<uint8_t>(filler[i]) & 0xC0) == 0x80) ++i;
        return i;
      };
      const size_t at = boundary((id * 997) % (filler.size() / 2));
      const std::string t = filler.substr(at, boundary(at + 300) - at) + phrase;
      auto f = chuqu::text::FingerprintText(t, o.winnow);
      if (!f.ok() || !idx->Add(id, *f).ok()) std::exit(1);
    }
    idx->Compact();
    return idx;
  }();
  const NormalizedText q = *chuqu::text::Normalize("据悉，中华人民共和国国务院依照本法规定制定实施细则。");
  size_t matches = 0;
  for (auto _ : state) {
    auto m = index->Search(q);
    matches = m.size();
    benchmark::DoNotOptimize(m);
  }
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["works"] = static_cast<double>(index->size());
}
BENCHMARK(BM_SearchCommonPhrase)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
