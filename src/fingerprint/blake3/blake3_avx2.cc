// BLAKE3 hash_many with AVX2: 8 inputs at once. Compiled with -mavx2; called only after
// run-time detection (blake3.cc).
#include <immintrin.h>

#include "fingerprint/blake3/blake3_impl.h"
#include "fingerprint/blake3/blake3_simd_inl.h"

namespace chuqu::blake3_internal {
namespace {

struct Avx2 {
  using T = __m256i;
  static constexpr size_t kLanes = 8;
  static T Set1(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static T Add(T a, T b) { return _mm256_add_epi32(a, b); }
  static T Xor(T a, T b) { return _mm256_xor_si256(a, b); }
  static T Rotr16(T x) {
    return _mm256_shuffle_epi8(
        x, _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6,
                            7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  }
  static T Rotr8(T x) {
    return _mm256_shuffle_epi8(
        x, _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, 1, 2, 3, 0, 5,
                            6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
  }
  static T Rotr12(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
  static T Rotr7(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }
  static T LoadLanes(const uint32_t* p) {
    return _mm256_load_si256(reinterpret_cast<const T*>(p));
  }
  static void StoreLanes(uint32_t* p, T x) { _mm256_store_si256(reinterpret_cast<T*>(p), x); }

  // m[w] lane i = message word w of input i's block at `offset`: two 8x8 transposes.
  static void LoadMsg(const uint8_t* const* in, size_t offset, T m[16]) {
    for (int half = 0; half < 2; ++half) {
      T r[8];
      for (int i = 0; i < 8; ++i) {
        r[i] = _mm256_loadu_si256(reinterpret_cast<const T*>(in[i] + offset + 32 * half));
      }
      // Within each 128-bit lane: t[2k] = rows 2k,2k+1 words {0,1}, t[2k+1] words {2,3}.
      T t[8];
      for (int k = 0; k < 4; ++k) {
        t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
      }
      // u[4q + c] lane j: word 4j + c of rows 4q..4q+3.
      T u[8];
      for (int q = 0; q < 2; ++q) {
        u[4 * q + 0] = _mm256_unpacklo_epi64(t[4 * q], t[4 * q + 2]);
        u[4 * q + 1] = _mm256_unpackhi_epi64(t[4 * q], t[4 * q + 2]);
        u[4 * q + 2] = _mm256_unpacklo_epi64(t[4 * q + 1], t[4 * q + 3]);
        u[4 * q + 3] = _mm256_unpackhi_epi64(t[4 * q + 1], t[4 * q + 3]);
      }
      for (int c = 0; c < 4; ++c) {
        m[8 * half + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
        m[8 * half + 4 + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
      }
    }
  }
};

}  // namespace

void Avx2HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                  const uint32_t key[8], uint64_t counter, bool increment_counter, uint8_t flags,
                  uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  HashManyWide<Avx2>(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                     flags_start, flags_end, out, Sse41HashMany);
}

}  // namespace chuqu::blake3_internal
