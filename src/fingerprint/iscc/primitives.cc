// Shared ISCC primitives: SimHash, MinHash-256, UTF-8 helpers (iscc_core/simhash.py,
// minhash.py, code_meta.py text_trim).
#include <immintrin.h>

#include <algorithm>

#include "fingerprint/iscc/iscc_internal.h"
#include "fingerprint/iscc/iscc_tables.h"

namespace chuqu::iscc_internal {
namespace {

constexpr uint64_t kMersenne61 = (uint64_t{1} << 61) - 1;
constexpr uint64_t kMaxH = 0xFFFFFFFFu;

// (x mod 2^61-1) & 0xFFFFFFFF for any 64-bit x (minhash.py: `% MPRIME & MAXH`).
inline uint64_t ModMersenneLow32(uint64_t x) {
  uint64_t r = (x & kMersenne61) + (x >> 61);  // <= 2^61 - 1 + 7
  if (r >= kMersenne61) r -= kMersenne61;
  return r & kMaxH;
}

void MinHashScalar(uint64_t* mins, const uint32_t* f, size_t n) {
  for (int k = 0; k < 64; ++k) {
    uint64_t m = mins[k];
    const uint64_t a = kMinhashA[k], b = kMinhashB[k];
    for (size_t i = 0; i < n; ++i) m = std::min(m, ModMersenneLow32(a * f[i] + b));
    mins[k] = m;
  }
}

__attribute__((target("avx2"))) void MinHashAvx2(uint64_t* mins, const uint32_t* f, size_t n) {
  const __m256i p = _mm256_set1_epi64x(static_cast<int64_t>(kMersenne61));
  const __m256i p_minus_1 = _mm256_set1_epi64x(static_cast<int64_t>(kMersenne61 - 1));
  const __m256i lo32 = _mm256_set1_epi64x(static_cast<int64_t>(kMaxH));
  for (int blk = 0; blk < 16; blk += 2) {
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMinhashA + 4 * blk));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMinhashA + 4 * blk + 4));
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMinhashB + 4 * blk));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMinhashB + 4 * blk + 4));
    const __m256i a0h = _mm256_srli_epi64(a0, 32), a1h = _mm256_srli_epi64(a1, 32);
    __m256i m0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mins + 4 * blk));
    __m256i m1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mins + 4 * blk + 4));
    for (size_t i = 0; i < n; ++i) {
      const __m256i fv = _mm256_set1_epi64x(f[i]);
      // a*f mod 2^64 with f < 2^32: a_lo*f + (a_hi*f << 32).
      __m256i x0 = _mm256_add_epi64(_mm256_mul_epu32(a0, fv),
                                    _mm256_slli_epi64(_mm256_mul_epu32(a0h, fv), 32));
      __m256i x1 = _mm256_add_epi64(_mm256_mul_epu32(a1, fv),
                                    _mm256_slli_epi64(_mm256_mul_epu32(a1h, fv), 32));
      x0 = _mm256_add_epi64(x0, b0);
      x1 = _mm256_add_epi64(x1, b1);
      __m256i r0 = _mm256_add_epi64(_mm256_and_si256(x0, p), _mm256_srli_epi64(x0, 61));
      __m256i r1 = _mm256_add_epi64(_mm256_and_si256(x1, p), _mm256_srli_epi64(x1, 61));
      // r < 2^62, so the signed compare is exact.
      r0 = _mm256_sub_epi64(r0, _mm256_and_si256(_mm256_cmpgt_epi64(r0, p_minus_1), p));
      r1 = _mm256_sub_epi64(r1, _mm256_and_si256(_mm256_cmpgt_epi64(r1, p_minus_1), p));
      r0 = _mm256_and_si256(r0, lo32);
      r1 = _mm256_and_si256(r1, lo32);
      m0 = _mm256_blendv_epi8(m0, r0, _mm256_cmpgt_epi64(m0, r0));
      m1 = _mm256_blendv_epi8(m1, r1, _mm256_cmpgt_epi64(m1, r1));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mins + 4 * blk), m0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mins + 4 * blk + 4), m1);
  }
}

// GCC 12 reports a false -Wmaybe-uninitialized inside its own AVX-512 intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f,avx512dq"))) void MinHashAvx512(uint64_t* mins, const uint32_t* f,
                                                               size_t n) {
  const __m512i p = _mm512_set1_epi64(static_cast<int64_t>(kMersenne61));
  const __m512i lo32 = _mm512_set1_epi64(static_cast<int64_t>(kMaxH));
  for (int blk = 0; blk < 8; blk += 2) {
    const __m512i a0 = _mm512_loadu_si512(kMinhashA + 8 * blk);
    const __m512i a1 = _mm512_loadu_si512(kMinhashA + 8 * blk + 8);
    const __m512i b0 = _mm512_loadu_si512(kMinhashB + 8 * blk);
    const __m512i b1 = _mm512_loadu_si512(kMinhashB + 8 * blk + 8);
    __m512i m0 = _mm512_loadu_si512(mins + 8 * blk);
    __m512i m1 = _mm512_loadu_si512(mins + 8 * blk + 8);
    for (size_t i = 0; i < n; ++i) {
      const __m512i fv = _mm512_set1_epi64(f[i]);
      const __m512i x0 = _mm512_add_epi64(_mm512_mullo_epi64(a0, fv), b0);
      const __m512i x1 = _mm512_add_epi64(_mm512_mullo_epi64(a1, fv), b1);
      __m512i r0 = _mm512_add_epi64(_mm512_and_si512(x0, p), _mm512_srli_epi64(x0, 61));
      __m512i r1 = _mm512_add_epi64(_mm512_and_si512(x1, p), _mm512_srli_epi64(x1, 61));
      r0 = _mm512_mask_sub_epi64(r0, _mm512_cmpge_epu64_mask(r0, p), r0, p);
      r1 = _mm512_mask_sub_epi64(r1, _mm512_cmpge_epu64_mask(r1, p), r1, p);
      m0 = _mm512_min_epu64(m0, _mm512_and_si512(r0, lo32));
      m1 = _mm512_min_epu64(m1, _mm512_and_si512(r1, lo32));
    }
    _mm512_storeu_si512(mins + 8 * blk, m0);
    _mm512_storeu_si512(mins + 8 * blk + 8, m1);
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

using MinHashKernel = void (*)(uint64_t*, const uint32_t*, size_t);

MinHashKernel SelectKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return MinHashAvx512;
  if (__builtin_cpu_supports("avx2")) return MinHashAvx2;
  return MinHashScalar;
}

// Function-local so that use from other static initialisers is safe.
MinHashKernel Kernel() {
  static const MinHashKernel kernel = SelectKernel();
  return kernel;
}

bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

void MinHashUpdate(uint64_t* mins, std::span<const uint32_t> features, MinHashImpl impl) {
  switch (impl) {
    case MinHashImpl::kAuto: Kernel()(mins, features.data(), features.size()); return;
    case MinHashImpl::kScalar: MinHashScalar(mins, features.data(), features.size()); return;
    case MinHashImpl::kAvx2:
      CHUQU_CHECK(__builtin_cpu_supports("avx2"));
      MinHashAvx2(mins, features.data(), features.size());
      return;
    case MinHashImpl::kAvx512:
      CHUQU_CHECK(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"));
      MinHashAvx512(mins, features.data(), features.size());
      return;
  }
}

std::array<uint8_t, 32> MinHashCompress(const uint64_t* mins) {
  // minhash.py alg_minhash_compress(lsb=4): bit b of h_0..h_63 for b = 0..3, MSB-first.
  std::array<uint8_t, 32> out{};
  int pos = 0;
  for (int b = 0; b < 4; ++b) {
    for (int k = 0; k < 64; ++k, ++pos) {
      if ((mins[k] >> b) & 1) out[pos / 8] |= static_cast<uint8_t>(0x80 >> (pos % 8));
    }
  }
  return out;
}

MinHasher::MinHasher() { std::fill(std::begin(min_), std::end(min_), kMaxH); }

void MinHasher::Add(uint32_t feature) { Kernel()(min_, &feature, 1); }

void MinHasher::Add(std::span<const uint32_t> features) { Kernel()(min_, features.data(), features.size()); }

std::array<uint8_t, 32> MinHasher::Digest() const { return MinHashCompress(min_); }

std::array<uint8_t, 32> MinHash256(std::span<const uint32_t> features) {
  CHUQU_CHECK(!features.empty());
  MinHasher h;
  h.Add(features);
  return h.Digest();
}

std::vector<uint8_t> SimHash(const uint8_t* digests, size_t count, size_t nbytes) {
  CHUQU_CHECK(count >= 1 && nbytes >= 1);
  std::vector<uint32_t> ones(nbytes * 8, 0);
  for (size_t d = 0; d < count; ++d) {
    const uint8_t* dig = digests + d * nbytes;
    for (size_t i = 0; i < nbytes * 8; ++i) ones[i] += (dig[i / 8] >> (7 - i % 8)) & 1;
  }
  std::vector<uint8_t> out(nbytes, 0);
  for (size_t i = 0; i < nbytes * 8; ++i) {
    // simhash.py: vector[i] >= len/2 (real division), i.e. 2*ones >= count.
    if (2 * static_cast<uint64_t>(ones[i]) >= count) out[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  }
  return out;
}

bool IsPythonSpace(char32_t c) { return IsPySpace(c); }

std::u32string PyStrip(std::u32string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsPySpace(s[b])) ++b;
  while (e > b && IsPySpace(s[e - 1])) --e;
  return std::u32string(s.substr(b, e - b));
}

std::string TextTrim(std::string_view utf8, size_t max_bytes) {
  // REQUIRES: valid UTF-8. Cut, drop an incomplete trailing sequence ("ignore").
  size_t n = std::min(max_bytes, utf8.size());
  if (n < utf8.size()) {
    while (n > 0 && (static_cast<unsigned char>(utf8[n]) & 0xC0) == 0x80) --n;
  }
  std::u32string cps;
  CHUQU_CHECK(DecodeUtf8(utf8.substr(0, n), &cps));
  std::string out;
  for (const char32_t c : PyStrip(cps)) AppendUtf8(c, &out);
  return out;
}

}  // namespace chuqu::iscc_internal
