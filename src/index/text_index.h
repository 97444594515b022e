// Inverted index of winnowed text fingerprints with seed-and-extend alignment: finds
// registered works (whole or in part) inside a query text and returns the matched spans in
// ORIGINAL code-point offsets on both sides (shared/notes/text-copy-detection.md §2.4).
//
// Pipeline of Search:
//   1. seeds: every query fingerprint is looked up; a fingerprint held by more than
//      `max_df` postings is boilerplate (legal formulae, common phrases) and never seeds;
//   2. chains: per work, seeds are chained in query order along a diagonal
//      (query gap <= max_gap, diagonal drift <= max_drift);
//   3. merge: chains of one work closer than `merge_gap` on both sides become one span
//      (one detection per copied passage: PAN granularity);
//   4. extend: with the registered work's normalised text (WorkTextSource, optional), span
//      ends are extended by an X-drop alignment to the exact copy boundary; without it the
//      span covers the matched k-grams, its query side widened by up to w - 1 tokens at
//      each end (the winnowing window);
//   5. score in [0,1] from the seed count, the share of the work covered and the seed
//      density of the span; spans under min_score are dropped;
//   6. shadowing: a span mostly inside a much stronger span of another work is dropped;
//      works are ranked by score and truncated to max_results.
//
// Storage: postings live in immutable sorted segments (sorted 64-bit keys + CSR postings),
// merged like a binary counter as works are added (O(log n) segments; Compact() merges all
// into one for the fastest search). Removal marks the work dead; its postings are purged by
// the next merge or Compact().
// Thread-safety: Search/size/MemoryBytes are const and may run concurrently; Add, Remove and
// Compact need exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"
#include "fingerprint/text/text_fingerprint.h"

namespace chuqu::index {

struct TextIndexOptions {
  // Must equal the options the added fingerprints were made with.
  text::WinnowOptions winnow;
  // Fingerprints with more postings than this never seed (boilerplate filter).
  uint32_t max_df = 8;
  // Chaining: largest query-side gap (tokens) and diagonal change between seeds of a chain.
  uint32_t max_gap = 40;
  uint32_t max_drift = 20;
  // Chains of one work closer than this (tokens, on both sides) are merged into one span.
  uint32_t merge_gap = 80;
  // A span needs at least this many seeds, and at least this score, to be reported.
  uint32_t min_seeds = 2;
  double min_score = 0.5;
  // A span is dropped when at least half of its query range lies in a span of another work
  // with shadow_ratio times as many seeds (0 disables).
  double shadow_ratio = 2.0;
  // Most works returned (ranked by score).
  size_t max_results = 20;
  // With the work's text, a weak span on a work of at most this many tokens is verified by
  // aligning the whole work (LCS) against the query; the aligned share becomes its score.
  // Only spans scoring below verify_below are verified.
  uint32_t verify_max_tokens = 256;
  double verify_below = 0.5;
  // Exact evidence a verified span needs: at least this many seeds (shared k-gram
  // fingerprints), or verify_min_seeds_whole when the query is itself about as long as the
  // work (query tokens <= 2 x work tokens: a whole-document comparison). A query longer than
  // that offers many places where a short work could align, so an embedded passage must
  // carry more exact evidence than a whole document; with two seeds, variant editions of
  // short poems inside unrelated text were accepted (docs/benchmarks.md "Text copy
  // detection", negatives).
  uint32_t verify_min_seeds = 3;
  uint32_t verify_min_seeds_whole = 2;
  // X-drop of the boundary extension (matches +1, mismatches -1), when texts are supplied.
  int extend_x_drop = 4;
  // Without the work's text, the query side of a span is extended by up to w - 1 tokens at
  // each end (where the work has that much room beyond the outermost seeds); the work side
  // stays on the matched fingerprints.
  bool extend_within_window = true;
};

// A matched passage, code points of the ORIGINAL texts, half-open.
struct TextSpan {
  uint32_t query_begin = 0;
  uint32_t query_end = 0;
  uint32_t work_begin = 0;
  uint32_t work_end = 0;
  uint32_t seeds = 0;  // fingerprints shared inside the span
  double score = 0;    // in [0,1]
};

struct TextMatch {
  uint64_t work = 0;
  double score = 0;             // best span score, in [0,1]
  std::vector<TextSpan> spans;  // by query_begin
  double query_coverage = 0;    // share of the query's code points inside spans
  double work_coverage = 0;     // share of the work's code points inside spans
};

// Supplies registered works' normalised texts for boundary refinement. Optional: search
// works from fingerprints alone. Find may return nullptr (text not kept).
class WorkTextSource {
 public:
  virtual ~WorkTextSource() = default;
  virtual const text::NormalizedText* Find(uint64_t work) const = 0;
};

struct TextSearchStats {
  size_t query_fingerprints = 0;
  size_t boilerplate_fingerprints = 0;  // skipped: more than max_df postings
  size_t seeds = 0;
  size_t chains = 0;
  size_t works_considered = 0;
};

class TextIndex {
 public:
  explicit TextIndex(const TextIndexOptions& options = {});
  ~TextIndex();
  TextIndex(TextIndex&&) noexcept;
  TextIndex& operator=(TextIndex&&) noexcept;

  const TextIndexOptions& options() const { return options_; }

  // InvalidArgument if the fingerprints were made with other winnowing options;
  // AlreadyExists if `work` is stored.
  [[nodiscard]] Status Add(uint64_t work, const text::TextFingerprints& fingerprints);
  // NotFound if `work` is not stored.
  [[nodiscard]] Status Remove(uint64_t work);
  // Merges every segment into one and drops removed works' postings.
  void Compact();

  size_t size() const { return live_works_; }
  // Bytes held (keys, postings, per-work fingerprint locations), counted not RSS.
  size_t MemoryBytes() const;

  // Matches of `query` (normalised with text::Normalize). An empty index or a query with no
  // fingerprints answers an empty list. `texts` (may be null) refines span boundaries.
  std::vector<TextMatch> Search(const text::NormalizedText& query,
                                const WorkTextSource* texts = nullptr,
                                TextSearchStats* stats = nullptr) const;

  struct Posting {
    uint32_t slot;  // index into works_
    uint32_t fp;    // index into that work's fingerprint locations
  };
  struct Segment;

 private:
  struct Work {
    uint64_t id = 0;
    bool alive = true;
    uint32_t num_tokens = 0;
    uint32_t original_length = 0;
    std::vector<uint32_t> position;  // per fingerprint: token position, original begin/end
    std::vector<uint32_t> begin;
    std::vector<uint32_t> end;
  };

  void MaybeMerge();
  // Postings of `key` in every segment (dead ones included), appended to `out`.
  size_t Lookup(uint64_t key, std::vector<Posting>* out) const;

  TextIndexOptions options_;
  std::vector<Work> works_;
  std::unordered_map<uint64_t, uint32_t> slot_of_;
  std::vector<std::unique_ptr<Segment>> segments_;
  size_t live_works_ = 0;
  size_t dead_postings_ = 0;
  size_t total_postings_ = 0;
};

}  // namespace chuqu::index
