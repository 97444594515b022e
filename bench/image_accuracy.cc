// Image copy-detection accuracy on the media corpus (../shared/bench/make-media-corpus.sh):
// indexes images/refs/*, runs every file of images/queries/ and prints recall at precision
// >= 0.99, micro-AP (DISC21 style: all (query, ref, score) predictions ranked by score,
// recall over queries that copy a reference), per-transform-family recall at that
// operating point, and two baselines beside ours: PDQ only (8 dihedrals, score 256 - d)
// and exact SHA-256 of the file bytes.
//
// Usage: image_accuracy <corpus dir, e.g. /work/corpus/default> [--dump <tsv>]
//        [--upscale <long side> [--shrink-long-side <px>] [--every <k>]]
//        [--descriptor-search auto|flat|ivf]
// --upscale checks the match path's JPEG DCT scaling, which the corpus queries (<= 1024 px)
// do not reach: every k-th query is first enlarged (aspect kept) to the given long side and
// saved as a q90 JPEG (cached under the temp dir), then matched with
// ImageFeatureOptions::jpeg_shrink_long_side = <px> (0: the default, feature_long_side).
// --descriptor-search sets ImageMatcherOptions::descriptor_search (auto: the default, the
// flat scan at corpus scale). With ivf, the query descriptors are also searched in a flat
// index and an inverted file built by the same Adds as the matcher's, and the fraction of
// the flat scan's descriptor hits (radius 56; all of them, and the first 16 per descriptor
// as the matcher keeps) that the inverted file returns is printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <vips/vips.h>

#include "index/image_matcher.h"
#include "index/ivf_hamming_index.h"
#include "ledger/merkle.h"
#include "media/image_features.h"

namespace {

namespace fs = std::filesystem;
using chuqu::index::ImageFingerprint;
using chuqu::index::ImageMatcher;

struct Prediction {
  int query = 0;
  std::string ref;  // ref file name
  double score = 0;
  bool correct = false;
};

struct Curve {
  double ap = 0;
  double recall_at_p99 = 0;
  double threshold = 1e9;  // lowest score kept at the operating point
};

// Ranks predictions by score; recall counts distinct correct (query, ref) over `positives`.
Curve Evaluate(std::vector<Prediction> preds, int positives) {
  std::stable_sort(preds.begin(), preds.end(),
                   [](const Prediction& a, const Prediction& b) { return a.score > b.score; });
  Curve c;
  int tp = 0, n = 0;
  for (size_t i = 0; i < preds.size(); ++i) {
    ++n;
    if (preds[i].correct) {
      ++tp;
      c.ap += static_cast<double>(tp) / n / positives;
    }
    // Only evaluate at the end of a run of equal scores (a threshold keeps all ties).
    if (i + 1 < preds.size() && preds[i + 1].score == preds[i].score) continue;
    const double precision = static_cast<double>(tp) / n;
    if (precision >= 0.99 && static_cast<double>(tp) / positives >= c.recall_at_p99) {
      c.recall_at_p99 = static_cast<double>(tp) / positives;
      c.threshold = preds[i].score;
    }
  }
  return c;
}

std::string Family(const std::string& transform) {
  return transform.substr(0, transform.find('('));
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The query enlarged (aspect kept, Lanczos) to `long_side` and saved as a q90 JPEG in
// `dir` (kept there: later runs reuse it). EXIF orientation is applied first.
std::optional<std::string> Upscale(const std::string& path, int long_side,
                                   const std::string& dir) {
  const std::string out = dir + "/" + fs::path(path).stem().string() + ".jpg";
  if (fs::exists(out)) return out;
  VipsImage* in = vips_image_new_from_file(path.c_str(), nullptr);
  if (in == nullptr) return std::nullopt;
  VipsImage *rot = nullptr, *flat = nullptr, *big = nullptr;
  bool ok = vips_autorot(in, &rot, nullptr) == 0;
  if (ok && vips_image_hasalpha(rot)) {
    ok = vips_flatten(rot, &flat, nullptr) == 0;  // on black
  } else if (ok) {
    flat = rot;
    g_object_ref(flat);
  }
  if (ok) {
    const double scale = static_cast<double>(long_side) /
                         std::max(vips_image_get_width(flat), vips_image_get_height(flat));
    const std::string tmp = out + ".tmp.jpg";
    ok = vips_resize(flat, &big, scale, nullptr) == 0 &&
         vips_jpegsave(big, tmp.c_str(), "Q", 90, nullptr) == 0;
    if (ok) fs::rename(tmp, out);
  }
  for (VipsImage* im : {in, rot, flat, big}) {
    if (im != nullptr) g_object_unref(im);
  }
  if (!ok) {
    vips_error_clear();
    return std::nullopt;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus dir> [--dump predictions.tsv]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  std::string dump;
  int upscale = 0, shrink_long_side = 0, every = 1;
  std::string descriptor_search = "auto";
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dump" && i + 1 < argc) dump = argv[++i];
    if (a == "--upscale" && i + 1 < argc) upscale = std::atoi(argv[++i]);
    if (a == "--shrink-long-side" && i + 1 < argc) shrink_long_side = std::atoi(argv[++i]);
    if (a == "--every" && i + 1 < argc) every = std::max(1, std::atoi(argv[++i]));
    if (a == "--descriptor-search" && i + 1 < argc) descriptor_search = argv[++i];
  }
  using DescriptorSearch = chuqu::index::ImageMatcherOptions::DescriptorSearch;
  const DescriptorSearch search_mode = descriptor_search == "flat" ? DescriptorSearch::kFlat
                                       : descriptor_search == "ivf"
                                           ? DescriptorSearch::kInvertedFile
                                           : DescriptorSearch::kAuto;
  chuqu::media::ImageFeatureOptions query_options = chuqu::media::QueryFeatureOptions();
  query_options.jpeg_shrink_long_side = shrink_long_side;
  std::string upscale_dir;
  if (upscale > 0) {
    upscale_dir = (fs::temp_directory_path() / ("chuqu_upscaled_" + std::to_string(upscale))).string();
    fs::create_directories(upscale_dir);
    if (vips_init(argv[0]) != 0) return 1;
  }

  // Ground truth.
  struct Query {
    std::string file, original, family, transform;
  };
  std::vector<Query> queries;
  {
    std::ifstream gt(root + "/images/groundtruth.tsv");
    if (!gt) {
      std::fprintf(stderr, "cannot read %s/images/groundtruth.tsv\n", root.c_str());
      return 1;
    }
    std::string line;
    size_t line_no = 0;
    std::getline(gt, line);  // header
    while (std::getline(gt, line)) {
      std::istringstream in(line);
      Query q;
      std::getline(in, q.file, '\t');
      std::getline(in, q.original, '\t');
      std::getline(in, q.transform, '\t');
      if (q.original != "-") q.original = fs::path(q.original).filename().string();
      q.family = q.original == "-" ? "distractor:" + Family(q.transform) : Family(q.transform);
      if (line_no++ % every == 0) queries.push_back(q);
    }
  }

  // Index the references.
  std::vector<std::string> refs;
  for (const auto& e : fs::directory_iterator(root + "/images/refs")) {
    refs.push_back(e.path().filename().string());
  }
  std::sort(refs.begin(), refs.end());
  chuqu::index::ImageMatcherOptions options;
  options.min_score = 0;  // keep every candidate: the curve is computed here
  options.descriptor_search = search_mode;
  ImageMatcher matcher(options);
  // Hit recall of the inverted file (ivf only): the matcher's descriptor ids, same Adds.
  const bool hit_recall = search_mode == DescriptorSearch::kInvertedFile;
  chuqu::index::FlatHammingIndex<4> flat_descriptors;
  chuqu::index::IvfHammingIndex ivf_descriptors(options.ivf);
  std::vector<chuqu::Hash256> ref_pdq(refs.size());
  std::vector<int> ref_quality(refs.size());
  std::unordered_map<std::string, std::string> ref_by_sha;
  size_t descriptors = 0, bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < refs.size(); ++i) {
    const std::string path = root + "/images/refs/" + refs[i];
    auto fp = chuqu::media::ImageFingerprintFromFile(path);
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), fp.status().message().c_str());
      return 1;
    }
    descriptors += fp->descriptors.size();
    bytes += chuqu::index::EncodeImageFingerprint(*fp).size();
    ref_pdq[i] = fp->pdq[0];
    ref_quality[i] = fp->pdq_quality;
    if (auto s = matcher.Add(i, *fp); !s.ok()) return 1;
    for (size_t k = 0; hit_recall && k < fp->descriptors.size(); ++k) {
      const uint64_t id = (uint64_t{i} << 16) | k;
      if (!flat_descriptors.Add(id, fp->descriptors[k]).ok() ||
          !ivf_descriptors.Add(id, fp->descriptors[k]).ok()) {
        return 1;
      }
    }
    const auto digest = chuqu::ledger::Sha256(ReadFile(path));
    ref_by_sha[std::string(digest.begin(), digest.end())] = refs[i];
  }
  const double index_ms = Ms(t0);

  // Queries.
  std::vector<Prediction> ours, pdq_only, exact;
  int positives = 0;
  chuqu::media::ImageFeatureTimings total_t;
  double search_ms = 0;
  size_t flat_hits = 0, ivf_hits = 0, flat_hits16 = 0, ivf_hits16 = 0;
  size_t ivf_candidates = 0, query_descriptors = 0;
  std::map<std::string, std::string> evidence_of;  // "query\tref" -> method
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const Query& q = queries[qi];
    if (q.original != "-") ++positives;
    std::string path = root + "/" + q.file;
    if (upscale > 0) {
      auto big = Upscale(path, upscale, upscale_dir);
      if (!big) {
        std::fprintf(stderr, "%s: cannot upscale\n", path.c_str());
        continue;
      }
      path = *big;
    }
    chuqu::media::ImageFeatureTimings t;
    auto fp = chuqu::media::ImageFingerprintFromFile(path, query_options, &t);
    if (!fp.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), fp.status().message().c_str());
      continue;
    }
    total_t.decode_ms += t.decode_ms;
    total_t.pdq_ms += t.pdq_ms;
    total_t.iscc_ms += t.iscc_ms;
    total_t.orb_ms += t.orb_ms;
    t0 = std::chrono::steady_clock::now();
    auto matches = matcher.Search(*fp);
    search_ms += Ms(t0);
    if (!matches.ok()) return 1;
    if (hit_recall) {
      const uint32_t r = options.descriptor_radius;
      const size_t cap = options.max_hits_per_descriptor;
      chuqu::index::IvfSearchStats st;
      const auto fa = flat_descriptors.RangeSearchBatch(fp->descriptors, r, 1 << 20);
      const auto ia = ivf_descriptors.RangeSearchBatch(fp->descriptors, r, 1 << 20, &st);
      const auto fc = flat_descriptors.RangeSearchBatch(fp->descriptors, r, cap);
      const auto ic = ivf_descriptors.RangeSearchBatch(fp->descriptors, r, cap);
      ivf_candidates += st.candidates;
      query_descriptors += fp->descriptors.size();
      for (size_t d = 0; d < fa.size(); ++d) {
        flat_hits += fa[d].size();
        ivf_hits += ia[d].size();  // a subset of fa[d]
        flat_hits16 += fc[d].size();
        for (const auto& nb : fc[d]) {
          ivf_hits16 += std::find(ic[d].begin(), ic[d].end(), nb) != ic[d].end();
        }
      }
    }
    for (const auto& m : *matches) {
      const std::string& ref = refs[m.id];
      ours.push_back({static_cast<int>(qi), ref, m.score, ref == q.original});
      evidence_of[std::to_string(qi) + "\t" + ref] =
          std::string(chuqu::index::ImageEvidenceName(m.method)) + "\t" +
          std::to_string(m.pdq_distance) + "\t" + std::to_string(m.iscc_distance) + "\t" +
          std::to_string(m.votes) + "\t" + std::to_string(m.inliers) + "\t" +
          std::to_string(m.coverage);
    }
    // PDQ-only baseline: best dihedral distance to every reference, keep d <= 96.
    if (fp->pdq_quality >= chuqu::kPdqMinUsefulQuality) {
      for (size_t r = 0; r < refs.size(); ++r) {
        if (ref_quality[r] < chuqu::kPdqMinUsefulQuality) continue;
        int best = 256;
        for (const auto& h : fp->pdq) best = std::min(best, chuqu::Distance(h, ref_pdq[r]));
        if (best <= 96) {
          pdq_only.push_back({static_cast<int>(qi), refs[r], 256.0 - best, refs[r] == q.original});
        }
      }
    }
    const auto digest = chuqu::ledger::Sha256(ReadFile(path));
    if (auto it = ref_by_sha.find(std::string(digest.begin(), digest.end()));
        it != ref_by_sha.end()) {
      exact.push_back({static_cast<int>(qi), it->second, 1.0, it->second == q.original});
    }
  }

  const Curve c_ours = Evaluate(ours, positives);
  const Curve c_pdq = Evaluate(pdq_only, positives);
  const Curve c_exact = Evaluate(exact, positives);

  std::printf("corpus %s: %zu references (%zu descriptors, %.1f KB/fingerprint), %zu queries "
              "(%d copies, %zu distractors)\n",
              root.c_str(), refs.size(), descriptors, bytes / 1024.0 / refs.size(),
              queries.size(), positives, queries.size() - positives);
  std::printf("indexing %.0f ms total; per query: decode %.1f ms, PDQ %.1f ms, ISCC %.1f ms, "
              "ORB %.1f ms, search+verify %.2f ms\n",
              index_ms, total_t.decode_ms / queries.size(), total_t.pdq_ms / queries.size(),
              total_t.iscc_ms / queries.size(), total_t.orb_ms / queries.size(),
              search_ms / queries.size());
  std::printf("descriptor search: %s\n", descriptor_search.c_str());
  if (hit_recall) {
    std::printf("inverted file: %zu words, trained on %zu; descriptor hits returned of the flat "
                "scan's: %.4f (%zu of %zu), of its first %zu per descriptor: %.4f (%zu of %zu); "
                "candidates per query descriptor %.0f of %zu stored\n",
                ivf_descriptors.num_words(), ivf_descriptors.trained_size(),
                flat_hits ? static_cast<double>(ivf_hits) / flat_hits : 1.0, ivf_hits, flat_hits,
                options.max_hits_per_descriptor,
                flat_hits16 ? static_cast<double>(ivf_hits16) / flat_hits16 : 1.0, ivf_hits16,
                flat_hits16,
                query_descriptors ? static_cast<double>(ivf_candidates) / query_descriptors : 0.0,
                ivf_descriptors.size());
  }
  std::printf("\n%-22s %10s %10s %10s\n", "method", "R@P>=.99", "micro-AP", "threshold");
  std::printf("%-22s %10.3f %10.3f %10.3f\n", "ours (global+local)", c_ours.recall_at_p99,
              c_ours.ap, c_ours.threshold);
  std::printf("%-22s %10.3f %10.3f %10.0f\n", "PDQ only (8 dihedral)", c_pdq.recall_at_p99,
              c_pdq.ap, 256 - c_pdq.threshold);
  std::printf("%-22s %10.3f %10.3f %10s\n", "exact SHA-256", c_exact.recall_at_p99, c_exact.ap,
              "-");

  // Per family at each method's operating point (and false positives among distractors).
  auto found = [](const std::vector<Prediction>& preds, double threshold) {
    std::set<int> hit, false_pos;
    for (const auto& p : preds) {
      if (p.score < threshold) continue;
      (p.correct ? hit : false_pos).insert(p.query);
    }
    return std::pair{hit, false_pos};
  };
  const auto [ours_hit, ours_fp] = found(ours, c_ours.threshold);
  const auto [pdq_hit, pdq_fp] = found(pdq_only, c_pdq.threshold);
  const auto [exact_hit, exact_fp] = found(exact, 1.0);
  std::map<std::string, std::array<int, 4>> fam;  // n, ours, pdq, exact
  std::map<std::string, std::array<int, 2>> dis;  // n, queries with a false positive (ours)
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const Query& q = queries[qi];
    const int i = static_cast<int>(qi);
    if (q.original == "-") {
      auto& d = dis[q.family];
      ++d[0];
      d[1] += ours_fp.contains(i);
      continue;
    }
    auto& f = fam[q.family];
    ++f[0];
    f[1] += ours_hit.contains(i);
    f[2] += pdq_hit.contains(i);
    f[3] += exact_hit.contains(i);
  }
  std::printf("\n%-16s %5s %8s %8s %8s\n", "family", "n", "ours", "PDQ", "exact");
  for (const auto& [name, f] : fam) {
    std::printf("%-16s %5d %8.3f %8.3f %8.3f\n", name.c_str(), f[0],
                static_cast<double>(f[1]) / f[0], static_cast<double>(f[2]) / f[0],
                static_cast<double>(f[3]) / f[0]);
  }
  int dn = 0, dfp = 0;
  for (const auto& [name, d] : dis) {
    dn += d[0];
    dfp += d[1];
  }
  std::printf("distractor queries with a false positive at the operating point: %d of %d\n", dfp,
              dn);
  // Also the recall at the matcher's default min_score (what the registry sees).
  const double default_min = chuqu::index::ImageMatcherOptions{}.min_score;
  int tp = 0, fp_n = 0;
  for (const auto& p : ours) {
    if (p.score >= default_min) (p.correct ? tp : fp_n)++;
  }
  std::printf("at the default min_score %.2f: recall %.3f, precision %.3f\n", default_min,
              static_cast<double>(tp) / positives,
              tp + fp_n > 0 ? static_cast<double>(tp) / (tp + fp_n) : 1.0);

  if (!dump.empty()) {
    std::ofstream out(dump);
    out << "query\tref\tscore\tcorrect\tfamily\tmethod\tpdq\tiscc\tvotes\tinliers\tcoverage\n";
    for (const auto& p : ours) {
      out << queries[p.query].file << '\t' << p.ref << '\t' << p.score << '\t' << p.correct
          << '\t' << queries[p.query].family << '\t'
          << evidence_of[std::to_string(p.query) + "\t" + p.ref] << '\n';
    }
  }
  return 0;
}
