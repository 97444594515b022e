// BLAKE3 hash_many with AVX-512F: 16 inputs at once. Compiled with -mavx512f -mavx512vl;
// called only after run-time detection (blake3.cc).
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_epi32() as the masked-off source,
// which -W(maybe-)uninitialized reports once inlined: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include "fingerprint/blake3/blake3_impl.h"
#include "fingerprint/blake3/blake3_simd_inl.h"

namespace chuqu::blake3_internal {
namespace {

struct Avx512 {
  using T = __m512i;
  static constexpr size_t kLanes = 16;
  static T Set1(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static T Add(T a, T b) { return _mm512_add_epi32(a, b); }
  static T Xor(T a, T b) { return _mm512_xor_si512(a, b); }
  static T Rotr16(T x) { return _mm512_ror_epi32(x, 16); }
  static T Rotr12(T x) { return _mm512_ror_epi32(x, 12); }
  static T Rotr8(T x) { return _mm512_ror_epi32(x, 8); }
  static T Rotr7(T x) { return _mm512_ror_epi32(x, 7); }
  static T LoadLanes(const uint32_t* p) { return _mm512_load_si512(p); }
  static void StoreLanes(uint32_t* p, T x) { _mm512_store_si512(p, x); }

  // m[w] lane i = message word w of input i's block at `offset`: one 16x16 transpose.
  static void LoadMsg(const uint8_t* const* in, size_t offset, T m[16]) {
    T r[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(in[i] + offset);
    // Within each 128-bit lane j: t[2k] = rows 2k,2k+1 words {4j, 4j+1}, t[2k+1] {4j+2, 4j+3}.
    T t[16];
    for (int k = 0; k < 8; ++k) {
      t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
      t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    // u[4q + c] lane j: word 4j + c of rows 4q..4q+3.
    T u[16];
    for (int q = 0; q < 4; ++q) {
      u[4 * q + 0] = _mm512_unpacklo_epi64(t[4 * q], t[4 * q + 2]);
      u[4 * q + 1] = _mm512_unpackhi_epi64(t[4 * q], t[4 * q + 2]);
      u[4 * q + 2] = _mm512_unpacklo_epi64(t[4 * q + 1], t[4 * q + 3]);
      u[4 * q + 3] = _mm512_unpackhi_epi64(t[4 * q + 1], t[4 * q + 3]);
    }
    // Word 4j + c = lane j of u[c], u[4 + c], u[8 + c], u[12 + c]: a 4x4 lane transpose.
    for (int c = 0; c < 4; ++c) {
      const T x0 = _mm512_shuffle_i32x4(u[c], u[4 + c], _MM_SHUFFLE(1, 0, 1, 0));
      const T x1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], _MM_SHUFFLE(1, 0, 1, 0));
      const T x2 = _mm512_shuffle_i32x4(u[c], u[4 + c], _MM_SHUFFLE(3, 2, 3, 2));
      const T x3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], _MM_SHUFFLE(3, 2, 3, 2));
      m[c] = _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
      m[4 + c] = _mm512_shuffle_i32x4(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));
      m[8 + c] = _mm512_shuffle_i32x4(x2, x3, _MM_SHUFFLE(2, 0, 2, 0));
      m[12 + c] = _mm512_shuffle_i32x4(x2, x3, _MM_SHUFFLE(3, 1, 3, 1));
    }
  }
};

}  // namespace

void Avx512HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                    const uint32_t key[8], uint64_t counter, bool increment_counter,
                    uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  HashManyWide<Avx512>(inputs, num_inputs, blocks, key, counter, increment_counter, flags,
                       flags_start, flags_end, out, Avx2HashMany);
}

}  // namespace chuqu::blake3_internal
