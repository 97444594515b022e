// An approximate inverted file over 256-bit binary codes (ORB descriptors): a binary
// vocabulary of k-majority words (Grana et al., "A fast approach for integrating ORB
// descriptors in the bag of words model", 2013: binary k-means whose centroids are per-bit
// majorities, Hamming distance), each stored code in the posting list of its nearest word,
// each query probing its few nearest words, and the exact distance checked on those
// candidates only (Jegou, Douze & Schmid, "Hamming Embedding and Weak Geometric
// Consistency", ECCV 2008, for the inverted file over descriptors).
//
// The vocabulary is a two-level tree (coarse words, then fine words inside each coarse word,
// as in Nister & Stewenius' vocabulary tree, CVPR 2006) so that assigning a code costs
// K1 + K2 distances, not K1 * K2.
//
// Contract: RangeSearchBatch answers like FlatHammingIndex::RangeSearchBatch — every hit is
// a stored code within the radius with its exact distance, ranked by (distance, id) and cut
// at max_results — but over the probed lists only: its hits are a subset of the flat scan's
// (within the radius) and a close neighbour in an unprobed list is missed. It is therefore
// not a HammingIndex (whose implementations are exact).
//
// Determinism: training reads the stored codes in id order (not in list order), samples
// them with a fixed stride and seeds the words with a fixed-seed generator, so the same
// (id, code) set always trains the same vocabulary; Add retrains at fixed sizes (see
// IvfOptions::retrain_growth), so the same sequence of Adds gives the same index.
//
// Thread-safety: const methods may run concurrently; Add/Remove/Build/Train need exclusive
// access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"
#include "index/hamming.h"

namespace chuqu::index {

struct IvfOptions {
  // Codes per posting list the vocabulary size is chosen for: K = K1 * K2 words with
  // K1 = K2 = the power of two nearest sqrt(n / list_size), at least 1.
  size_t list_size = 256;
  // Coarse words a query descends into, and fine words (of those coarse words' children)
  // whose lists it scans. Query-side multi-assignment (stored codes sit in one list).
  // 8 / 32 returned 99% of the flat scan's first-16 ORB hits at 67k descriptors and 93% at
  // 10^6 (4 / 16: 94% and 84%, ~1.4x faster; bench/descriptor_ivf_bench).
  uint32_t coarse_probes = 8;
  uint32_t probes = 32;
  // Below this many codes nothing is trained: one list, i.e. a flat scan.
  size_t min_train_size = 4096;
  // Add retrains (vocabulary and lists) once the index holds this factor times the codes of
  // the last training: each training costs O(n), so the cost per Add stays O(1) amortised.
  double retrain_growth = 2.0;
  // Add retrains no more once the index holds more than this many codes: the last
  // vocabulary (from ImageMatcher's switch at 250k and doublings: 4,096 words trained on
  // 2 x 10^6 codes) is kept and the lists grow, so queries scan longer lists (10^7 ORB
  // descriptors: 29 ms against 19 ms fully retrained and 690 ms flat). A retraining runs
  // inside the Add that triggers it and costs more than O(n) (n codes x 2 sqrt(n/256) word
  // distances): 0.9 s at 2 x 10^6, 16-18 s at 10^7, a stall no registration should wait for
  // (bench/descriptor_ivf_bench BM_FlatVsIvfGrown).
  size_t max_retrain_size = size_t{1} << 21;
  // Sample trained on: at most this many codes per word (fine words: per fine word of its
  // coarse word), taken with a fixed stride over the codes in id order.
  size_t sample_per_word = 32;
  uint32_t iterations = 8;       // k-majority rounds per level
  uint64_t seed = 0x243f6a8885a308d3ull;
};

// Work of one batch, for benchmarks.
struct IvfSearchStats {
  size_t candidates = 0;  // (query, stored code) distances computed in probed lists
  size_t word_distances = 0;  // (query, word) distances computed to choose the probes
};

class IvfHammingIndex {
 public:
  using Code = Code256;

  explicit IvfHammingIndex(IvfOptions options = {});

  // Replaces the contents with ids[i] -> codes[i] and trains on them (if there are at least
  // min_train_size). InvalidArgument if the spans differ in length or an id repeats.
  [[nodiscard]] Status Build(std::span<const uint64_t> ids, std::span<const Code> codes);
  // AlreadyExists if `id` is stored. May retrain (IvfOptions::retrain_growth).
  [[nodiscard]] Status Add(uint64_t id, const Code& code);
  // NotFound if `id` is not stored. Never retrains.
  [[nodiscard]] Status Remove(uint64_t id);
  // Retrains the vocabulary on the stored codes and redistributes them.
  void Train();

  size_t size() const { return list_of_.size(); }
  // Words of the current vocabulary (1 before the first training).
  size_t num_words() const { return lists_.size(); }
  // Codes the vocabulary was last trained with (0: never trained).
  size_t trained_size() const { return trained_size_; }
  // Bytes held (codes, ids, words, maps), counted as FlatHammingIndex::MemoryBytes does.
  size_t MemoryBytes() const;

  // Result i answers queries[i]; see the contract above.
  std::vector<std::vector<Neighbor>> RangeSearchBatch(std::span<const Code> queries,
                                                      uint32_t radius, size_t max_results,
                                                      IvfSearchStats* stats = nullptr) const;

 private:
  struct List {
    std::vector<CodeBlock<4>> blocks;  // code i in lane i % 8 of blocks[i / 8]
    std::vector<uint64_t> ids;
  };

  // The word whose list holds `code`; `scratch` is resized as needed.
  uint32_t Assign(const Code& code, std::vector<uint16_t>& scratch) const;
  void Append(uint32_t word, uint64_t id, const Code& code);

  IvfOptions options_;
  uint32_t coarse_count_ = 1;  // K1
  uint32_t fine_count_ = 1;    // K2; word = coarse * K2 + fine
  std::vector<Code> coarse_;   // K1 centroids
  std::vector<Code> fine_;     // K1 * K2 centroids, by word
  std::vector<List> lists_;    // by word
  std::unordered_map<uint64_t, uint32_t> list_of_;  // id -> word
  size_t trained_size_ = 0;
};

}  // namespace chuqu::index
