// Descriptor search of the image matcher's local tier: the flat multi-query scan
// (FlatHammingIndex<4>::RangeSearchBatch) against the inverted file (IvfHammingIndex), for
// one query of 600 real ORB descriptors at radius 56, cap 16 (ImageMatcherOptions), over
// 67k, 2.5 x 10^5, 10^6 and 10^7 stored descriptors.
//
// The stored descriptors are real: those of the media corpus references (67k, from
// images/refs/ as the matcher indexes them); larger sets replicate them with 4..20 random
// bits flipped per copy (ORB bits are correlated, uniform random codes would make the
// vocabulary meaningless and the flat scan's hits rare). The query is the first corpus
// query image with at least 600 descriptors (QueryFeatureOptions), cut to 600.
//
// Each iteration runs the flat scan, then the inverted file, on the calling thread, timed by
// the thread's CPU clock (the machine may be busy), so both see the same load. Counters:
// CPU ms per query for each, hit recall (the flat scan's first-16 hits the inverted file
// returns, summed over the 600 descriptors), candidates per query descriptor, bytes per
// stored descriptor (MemoryBytes / n) and the training (Build) CPU seconds.
//
// BM_FlatVsIvfGrown builds the inverted file as ImageMatcher grows it in a registry: Build at
// ImageMatcherOptions::ivf_min_descriptors (the switch), then one Add per descriptor, which
// retrains at each doubling up to IvfOptions::max_retrain_size and not after. Extra
// counters: the slowest single Add (the retraining a registration waits for) and the CPU
// seconds of all the Adds.
//
// Environment: CHUQU_IMAGE_CORPUS (default /work/corpus/default); CHUQU_IVF_LIST_SIZE,
// CHUQU_IVF_PROBES, CHUQU_IVF_COARSE_PROBES override IvfOptions (for tuning; the defaults
// are ImageMatcher's).
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "index/hamming_index.h"
#include "index/image_matcher.h"
#include "index/ivf_hamming_index.h"
#include "media/image_features.h"

namespace {

namespace fs = std::filesystem;
using chuqu::index::Code256;
using chuqu::index::FlatHammingIndex;
using chuqu::index::IvfHammingIndex;
using chuqu::index::Neighbor;

constexpr uint32_t kRadius = 56;
constexpr size_t kCap = 16;
constexpr size_t kQueryDescriptors = 600;

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Corpus {
  std::vector<Code256> stored;  // the references' descriptors, in registration order
  std::vector<Code256> query;
};

const Corpus& GetCorpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus;
    const char* env = std::getenv("CHUQU_IMAGE_CORPUS");
    const std::string root = env != nullptr ? env : "/work/corpus/default";
    std::vector<fs::path> refs, queries;
    for (const auto& e : fs::directory_iterator(root + "/images/refs")) refs.push_back(e.path());
    for (const auto& e : fs::directory_iterator(root + "/images/queries")) {
      queries.push_back(e.path());
    }
    std::sort(refs.begin(), refs.end());
    std::sort(queries.begin(), queries.end());
    for (const fs::path& p : refs) {
      auto fp = chuqu::media::ImageFingerprintFromFile(p.string());
      if (fp.ok()) c->stored.insert(c->stored.end(), fp->descriptors.begin(), fp->descriptors.end());
    }
    for (const fs::path& p : queries) {
      auto fp = chuqu::media::ImageFingerprintFromFile(p.string(),
                                                       chuqu::media::QueryFeatureOptions());
      if (fp.ok() && fp->descriptors.size() >= kQueryDescriptors) {
        c->query.assign(fp->descriptors.begin(), fp->descriptors.begin() + kQueryDescriptors);
        break;
      }
    }
    return c;
  }();
  return *corpus;
}

chuqu::index::IvfOptions OptionsFromEnv() {
  chuqu::index::IvfOptions o;
  if (const char* v = std::getenv("CHUQU_IVF_LIST_SIZE")) o.list_size = std::strtoul(v, nullptr, 10);
  if (const char* v = std::getenv("CHUQU_IVF_PROBES")) {
    o.probes = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
  }
  if (const char* v = std::getenv("CHUQU_IVF_COARSE_PROBES")) {
    o.coarse_probes = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
  }
  return o;
}

// The indexes for n stored descriptors (n = 0: the corpus' own); one size alive at a time.
struct Indexes {
  size_t n = 0;
  bool grown = false;
  double max_add_ms = 0;
  FlatHammingIndex<4> flat;
  IvfHammingIndex ivf{OptionsFromEnv()};
  double train_cpu_s = 0;
};

Indexes& GetIndexes(size_t n, bool grown) {
  static std::unique_ptr<Indexes> current;
  const Corpus& corpus = GetCorpus();
  if (n == 0) n = corpus.stored.size();
  if (current != nullptr && current->n == n && current->grown == grown) return *current;
  current.reset();
  auto x = std::make_unique<Indexes>();
  x->n = n;
  x->grown = grown;
  std::vector<uint64_t> ids(n);
  std::vector<Code256> codes(n);
  std::mt19937_64 rng(n);
  const size_t base = corpus.stored.size();
  for (size_t i = 0; i < n; ++i) {
    ids[i] = ((i / 300) << 16) | (i % 300);  // (image slot, keypoint) as ImageMatcher's
    codes[i] = corpus.stored[i % base];
    if (i >= base) {
      for (uint64_t f = 4 + rng() % 17; f > 0; --f) {
        const uint64_t bit = rng() % 256;
        codes[i][bit / 64] ^= uint64_t{1} << (bit % 64);
      }
    }
  }
  if (!x->flat.Build(ids, codes).ok()) std::abort();
  const double t0 = ThreadCpuMs();
  if (!grown) {
    if (!x->ivf.Build(ids, codes).ok()) std::abort();
  } else {
    const size_t first = std::min(n, chuqu::index::ImageMatcherOptions{}.ivf_min_descriptors);
    if (!x->ivf.Build(std::span(ids).first(first), std::span(codes).first(first)).ok()) {
      std::abort();
    }
    for (size_t i = first; i < n; ++i) {
      const double a = ThreadCpuMs();
      if (!x->ivf.Add(ids[i], codes[i]).ok()) std::abort();
      x->max_add_ms = std::max(x->max_add_ms, ThreadCpuMs() - a);
    }
  }
  x->train_cpu_s = (ThreadCpuMs() - t0) / 1e3;
  current = std::move(x);
  return *current;
}

void FlatVsIvf(benchmark::State& state, bool grown) {
  const Corpus& corpus = GetCorpus();
  if (corpus.query.size() != kQueryDescriptors) {
    state.SkipWithError("no corpus query with 600 descriptors");
    return;
  }
  Indexes& x = GetIndexes(static_cast<size_t>(state.range(0)), grown);
  double flat_ms = 0, ivf_ms = 0;
  size_t flat_hits = 0, kept_hits = 0;
  chuqu::index::IvfSearchStats stats;
  for (auto _ : state) {
    double t0 = ThreadCpuMs();
    const auto f = x.flat.RangeSearchBatch(corpus.query, kRadius, kCap);
    flat_ms += ThreadCpuMs() - t0;
    t0 = ThreadCpuMs();
    const auto v = x.ivf.RangeSearchBatch(corpus.query, kRadius, kCap, &stats);
    ivf_ms += ThreadCpuMs() - t0;
    flat_hits = kept_hits = 0;
    for (size_t q = 0; q < f.size(); ++q) {
      flat_hits += f[q].size();
      for (const Neighbor& nb : f[q]) {
        kept_hits += std::find(v[q].begin(), v[q].end(), nb) != v[q].end();
      }
    }
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["stored"] = static_cast<double>(x.flat.size());
  state.counters["flat_cpu_ms"] = flat_ms / iters;
  state.counters["ivf_cpu_ms"] = ivf_ms / iters;
  state.counters["speedup"] = flat_ms / std::max(ivf_ms, 1e-9);
  state.counters["hit_recall16"] =
      flat_hits ? static_cast<double>(kept_hits) / flat_hits : 1.0;
  state.counters["ivf_candidates_per_desc"] =
      static_cast<double>(stats.candidates) / iters / kQueryDescriptors;
  state.counters["words"] = static_cast<double>(x.ivf.num_words());
  state.counters["flat_B_per_desc"] = static_cast<double>(x.flat.MemoryBytes()) / x.flat.size();
  state.counters["ivf_B_per_desc"] = static_cast<double>(x.ivf.MemoryBytes()) / x.ivf.size();
  state.counters["train_cpu_s"] = x.train_cpu_s;
  if (grown) state.counters["max_add_ms"] = x.max_add_ms;
}
void BM_FlatVsIvf(benchmark::State& state) { FlatVsIvf(state, false); }
void BM_FlatVsIvfGrown(benchmark::State& state) { FlatVsIvf(state, true); }
// 0 = the corpus' own 67k descriptors.
BENCHMARK(BM_FlatVsIvf)
    ->Arg(0)
    ->Arg(250'000)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FlatVsIvfGrown)
    ->Arg(1'000'000)
    ->Arg(4'000'000)
    ->Arg(10'000'000)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
