// Hamming index benchmark: our multi-index hashing (MihHammingIndex) and flat scan against
// FAISS 1.7.3's binary indexes (when built with libfaiss-dev), on random, simulated-clustered
// and real-PDQ-derived codes. One query per iteration, single thread. Counters:
//   build_s      wall seconds to build the index (one-off, on first use)
//   build_cpu_s  CPU seconds of that build (single thread)
//   B/code       bytes per code: counted for ours, resident-set growth for FAISS
//   cand/q       candidates whose full distance was computed (ours)
//   fallback     fraction of queries answered by the flat fallback (ours)
//   hits/q       results per query (range: before truncation to 100)
//   agree        1 if the index's results equal our flat oracle's on the first 20 queries
//                (5 for FAISS)
// Datasets are built lazily and one at a time (10^7 x 256 bits is 320 MB before indexing).
// Usage: hamming_bench [--benchmark_filter=...] (see docs/benchmarks.md ## Hamming index).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "index/hamming_index.h"

#ifdef CHUQU_WITH_FAISS
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>
#endif

namespace chuqu::index {
namespace {

constexpr size_t kQueries = 1000;
constexpr size_t kMaxResults = 100;

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Flips k distinct random bits.
template <size_t kWords>
BinaryCode<kWords> FlipBits(BinaryCode<kWords> c, uint32_t k, std::mt19937_64& rng) {
  BinaryCode<kWords> flipped{};
  for (uint32_t done = 0; done < k;) {
    const uint32_t bit = static_cast<uint32_t>(rng() % (64 * kWords));
    const uint64_t mask = uint64_t{1} << (bit % 64);
    if (flipped[bit / 64] & mask) continue;
    flipped[bit / 64] |= mask;
    c[bit / 64] ^= mask;
    ++done;
  }
  return c;
}

// Real PDQ hashes: every frame of the vPDQ sample videos (ThreatExchange vpdq/sample-hashes,
// lines "frame,quality,hex,seconds"). Consecutive frames and re-encodes of one video are a
// few bits apart: these codes cluster like a real registry's near-duplicates.
std::vector<Code256> LoadRealPdq() {
  std::vector<Code256> out;
  const std::string dir = std::string(CHUQU_SHARED_DATA) + "/vpdq/sample-hashes/";
  FILE* ls = popen(("ls " + dir + "*.txt 2>/dev/null").c_str(), "r");
  if (ls == nullptr) return out;
  char path[4096];
  while (fgets(path, sizeof(path), ls) != nullptr) {
    std::string p(path);
    while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) {
      std::stringstream ss(line);
      std::string frame, quality, hex;
      if (!std::getline(ss, frame, ',') || !std::getline(ss, quality, ',') ||
          !std::getline(ss, hex, ',') || hex.size() != 64) {
        continue;
      }
      Code256 c{};
      bool ok = true;
      for (int i = 0; i < 64 && ok; ++i) {
        const char ch = hex[i];
        const int v = ch >= '0' && ch <= '9'   ? ch - '0'
                      : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                               : -1;
        ok = v >= 0;
        c[i / 16] |= static_cast<uint64_t>(v < 0 ? 0 : v) << (60 - 4 * (i % 16));
      }
      if (ok) out.push_back(c);
    }
  }
  pclose(ls);
  return out;
}

// Real PDQ hashes of still images: the CSV `chuqu hash --algo pdq` prints ("hex,quality,
// file"), named by the environment variable CHUQU_BENCH_IMAGE_PDQ (docs/benchmarks.md says
// how it was made from the image corpus). Copies of one original are a few bits apart.
std::vector<Code256> LoadImagePdq() {
  std::vector<Code256> out;
  const char* path = std::getenv("CHUQU_BENCH_IMAGE_PDQ");
  if (path == nullptr) return out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 65 || line[64] != ',') continue;
    auto hash = Hash256::ParseHex(line.substr(0, 64));
    if (hash.ok()) out.push_back(PdqCode(*hash));
  }
  return out;
}

template <size_t kWords>
struct Dataset {
  std::vector<uint64_t> ids;
  std::vector<BinaryCode<kWords>> codes;
  std::vector<BinaryCode<kWords>> queries;
};

// kind: "random" (uniform codes; queries = stored codes with 0..qflip bits flipped),
// "clustered" (perturbations of 0..16 bits around 5,000 random centres; simulated),
// "real" (the real vPDQ frame hashes, then copies of them with 0..16 bits flipped up to n),
// "image" (the same with the real PDQ hashes of the image corpus).
template <size_t kWords>
Dataset<kWords> MakeDataset(const std::string& kind, size_t n, uint32_t qflip) {
  std::mt19937_64 rng(42);
  Dataset<kWords> d;
  d.codes.resize(n);
  std::vector<BinaryCode<kWords>> centres;
  if (kind == "clustered") {
    centres.resize(5000);
    for (auto& c : centres)
      for (auto& w : c) w = rng();
  } else if (kind == "real" || kind == "image") {
    if constexpr (kWords == 4) centres = kind == "real" ? LoadRealPdq() : LoadImagePdq();
    if (centres.empty()) {
      std::fprintf(stderr, "no real PDQ hashes (%s)\n",
                   kind == "real" ? CHUQU_SHARED_DATA "/vpdq" : "set CHUQU_BENCH_IMAGE_PDQ");
      std::exit(1);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (centres.empty()) {
      for (auto& w : d.codes[i]) w = rng();
    } else if ((kind == "real" || kind == "image") && i < centres.size()) {
      d.codes[i] = centres[i];
    } else {
      d.codes[i] = FlipBits(centres[rng() % centres.size()], rng() % 17, rng);
    }
  }
  d.ids.resize(n);
  std::iota(d.ids.begin(), d.ids.end(), uint64_t{1});
  std::shuffle(d.ids.begin(), d.ids.end(), rng);
  for (size_t q = 0; q < kQueries; ++q) {
    d.queries.push_back(FlipBits(d.codes[rng() % n], rng() % (qflip + 1), rng));
  }
  return d;
}

// One dataset and the indexes built on it are alive at a time.
struct Built {
  virtual ~Built() = default;
  double build_s = 0;
  double build_cpu_s = 0;  // process CPU time: robust to other jobs on the shared machine
  double bytes_per_code = 0;
};
template <typename T>
struct Holder : Built {
  std::unique_ptr<T> index;
};
struct State {
  std::string dataset_key;
  std::shared_ptr<void> dataset;
  std::map<std::string, std::unique_ptr<Built>> indexes;
};
State& GlobalState() {
  static State state;
  return state;
}

template <size_t kWords>
const Dataset<kWords>& GetDataset(const std::string& kind, size_t n, uint32_t qflip) {
  State& s = GlobalState();
  const std::string key = kind + "/" + std::to_string(64 * kWords) + "/" + std::to_string(n) + "/" +
                          std::to_string(qflip);
  if (s.dataset_key != key) {
    s.indexes.clear();
    s.dataset.reset();
    malloc_trim(0);
    s.dataset = std::make_shared<Dataset<kWords>>(MakeDataset<kWords>(kind, n, qflip));
    s.dataset_key = key;
  }
  return *static_cast<const Dataset<kWords>*>(s.dataset.get());
}

template <typename T>
Holder<T>& GetIndex(const std::string& name, const std::function<std::unique_ptr<T>()>& build,
                    size_t n) {
  State& s = GlobalState();
  auto it = s.indexes.find(name);
  if (it == s.indexes.end()) {
    malloc_trim(0);
    const size_t rss0 = RssBytes();
    auto start = std::chrono::steady_clock::now();
    const double cpu0 = CpuSeconds();
    auto holder = std::make_unique<Holder<T>>();
    holder->index = build();
    holder->build_s = Seconds(start);
    holder->build_cpu_s = CpuSeconds() - cpu0;
    holder->bytes_per_code = static_cast<double>(RssBytes() - rss0) / static_cast<double>(n);
    it = s.indexes.emplace(name, std::move(holder)).first;
  }
  return *static_cast<Holder<T>*>(it->second.get());
}

// Our flat oracle for the "agree" check (built once per dataset, cheap: a copy of the codes).
template <size_t kWords>
const FlatHammingIndex<kWords>& Oracle(const Dataset<kWords>& d) {
  return *GetIndex<FlatHammingIndex<kWords>>(
              "oracle",
              [&] {
                auto f = std::make_unique<FlatHammingIndex<kWords>>();
                if (!f->Build(d.ids, d.codes).ok()) std::abort();
                return f;
              },
              d.ids.size())
              .index;
}

struct Spec {
  std::string kind;
  size_t n;
  uint32_t radius;  // range radius; queries have 0..radius bits flipped
  size_t k;         // 0 = range search, else k nearest
};

template <size_t kWords>
void RunOurs(benchmark::State& st, const Spec& sp, bool mih, uint32_t design_radius,
             uint32_t forced_m = 0) {
  const auto& d = GetDataset<kWords>(sp.kind, sp.n, sp.radius);
  const auto& oracle = Oracle(d);
  const std::string name =
      mih ? "mih/" + std::to_string(design_radius) + "/" + std::to_string(forced_m) : "oracle";
  const HammingIndex<kWords>* index = &oracle;
  double build_s = 0, build_cpu_s = 0, bpc = 0;
  uint32_t m = 0;
  if (mih) {
    auto& h = GetIndex<MihHammingIndex<kWords>>(
        name,
        [&] {
          auto x = std::make_unique<MihHammingIndex<kWords>>(
              MihOptions{.num_substrings = forced_m, .design_radius = design_radius});
          if (!x->Build(d.ids, d.codes).ok()) std::abort();
          return x;
        },
        sp.n);
    index = h.index.get();
    build_s = h.build_s;
    build_cpu_s = h.build_cpu_s;
    bpc = static_cast<double>(h.index->MemoryBytes()) / static_cast<double>(sp.n);
    m = h.index->num_substrings();
  } else {
    bpc = static_cast<double>(oracle.MemoryBytes()) / static_cast<double>(sp.n);
  }
  bool agree = true;
  for (size_t q = 0; q < 20 && mih; ++q) {
    if (sp.k == 0) {
      agree &= index->RangeSearch(d.queries[q], sp.radius, kMaxResults) ==
               oracle.RangeSearch(d.queries[q], sp.radius, kMaxResults);
    } else {
      agree &= index->KNearest(d.queries[q], sp.k) == oracle.KNearest(d.queries[q], sp.k);
    }
  }
  size_t q = 0, candidates = 0, fallbacks = 0, hits = 0;
  for (auto _ : st) {
    SearchStats stats;
    auto r = sp.k == 0 ? index->RangeSearch(d.queries[q], sp.radius, kMaxResults, &stats)
                       : index->KNearest(d.queries[q], sp.k, &stats);
    benchmark::DoNotOptimize(r.data());
    candidates += stats.candidates;
    fallbacks += stats.flat_fallback;
    hits += sp.k == 0 ? stats.matches : r.size();
    q = (q + 1) % d.queries.size();
  }
  const double iters = static_cast<double>(st.iterations());
  st.counters["build_s"] = build_s;
  st.counters["build_cpu_s"] = build_cpu_s;
  st.counters["B/code"] = bpc;
  st.counters["cand/q"] = static_cast<double>(candidates) / iters;
  st.counters["fallback"] = static_cast<double>(fallbacks) / iters;
  st.counters["hits/q"] = static_cast<double>(hits) / iters;
  st.counters["agree"] = agree;
  if (mih) st.counters["m"] = m;
}

#ifdef CHUQU_WITH_FAISS
// kind: "flat" (IndexBinaryFlat), "mh<m>x<b>n<f>" (IndexBinaryMultiHash(bits, m, b), nflip f;
// exact when f >= floor(r/m)), "h<b>n<f>" (IndexBinaryHash(bits, b): only the first b bits
// are hashed, so recall < 1 at large radii).
template <size_t kWords>
std::unique_ptr<faiss::IndexBinary> MakeFaiss(const std::string& kind, const Dataset<kWords>& d) {
  const int bits = 64 * kWords;
  std::unique_ptr<faiss::IndexBinary> index;
  int m = 0, b = 0, f = 0;
  if (kind == "flat") {
    index = std::make_unique<faiss::IndexBinaryFlat>(bits);
  } else if (std::sscanf(kind.c_str(), "mh%dx%dn%d", &m, &b, &f) == 3) {
    auto mh = std::make_unique<faiss::IndexBinaryMultiHash>(bits, m, b);
    mh->nflip = f;
    index = std::move(mh);
  } else if (std::sscanf(kind.c_str(), "h%dn%d", &b, &f) == 2) {
    auto h = std::make_unique<faiss::IndexBinaryHash>(bits, b);
    h->nflip = f;
    index = std::move(h);
  } else {
    std::abort();
  }
  // FAISS labels are its own sequential numbers; map back through d.ids.
  index->add(static_cast<faiss::IndexBinary::idx_t>(d.codes.size()),
             reinterpret_cast<const uint8_t*>(d.codes.data()));
  return index;
}

template <size_t kWords>
std::vector<Neighbor> FaissQuery(const faiss::IndexBinary& index, const Dataset<kWords>& d,
                                 const BinaryCode<kWords>& q, const Spec& sp) {
  std::vector<Neighbor> out;
  const auto* x = reinterpret_cast<const uint8_t*>(q.data());
  if (sp.k == 0) {
    faiss::RangeSearchResult res(1);
    index.range_search(1, x, static_cast<int>(sp.radius) + 1, &res);  // FAISS: dis < radius
    for (size_t i = res.lims[0]; i < res.lims[1]; ++i) {
      out.push_back({d.ids[res.labels[i]], static_cast<uint32_t>(res.distances[i])});
    }
    std::sort(out.begin(), out.end(), NeighborLess);
    if (out.size() > kMaxResults) out.resize(kMaxResults);
  } else {
    std::vector<int32_t> dist(sp.k);
    std::vector<faiss::IndexBinary::idx_t> labels(sp.k);
    index.search(1, x, static_cast<faiss::IndexBinary::idx_t>(sp.k), dist.data(), labels.data());
    for (size_t i = 0; i < sp.k; ++i) {
      if (labels[i] >= 0) out.push_back({d.ids[labels[i]], static_cast<uint32_t>(dist[i])});
    }
  }
  return out;
}

template <size_t kWords>
void RunFaiss(benchmark::State& st, const Spec& sp, const std::string& kind) {
  omp_set_num_threads(1);
  const auto& d = GetDataset<kWords>(sp.kind, sp.n, sp.radius);
  const auto& oracle = Oracle(d);
  auto& h = GetIndex<faiss::IndexBinary>(
      "faiss/" + kind, [&] { return MakeFaiss<kWords>(kind, d); }, sp.n);
  // Agreement: same (distance, id) multiset as the oracle. FAISS breaks distance ties by its
  // own order, so compare as sets of distances for kNN.
  double recall_num = 0, recall_den = 0;
  bool agree = true;
  for (size_t q = 0; q < 5; ++q) {
    auto got = FaissQuery<kWords>(*h.index, d, d.queries[q], sp);
    auto want = sp.k == 0 ? oracle.RangeSearch(d.queries[q], sp.radius, size_t{1} << 30)
                          : oracle.KNearest(d.queries[q], sp.k);
    if (sp.k == 0) {
      if (want.size() > kMaxResults) want.resize(kMaxResults);
      agree &= got == want;
      recall_num += static_cast<double>(std::min(got.size(), want.size()));
      recall_den += static_cast<double>(want.size());
    } else {
      for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
        agree &= got[i].distance == want[i].distance;
      }
      agree &= got.size() == want.size();
    }
  }
  size_t q = 0, hits = 0;
  for (auto _ : st) {
    auto r = FaissQuery<kWords>(*h.index, d, d.queries[q], sp);
    benchmark::DoNotOptimize(r.data());
    hits += r.size();
    q = (q + 1) % d.queries.size();
  }
  st.counters["build_s"] = h.build_s;
  st.counters["build_cpu_s"] = h.build_cpu_s;
  st.counters["B/code"] = h.bytes_per_code;
  st.counters["hits/q"] = static_cast<double>(hits) / static_cast<double>(st.iterations());
  st.counters["agree"] = agree;
  if (sp.k == 0) st.counters["recall"] = recall_den > 0 ? recall_num / recall_den : 1;
}
#endif

// Repetitions' minimum: the machine is shared, and interference only ever adds time.
double MinOf(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

template <size_t kWords>
void Register(const Spec& sp, uint32_t design_radius, const std::vector<std::string>& faiss,
              const std::vector<uint32_t>& forced_m = {}) {
  const std::string base =
      std::to_string(64 * kWords) + "/" + sp.kind + "/n:" + std::to_string(sp.n) +
      (sp.k == 0 ? "/range:" + std::to_string(sp.radius) : "/knn:" + std::to_string(sp.k));
  benchmark::RegisterBenchmark(
      ("mih/" + base).c_str(),
      [sp, design_radius](benchmark::State& st) { RunOurs<kWords>(st, sp, true, design_radius); })
      ->Unit(benchmark::kMillisecond)
      ->ComputeStatistics("min", MinOf);
  for (uint32_t m : forced_m) {
    benchmark::RegisterBenchmark(
        ("mih-m" + std::to_string(m) + "/" + base).c_str(),
        [sp, m](benchmark::State& st) { RunOurs<kWords>(st, sp, true, sp.radius, m); })
        ->Unit(benchmark::kMillisecond)
        ->ComputeStatistics("min", MinOf);
  }
  benchmark::RegisterBenchmark(("flat/" + base).c_str(),
                               [sp](benchmark::State& st) { RunOurs<kWords>(st, sp, false, 0); })
      ->Unit(benchmark::kMillisecond)
      ->ComputeStatistics("min", MinOf);
#ifdef CHUQU_WITH_FAISS
  for (const std::string& kind : faiss) {
    benchmark::RegisterBenchmark(
        ("faiss-" + kind + "/" + base).c_str(),
        [sp, kind](benchmark::State& st) { RunFaiss<kWords>(st, sp, kind); })
        ->Unit(benchmark::kMillisecond)
        ->ComputeStatistics("min", MinOf);
  }
#else
  (void)faiss;
#endif
}

void RegisterAll() {
  for (size_t n : {size_t{1'000'000}, size_t{10'000'000}}) {
    Register<4>({"random", n, 31, 0}, 31, {"flat", "mh16x16n1", "h16n1"}, {16});
    Register<4>({"random", n, 31, 10}, 31, {"flat", "mh16x16n1"});
  }
  for (uint32_t r : {3u, 8u, 12u}) {
    const std::string nflip = std::to_string(r / 4);
    Register<1>({"random", 10'000'000, r, 0}, r, {"flat", "mh4x16n" + nflip}, {3, 4});
  }
  Register<1>({"random", 10'000'000, 8, 10}, 8, {"flat", "mh4x16n2"});
  Register<4>({"clustered", 10'000'000, 31, 0}, 31, {"flat", "mh16x16n1"});
  Register<4>({"real", 10'000'000, 31, 0}, 31, {"flat", "mh16x16n1"});
  Register<4>({"real", 10'000'000, 31, 10}, 31, {});
  if (std::getenv("CHUQU_BENCH_IMAGE_PDQ") != nullptr) {
    Register<4>({"image", 10'000'000, 31, 0}, 31, {});
    Register<4>({"image", 10'000'000, 31, 10}, 31, {});
  }
}

}  // namespace
}  // namespace chuqu::index

int main(int argc, char** argv) {
  chuqu::index::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("scan kernel: %s\n", chuqu::index::ScanKernelName(chuqu::index::ActiveScanKernel()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
