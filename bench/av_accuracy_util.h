// Shared by bench/video_accuracy.cc and bench/audio_accuracy.cc: the media corpus ground truth
// (shared/bench/make-media-corpus.sh, notes/media-corpus.md §3) and the scoring (micro-AP,
// recall at precision >= 0.99, the per-family table). Header-only; benchmark code, exits on errors.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace chuqu::bench {

inline double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

struct GroundTruth {
  std::string query;      // relative to the corpus root
  std::string original;   // "" for a distractor
  std::string transform;  // family(params)...
  std::string Family() const {
    const size_t p = transform.find_first_of("(+");
    return transform.substr(0, p);
  }
  // Value of "key=" in the transform (e.g. "src_start"), or `fallback`.
  double Param(const std::string& key, double fallback) const {
    const size_t p = transform.find(key + "=");
    if (p == std::string::npos) return fallback;
    size_t q = p + key.size() + 1;
    if (q < transform.size() && transform[q] == 'x') ++q;
    return std::atof(transform.c_str() + q);
  }
};

inline std::vector<GroundTruth> ReadGroundTruth(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::vector<GroundTruth> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    GroundTruth g;
    std::getline(fields, g.query, '\t');
    std::getline(fields, g.original, '\t');
    std::getline(fields, g.transform, '\t');
    if (g.original == "-") g.original.clear();
    if (!g.query.empty()) out.push_back(g);
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One returned (query, ref) candidate.
struct Scored {
  size_t query = 0;  // index into the ground truth
  std::string ref;
  double score = 0;
  bool correct = false;
};

struct Summary {
  double micro_ap = 0;
  double recall_at_p99 = 0;
  double threshold = 1e9;  // lowest score kept at precision >= 0.99
};

// Micro-AP over every returned pair (ISC 2021), `positives` = queries that copy a ref.
inline Summary Summarise(std::vector<Scored> scored, size_t positives) {
  std::sort(scored.begin(), scored.end(),
            [](const Scored& a, const Scored& b) { return a.score > b.score; });
  Summary s;
  size_t tp = 0;
  double prev_recall = 0;
  for (size_t i = 0; i < scored.size(); ++i) {
    if (scored[i].correct) ++tp;
    // Evaluate only at the end of a run of equal scores.
    if (i + 1 < scored.size() && scored[i + 1].score == scored[i].score) continue;
    const double precision = static_cast<double>(tp) / static_cast<double>(i + 1);
    const double recall = positives ? static_cast<double>(tp) / positives : 0;
    s.micro_ap += precision * (recall - prev_recall);
    prev_recall = recall;
    if (precision >= 0.99 && recall >= s.recall_at_p99) {
      s.recall_at_p99 = recall;
      s.threshold = scored[i].score;
    }
  }
  return s;
}

// Per family at `threshold`, as a Markdown table: a copy counts as found if its original is
// returned with score >= threshold; a distractor (no original) is a false alarm if anything
// is returned at >= threshold.
inline void PrintFamilyTable(const std::vector<GroundTruth>& gt, const std::vector<Scored>& scored,
                             double threshold) {
  std::map<std::string, std::pair<int, int>> family;  // found, copies
  std::map<std::string, int> false_alarms, negatives;
  std::vector<bool> hit(gt.size(), false), alarm(gt.size(), false);
  for (const Scored& x : scored) {
    if (x.score < threshold) continue;
    if (x.correct) hit[x.query] = true;
    if (!x.correct) alarm[x.query] = true;
  }
  for (size_t qi = 0; qi < gt.size(); ++qi) {
    if (gt[qi].original.empty()) {
      negatives[gt[qi].Family()]++;
      false_alarms[gt[qi].Family()] += alarm[qi];
    } else {
      auto& f = family[gt[qi].Family()];
      f.first += hit[qi];
      f.second++;
    }
  }
  std::printf("\n| family | recall | copies | distractor false alarms |\n|---|---|---|---|\n");
  for (const auto& [name, f] : family) {
    std::printf("| %s | %.2f | %d | %d/%d |\n", name.c_str(),
                static_cast<double>(f.first) / f.second, f.second, false_alarms[name],
                negatives[name]);
  }
}

}  // namespace chuqu::bench
