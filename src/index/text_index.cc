#include "index/text_index.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace chuqu::index {

using text::NormalizedText;
using text::TextFingerprints;

// Immutable postings block: keys ascending and unique, postings of keys[i] at
// postings[starts[i] .. starts[i+1]); `dir` maps the top `dir_bits` of a key to the first
// key index with those bits (a radix directory in front of the binary search).
struct TextIndex::Segment {
  std::vector<uint64_t> keys;
  std::vector<uint32_t> starts;
  std::vector<Posting> postings;
  std::vector<uint32_t> dir;
  int dir_bits = 0;

  static std::unique_ptr<Segment> Build(std::vector<std::pair<uint64_t, Posting>>* entries) {
    std::stable_sort(entries->begin(), entries->end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto s = std::make_unique<Segment>();
    s->postings.reserve(entries->size());
    for (const auto& [key, p] : *entries) {
      if (s->keys.empty() || s->keys.back() != key) {
        s->keys.push_back(key);
        s->starts.push_back(static_cast<uint32_t>(s->postings.size()));
      }
      s->postings.push_back(p);
    }
    s->starts.push_back(static_cast<uint32_t>(s->postings.size()));
    s->keys.shrink_to_fit();
    s->starts.shrink_to_fit();
    if (s->keys.size() >= 4096) {
      int bits = 1;
      while ((size_t{1} << (bits + 2)) < s->keys.size() && bits < 24) ++bits;
      s->dir_bits = bits;
      s->dir.assign((size_t{1} << bits) + 1, 0);
      size_t k = 0;
      for (size_t b = 0; b <= (size_t{1} << bits); ++b) {
        while (k < s->keys.size() && (s->keys[k] >> (64 - bits)) < b) ++k;
        s->dir[b] = static_cast<uint32_t>(k);
      }
    }
    return s;
  }

  std::span<const Posting> Find(uint64_t key) const {
    auto lo = keys.begin();
    auto hi = keys.end();
    if (dir_bits > 0) {
      const size_t b = key >> (64 - dir_bits);
      lo = keys.begin() + dir[b];
      hi = keys.begin() + dir[b + 1];
    }
    auto it = std::lower_bound(lo, hi, key);
    if (it == keys.end() || *it != key) return {};
    const size_t i = static_cast<size_t>(it - keys.begin());
    return {postings.data() + starts[i], starts[i + 1] - starts[i]};
  }

  size_t Bytes() const {
    return keys.capacity() * sizeof(uint64_t) + starts.capacity() * sizeof(uint32_t) +
           postings.capacity() * sizeof(Posting) + dir.capacity() * sizeof(uint32_t);
  }
};

TextIndex::TextIndex(const TextIndexOptions& options) : options_(options) {}
TextIndex::~TextIndex() = default;
TextIndex::TextIndex(TextIndex&&) noexcept = default;
TextIndex& TextIndex::operator=(TextIndex&&) noexcept = default;

Status TextIndex::Add(uint64_t work, const TextFingerprints& fps) {
  if (fps.options.k != options_.winnow.k || fps.options.w != options_.winnow.w) {
    return Status::InvalidArgument("text fingerprints made with k=" +
                                   std::to_string(fps.options.k) + " w=" +
                                   std::to_string(fps.options.w) + ", index uses k=" +
                                   std::to_string(options_.winnow.k) + " w=" +
                                   std::to_string(options_.winnow.w));
  }
  if (slot_of_.count(work) != 0) {
    return Status::AlreadyExists("work " + std::to_string(work) + " is already indexed");
  }
  const auto slot = static_cast<uint32_t>(works_.size());
  Work w;
  w.id = work;
  w.num_tokens = fps.num_tokens;
  w.original_length = fps.original_length;
  const size_t n = fps.fingerprints.size();
  w.position.reserve(n);
  w.begin.reserve(n);
  w.end.reserve(n);
  std::vector<std::pair<uint64_t, Posting>> entries;
  entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const text::TextFingerprint& f = fps.fingerprints[i];
    w.position.push_back(f.position);
    w.begin.push_back(f.begin);
    w.end.push_back(f.end);
    entries.push_back({f.hash, Posting{slot, static_cast<uint32_t>(i)}});
  }
  works_.push_back(std::move(w));
  slot_of_[work] = slot;
  ++live_works_;
  total_postings_ += n;
  if (!entries.empty()) {
    segments_.push_back(Segment::Build(&entries));
    MaybeMerge();
  }
  return Status::Ok();
}

Status TextIndex::Remove(uint64_t work) {
  auto it = slot_of_.find(work);
  if (it == slot_of_.end()) {
    return Status::NotFound("work " + std::to_string(work) + " is not indexed");
  }
  Work& w = works_[it->second];
  w.alive = false;
  dead_postings_ += w.position.size();
  w.position = {};
  w.begin = {};
  w.end = {};
  slot_of_.erase(it);
  --live_works_;
  if (dead_postings_ > 1024 && dead_postings_ * 2 > total_postings_) Compact();
  return Status::Ok();
}

namespace {

// Appends the live postings of `s` (keys with postings) to `out`.
template <typename Alive>
void AppendLive(const TextIndex::Segment& s, const Alive& alive,
                std::vector<std::pair<uint64_t, TextIndex::Posting>>* out) {
  for (size_t i = 0; i < s.keys.size(); ++i) {
    for (uint32_t j = s.starts[i]; j < s.starts[i + 1]; ++j) {
      if (alive(s.postings[j].slot)) out->push_back({s.keys[i], s.postings[j]});
    }
  }
}

}  // namespace

void TextIndex::MaybeMerge() {
  // Binary-counter merging: keeps O(log n) segments of geometrically growing size.
  auto alive = [this](uint32_t slot) { return works_[slot].alive; };
  while (segments_.size() >= 2) {
    const Segment& a = *segments_[segments_.size() - 2];
    const Segment& b = *segments_.back();
    if (a.postings.size() > 2 * b.postings.size()) break;
    std::vector<std::pair<uint64_t, Posting>> entries;
    entries.reserve(a.postings.size() + b.postings.size());
    AppendLive(a, alive, &entries);
    AppendLive(b, alive, &entries);
    const size_t purged = a.postings.size() + b.postings.size() - entries.size();
    dead_postings_ -= std::min(dead_postings_, purged);
    total_postings_ -= purged;
    segments_.pop_back();
    segments_.pop_back();
    if (!entries.empty()) segments_.push_back(Segment::Build(&entries));
  }
}

void TextIndex::Compact() {
  auto alive = [this](uint32_t slot) { return works_[slot].alive; };
  std::vector<std::pair<uint64_t, Posting>> entries;
  entries.reserve(total_postings_ - std::min(total_postings_, dead_postings_));
  for (const auto& s : segments_) AppendLive(*s, alive, &entries);
  segments_.clear();
  total_postings_ = entries.size();
  dead_postings_ = 0;
  if (!entries.empty()) segments_.push_back(Segment::Build(&entries));
}

size_t TextIndex::MemoryBytes() const {
  size_t bytes = sizeof(*this) + works_.capacity() * sizeof(Work);
  for (const Work& w : works_) {
    bytes += (w.position.capacity() + w.begin.capacity() + w.end.capacity()) * sizeof(uint32_t);
  }
  bytes += slot_of_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*)) +
           slot_of_.bucket_count() * sizeof(void*);
  for (const auto& s : segments_) bytes += sizeof(Segment) + s->Bytes();
  return bytes;
}

size_t TextIndex::Lookup(uint64_t key, std::vector<Posting>* out) const {
  size_t n = 0;
  for (const auto& s : segments_) {
    std::span<const Posting> p = s->Find(key);
    n += p.size();
    if (n <= options_.max_df) out->insert(out->end(), p.begin(), p.end());
  }
  return n;
}

namespace {

struct Hit {
  uint32_t slot;
  uint32_t q;   // query token position
  uint32_t w;   // work token position
  uint32_t wfp; // work fingerprint index
};

struct Chain {
  uint32_t fq, fw;  // first seed (query order)
  uint32_t lq, lw;  // last seed
  uint32_t min_w, max_w;
  uint32_t min_w_fp, max_w_fp;
  uint32_t seeds;
  int64_t diag;     // of the last seed
};

// Extends an alignment from (q, w) one token at a time in direction `step` (+1 / -1) while
// the running score (+1 match, -1 mismatch) stays within x_drop of its best; returns the
// number of tokens up to the best point.
uint32_t XDropExtend(const NormalizedText& a, int64_t q, const NormalizedText& b, int64_t w,
                     int step, int x_drop) {
  int score = 0;
  int best = 0;
  uint32_t best_len = 0;
  uint32_t len = 0;
  const auto na = static_cast<int64_t>(a.size());
  const auto nb = static_cast<int64_t>(b.size());
  while (q >= 0 && w >= 0 && q < na && w < nb) {
    ++len;
    score += a.tokens[static_cast<size_t>(q)] == b.tokens[static_cast<size_t>(w)] ? 1 : -1;
    if (score > best) {
      best = score;
      best_len = len;
    } else if (best - score > x_drop) {
      break;
    }
    q += step;
    w += step;
  }
  return best_len;
}

// Whole-work verification for short works (edited or OCR'd poems keep too few intact
// k-grams): LCS of the work against the query window where the work would lie if copied
// whole. Returns LCS / work length and the aligned query/work token range (ends trimmed to
// runs of two consecutive matches, so isolated common characters do not stretch the span).
struct Verified {
  double ratio = 0;
  uint32_t qb = 0, qe = 0, wb = 0, we = 0;  // tokens, half-open
};

Verified VerifyShortWork(const NormalizedText& query, uint32_t qb, uint32_t qe,
                         const NormalizedText& work, uint32_t wb, uint32_t we) {
  Verified v;
  const auto wn = static_cast<int64_t>(work.size());
  const auto qn = static_cast<int64_t>(query.size());
  const int64_t pad = wn / 4 + 2;
  const int64_t q0 = std::max<int64_t>(0, int64_t{qb} - wb - pad);
  const int64_t q1 = std::min<int64_t>(qn, int64_t{qe} + (wn - we) + pad);
  const int64_t m = q1 - q0;
  if (wn == 0 || m <= 0) return v;
  const size_t cols = static_cast<size_t>(m + 1);
  std::vector<uint16_t> dp(static_cast<size_t>(wn + 1) * cols, 0);
  auto at = [&](int64_t i, int64_t j) -> uint16_t& {
    return dp[static_cast<size_t>(i) * cols + static_cast<size_t>(j)];
  };
  for (int64_t i = 1; i <= wn; ++i) {
    const uint32_t t = work.tokens[static_cast<size_t>(i - 1)];
    for (int64_t j = 1; j <= m; ++j) {
      at(i, j) = t == query.tokens[static_cast<size_t>(q0 + j - 1)]
                     ? static_cast<uint16_t>(at(i - 1, j - 1) + 1)
                     : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // (query, work), reversed
  for (int64_t i = wn, j = m; i > 0 && j > 0;) {
    if (work.tokens[static_cast<size_t>(i - 1)] == query.tokens[static_cast<size_t>(q0 + j - 1)]) {
      pairs.push_back({static_cast<uint32_t>(q0 + j - 1), static_cast<uint32_t>(i - 1)});
      --i;
      --j;
    } else if (at(i - 1, j) >= at(i, j - 1)) {
      --i;
    } else {
      --j;
    }
  }
  std::reverse(pairs.begin(), pairs.end());
  auto consecutive = [&](size_t a) {
    return a + 1 < pairs.size() && pairs[a + 1].first == pairs[a].first + 1 &&
           pairs[a + 1].second == pairs[a].second + 1;
  };
  size_t first = 0;
  while (first < pairs.size() && !consecutive(first)) ++first;
  size_t last = pairs.size();
  while (last > first + 1 && !consecutive(last - 2)) --last;
  if (first + 1 >= last) return v;
  v.ratio = static_cast<double>(last - first) / static_cast<double>(wn);
  v.qb = pairs[first].first;
  v.wb = pairs[first].second;
  v.qe = pairs[last - 1].first + 1;
  v.we = pairs[last - 1].second + 1;
  return v;
}

}  // namespace

std::vector<TextMatch> TextIndex::Search(const NormalizedText& query, const WorkTextSource* texts,
                                         TextSearchStats* stats) const {
  std::vector<TextMatch> result;
  TextSearchStats local;
  TextSearchStats& st = stats != nullptr ? *stats : local;
  st = {};
  if (live_works_ == 0 || options_.max_results == 0) return result;
  Result<TextFingerprints> qf = text::Winnow(query, options_.winnow);
  if (!qf.ok()) return result;
  const auto& qfps = qf->fingerprints;
  st.query_fingerprints = qfps.size();
  const uint32_t k = static_cast<uint32_t>(options_.winnow.k);

  // 1. Seeds.
  std::vector<Hit> hits;
  std::vector<Posting> postings;
  for (const text::TextFingerprint& f : qfps) {
    postings.clear();
    const size_t df = Lookup(f.hash, &postings);
    if (df > options_.max_df) {
      ++st.boilerplate_fingerprints;
      continue;
    }
    for (const Posting& p : postings) {
      const Work& w = works_[p.slot];
      if (!w.alive) continue;
      hits.push_back(Hit{p.slot, f.position, w.position[p.fp], p.fp});
    }
  }
  st.seeds = hits.size();
  if (hits.empty()) return result;
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.slot != b.slot) return a.slot < b.slot;
    if (a.q != b.q) return a.q < b.q;
    return a.w < b.w;
  });

  std::vector<Chain> open;
  std::vector<Chain> done;
  std::vector<Chain> spans;
  const double density_unit = 2.0 / (options_.winnow.w + 1);
  for (size_t g = 0; g < hits.size();) {
    const uint32_t slot = hits[g].slot;
    size_t end = g;
    while (end < hits.size() && hits[end].slot == slot) ++end;
    ++st.works_considered;
    const Work& work = works_[slot];

    // 2. Chains along diagonals.
    open.clear();
    done.clear();
    for (size_t i = g; i < end; ++i) {
      const Hit& h = hits[i];
      const int64_t diag = int64_t{h.w} - int64_t{h.q};
      Chain* best = nullptr;
      int64_t best_drift = 0;
      for (size_t c = 0; c < open.size();) {
        if (open[c].lq + options_.max_gap < h.q) {  // expired
          done.push_back(open[c]);
          open[c] = open.back();
          open.pop_back();
          continue;
        }
        const int64_t drift = std::abs(diag - open[c].diag);
        if (open[c].lq < h.q && open[c].lw < h.w && drift <= options_.max_drift && (best == nullptr || drift < best_drift)) {
          best = &open[c];
          best_drift = drift;
        }
        ++c;
      }
      if (best == nullptr) {
        open.push_back(Chain{h.q, h.w, h.q, h.w, h.w, h.w, h.wfp, h.wfp, 1, diag});
      } else {
        best->lq = h.q;
        best->lw = h.w;
        if (h.w < best->min_w) { best->min_w = h.w; best->min_w_fp = h.wfp; }
        if (h.w > best->max_w) { best->max_w = h.w; best->max_w_fp = h.wfp; }
        ++best->seeds;
        best->diag = diag;
      }
    }
    done.insert(done.end(), open.begin(), open.end());
    st.chains += done.size();

    // 3. Merge chains that follow each other in the query and stay near one diagonal (a
    // copied passage broken by edits); chains that overlap in the query (the same query
    // text matching several places of the work) stay apart and only the best is kept.
    std::sort(done.begin(), done.end(), [](const Chain& a, const Chain& b) { return a.fq < b.fq; });
    spans.clear();
    for (const Chain& c : done) {
      Chain* into = nullptr;
      for (Chain& s : spans) {
        const bool q_next = c.fq > s.lq && c.fq <= s.lq + k + options_.merge_gap;
        const int64_t diag_jump = std::abs((int64_t{c.fw} - c.fq) - (int64_t{s.lw} - s.lq));
        // Disjoint work ranges: a repeated query phrase matching one place twice is not
        // a longer copy (clause swaps still merge).
        const bool w_disjoint = c.min_w > s.max_w || c.max_w < s.min_w;
        if (q_next && w_disjoint && diag_jump <= options_.merge_gap &&
            (into == nullptr || s.seeds > into->seeds)) {
          into = &s;
        }
      }
      if (into == nullptr) {
        spans.push_back(c);
        continue;
      }
      into->lq = c.lq;
      into->lw = c.lw;
      if (c.min_w < into->min_w) { into->min_w = c.min_w; into->min_w_fp = c.min_w_fp; }
      if (c.max_w > into->max_w) { into->max_w = c.max_w; into->max_w_fp = c.max_w_fp; }
      into->seeds += c.seeds;
    }
    // Of spans overlapping in the query, keep the one with most seeds.
    std::sort(spans.begin(), spans.end(), [](const Chain& a, const Chain& b) {
      return a.seeds != b.seeds ? a.seeds > b.seeds : a.fq < b.fq;
    });
    {
      size_t kept = 0;
      for (size_t i = 0; i < spans.size(); ++i) {
        bool overlaps = false;
        for (size_t j = 0; j < kept && !overlaps; ++j) {
          overlaps = spans[i].fq < spans[j].lq + k && spans[j].fq < spans[i].lq + k;
        }
        if (!overlaps) spans[kept++] = spans[i];
      }
      spans.resize(kept);
    }
    // Neighbouring spans that map near each other in the work (clause swaps, long edited
    // copies) are one detection; the allowed gap grows with the spans (a long copy with a
    // deleted clause stays one detection).
    std::sort(spans.begin(), spans.end(), [](const Chain& a, const Chain& b) { return a.fq < b.fq; });
    {
      size_t n = 0;
      for (size_t i = 0; i < spans.size(); ++i) {
        if (n > 0) {
          Chain& p = spans[n - 1];
          const Chain& c = spans[i];
          const int64_t len = std::min<int64_t>(p.lq - p.fq, c.lq - c.fq) + k;
          const int64_t allowed = std::max<int64_t>(options_.merge_gap, len / 2);
          const int64_t q_gap = int64_t{c.fq} - (int64_t{p.lq} + k);
          const int64_t w_gap = std::max<int64_t>(c.min_w, p.min_w) -
                                std::min<int64_t>(c.max_w, p.max_w) - k;
          const bool w_disjoint = c.min_w > p.max_w || c.max_w < p.min_w;
          if (q_gap <= allowed && w_gap <= allowed && w_disjoint) {
            if (c.lq > p.lq) { p.lq = c.lq; p.lw = c.lw; }
            if (c.min_w < p.min_w) { p.min_w = c.min_w; p.min_w_fp = c.min_w_fp; }
            if (c.max_w > p.max_w) { p.max_w = c.max_w; p.max_w_fp = c.max_w_fp; }
            p.seeds += c.seeds;
            continue;
          }
        }
        spans[n++] = spans[i];
      }
      spans.resize(n);
    }

    // 4-5. Score, extend, report.
    const NormalizedText* wt = texts != nullptr ? texts->Find(work.id) : nullptr;
    if (wt != nullptr && (wt->size() != work.num_tokens || wt->original_length != work.original_length)) {
      wt = nullptr;  // not the text these fingerprints came from
    }
    TextMatch m;
    m.work = work.id;
    for (const Chain& s : spans) {
      if (s.seeds < options_.min_seeds) continue;
      // Evidence: seeds, boosted when they cover a good part of a short work (a poem copied
      // whole has few fingerprints), damped when they are sparse in the span (scattered
      // shared phrases rather than a copy). Calibrated on zh_synthetic_v1 (docs/benchmarks.md).
      const double len = static_cast<double>(s.lq - s.fq + 1);
      const double density = s.seeds / std::max(1.0, len * density_unit);
      const double work_cov = static_cast<double>(s.max_w + k - s.min_w) /
                              std::max<uint32_t>(1, work.num_tokens);
      const double effective = s.seeds * (1.0 + std::min(1.0, work_cov / 0.3)) *
                               std::min(1.0, 0.7 + density);
      double score = 1.0 - std::exp2(-effective / 6.0);
      uint32_t qb = s.fq;
      uint32_t qe = s.lq + k;  // exclusive, tokens
      uint32_t wb = s.min_w;
      uint32_t we = s.max_w + k;
      bool have_work_tokens = false;
      if (wt != nullptr) {
        const uint32_t left = XDropExtend(query, int64_t{s.fq} - 1, *wt, int64_t{s.fw} - 1, -1,
                                          options_.extend_x_drop);
        const uint32_t right = XDropExtend(query, int64_t{s.lq} + k, *wt, int64_t{s.lw} + k, +1,
                                           options_.extend_x_drop);
        qb -= left;
        qe += right;
        wb = std::min(wb, s.fw - left);
        we = std::max(we, s.lw + k + right);
        have_work_tokens = true;
        const bool whole_document = query.size() <= 2 * size_t{work.num_tokens};
        const uint32_t verify_seeds =
            whole_document ? options_.verify_min_seeds_whole : options_.verify_min_seeds;
        if (score < options_.verify_below && work.num_tokens <= options_.verify_max_tokens &&
            s.seeds >= verify_seeds) {
          const Verified v = VerifyShortWork(query, qb, qe, *wt, wb, we);
          if (v.ratio > score) {
            score = v.ratio;
            qb = std::min(qb, v.qb);
            qe = std::max(qe, v.qe);
            wb = std::min(wb, v.wb);
            we = std::max(we, v.we);
          }
        }
      }
      if (wt == nullptr && options_.extend_within_window) {
        // Winnowing picks a k-gram in every window of w, so a shared run may start and end up
        // to w - 1 tokens beyond its outermost fingerprints (Schleimer et al. 2003 §3).
        const uint32_t ext = static_cast<uint32_t>(options_.winnow.w - 1);
        const uint32_t left = std::min({ext, s.fq, s.fw});
        const uint32_t right = std::min({ext, static_cast<uint32_t>(query.size()) - qe,
                                         work.num_tokens - std::min(work.num_tokens, s.lw + k)});
        qb -= left;
        qe += right;
      }
      if (score < options_.min_score) continue;
      TextSpan span;
      span.seeds = s.seeds;
      span.score = score;
      if (have_work_tokens) {
        span.work_begin = wt->begin[wb];
        span.work_end = wt->end[we - 1];
      } else {
        span.work_begin = work.begin[s.min_w_fp];
        span.work_end = work.end[s.max_w_fp];
      }
      span.query_begin = query.begin[qb];
      span.query_end = query.end[qe - 1];
      m.spans.push_back(span);
    }
    for (const TextSpan& sp : m.spans) m.score = std::max(m.score, sp.score);
    if (!m.spans.empty()) result.push_back(std::move(m));
    g = end;
  }

  // 6. Shadowing: a span mostly inside a much stronger span of another work is that
  // work's text quoted by this one (shared phrases), not a second source.
  auto by_rank = [](const TextMatch& a, const TextMatch& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.work < b.work;
  };
  // Bounded work from here on: only the best candidates can reach the answer (a common phrase
  // may match thousands of works when the boilerplate filter is relaxed).
  const size_t budget = std::max<size_t>(64, 8 * options_.max_results);
  if (result.size() > budget) {
    std::partial_sort(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(budget),
                      result.end(), by_rank);
    result.resize(budget);
  }
  if (options_.shadow_ratio > 0) {
    struct Ref {
      size_t m, s;
    };
    std::vector<Ref> refs;
    for (size_t i = 0; i < result.size(); ++i) {
      for (size_t j = 0; j < result[i].spans.size(); ++j) refs.push_back({i, j});
    }
    std::sort(refs.begin(), refs.end(), [&](const Ref& a, const Ref& b) {
      return result[a.m].spans[a.s].seeds > result[b.m].spans[b.s].seeds;
    });
    std::vector<Ref> kept;
    std::vector<std::vector<char>> drop(result.size());
    for (size_t i = 0; i < result.size(); ++i) drop[i].assign(result[i].spans.size(), 0);
    for (const Ref& r : refs) {
      const TextSpan& a = result[r.m].spans[r.s];
      for (const Ref& o : kept) {
        const TextSpan& b = result[o.m].spans[o.s];
        if (o.m == r.m || b.seeds < options_.shadow_ratio * a.seeds) continue;
        const uint32_t lo = std::max(a.query_begin, b.query_begin);
        const uint32_t hi = std::min(a.query_end, b.query_end);
        if (hi > lo && 2 * (hi - lo) >= a.query_end - a.query_begin) {
          drop[r.m][r.s] = 1;
          break;
        }
      }
      if (!drop[r.m][r.s]) kept.push_back(r);
    }
    for (size_t i = 0; i < result.size(); ++i) {
      size_t n = 0;
      for (size_t j = 0; j < result[i].spans.size(); ++j) {
        if (!drop[i][j]) result[i].spans[n++] = result[i].spans[j];
      }
      result[i].spans.resize(n);
    }
    result.erase(std::remove_if(result.begin(), result.end(),
                                [](const TextMatch& m) { return m.spans.empty(); }),
                 result.end());
  }
  for (TextMatch& m : result) {
    std::sort(m.spans.begin(), m.spans.end(),
              [](const TextSpan& a, const TextSpan& b) { return a.query_begin < b.query_begin; });
    m.score = 0;
    double q = 0, w = 0;
    for (const TextSpan& s : m.spans) {
      m.score = std::max(m.score, s.score);
      q += s.query_end - s.query_begin;
      w += s.work_end - s.work_begin;
    }
    m.query_coverage = std::min(1.0, q / std::max<uint32_t>(1, query.original_length));
    m.work_coverage =
        std::min(1.0, w / std::max<uint32_t>(1, works_[slot_of_.at(m.work)].original_length));
  }
  std::sort(result.begin(), result.end(), [](const TextMatch& a, const TextMatch& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.query_coverage != b.query_coverage) return a.query_coverage > b.query_coverage;
    return a.work < b.work;
  });
  if (result.size() > options_.max_results) result.resize(options_.max_results);
  return result;
}

}  // namespace chuqu::index
