// Fast PDQ, bit-exact with the reference (see pdq_hasher.h). Where the time goes and why it
// is faster than the reference: the reference runs each 1-D box filter as a scalar running
// sum (one loop-carried add chain per row or column, columns read with a stride of a whole
// row) and divides every output. Here every box pass runs along the outer index of a
// row-major array with the running sums of many independent rows/columns in one vector
// (the same float operations per lane, in the same order), rows are transposed in strips
// of kStrip so that row passes get that shape too, and the second pass only divides the
// 64 x 64 outputs that decimation keeps (plus the 64 sampled columns for the vertical pass).
#include "fingerprint/pdq/pdq_hasher.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__FAST_MATH__)
#error "PDQ must not be built with -ffast-math: the reference is bit-exact IEEE float32"
#endif

// Runtime dispatch: each kernel is compiled for AVX-512, AVX2 and baseline x86-64 and the
// loader picks one (GCC/Clang function multi-versioning). -ffp-contract=off keeps FMA
// units from fusing the reference's separate multiplies and adds.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CHUQU_PDQ_X86 1
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define CHUQU_PDQ_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CHUQU_PDQ_CLONES
#endif

namespace chuqu::pdq {
namespace {

constexpr int kStrip = 16;  // rows transposed together for a row pass (16 lanes)

// The reference's luma coefficients are `const float` initialised from doubles.
constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

// DCT-II rows 1..16 for 64 samples: (float)((double)(float)sqrt(2/64) * cos(...)).
struct DctMatrix {
  float d[16 * 64];   // d[i*64 + k]
  float dt[64 * 16];  // dt[k*16 + j] = d[j*64 + k]
  DctMatrix() {
    const float scale = static_cast<float>(std::sqrt(2.0 / 64.0));
    for (int i = 0; i < 16; ++i) {
      for (int k = 0; k < 64; ++k) {
        const double angle = (M_PI / 2.0 / 64.0) * (i + 1) * (2 * k + 1);
        d[i * 64 + k] = static_cast<float>(scale * std::cos(angle));
        dt[k * 16 + i] = d[i * 64 + k];
      }
    }
  }
};
const DctMatrix& Dct() {
  static const DctMatrix m;
  return m;
}

CHUQU_PDQ_CLONES
void LumaFromRgb(const uint8_t* __restrict rgb, size_t stride, int rows, int cols,
                 float* __restrict out) {
  for (int r = 0; r < rows; ++r) {
    const uint8_t* __restrict p = rgb + static_cast<size_t>(r) * stride;
    float* __restrict o = out + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) {
      o[c] = kLumaR * p[3 * c] + kLumaG * p[3 * c + 1] + kLumaB * p[3 * c + 2];
    }
  }
}

// The reference's box1DFloat, applied to all m columns of an n x m array at once (column j
// of `in` is the vector, element i at in[i * in_stride + j]). Output i of every column is
// written (out[i * out_stride + j]) only if wanted == nullptr or wanted[i]; the running
// sums advance identically either way. REQUIRES: 1 <= w <= n.
CHUQU_PDQ_CLONES
void BoxAlongOuter(const float* __restrict in, size_t in_stride, float* __restrict out,
                   size_t out_stride, int n, int m, int w, float* __restrict sums,
                   const uint8_t* __restrict wanted) {
  const int half = (w + 2) / 2;
  const int phase1 = half - 1;
  const int phase2 = w - half + 1;
  const int phase3 = n - w;
  const int phase4 = half - 1;
  for (int j = 0; j < m; ++j) sums[j] = 0.0f;
  size_t ri = 0;
  size_t li = 0;
  size_t oi = 0;
  int count = 0;
  for (int t = 0; t < phase1; ++t, ++ri) {
    const float* __restrict a = in + ri * in_stride;
    for (int j = 0; j < m; ++j) sums[j] += a[j];
    ++count;
  }
  for (int t = 0; t < phase2; ++t, ++ri, ++oi) {
    const float* __restrict a = in + ri * in_stride;
    for (int j = 0; j < m; ++j) sums[j] += a[j];
    ++count;
    if (wanted == nullptr || wanted[oi]) {
      const float c = static_cast<float>(count);
      float* __restrict o = out + oi * out_stride;
      for (int j = 0; j < m; ++j) o[j] = sums[j] / c;
    }
  }
  const float cw = static_cast<float>(count);
  for (int t = 0; t < phase3; ++t, ++ri, ++li, ++oi) {
    const float* __restrict a = in + ri * in_stride;
    const float* __restrict s = in + li * in_stride;
    if (wanted == nullptr || wanted[oi]) {
      float* __restrict o = out + oi * out_stride;
      for (int j = 0; j < m; ++j) {
        float v = sums[j] + a[j];  // add before subtract, as the reference
        v = v - s[j];
        sums[j] = v;
        o[j] = v / cw;
      }
    } else {
      for (int j = 0; j < m; ++j) {
        float v = sums[j] + a[j];
        v = v - s[j];
        sums[j] = v;
      }
    }
  }
  for (int t = 0; t < phase4; ++t, ++li, ++oi) {
    const float* __restrict s = in + li * in_stride;
    for (int j = 0; j < m; ++j) sums[j] -= s[j];
    --count;
    if (wanted == nullptr || wanted[oi]) {
      const float c = static_cast<float>(count);
      float* __restrict o = out + oi * out_stride;
      for (int j = 0; j < m; ++j) o[j] = sums[j] / c;
    }
  }
}

// dst[c * kStrip + s] = src[(r0 + s) * cols + c] for s < h; lanes h..kStrip-1 zeroed.
void TransposeInScalar(const float* __restrict src, int cols, int r0, int h,
                       float* __restrict dst) {
  if (h < kStrip) std::memset(dst, 0, sizeof(float) * static_cast<size_t>(cols) * kStrip);
  for (int s = 0; s < h; ++s) {
    const float* __restrict row = src + static_cast<size_t>(r0 + s) * cols;
    for (int c = 0; c < cols; ++c) dst[static_cast<size_t>(c) * kStrip + s] = row[c];
  }
}

// dst[(r0 + s) * cols + c] = src[c * kStrip + s] for s < h.
void TransposeOutScalar(const float* __restrict src, int cols, int r0, int h,
                        float* __restrict dst) {
  for (int s = 0; s < h; ++s) {
    float* __restrict row = dst + static_cast<size_t>(r0 + s) * cols;
    for (int c = 0; c < cols; ++c) row[c] = src[static_cast<size_t>(c) * kStrip + s];
  }
}

#if defined(CHUQU_PDQ_X86)
// Transposes 8 rows of 8 floats in registers (unpack, shuffle, lane permute).
__attribute__((target("avx2"), always_inline)) inline void Transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
  const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
  const __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]);
  const __m256 t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]);
  const __m256 t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

__attribute__((target("avx2"))) void TransposeInAvx2(const float* __restrict src, int cols,
                                                     int r0, float* __restrict dst) {
  const int cols8 = cols & ~7;
  for (int s0 = 0; s0 < kStrip; s0 += 8) {
    const float* base = src + static_cast<size_t>(r0 + s0) * cols;
    for (int c = 0; c < cols8; c += 8) {
      __m256 r[8];
      for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(base + static_cast<size_t>(k) * cols + c);
      Transpose8x8(r);
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(dst + static_cast<size_t>(c + k) * kStrip + s0, r[k]);
    }
    for (int c = cols8; c < cols; ++c) {
      for (int k = 0; k < 8; ++k) dst[static_cast<size_t>(c) * kStrip + s0 + k] = base[static_cast<size_t>(k) * cols + c];
    }
  }
}

__attribute__((target("avx2"))) void TransposeOutAvx2(const float* __restrict src, int cols,
                                                      int r0, float* __restrict dst) {
  const int cols8 = cols & ~7;
  for (int s0 = 0; s0 < kStrip; s0 += 8) {
    float* base = dst + static_cast<size_t>(r0 + s0) * cols;
    for (int c = 0; c < cols8; c += 8) {
      __m256 r[8];
      for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(src + static_cast<size_t>(c + k) * kStrip + s0);
      Transpose8x8(r);
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(base + static_cast<size_t>(k) * cols + c, r[k]);
    }
    for (int c = cols8; c < cols; ++c) {
      for (int k = 0; k < 8; ++k) base[static_cast<size_t>(k) * cols + c] = src[static_cast<size_t>(c) * kStrip + s0 + k];
    }
  }
}

bool HaveAvx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}
#endif

// Pure data movement: any implementation gives identical bits.
void TransposeIn(const float* __restrict src, int cols, int r0, int h, float* __restrict dst) {
#if defined(CHUQU_PDQ_X86)
  if (h == kStrip && HaveAvx2()) return TransposeInAvx2(src, cols, r0, dst);
#endif
  TransposeInScalar(src, cols, r0, h, dst);
}

void TransposeOut(const float* __restrict src, int cols, int r0, int h, float* __restrict dst) {
#if defined(CHUQU_PDQ_X86)
  if (h == kStrip && HaveAvx2()) return TransposeOutAvx2(src, cols, r0, dst);
#endif
  TransposeOutScalar(src, cols, r0, h, dst);
}

// Reference decimateFloat index: (int)(((out + 0.5) * in) / 64) in double.
int DecimationIndex(int out_index, int in_dim) {
  return static_cast<int>(((out_index + 0.5) * in_dim) / 64);
}

CHUQU_PDQ_CLONES
void Dct64To16Fast(const float* __restrict a, float* __restrict out) {
  const DctMatrix& m = Dct();
  alignas(64) float t[16 * 64];
  // T = D * A; T[i][j] = sum over k = 0..63 in increasing k of D[i][k] * A[k][j].
  for (int i = 0; i < 16; ++i) {
    float* __restrict ti = t + i * 64;
    for (int j = 0; j < 64; ++j) ti[j] = 0.0f;
    for (int k = 0; k < 64; ++k) {
      const float dik = m.d[i * 64 + k];
      const float* __restrict ak = a + k * 64;
      for (int j = 0; j < 64; ++j) ti[j] += dik * ak[j];
    }
  }
  // B = T * D^T; B[i][j] = sum over k of T[i][k] * D[j][k].
  for (int i = 0; i < 16; ++i) {
    float* __restrict bi = out + i * 16;
    for (int j = 0; j < 16; ++j) bi[j] = 0.0f;
    for (int k = 0; k < 64; ++k) {
      const float tik = t[i * 64 + k];
      const float* __restrict dk = m.dt + k * 16;
      for (int j = 0; j < 16; ++j) bi[j] += tik * dk[j];
    }
  }
}

Status CheckDims(int width, int height) {
  if (width < 0 || height < 0) return Status::InvalidArgument("negative image dimensions");
  if (static_cast<int64_t>(width) * height > std::numeric_limits<int32_t>::max()) {
    return Status::ResourceExhausted("image has more than 2^31 pixels: " +
                                     std::to_string(width) + "x" + std::to_string(height));
  }
  return Status::Ok();
}

}  // namespace

std::string_view DihedralName(Dihedral d) {
  switch (d) {
    case Dihedral::kOriginal: return "orig";
    case Dihedral::kRotate90: return "rot90";
    case Dihedral::kRotate180: return "rot180";
    case Dihedral::kRotate270: return "rot270";
    case Dihedral::kFlipX: return "flipx";
    case Dihedral::kFlipY: return "flipy";
    case Dihedral::kFlipPlus1: return "flipplus1";
    case Dihedral::kFlipMinus1: return "flipminus1";
  }
  return "?";
}

RgbBuffer ResizeLikeReferenceCli(const RgbView& image) {
  RgbBuffer out;
  if (image.data == nullptr || image.width <= 0 || image.height <= 0) return out;
  constexpr int kDims = 512;
  const bool resize = image.width > kDims || image.height > kDims;
  out.width = resize ? kDims : image.width;
  out.height = resize ? kDims : image.height;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    const int sy = resize ? static_cast<int>(std::floor(y * static_cast<double>(image.height) / kDims)) : y;
    const uint8_t* src = image.data + static_cast<size_t>(sy) * image.stride;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * out.width * 3;
    for (int x = 0; x < out.width; ++x) {
      const int sx = resize ? static_cast<int>(std::floor(x * static_cast<double>(image.width) / kDims)) : x;
      dst[3 * x] = src[3 * sx];
      dst[3 * x + 1] = src[3 * sx + 1];
      dst[3 * x + 2] = src[3 * sx + 2];
    }
  }
  return out;
}

namespace internal {

int JaroszWindow(int dimension) { return (dimension + 2 * 64 - 1) / (2 * 64); }

int QualityMetric(const float* b) {
  int gradient_sum = 0;
  for (int i = 0; i < 63; ++i) {
    for (int j = 0; j < 64; ++j) {
      const float u = b[i * 64 + j];
      const float v = b[(i + 1) * 64 + j];
      const int d = static_cast<int>(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  }
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 63; ++j) {
      const float u = b[i * 64 + j];
      const float v = b[i * 64 + j + 1];
      const int d = static_cast<int>(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  }
  return std::min(100, gradient_sum / 90);
}

void Dct64To16(const float* buffer64x64, float* out16x16) { Dct64To16Fast(buffer64x64, out16x16); }

float Median256(const float* values) {
  // Torben's method returns the 128th smallest of 256 finite values (ties included), which
  // is what nth_element selects.
  float copy[256];
  std::memcpy(copy, values, sizeof(copy));
  std::nth_element(copy, copy + 127, copy + 256);
  return copy[127];
}

Hash256 BitsFromDct(const float* dct) {
  const float median = Median256(dct);
  Hash256 h;
  for (int k = 0; k < 256; ++k) {
    if (dct[k] > median) h.SetBit(k);
  }
  return h;
}

void DihedralDct(const float* a, Dihedral d, float* b) {
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) {
      const float v = a[i * 16 + j];
      switch (d) {
        case Dihedral::kOriginal: b[i * 16 + j] = v; break;
        case Dihedral::kRotate90: b[j * 16 + i] = (j & 1) ? v : -v; break;
        case Dihedral::kRotate180: b[i * 16 + j] = ((i + j) & 1) ? -v : v; break;
        case Dihedral::kRotate270: b[j * 16 + i] = (i & 1) ? v : -v; break;
        case Dihedral::kFlipX: b[i * 16 + j] = (i & 1) ? v : -v; break;
        case Dihedral::kFlipY: b[i * 16 + j] = (j & 1) ? v : -v; break;
        case Dihedral::kFlipPlus1: b[j * 16 + i] = v; break;
        case Dihedral::kFlipMinus1: b[j * 16 + i] = ((i + j) & 1) ? -v : v; break;
      }
    }
  }
}

CHUQU_PDQ_CLONES
float MultiplyAdd(float a, float b, float c) { return a * b + c; }

bool FmaContractionIsOff() {
  // With a = 1 + 2^-12, a * a = 1 + 2^-11 + 2^-24 exactly; rounded to float it loses the
  // 2^-24 term, so a * a - (1 + 2^-11) is 0 unfused and 2^-24 fused.
  volatile float a = 1.0f + 0x1p-12f;
  volatile float c = -(1.0f + 0x1p-11f);
  return MultiplyAdd(a, a, c) == 0.0f;
}

}  // namespace internal

Status PdqHasher::LoadRgb(const RgbView& image) {
  CHUQU_RETURN_IF_ERROR(CheckDims(image.width, image.height));
  if (image.width > 0 && image.height > 0) {
    if (image.data == nullptr) return Status::InvalidArgument("null pixel data");
    if (image.stride < static_cast<size_t>(image.width) * 3) {
      return Status::InvalidArgument("row stride is smaller than 3 * width");
    }
  }
  rows_ = image.height;
  cols_ = image.width;
  // Luma is computed strip by strip inside Downsample (it stays in cache that way).
  rgb_ = image;
  return Status::Ok();
}

Status PdqHasher::LoadLuma(const LumaView& luma) {
  CHUQU_RETURN_IF_ERROR(CheckDims(luma.width, luma.height));
  const size_t n = static_cast<size_t>(luma.width) * luma.height;
  if (n > 0 && luma.data == nullptr) return Status::InvalidArgument("null luma data");
  rows_ = luma.height;
  cols_ = luma.width;
  rgb_ = RgbView{};
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) return Status::Ok();
  for (size_t i = 0; i < n; ++i) {
    // Non-finite values would make the median undefined (the reference can loop forever).
    if (!std::isfinite(luma.data[i])) return Status::InvalidArgument("non-finite luma value");
  }
  luma_.assign(luma.data, luma.data + n);
  return Status::Ok();
}

void PdqHasher::Downsample(bool skip_64) {
  const int rows = rows_;
  const int cols = cols_;
  const bool from_rgb = rgb_.data != nullptr;
  if (skip_64 && rows == 64 && cols == 64) {
    if (from_rgb) {
      LumaFromRgb(rgb_.data, rgb_.stride, rows, cols, buffer64_);
    } else {
      std::memcpy(buffer64_, luma_.data(), sizeof(buffer64_));
    }
    return;
  }
  const int wr = internal::JaroszWindow(cols);  // along each row
  const int wc = internal::JaroszWindow(rows);  // along each column
  const size_t plane = static_cast<size_t>(rows) * cols;
  plane_a_.resize(plane);
  luma_.resize(plane);  // holds the luma (HashLuma) and then the pass-1 output
  strip_rows_.resize(static_cast<size_t>(cols) * kStrip);
  strip_in_.resize(static_cast<size_t>(cols) * kStrip);
  strip_out_.resize(static_cast<size_t>(cols) * kStrip);
  sums_.resize(std::max<size_t>(cols, 64));
  sampled_.resize(static_cast<size_t>(rows) * 64 * 2);
  wanted_.assign(std::max(rows, cols), 0);

  // Pass 1, along rows: luma (from rgb_ or luma_) -> plane_a_.
  for (int r0 = 0; r0 < rows; r0 += kStrip) {
    const int h = std::min(kStrip, rows - r0);
    if (from_rgb) {
      LumaFromRgb(rgb_.data + static_cast<size_t>(r0) * rgb_.stride, rgb_.stride, h, cols,
                  strip_rows_.data());
      TransposeIn(strip_rows_.data(), cols, 0, h, strip_in_.data());
    } else {
      TransposeIn(luma_.data(), cols, r0, h, strip_in_.data());
    }
    BoxAlongOuter(strip_in_.data(), kStrip, strip_out_.data(), kStrip, cols, kStrip, wr,
                  sums_.data(), nullptr);
    TransposeOut(strip_out_.data(), cols, r0, h, plane_a_.data());
  }
  // Pass 1, along columns: plane_a_ -> luma_.
  BoxAlongOuter(plane_a_.data(), cols, luma_.data(), cols, rows, cols, wc, sums_.data(),
                nullptr);
  // Pass 2, along rows, only at the 64 sampled columns: luma_ -> sampled_ (rows x 64).
  int sample_col[64];
  int sample_row[64];
  for (int k = 0; k < 64; ++k) {
    sample_col[k] = DecimationIndex(k, cols);
    sample_row[k] = DecimationIndex(k, rows);
  }
  std::fill(wanted_.begin(), wanted_.end(), 0);
  for (int k = 0; k < 64; ++k) wanted_[sample_col[k]] = 1;
  float* sampled_in = sampled_.data();
  float* sampled_out = sampled_.data() + static_cast<size_t>(rows) * 64;
  for (int r0 = 0; r0 < rows; r0 += kStrip) {
    const int h = std::min(kStrip, rows - r0);
    TransposeIn(luma_.data(), cols, r0, h, strip_in_.data());
    BoxAlongOuter(strip_in_.data(), kStrip, strip_out_.data(), kStrip, cols, kStrip, wr,
                  sums_.data(), wanted_.data());
    for (int s = 0; s < h; ++s) {
      float* dst = sampled_in + static_cast<size_t>(r0 + s) * 64;
      for (int k = 0; k < 64; ++k) {
        dst[k] = strip_out_[static_cast<size_t>(sample_col[k]) * kStrip + s];
      }
    }
  }
  // Pass 2, along columns, only at the 64 sampled rows, then decimate.
  std::fill(wanted_.begin(), wanted_.end(), 0);
  for (int k = 0; k < 64; ++k) wanted_[sample_row[k]] = 1;
  BoxAlongOuter(sampled_in, 64, sampled_out, 64, rows, 64, wc, sums_.data(), wanted_.data());
  for (int i = 0; i < 64; ++i) {
    std::memcpy(buffer64_ + i * 64, sampled_out + static_cast<size_t>(sample_row[i]) * 64,
                64 * sizeof(float));
  }
}

Result<PdqResult> PdqHasher::HashRgb(const RgbView& image) {
  CHUQU_RETURN_IF_ERROR(LoadRgb(image));
  PdqResult result;
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) {
    result.too_small = true;
    return result;
  }
  Downsample(/*skip_64=*/true);
  result.quality = internal::QualityMetric(buffer64_);
  Dct64To16Fast(buffer64_, dct_);
  result.hash = internal::BitsFromDct(dct_);
  return result;
}

Result<PdqResult> PdqHasher::HashLuma(const LumaView& luma) {
  CHUQU_RETURN_IF_ERROR(LoadLuma(luma));
  PdqResult result;
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) {
    result.too_small = true;
    return result;
  }
  Downsample(/*skip_64=*/true);
  result.quality = internal::QualityMetric(buffer64_);
  Dct64To16Fast(buffer64_, dct_);
  result.hash = internal::BitsFromDct(dct_);
  return result;
}

namespace {
PdqDihedralResult DihedralFromDct(const float* dct, int quality) {
  PdqDihedralResult result;
  result.quality = quality;
  float variant[256];
  for (int d = 0; d < kNumDihedral; ++d) {
    internal::DihedralDct(dct, static_cast<Dihedral>(d), variant);
    result.hashes[d] = internal::BitsFromDct(variant);
  }
  return result;
}
}  // namespace

Result<PdqDihedralResult> PdqHasher::HashRgbDihedral(const RgbView& image) {
  CHUQU_RETURN_IF_ERROR(LoadRgb(image));
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) {
    PdqDihedralResult result;
    result.too_small = true;
    return result;
  }
  Downsample(/*skip_64=*/false);
  const int quality = internal::QualityMetric(buffer64_);
  Dct64To16Fast(buffer64_, dct_);
  return DihedralFromDct(dct_, quality);
}

Result<PdqDihedralResult> PdqHasher::HashLumaDihedral(const LumaView& luma) {
  CHUQU_RETURN_IF_ERROR(LoadLuma(luma));
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) {
    PdqDihedralResult result;
    result.too_small = true;
    return result;
  }
  Downsample(/*skip_64=*/false);
  const int quality = internal::QualityMetric(buffer64_);
  Dct64To16Fast(buffer64_, dct_);
  return DihedralFromDct(dct_, quality);
}

Result<PdqFloat256> PdqHasher::Float256Luma(const LumaView& luma) {
  CHUQU_RETURN_IF_ERROR(LoadLuma(luma));
  PdqFloat256 result;
  if (rows_ < kMinHashableDim || cols_ < kMinHashableDim) {
    result.too_small = true;
    return result;
  }
  Downsample(/*skip_64=*/true);
  result.quality = internal::QualityMetric(buffer64_);
  Dct64To16Fast(buffer64_, result.values.data());
  return result;
}

}  // namespace chuqu::pdq
