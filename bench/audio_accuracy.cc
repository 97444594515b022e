// Audio copy-detection accuracy on the media corpus (shared/bench/make-media-corpus.sh).
// Not a test: prints figures (docs/benchmarks.md "Audio copy detection").
//
//   build/<dir>/bench/audio_accuracy CORPUS_DIR [VARIANTS=1] [ONE_BIT_NEIGHBOURS=1]
//
// Indexes CORPUS/audio/refs with Chromaprint raw fingerprints, runs every query (as is and, with
// VARIANTS=1, resampled by media::DefaultAudioVariantFactors(); PCM decoded by the ffmpeg CLI
// at 11025 Hz mono) and prints micro-AP, recall at precision >= 0.99, per-family recall at that
// threshold, segment bounds for trim/embed, an exact-file-hash baseline and CPU per query.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "av_accuracy_util.h"
#include "index/audio_matcher.h"
#include "media/av_fingerprint.h"

using namespace chuqu;
using chuqu::bench::GroundTruth;

namespace {

std::vector<int16_t> DecodePcm(const std::string& path) {
  const std::string cmd =
      "ffmpeg -v error -nostdin -i '" + path + "' -ac 1 -ar 11025 -f s16le - 2>/dev/null";
  std::vector<int16_t> pcm;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return pcm;
  int16_t buf[4096];
  size_t n;
  while ((n = std::fread(buf, 2, 4096, p)) > 0) pcm.insert(pcm.end(), buf, buf + n);
  pclose(p);
  return pcm;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [VARIANTS=1] [ONE_BIT_NEIGHBOURS=1]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  const bool variants = argc > 2 ? std::atoi(argv[2]) != 0 : true;
  index::AudioMatcherOptions options;
  if (argc > 3) options.one_bit_neighbours = std::atoi(argv[3]) != 0;
  const std::vector<GroundTruth> gt = bench::ReadGroundTruth(root + "/audio/groundtruth.tsv");

  std::set<std::string> refs;
  {
    FILE* ls = popen(("ls " + root + "/audio/refs").c_str(), "r");
    char name[512];
    while (ls && std::fgets(name, sizeof name, ls)) {
      std::string n(name);
      while (!n.empty() && n.back() == '\n') n.pop_back();
      refs.insert("audio/refs/" + n);
    }
    if (ls) pclose(ls);
  }
  std::vector<std::string> ref_names(refs.begin(), refs.end());
  std::map<std::string, std::string> ref_bytes;
  index::AudioMatcher matcher(options);
  double t0 = bench::ThreadSeconds();
  for (size_t i = 0; i < ref_names.size(); ++i) {
    auto fp = media::ExtractAudioFingerprint(root + "/" + ref_names[i]);
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", ref_names[i].c_str(), fp.status().ToString().c_str());
      continue;
    }
    ref_bytes[ref_names[i]] = bench::ReadFile(root + "/" + ref_names[i]);
    if (Status s = matcher.Add(i, *fp); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", ref_names[i].c_str(), s.ToString().c_str());
    }
  }
  const double index_cpu = bench::ThreadSeconds() - t0;

  std::vector<double> factors = media::DefaultAudioVariantFactors();
  factors.erase(factors.begin());  // 1.0 comes from ExtractAudioFingerprint (= fpcalc)
  std::vector<bench::Scored> scored, baseline;
  size_t positives = 0;
  double extract_cpu = 0, search_cpu = 0;
  struct Found {
    size_t query;
    index::AudioMatch match;
  };
  std::vector<Found> top;
  for (size_t qi = 0; qi < gt.size(); ++qi) {
    const GroundTruth& g = gt[qi];
    positives += !g.original.empty();
    const std::string path = root + "/" + g.query;
    double a = bench::ThreadSeconds();
    auto fp = media::ExtractAudioFingerprint(path);
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", g.query.c_str(), fp.status().ToString().c_str());
      continue;
    }
    std::vector<index::AudioFingerprint> query = {*fp};
    if (variants) {
      const std::vector<int16_t> pcm = DecodePcm(path);  // ffmpeg CLI: not in our CPU time
      auto more = media::ChromaprintVariants(pcm, factors);
      if (more.ok()) query.insert(query.end(), more->begin(), more->end());
    }
    double b = bench::ThreadSeconds();
    extract_cpu += b - a;
    const auto found = matcher.Search(query, 10);
    search_cpu += bench::ThreadSeconds() - b;
    bool have_top = false;
    for (const auto& m : found) {
      const std::string& ref = ref_names[m.work];
      const bool correct = ref == g.original;
      scored.push_back({qi, ref, m.score, correct});
      if (correct && !have_top) top.push_back({qi, m}), have_top = true;
    }
    const std::string bytes = bench::ReadFile(path);
    for (const auto& [ref, rb] : ref_bytes) {
      if (rb == bytes) baseline.push_back({qi, ref, 1.0, ref == g.original});
    }
  }
  const bench::Summary s = bench::Summarise(scored, positives);
  const bench::Summary base = bench::Summarise(baseline, positives);
  std::printf("audio corpus %s: %zu refs, %zu queries (%zu copies), %zu query variants, "
              "one-bit neighbours %s\n",
              root.c_str(), ref_names.size(), gt.size(), positives,
              variants ? factors.size() + 1 : 1, options.one_bit_neighbours ? "on" : "off");
  std::printf("ours:     micro-AP %.3f  recall@p>=0.99 %.3f (threshold %.3f)\n", s.micro_ap,
              s.recall_at_p99, s.threshold);
  std::printf("baseline: exact file hash micro-AP %.3f  recall %.3f\n", base.micro_ap,
              base.recall_at_p99);

  bench::PrintFamilyTable(gt, scored, s.threshold);
  // Segment bounds for trim/embed (worst of the 4 bounds).
  int within = 0, counted = 0;
  double sum = 0;
  for (const Found& f : top) {
    const GroundTruth& g = gt[f.query];
    const std::string fam = g.Family();
    double qs = 0, ws = 0, dur = 0;
    if (fam == "trim") {
      ws = g.Param("start", 0);
      dur = g.Param("dur", 0);
    } else if (fam == "embed") {
      ws = g.Param("src_start", 0);
      dur = g.Param("dur", 0);
      qs = g.Param("at", 0);
    } else {
      continue;
    }
    const auto& m = f.match;
    const double err = std::max({std::abs(m.query_start - qs), std::abs(m.query_end - qs - dur),
                                 std::abs(m.work_start - ws), std::abs(m.work_end - ws - dur)});
    ++counted;
    within += err <= 1.0;
    sum += err;
  }
  std::printf("\nsegment bounds (trim/embed found): %d/%d within 1 s, mean worst-bound error %.2f s\n",
              within, counted, counted ? sum / counted : 0.0);
  std::printf("CPU: index %.2f s; per query fingerprint+variants %.1f ms (excl. ffmpeg CLI decode), "
              "search %.2f ms\n",
              index_cpu, 1e3 * extract_cpu / gt.size(), 1e3 * search_cpu / gt.size());
  return 0;
}
