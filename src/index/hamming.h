// Binary codes, Hamming distance and the flat-scan kernel shared by every Hamming index.
// Thread-safety: pure functions over caller-owned buffers.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "chuqu/pdq.h"

namespace chuqu::index {

// A binary code of kWords * 64 bits, bit i of the code is bit (i % 64) of words[i / 64].
// 64-bit codes (ISCC units) are BinaryCode<1>; 256-bit codes (PDQ, binary local
// descriptors) are BinaryCode<4>.
template <size_t kWords>
using BinaryCode = std::array<uint64_t, kWords>;
using Code64 = BinaryCode<1>;
using Code256 = BinaryCode<4>;

// A PDQ hash as an index code. Word order differs from bit order, which Hamming distance
// does not see: HammingDistance(PdqCode(a), PdqCode(b)) == chuqu::Distance(a, b).
inline Code256 PdqCode(const Hash256& hash) { return hash.words; }

// One search hit. Results are ranked by (distance, id), ascending.
struct Neighbor {
  uint64_t id = 0;
  uint32_t distance = 0;
  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

inline bool NeighborLess(const Neighbor& a, const Neighbor& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
}

// Portable reference distance (std::popcount); the kernels below must agree with it.
template <size_t kWords>
inline uint32_t HammingDistance(const BinaryCode<kWords>& a, const BinaryCode<kWords>& b) {
  uint32_t d = 0;
  for (size_t i = 0; i < kWords; ++i) d += static_cast<uint32_t>(std::popcount(a[i] ^ b[i]));
  return d;
}

// Which popcount kernel ComputeDistances uses; chosen once at run time from CPUID.
enum class ScanKernel : uint8_t { kPortable, kPopcnt, kAvx512 };
ScanKernel ActiveScanKernel();
const char* ScanKernelName(ScanKernel kernel);

// out[i] = HammingDistance(codes[i], query) for i < n. REQUIRES: out has n entries.
// Dispatches to AVX-512 VPOPCNTDQ, then POPCNT, then portable code.
template <size_t kWords>
void ComputeDistances(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& query,
                      uint16_t* out);

// Same, forcing one kernel (tests compare every kernel the CPU has against the portable one).
// REQUIRES: the CPU supports `kernel`.
template <size_t kWords>
void ComputeDistancesWith(ScanKernel kernel, const BinaryCode<kWords>* codes, size_t n,
                          const BinaryCode<kWords>& query, uint16_t* out);
bool CpuSupports(ScanKernel kernel);

// Fused distance + threshold: writes the positions i < n (ascending) whose
// HammingDistance(codes[i], query) <= radius to hit_index, their distances to hit_distance,
// and returns how many. Candidate verification is mostly misses, so the AVX-512 kernel
// compares eight distances at once and only visits the hits.
// REQUIRES: hit_index and hit_distance have n entries.
template <size_t kWords>
size_t FilterWithin(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& query,
                    uint32_t radius, uint32_t* hit_index, uint16_t* hit_distance);
// Sketch filter: writes the positions i < n (ascending) with
// popcount(sketches[i] ^ query) <= bound to hit_index and returns how many.
// REQUIRES: hit_index has n entries.
size_t FilterSketch32(const uint32_t* sketches, size_t n, uint32_t query, uint32_t bound,
                      uint32_t* hit_index);
size_t FilterSketch32With(ScanKernel kernel, const uint32_t* sketches, size_t n, uint32_t query,
                          uint32_t bound, uint32_t* hit_index);
template <size_t kWords>
size_t FilterWithinWith(ScanKernel kernel, const BinaryCode<kWords>* codes, size_t n,
                        const BinaryCode<kWords>& query, uint32_t radius, uint32_t* hit_index,
                        uint16_t* hit_distance);

// Codes stored word-major in blocks of eight: words[w][j] is word w of code j of the block.
// One vector register then holds word w of eight codes, so a distance needs no horizontal
// sum, and one loaded block serves several queries (FilterBlocksWithin). Code i of an array
// of blocks is lane i % 8 of block i / 8; unused lanes of the last block are ignored.
template <size_t kWords>
struct alignas(64) CodeBlock {
  std::array<std::array<uint64_t, 8>, kWords> words{};
};

template <size_t kWords>
inline BinaryCode<kWords> GetBlockCode(const CodeBlock<kWords>* blocks, size_t i) {
  BinaryCode<kWords> c;
  for (size_t w = 0; w < kWords; ++w) c[w] = blocks[i / 8].words[w][i % 8];
  return c;
}

template <size_t kWords>
inline void SetBlockCode(CodeBlock<kWords>* blocks, size_t i, const BinaryCode<kWords>& c) {
  for (size_t w = 0; w < kWords; ++w) blocks[i / 8].words[w][i % 8] = c[w];
}

// One (query, code) pair of a multi-query scan.
struct ScanHit {
  uint32_t query;     // index into the queries given
  uint32_t code;      // index of the code in the blocks given
  uint32_t distance;  // their Hamming distance
  friend bool operator==(const ScanHit&, const ScanHit&) = default;
};

// Multi-query filter: writes every pair (q < nq, i < n) with
// HammingDistance(code i, queries[q]) <= limits[q] to `hits` and returns how many, in an
// order that depends on the kernel only. The AVX-512 kernel keeps four queries in registers
// and tests each loaded block against all of them, so keep n small enough for the blocks to
// stay in L1 (a few hundred 256-bit codes) and call it per chunk.
// REQUIRES: hits has room for n * nq entries.
template <size_t kWords>
size_t FilterBlocksWithin(const CodeBlock<kWords>* blocks, size_t n,
                          const BinaryCode<kWords>* queries, size_t nq, const uint32_t* limits,
                          ScanHit* hits);
template <size_t kWords>
size_t FilterBlocksWithinWith(ScanKernel kernel, const CodeBlock<kWords>* blocks, size_t n,
                              const BinaryCode<kWords>* queries, size_t nq,
                              const uint32_t* limits, ScanHit* hits);

}  // namespace chuqu::index
