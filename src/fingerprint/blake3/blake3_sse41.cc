// BLAKE3 hash_many with SSE4.1: 4 inputs at once. Compiled with -msse4.1; called only
// after run-time detection (blake3.cc).
#include <immintrin.h>

#include "fingerprint/blake3/blake3_impl.h"
#include "fingerprint/blake3/blake3_simd_inl.h"

namespace chuqu::blake3_internal {
namespace {

struct Sse41 {
  using T = __m128i;
  static constexpr size_t kLanes = 4;
  static T Set1(uint32_t x) { return _mm_set1_epi32(static_cast<int>(x)); }
  static T Add(T a, T b) { return _mm_add_epi32(a, b); }
  static T Xor(T a, T b) { return _mm_xor_si128(a, b); }
  static T Rotr16(T x) {
    return _mm_shuffle_epi8(x, _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  }
  static T Rotr8(T x) {
    return _mm_shuffle_epi8(x, _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
  }
  static T Rotr12(T x) { return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20)); }
  static T Rotr7(T x) { return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25)); }
  static T LoadLanes(const uint32_t* p) { return _mm_load_si128(reinterpret_cast<const T*>(p)); }
  static void StoreLanes(uint32_t* p, T x) { _mm_store_si128(reinterpret_cast<T*>(p), x); }

  // m[w] lane i = message word w of input i's block at `offset`: four 4x4 transposes.
  static void LoadMsg(const uint8_t* const* in, size_t offset, T m[16]) {
    for (int g = 0; g < 4; ++g) {
      const T a = _mm_loadu_si128(reinterpret_cast<const T*>(in[0] + offset + 16 * g));
      const T b = _mm_loadu_si128(reinterpret_cast<const T*>(in[1] + offset + 16 * g));
      const T c = _mm_loadu_si128(reinterpret_cast<const T*>(in[2] + offset + 16 * g));
      const T d = _mm_loadu_si128(reinterpret_cast<const T*>(in[3] + offset + 16 * g));
      const T ab_lo = _mm_unpacklo_epi32(a, b);  // a0 b0 a1 b1
      const T cd_lo = _mm_unpacklo_epi32(c, d);  // c0 d0 c1 d1
      const T ab_hi = _mm_unpackhi_epi32(a, b);  // a2 b2 a3 b3
      const T cd_hi = _mm_unpackhi_epi32(c, d);  // c2 d2 c3 d3
      m[4 * g + 0] = _mm_unpacklo_epi64(ab_lo, cd_lo);
      m[4 * g + 1] = _mm_unpackhi_epi64(ab_lo, cd_lo);
      m[4 * g + 2] = _mm_unpacklo_epi64(ab_hi, cd_hi);
      m[4 * g + 3] = _mm_unpackhi_epi64(ab_hi, cd_hi);
    }
  }
};

}  // namespace

void Sse41HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                   const uint32_t key[8], uint64_t counter, bool increment_counter,
                   uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  HashManyWide<Sse41>(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                      flags_start, flags_end, out, PortableHashMany);
}

}  // namespace chuqu::blake3_internal
