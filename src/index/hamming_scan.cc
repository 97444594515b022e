// Popcount kernels with run-time dispatch: the library is built for baseline x86-64, so the
// POPCNT and AVX-512 VPOPCNTDQ variants are compiled per function with target attributes.
// GCC 12's AVX-512 intrinsics start from _mm*_undefined_*(), which -Wmaybe-uninitialized
// reports once inlined here (a known false positive).
// Clang has no such warning (and -Werror rejects unknown ones), so GCC only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "index/hamming.h"

namespace chuqu::index {
namespace {

template <size_t kWords>
void DistancesPortable(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& q,
                       uint16_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint16_t>(HammingDistance(codes[i], q));
}

template <size_t kWords>
__attribute__((target("popcnt"))) void DistancesPopcnt(const BinaryCode<kWords>* codes, size_t n,
                                                       const BinaryCode<kWords>& q, uint16_t* out) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t d = 0;
    for (size_t w = 0; w < kWords; ++w) {
      d += static_cast<uint32_t>(__builtin_popcountll(codes[i][w] ^ q[w]));
    }
    out[i] = static_cast<uint16_t>(d);
  }
}

// 64-bit codes: eight codes per 512-bit register.
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) void DistancesAvx512W1(
    const Code64* codes, size_t n, const Code64& q, uint16_t* out) {
  const __m512i qv = _mm512_set1_epi64(static_cast<long long>(q[0]));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i x = _mm512_xor_si512(_mm512_loadu_si512(codes + i), qv);
    __m512i p = _mm512_popcnt_epi64(x);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi64_epi16(p));
  }
  for (; i < n; ++i) out[i] = static_cast<uint16_t>(__builtin_popcountll(codes[i][0] ^ q[0]));
}

// 256-bit codes: two codes per register; lane sums by two in-register shuffles.
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) void DistancesAvx512W4(
    const Code256* codes, size_t n, const Code256& q, uint16_t* out) {
  const __m512i qv = _mm512_setr_epi64(static_cast<long long>(q[0]), static_cast<long long>(q[1]),
                                       static_cast<long long>(q[2]), static_cast<long long>(q[3]),
                                       static_cast<long long>(q[0]), static_cast<long long>(q[1]),
                                       static_cast<long long>(q[2]), static_cast<long long>(q[3]));
  // After the two adds every lane of a 256-bit half holds that code's distance; gather lane 0
  // of each half of four registers into eight 64-bit lanes.
  const __m512i pick01 = _mm512_setr_epi64(0, 4, 8, 12, 0, 0, 0, 0);
  const __m512i pick23 = _mm512_setr_epi64(0, 0, 0, 0, 0, 4, 8, 12);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i s[4];
    for (int r = 0; r < 4; ++r) {
      __m512i p = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 2 * r), qv));
      p = _mm512_add_epi64(p, _mm512_shuffle_epi32(p, static_cast<_MM_PERM_ENUM>(0x4E)));
      s[r] = _mm512_add_epi64(p, _mm512_shuffle_i64x2(p, p, 0xB1));
    }
    __m512i lo = _mm512_permutex2var_epi64(s[0], pick01, s[1]);  // codes 0..3 in lanes 0..3
    __m512i hi = _mm512_permutex2var_epi64(s[2], pick23, s[3]);  // codes 4..7 in lanes 4..7
    __m512i all = _mm512_mask_blend_epi64(0xF0, lo, hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi64_epi16(all));
  }
  if (i < n) DistancesPopcnt<4>(codes + i, n - i, q, out + i);
}

template <size_t kWords>
size_t FilterPortable(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& q,
                      uint32_t radius, uint32_t* hit_index, uint16_t* hit_distance) {
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t d = HammingDistance(codes[i], q);
    if (d <= radius) {
      hit_index[hits] = static_cast<uint32_t>(i);
      hit_distance[hits++] = static_cast<uint16_t>(d);
    }
  }
  return hits;
}

template <size_t kWords>
__attribute__((target("popcnt"))) size_t FilterPopcnt(const BinaryCode<kWords>* codes, size_t n,
                                                      const BinaryCode<kWords>& q, uint32_t radius,
                                                      uint32_t* hit_index, uint16_t* hit_distance) {
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t d = 0;
    for (size_t w = 0; w < kWords; ++w) {
      d += static_cast<uint32_t>(__builtin_popcountll(codes[i][w] ^ q[w]));
    }
    // Branch-free append: hits are rare, a mispredicted branch per code is not.
    hit_index[hits] = static_cast<uint32_t>(i);
    hit_distance[hits] = static_cast<uint16_t>(d);
    hits += d <= radius;
  }
  return hits;
}

// Appends the set bits of `mask` (codes base + j) with their distances.
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) inline size_t EmitMask(
    uint32_t mask, __m512i distances, size_t base, uint32_t* hit_index, uint16_t* hit_distance,
    size_t hits) {
  alignas(64) uint64_t d[8];
  _mm512_store_si512(d, distances);
  while (mask != 0) {
    const int j = std::countr_zero(mask);
    mask &= mask - 1;
    hit_index[hits] = static_cast<uint32_t>(base + j);
    hit_distance[hits++] = static_cast<uint16_t>(d[j]);
  }
  return hits;
}

__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) size_t FilterAvx512W1(
    const Code64* codes, size_t n, const Code64& q, uint32_t radius, uint32_t* hit_index,
    uint16_t* hit_distance) {
  const __m512i qv = _mm512_set1_epi64(static_cast<long long>(q[0]));
  const __m512i rv = _mm512_set1_epi64(radius);
  size_t i = 0, hits = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i p0 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i), qv));
    const __m512i p1 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 8), qv));
    const __mmask8 k0 = _mm512_cmple_epu64_mask(p0, rv), k1 = _mm512_cmple_epu64_mask(p1, rv);
    if ((k0 | k1) == 0) [[likely]] {
      continue;
    }
    hits = EmitMask(k0, p0, i, hit_index, hit_distance, hits);
    hits = EmitMask(k1, p1, i + 8, hit_index, hit_distance, hits);
  }
  for (; i < n; ++i) {
    const uint32_t d = static_cast<uint32_t>(__builtin_popcountll(codes[i][0] ^ q[0]));
    hit_index[hits] = static_cast<uint32_t>(i);
    hit_distance[hits] = static_cast<uint16_t>(d);
    hits += d <= radius;
  }
  return hits;
}

// 256-bit codes: the eight distances of DistancesAvx512W4, compared in one instruction.
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) size_t FilterAvx512W4(
    const Code256* codes, size_t n, const Code256& q, uint32_t radius, uint32_t* hit_index,
    uint16_t* hit_distance) {
  const __m512i qv = _mm512_setr_epi64(static_cast<long long>(q[0]), static_cast<long long>(q[1]),
                                       static_cast<long long>(q[2]), static_cast<long long>(q[3]),
                                       static_cast<long long>(q[0]), static_cast<long long>(q[1]),
                                       static_cast<long long>(q[2]), static_cast<long long>(q[3]));
  const __m512i rv = _mm512_set1_epi64(radius);
  const __m512i pick01 = _mm512_setr_epi64(0, 4, 8, 12, 0, 0, 0, 0);
  const __m512i pick23 = _mm512_setr_epi64(0, 0, 0, 0, 0, 4, 8, 12);
  size_t i = 0, hits = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i s[4];
    for (int r = 0; r < 4; ++r) {
      __m512i p = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 2 * r), qv));
      p = _mm512_add_epi64(p, _mm512_shuffle_epi32(p, static_cast<_MM_PERM_ENUM>(0x4E)));
      s[r] = _mm512_add_epi64(p, _mm512_shuffle_i64x2(p, p, 0xB1));
    }
    const __m512i lo = _mm512_permutex2var_epi64(s[0], pick01, s[1]);
    const __m512i hi = _mm512_permutex2var_epi64(s[2], pick23, s[3]);
    const __m512i all = _mm512_mask_blend_epi64(0xF0, lo, hi);
    const __mmask8 k = _mm512_cmple_epu64_mask(all, rv);
    if (k != 0) hits = EmitMask(k, all, i, hit_index, hit_distance, hits);
  }
  for (; i < n; ++i) {
    uint32_t d = 0;
    for (size_t w = 0; w < 4; ++w) {
      d += static_cast<uint32_t>(__builtin_popcountll(codes[i][w] ^ q[w]));
    }
    hit_index[hits] = static_cast<uint32_t>(i);
    hit_distance[hits] = static_cast<uint16_t>(d);
    hits += d <= radius;
  }
  return hits;
}

size_t SketchPortable(const uint32_t* sketches, size_t n, uint32_t q, uint32_t bound,
                      uint32_t* hit_index) {
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    hit_index[hits] = static_cast<uint32_t>(i);
    hits += static_cast<uint32_t>(std::popcount(sketches[i] ^ q)) <= bound;
  }
  return hits;
}

__attribute__((target("popcnt"))) size_t SketchPopcnt(const uint32_t* sketches, size_t n,
                                                      uint32_t q, uint32_t bound,
                                                      uint32_t* hit_index) {
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    hit_index[hits] = static_cast<uint32_t>(i);
    hits += static_cast<uint32_t>(__builtin_popcount(sketches[i] ^ q)) <= bound;
  }
  return hits;
}

// Sixteen sketches per register; survivors are rare, so the loop body is one compare.
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) size_t SketchAvx512(
    const uint32_t* sketches, size_t n, uint32_t q, uint32_t bound, uint32_t* hit_index) {
  const __m512i qv = _mm512_set1_epi32(static_cast<int>(q));
  const __m512i bv = _mm512_set1_epi32(static_cast<int>(std::min(bound, 32u)));
  const __m512i step = _mm512_set1_epi32(16);
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  size_t i = 0, hits = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i p = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_loadu_si512(sketches + i), qv));
    const __mmask16 k = _mm512_cmple_epu32_mask(p, bv);
    if (k != 0) {
      _mm512_mask_compressstoreu_epi32(hit_index + hits, k, index);
      hits += static_cast<size_t>(std::popcount(static_cast<uint32_t>(k)));
    }
    index = _mm512_add_epi32(index, step);
  }
  for (; i < n; ++i) {
    hit_index[hits] = static_cast<uint32_t>(i);
    hits += static_cast<uint32_t>(__builtin_popcount(sketches[i] ^ q)) <= bound;
  }
  return hits;
}

// Multi-query scan over word-major blocks (FilterBlocksWithin).
template <size_t kWords>
size_t BlocksPortable(const CodeBlock<kWords>* blocks, size_t n, const BinaryCode<kWords>* queries,
                      size_t nq, const uint32_t* limits, ScanHit* hits) {
  size_t count = 0;
  for (size_t q = 0; q < nq; ++q) {
    for (size_t i = 0; i < n; ++i) {
      const uint32_t d = HammingDistance(GetBlockCode(blocks, i), queries[q]);
      if (d <= limits[q]) {
        hits[count++] = {static_cast<uint32_t>(q), static_cast<uint32_t>(i), d};
      }
    }
  }
  return count;
}

template <size_t kWords>
__attribute__((target("popcnt"))) size_t BlocksPopcnt(const CodeBlock<kWords>* blocks, size_t n,
                                                      const BinaryCode<kWords>* queries,
                                                      size_t nq, const uint32_t* limits,
                                                      ScanHit* hits) {
  size_t count = 0;
  for (size_t q = 0; q < nq; ++q) {
    for (size_t i = 0; i < n; ++i) {
      uint32_t d = 0;
      for (size_t w = 0; w < kWords; ++w) {
        d += static_cast<uint32_t>(
            __builtin_popcountll(blocks[i / 8].words[w][i % 8] ^ queries[q][w]));
      }
      hits[count] = {static_cast<uint32_t>(q), static_cast<uint32_t>(i), d};
      count += d <= limits[q];
    }
  }
  return count;
}

// Emits the hits of queries[q0 .. q0+nq) in the valid lanes of one block (the rare case:
// distances are recomputed rather than kept in registers through the fast path). Called from
// the AVX-512 kernels only, so POPCNT is there (else std::popcount is a libgcc call).
template <size_t kWords>
__attribute__((noinline, target("popcnt"))) size_t EmitBlockHits(
    const CodeBlock<kWords>& block, uint32_t valid, const BinaryCode<kWords>* queries,
    const uint32_t* limits, uint32_t q0, int nq, uint32_t code0, ScanHit* hits, size_t count) {
  for (int q = 0; q < nq; ++q) {
    for (uint32_t mask = valid; mask != 0; mask &= mask - 1) {
      const int j = std::countr_zero(mask);
      uint32_t d = 0;
      for (size_t w = 0; w < kWords; ++w) {
        d += static_cast<uint32_t>(std::popcount(block.words[w][j] ^ queries[q0 + q][w]));
      }
      if (d <= limits[q0 + q]) {
        hits[count++] = {q0 + static_cast<uint32_t>(q), code0 + static_cast<uint32_t>(j), d};
      }
    }
  }
  return count;
}

// kQ queries against one block: per query and word one XOR and one popcount of eight
// lanes, a lane-wise add and one compare; returns the lanes where any query hits.
template <size_t kWords, int kQ>
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"), always_inline)) inline uint32_t
BlockTileAvx512(const CodeBlock<kWords>& block, __mmask8 valid, const __m512i (&qv)[kQ][kWords],
                const __m512i (&lv)[kQ]) {
  __m512i c[kWords];
  for (size_t w = 0; w < kWords; ++w) c[w] = _mm512_load_si512(block.words[w].data());
  uint32_t any = 0;
  for (int q = 0; q < kQ; ++q) {
    __m512i acc = _mm512_popcnt_epi64(_mm512_xor_si512(c[0], qv[q][0]));
    for (size_t w = 1; w < kWords; ++w) {
      acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(c[w], qv[q][w])));
    }
    any |= _mm512_mask_cmple_epu64_mask(valid, acc, lv[q]);
  }
  return any;
}

// Queries q0..q0+kQ-1 against all n codes.
template <size_t kWords, int kQ>
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) size_t BlocksAvx512Tile(
    const CodeBlock<kWords>* blocks, size_t n, const BinaryCode<kWords>* queries,
    const uint32_t* limits, uint32_t q0, ScanHit* hits, size_t count) {
  __m512i qv[kQ][kWords];
  __m512i lv[kQ];
  for (int q = 0; q < kQ; ++q) {
    for (size_t w = 0; w < kWords; ++w) {
      qv[q][w] = _mm512_set1_epi64(static_cast<long long>(queries[q0 + q][w]));
    }
    lv[q] = _mm512_set1_epi64(limits[q0 + q]);
  }
  const size_t full = n / 8;
  for (size_t b = 0; b < full; ++b) {
    const uint32_t lanes = BlockTileAvx512<kWords, kQ>(blocks[b], 0xFF, qv, lv);
    if (lanes != 0) [[unlikely]] {
      count = EmitBlockHits<kWords>(blocks[b], lanes, queries, limits, q0, kQ,
                                    static_cast<uint32_t>(8 * b), hits, count);
    }
  }
  if (n % 8 != 0) {
    const auto valid = static_cast<__mmask8>((1u << (n % 8)) - 1);
    const uint32_t lanes = BlockTileAvx512<kWords, kQ>(blocks[full], valid, qv, lv);
    if (lanes != 0) {
      count = EmitBlockHits<kWords>(blocks[full], lanes, queries, limits, q0, kQ,
                                    static_cast<uint32_t>(8 * full), hits, count);
    }
  }
  return count;
}

template <size_t kWords>
size_t BlocksAvx512(const CodeBlock<kWords>* blocks, size_t n, const BinaryCode<kWords>* queries,
                    size_t nq, const uint32_t* limits, ScanHit* hits) {
  // Four queries of 256 bits take 16 of the 32 vector registers.
  constexpr int kTile = 4;
  size_t count = 0;
  uint32_t q = 0;
  for (; q + kTile <= nq; q += kTile) {
    count = BlocksAvx512Tile<kWords, kTile>(blocks, n, queries, limits, q, hits, count);
  }
  switch (nq - q) {
    case 3:
      return BlocksAvx512Tile<kWords, 3>(blocks, n, queries, limits, q, hits, count);
    case 2:
      return BlocksAvx512Tile<kWords, 2>(blocks, n, queries, limits, q, hits, count);
    case 1:
      return BlocksAvx512Tile<kWords, 1>(blocks, n, queries, limits, q, hits, count);
    default:
      return count;
  }
}

ScanKernel DetectKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) {
    return ScanKernel::kAvx512;
  }
  if (__builtin_cpu_supports("popcnt")) return ScanKernel::kPopcnt;
  return ScanKernel::kPortable;
}

}  // namespace

ScanKernel ActiveScanKernel() {
  static const ScanKernel kernel = DetectKernel();
  return kernel;
}

const char* ScanKernelName(ScanKernel kernel) {
  switch (kernel) {
    case ScanKernel::kPortable:
      return "portable";
    case ScanKernel::kPopcnt:
      return "popcnt";
    case ScanKernel::kAvx512:
      return "avx512-vpopcntdq";
  }
  return "?";
}

bool CpuSupports(ScanKernel kernel) {
  return static_cast<int>(kernel) <= static_cast<int>(ActiveScanKernel());
}

template <size_t kWords>
void ComputeDistancesWith(ScanKernel kernel, const BinaryCode<kWords>* codes, size_t n,
                          const BinaryCode<kWords>& query, uint16_t* out) {
  switch (kernel) {
    case ScanKernel::kAvx512:
      if constexpr (kWords == 1) {
        DistancesAvx512W1(codes, n, query, out);
      } else if constexpr (kWords == 4) {
        DistancesAvx512W4(codes, n, query, out);
      } else {
        DistancesPopcnt<kWords>(codes, n, query, out);
      }
      return;
    case ScanKernel::kPopcnt:
      DistancesPopcnt<kWords>(codes, n, query, out);
      return;
    case ScanKernel::kPortable:
      DistancesPortable<kWords>(codes, n, query, out);
      return;
  }
}

template <size_t kWords>
void ComputeDistances(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& query,
                      uint16_t* out) {
  ComputeDistancesWith<kWords>(ActiveScanKernel(), codes, n, query, out);
}

size_t FilterSketch32With(ScanKernel kernel, const uint32_t* sketches, size_t n, uint32_t query,
                          uint32_t bound, uint32_t* hit_index) {
  switch (kernel) {
    case ScanKernel::kAvx512:
      return SketchAvx512(sketches, n, query, bound, hit_index);
    case ScanKernel::kPopcnt:
      return SketchPopcnt(sketches, n, query, bound, hit_index);
    case ScanKernel::kPortable:
      break;
  }
  return SketchPortable(sketches, n, query, bound, hit_index);
}

size_t FilterSketch32(const uint32_t* sketches, size_t n, uint32_t query, uint32_t bound,
                      uint32_t* hit_index) {
  return FilterSketch32With(ActiveScanKernel(), sketches, n, query, bound, hit_index);
}

template <size_t kWords>
size_t FilterWithinWith(ScanKernel kernel, const BinaryCode<kWords>* codes, size_t n,
                        const BinaryCode<kWords>& query, uint32_t radius, uint32_t* hit_index,
                        uint16_t* hit_distance) {
  switch (kernel) {
    case ScanKernel::kAvx512:
      if constexpr (kWords == 1) {
        return FilterAvx512W1(codes, n, query, radius, hit_index, hit_distance);
      } else if constexpr (kWords == 4) {
        return FilterAvx512W4(codes, n, query, radius, hit_index, hit_distance);
      } else {
        return FilterPopcnt<kWords>(codes, n, query, radius, hit_index, hit_distance);
      }
    case ScanKernel::kPopcnt:
      return FilterPopcnt<kWords>(codes, n, query, radius, hit_index, hit_distance);
    case ScanKernel::kPortable:
      break;
  }
  return FilterPortable<kWords>(codes, n, query, radius, hit_index, hit_distance);
}

template <size_t kWords>
size_t FilterWithin(const BinaryCode<kWords>* codes, size_t n, const BinaryCode<kWords>& query,
                    uint32_t radius, uint32_t* hit_index, uint16_t* hit_distance) {
  return FilterWithinWith<kWords>(ActiveScanKernel(), codes, n, query, radius, hit_index,
                                  hit_distance);
}

template <size_t kWords>
size_t FilterBlocksWithinWith(ScanKernel kernel, const CodeBlock<kWords>* blocks, size_t n,
                              const BinaryCode<kWords>* queries, size_t nq,
                              const uint32_t* limits, ScanHit* hits) {
  switch (kernel) {
    case ScanKernel::kAvx512:
      return BlocksAvx512<kWords>(blocks, n, queries, nq, limits, hits);
    case ScanKernel::kPopcnt:
      return BlocksPopcnt<kWords>(blocks, n, queries, nq, limits, hits);
    case ScanKernel::kPortable:
      break;
  }
  return BlocksPortable<kWords>(blocks, n, queries, nq, limits, hits);
}

template <size_t kWords>
size_t FilterBlocksWithin(const CodeBlock<kWords>* blocks, size_t n,
                          const BinaryCode<kWords>* queries, size_t nq, const uint32_t* limits,
                          ScanHit* hits) {
  return FilterBlocksWithinWith<kWords>(ActiveScanKernel(), blocks, n, queries, nq, limits, hits);
}

template size_t FilterBlocksWithin<1>(const CodeBlock<1>*, size_t, const Code64*, size_t,
                                      const uint32_t*, ScanHit*);
template size_t FilterBlocksWithin<4>(const CodeBlock<4>*, size_t, const Code256*, size_t,
                                      const uint32_t*, ScanHit*);
template size_t FilterBlocksWithinWith<1>(ScanKernel, const CodeBlock<1>*, size_t, const Code64*,
                                          size_t, const uint32_t*, ScanHit*);
template size_t FilterBlocksWithinWith<4>(ScanKernel, const CodeBlock<4>*, size_t,
                                          const Code256*, size_t, const uint32_t*, ScanHit*);
template size_t FilterWithin<1>(const Code64*, size_t, const Code64&, uint32_t, uint32_t*,
                                uint16_t*);
template size_t FilterWithin<4>(const Code256*, size_t, const Code256&, uint32_t, uint32_t*,
                                uint16_t*);
template size_t FilterWithinWith<1>(ScanKernel, const Code64*, size_t, const Code64&, uint32_t,
                                    uint32_t*, uint16_t*);
template size_t FilterWithinWith<4>(ScanKernel, const Code256*, size_t, const Code256&, uint32_t,
                                    uint32_t*, uint16_t*);
template void ComputeDistances<1>(const Code64*, size_t, const Code64&, uint16_t*);
template void ComputeDistances<4>(const Code256*, size_t, const Code256&, uint16_t*);
template void ComputeDistancesWith<1>(ScanKernel, const Code64*, size_t, const Code64&, uint16_t*);
template void ComputeDistancesWith<4>(ScanKernel, const Code256*, size_t, const Code256&,
                                      uint16_t*);

}  // namespace chuqu::index
