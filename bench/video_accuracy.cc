// Video copy-detection accuracy on the media corpus (shared/bench/make-media-corpus.sh).
// Not a test: prints figures (docs/benchmarks.md "Video copy detection").
//
//   build/<dir>/bench/video_accuracy CORPUS_DIR [SECONDS_PER_FRAME=0.5] [RADIUS=48]
//
// Indexes CORPUS/videos/refs (the files named by the ground truth), runs every query and
// prints micro-AP, recall at precision >= 0.99, per-family recall at that threshold, segment
// bound errors (trim/embed/speed from the transform parameters; others whole-clip), two
// baselines (exact file hash; whole-frame PDQ only, i.e. the same matcher without region
// views), and extraction / search CPU time per query.
// Experiments: CHUQU_REF_CROPS / CHUQU_QUERY_CROPS (comma-separated side fractions, "" for
// none), CHUQU_INSETS (max insets), CHUQU_LETTERBOX (0/1), CHUQU_EXTEND (extend radius),
// CHUQU_VERBOSE (each query's views, every returned match with its regions, bound misses).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "av_accuracy_util.h"
#include "index/video_matcher.h"
#include "media/av_fingerprint.h"

using namespace chuqu;
using chuqu::bench::GroundTruth;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [SECONDS_PER_FRAME] [RADIUS]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  const double spf = argc > 2 ? std::atof(argv[2]) : 0.5;
  index::VideoMatcherOptions options;
  if (argc > 3) options.radius = static_cast<uint32_t>(std::atoi(argv[3]));
  if (const char* v = std::getenv("CHUQU_EXTEND")) {
    options.extend_radius = static_cast<uint32_t>(std::atoi(v));
  }
  const std::vector<GroundTruth> gt = bench::ReadGroundTruth(root + "/videos/groundtruth.tsv");
  media::VideoFingerprintOptions extract;
  extract.seconds_per_frame = spf;
  auto fractions = [](const char* env, std::vector<float>& out) {
    const char* v = std::getenv(env);
    if (v == nullptr) return;
    out.clear();
    for (const char* p = v; *p != 0;) {
      char* end = nullptr;
      const float f = std::strtof(p, &end);
      if (end == p) break;
      out.push_back(f);
      p = *end == ',' ? end + 1 : end;
    }
  };
  fractions("CHUQU_REF_CROPS", extract.reference_crops);
  fractions("CHUQU_QUERY_CROPS", extract.query_crops);
  if (const char* v = std::getenv("CHUQU_INSETS")) extract.max_insets = std::atoi(v);
  if (const char* v = std::getenv("CHUQU_LETTERBOX")) extract.letterbox_view = std::atoi(v) != 0;
  const bool verbose = std::getenv("CHUQU_VERBOSE") != nullptr;

  std::set<std::string> refs;
  for (const auto& g : gt) {
    if (!g.original.empty()) refs.insert(g.original);
  }
  // Every file in refs/ is indexed (the ground truth may not name them all).
  {
    FILE* ls = popen(("ls " + root + "/videos/refs").c_str(), "r");
    char name[512];
    while (ls && std::fgets(name, sizeof name, ls)) {
      std::string n(name);
      while (!n.empty() && (n.back() == '\n')) n.pop_back();
      refs.insert("videos/refs/" + n);
    }
    if (ls) pclose(ls);
  }
  std::vector<std::string> ref_names(refs.begin(), refs.end());
  std::map<std::string, double> ref_duration;
  std::map<std::string, std::string> ref_bytes;
  index::VideoMatcher matcher(options);
  index::VideoMatcher whole_matcher(options);  // baseline: whole frames only
  double t0 = bench::ThreadSeconds();
  size_t ref_frames = 0;
  for (size_t i = 0; i < ref_names.size(); ++i) {
    extract.dihedrals = 1;
    auto fp = media::ExtractVideoFingerprint(root + "/" + ref_names[i], extract);
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", ref_names[i].c_str(), fp.status().ToString().c_str());
      continue;
    }
    ref_duration[ref_names[i]] = fp->duration;
    ref_frames += fp->frames.size();
    ref_bytes[ref_names[i]] = bench::ReadFile(root + "/" + ref_names[i]);
    if (Status s = matcher.Add(i, *fp); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", ref_names[i].c_str(), s.ToString().c_str());
    }
    fp->views.clear();
    if (Status s = whole_matcher.Add(i, *fp); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", ref_names[i].c_str(), s.ToString().c_str());
    }
  }
  const double index_cpu = bench::ThreadSeconds() - t0;

  std::vector<bench::Scored> scored;
  std::vector<bench::Scored> baseline, whole;
  size_t positives = 0;
  double extract_cpu = 0, search_cpu = 0;
  struct Segment {
    size_t query;
    index::VideoMatch match;
  };
  std::vector<Segment> top;  // best correct match per positive query
  for (size_t qi = 0; qi < gt.size(); ++qi) {
    const GroundTruth& g = gt[qi];
    positives += !g.original.empty();
    double a = bench::ThreadSeconds();
    extract.dihedrals = index::kVideoDihedrals;
    auto fp = media::ExtractVideoFingerprint(root + "/" + g.query, extract);
    double b = bench::ThreadSeconds();
    extract_cpu += b - a;
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", g.query.c_str(), fp.status().ToString().c_str());
      continue;
    }
    const auto found = matcher.Search(*fp, 10);
    search_cpu += bench::ThreadSeconds() - b;
    if (verbose) {
      std::printf("  %s views:", g.query.c_str());
      for (const auto& v : fp->views) {
        std::printf(" (%.2f,%.2f %.2fx%.2f)", v.region.x, v.region.y, v.region.width,
                    v.region.height);
      }
      std::printf("\n");
    }
    bool have_top = false;
    for (const auto& m : found) {
      const std::string& ref = ref_names[m.work];
      const bool correct = ref == g.original;
      scored.push_back({qi, ref, m.score, correct});
      if (correct && !have_top) top.push_back({qi, m}), have_top = true;
      if (verbose) {
        std::printf("  %s %s -> %s score %.3f view %d q(%.2f,%.2f %.2fx%.2f) w(%.2f,%.2f "
                    "%.2fx%.2f)%s\n",
                    g.query.c_str(), g.transform.c_str(), ref.c_str(), m.score, m.view,
                    m.query_region.x, m.query_region.y, m.query_region.width,
                    m.query_region.height, m.work_region.x, m.work_region.y,
                    m.work_region.width, m.work_region.height, correct ? "" : "  WRONG");
      }
    }
    index::VideoFingerprint plain = *fp;
    plain.views.clear();
    for (const auto& m : whole_matcher.Search(plain, 10)) {
      whole.push_back({qi, ref_names[m.work], m.score, ref_names[m.work] == g.original});
    }
    const std::string bytes = bench::ReadFile(root + "/" + g.query);
    for (const auto& [ref, rb] : ref_bytes) {
      if (rb == bytes) baseline.push_back({qi, ref, 1.0, ref == g.original});
    }
  }
  const bench::Summary s = bench::Summarise(scored, positives);
  const bench::Summary base = bench::Summarise(baseline, positives);
  const bench::Summary whole_frames = bench::Summarise(whole, positives);
  std::printf("video corpus %s: %zu refs (%zu frames at %.2f s), %zu queries (%zu copies)\n",
              root.c_str(), ref_names.size(), ref_frames, spf, gt.size(), positives);
  std::printf("radius %u, min quality %d\n", options.radius, options.min_quality);
  std::printf("ours:     micro-AP %.3f  recall@p>=0.99 %.3f (threshold %.3f)\n", s.micro_ap,
              s.recall_at_p99, s.threshold);
  std::printf("baseline: exact file hash micro-AP %.3f  recall %.3f\n", base.micro_ap,
              base.recall_at_p99);
  std::printf("baseline: whole-frame PDQ only micro-AP %.3f  recall@p>=0.99 %.3f (threshold "
              "%.3f)\n",
              whole_frames.micro_ap, whole_frames.recall_at_p99, whole_frames.threshold);

  bench::PrintFamilyTable(gt, scored, s.threshold);

  // Segment bounds: expected [qs, qe] <-> [ws, we] from the transform.
  int within = 0, counted = 0;
  double sum_err = 0, max_err = 0;
  std::map<std::string, std::pair<double, int>> family_err;
  for (const Segment& seg : top) {
    const GroundTruth& g = gt[seg.query];
    const std::string fam = g.Family();
    const double rd = ref_duration[g.original];
    double qs = 0, qe = 0, ws = 0, we = 0;
    if (fam == "trim") {
      ws = g.Param("start", 0);
      we = ws + g.Param("dur", 0);
      qe = we - ws;
    } else if (fam == "embed") {
      ws = g.Param("src_start", 0);
      we = ws + g.Param("dur", 0);
      qs = g.Param("at", 0);
      qe = qs + (we - ws);
    } else {
      double speed = 1;
      if (fam == "speed") speed = g.Param("speed", 1);
      if (fam == "speed") {
        const size_t p = g.transform.find("(x");
        speed = std::atof(g.transform.c_str() + p + 2);
      }
      if (fam == "combo") speed = g.Param("speed", 1);
      we = rd;
      qe = rd / speed;
    }
    const auto& m = seg.match.segment;
    const double err = std::max({std::abs(m.query_start - qs), std::abs(m.query_end - qe),
                                 std::abs(m.work_start - ws), std::abs(m.work_end - we)});
    if (err > 1.0 && verbose) {
      std::printf("  %s %s: q [%.2f, %.2f] w [%.2f, %.2f], expected q [%.2f, %.2f] w [%.2f, %.2f]"
                  " speed %.3f frames %d/%d\n",
                  g.query.c_str(), g.transform.c_str(), m.query_start, m.query_end, m.work_start,
                  m.work_end, qs, qe, ws, we, seg.match.speed, seg.match.matched_frames,
                  seg.match.query_frames);
    }
    ++counted;
    within += err <= 1.0;
    sum_err += err;
    max_err = std::max(max_err, err);
    family_err[fam].first += err;
    family_err[fam].second++;
  }
  std::printf("\nsegment bounds (found copies, worst of the 4 bounds): %d/%d within 1 s, mean %.2f s, "
              "max %.2f s\n",
              within, counted, counted ? sum_err / counted : 0.0, max_err);
  for (const auto& [fam, e] : family_err) {
    std::printf("  %s mean %.2f s (%d)\n", fam.c_str(), e.first / e.second, e.second);
  }
  std::printf("\nCPU: index %.2f s; per query extract %.1f ms, search %.2f ms\n", index_cpu,
              1e3 * extract_cpu / gt.size(), 1e3 * search_cpu / gt.size());
  return 0;
}
