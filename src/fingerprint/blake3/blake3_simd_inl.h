// The hash_many kernel shared by the SSE4.1, AVX2 and AVX-512 back ends: V::kLanes
// inputs are compressed at once, one input per vector lane ("transposed" state: vector
// i holds state word i of every input), as in the BLAKE3 paper §5.3.
//
// Included only by the SIMD .cc files, each compiled with its own -m flags. Everything
// is in an anonymous namespace so each file has its own copy: no inline function with
// external linkage may be compiled with wider instructions than its callers can run.
// Uses no std:: functions for the same reason.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fingerprint/blake3/blake3_impl.h"

namespace chuqu::blake3_internal {
namespace {

// V supplies: type T, kLanes, Set1, Add, Xor, Rotr16/12/8/7, LoadLanes(const uint32_t*),
// StoreLanes(uint32_t*, T) and LoadMsg(inputs, offset, m[16]) (the transpose).
template <typename V>
inline __attribute__((always_inline)) void GStep(typename V::T v[16], int a, int b, int c, int d,
                                                 typename V::T mx, typename V::T my) {
  v[a] = V::Add(V::Add(v[a], v[b]), mx);
  v[d] = V::Rotr16(V::Xor(v[d], v[a]));
  v[c] = V::Add(v[c], v[d]);
  v[b] = V::Rotr12(V::Xor(v[b], v[c]));
  v[a] = V::Add(V::Add(v[a], v[b]), my);
  v[d] = V::Rotr8(V::Xor(v[d], v[a]));
  v[c] = V::Add(v[c], v[d]);
  v[b] = V::Rotr7(V::Xor(v[b], v[c]));
}

template <typename V>
inline __attribute__((always_inline)) void RoundFn(typename V::T v[16],
                                                   const typename V::T m[16], int r) {
  const uint8_t* s = kMsgSchedule.s[r];
  GStep<V>(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
  GStep<V>(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
  GStep<V>(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
  GStep<V>(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
  GStep<V>(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
  GStep<V>(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
  GStep<V>(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
  GStep<V>(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

inline constexpr size_t kPrefetchBlocks = 2;

// Hashes exactly V::kLanes inputs (see HashManyFn).
template <typename V>
void HashGroup(const uint8_t* const* inputs, size_t blocks, const uint32_t key[8],
               uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start,
               uint8_t flags_end, uint8_t* out) {
  using T = typename V::T;
  T h[8];
  for (int i = 0; i < 8; ++i) h[i] = V::Set1(key[i]);
  alignas(64) uint32_t lo[V::kLanes];
  alignas(64) uint32_t hi[V::kLanes];
  for (size_t i = 0; i < V::kLanes; ++i) {
    const uint64_t c = counter + (increment_counter ? i : 0);
    lo[i] = static_cast<uint32_t>(c);
    hi[i] = static_cast<uint32_t>(c >> 32);
  }
  const T counter_lo = V::LoadLanes(lo);
  const T counter_hi = V::LoadLanes(hi);
  uint8_t block_flags = static_cast<uint8_t>(flags | flags_start);
  for (size_t b = 0; b < blocks; ++b) {
    if (b + 1 == blocks) block_flags = static_cast<uint8_t>(block_flags | flags_end);
    // kLanes streams 1 KiB apart defeat the hardware prefetcher on inputs beyond the
    // cache: fetching two blocks ahead measured 3.5 -> 5 GB/s at 16 MiB with AVX-512.
    // Prefetching past an input's end is harmless (a hint, never a fault).
    for (size_t i = 0; i < V::kLanes; ++i) {
      __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(inputs[i]) +
                                                       (b + kPrefetchBlocks) * kBlockLen));
    }
    T m[16];
    V::LoadMsg(inputs, b * kBlockLen, m);
    T v[16] = {h[0],
               h[1],
               h[2],
               h[3],
               h[4],
               h[5],
               h[6],
               h[7],
               V::Set1(kIv[0]),
               V::Set1(kIv[1]),
               V::Set1(kIv[2]),
               V::Set1(kIv[3]),
               counter_lo,
               counter_hi,
               V::Set1(static_cast<uint32_t>(kBlockLen)),
               V::Set1(block_flags)};
    if constexpr (V::kLanes == 16) {
      // AVX-512 has 32 registers: unrolled, constant schedule indices let all of m[] and
      // v[] stay in registers (measured +5%). With 16 registers unrolling only spills
      // more (SSE4.1 measured -13%).
#pragma GCC unroll 7
      for (int r = 0; r < kRounds; ++r) RoundFn<V>(v, m, r);
    } else {
      for (int r = 0; r < kRounds; ++r) RoundFn<V>(v, m, r);
    }
    for (int i = 0; i < 8; ++i) h[i] = V::Xor(v[i], v[i + 8]);
    block_flags = flags;
  }
  // Un-transpose: lane i of h[w] is word w of input i's chaining value (x86 is
  // little-endian, so a word's bytes are its in-memory bytes).
  alignas(64) uint32_t words[8][V::kLanes];
  for (int w = 0; w < 8; ++w) V::StoreLanes(words[w], h[w]);
  for (size_t i = 0; i < V::kLanes; ++i) {
    uint32_t cv[8];
    for (int w = 0; w < 8; ++w) cv[w] = words[w][i];
    __builtin_memcpy(out + 32 * i, cv, 32);
  }
}

// Full groups of V::kLanes inputs here, the rest through `narrower`.
template <typename V>
void HashManyWide(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                  const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                  uint8_t flags_start, uint8_t flags_end, uint8_t* out, HashManyFn narrower) {
  while (num_inputs >= V::kLanes) {
    HashGroup<V>(inputs, blocks, key, counter, increment_counter, flags, flags_start, flags_end,
                 out);
    if (increment_counter) counter += V::kLanes;
    inputs += V::kLanes;
    num_inputs -= V::kLanes;
    out += 32 * V::kLanes;
  }
  if (num_inputs > 0) {
    narrower(inputs, num_inputs, blocks, key, counter, increment_counter, flags, flags_start,
             flags_end, out);
  }
}

}  // namespace
}  // namespace chuqu::blake3_internal
