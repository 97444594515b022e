// PDQ image hashing, bit-exact with Meta's reference core (ThreatExchange pdq/cpp/hashing/
// pdqhashing.cpp; algorithm in ../shared/notes/pdq-vpdq-tmk-hma.md §1.2). Pure: pixels in,
// hashes out; decoding is the caller's (src/media).
//
// Exactness: float32 arithmetic in the reference's operation order. The kernels are
// vectorised across independent rows/columns only, never reassociated, and the library is
// built with -ffp-contract=off and without fast-math (FmaContractionIsOff() tests this).
//
// Thread-safety: a PdqHasher owns scratch buffers and must be used by one thread at a time;
// use one per thread. The free functions are stateless.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "chuqu/pdq.h"
#include "chuqu/status.h"

namespace chuqu::pdq {

// Images with a side shorter than this hash to all zeros with quality 0 (reference
// MIN_HASHABLE_DIM).
inline constexpr int kMinHashableDim = 5;

// A borrowed view of 8-bit interleaved R,G,B pixels, row-major. `stride` is bytes per row
// (>= 3 * width; FFmpeg frames have padding).
struct RgbView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  size_t stride = 0;
};

// A borrowed view of float luma, row-major, width * height values, no padding.
struct LumaView {
  const float* data = nullptr;
  int width = 0;
  int height = 0;
};

struct PdqResult {
  Hash256 hash;
  int quality = 0;  // 0..100; below kPdqMinUsefulQuality the hash is unreliable
  // True when a side is under kMinHashableDim: hash is all zeros and quality 0, as the
  // reference returns; callers should report "too small" rather than store the hash.
  bool too_small = false;
};

// The 8 dihedral variants in the reference's output order (pdq-photo-hasher --pdqdih).
enum class Dihedral : uint8_t {
  kOriginal = 0,
  kRotate90,    // counter-clockwise
  kRotate180,
  kRotate270,
  kFlipX,       // top-bottom swap
  kFlipY,       // left-right mirror
  kFlipPlus1,   // transpose
  kFlipMinus1,  // anti-transpose
};
inline constexpr int kNumDihedral = 8;
std::string_view DihedralName(Dihedral d);  // "orig", "rot90", ..., "flipminus1"

struct PdqDihedralResult {
  std::array<Hash256, kNumDihedral> hashes;  // indexed by Dihedral
  int quality = 0;
  bool too_small = false;
};

// The 16x16 float DCT coefficients before binarisation (the reference's
// pdqFloat256FromFloatLuma output, used by TMK's PDQF feature), row-major.
struct PdqFloat256 {
  std::array<float, 256> values{};
  int quality = 0;
  bool too_small = false;
};

class PdqHasher {
 public:
  PdqHasher() = default;
  PdqHasher(const PdqHasher&) = delete;
  PdqHasher& operator=(const PdqHasher&) = delete;

  // The reference's pdqHash256FromFloatLuma over fillFloatLumaFromRGB: a 64x64 input skips
  // the blur (as the reference does for pre-scaled video frames).
  // Errors: kInvalidArgument for a null/negative/inconsistent view, kResourceExhausted when
  // width * height exceeds 2^31 (the reference's int indexing).
  Result<PdqResult> HashRgb(const RgbView& image);
  Result<PdqResult> HashLuma(const LumaView& luma);

  // The reference's pdqDihedralHash256esFromFloatLuma: all 8 variants from one DCT. Note
  // that this path blurs even a 64x64 input (the reference does), so for exactly 64x64
  // images hashes[kOriginal] may differ from HashRgb() by a few bits.
  Result<PdqDihedralResult> HashRgbDihedral(const RgbView& image);
  Result<PdqDihedralResult> HashLumaDihedral(const LumaView& luma);

  // Float DCT output (see PdqFloat256), same 64x64 skip as HashLuma.
  Result<PdqFloat256> Float256Luma(const LumaView& luma);

 private:
  Status LoadRgb(const RgbView& image);
  Status LoadLuma(const LumaView& luma);
  // Blur + decimate (or copy when `skip_64` and the image is 64x64) into buffer64_.
  void Downsample(bool skip_64);

  int rows_ = 0;
  int cols_ = 0;
  RgbView rgb_;                 // the image being hashed (borrowed), or empty for luma input
  std::vector<float> luma_;     // rows x cols
  std::vector<float> strip_rows_;  // kStrip rows of luma
  std::vector<float> plane_a_;  // rows x cols
  std::vector<float> strip_in_;
  std::vector<float> strip_out_;
  std::vector<float> sums_;
  std::vector<float> sampled_;  // rows x 64
  std::vector<uint8_t> wanted_;
  alignas(64) float buffer64_[64 * 64];
  alignas(64) float dct_[256];
};

// An owned RGB buffer (stride 3 * width).
struct RgbBuffer {
  std::vector<uint8_t> rgb;
  int width = 0;
  int height = 0;
  RgbView view() const { return {rgb.data(), width, height, 3 * static_cast<size_t>(width)}; }
};

// The reference CLI's pre-resize (pdq/cpp/io/pdqio.cpp, DOWNSAMPLE_DIMS = 512): if either
// side exceeds 512, CImg nearest-neighbour resize to exactly 512 x 512 (aspect NOT kept),
// source index floor(dst * old / 512.0) per axis; otherwise a copy. Only for compatibility
// with hashes published by pdq-photo-hasher; the core hash works at full resolution.
RgbBuffer ResizeLikeReferenceCli(const RgbView& image);

// Reference building blocks, exposed for tests and benchmarks.
namespace internal {

// Jarosz box-filter window (reference computeJaroszFilterWindowSize(old, 64)).
int JaroszWindow(int dimension);
// Quality metric on a 64x64 row-major buffer (reference pdqImageDomainQualityMetric).
int QualityMetric(const float* buffer64x64);
// 16x16 DCT rows 1..16 of a 64x64 buffer (reference dct64To16), row-major output.
void Dct64To16(const float* buffer64x64, float* out16x16);
// The reference's Torben median of 256 values: the 128th smallest.
float Median256(const float* values);
// Bits of one DCT buffer: bit i*16+j set iff value > median (strict).
Hash256 BitsFromDct(const float* dct16x16);
// Derives the DCT of dihedral variant `d` from the original's (reference dct16OriginalTo*).
void DihedralDct(const float* original16x16, Dihedral d, float* out16x16);
// Returns a * b + c computed in this library's translation unit with its flags; equals the
// two-rounding result iff the compiler did not contract it into a fused multiply-add.
float MultiplyAdd(float a, float b, float c);
// True if this library was compiled without fast-math and without FMA contraction.
bool FmaContractionIsOff();

}  // namespace internal
}  // namespace chuqu::pdq
