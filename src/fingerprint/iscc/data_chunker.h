// Streaming FastCDC + xxh32 + MinHash state behind DataHasher and IsccSumHasher.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu::iscc_internal {

// cdc.py alg_cdc_params(avg=1024).
inline constexpr size_t kCdcMin = 256;
inline constexpr size_t kCdcMax = 8192;
inline constexpr size_t kCdcCenter = 640;
inline constexpr uint32_t kCdcMaskS = (1u << 11) - 1;
inline constexpr uint32_t kCdcMaskL = (1u << 9) - 1;

// Cut point of the next chunk of data[0:size] (cdc.py alg_cdc_offset).
size_t CdcCut(const uint8_t* data, size_t size);

// A copyable value of about 17 KiB: < 2 * kCdcMax bytes of look-ahead, MinHash minima.
class DataChunker {
 public:
  void Update(std::span<const uint8_t> data);
  // Digest of everything so far, as if the stream ended now.
  std::array<uint8_t, 32> Digest() const;

 private:
  static constexpr size_t kBatch = 64;
  void Emit(const uint8_t* data, size_t size);
  void Flush();

  MinHasher minhash_;
  uint32_t features_[kBatch];
  size_t nfeatures_ = 0;
  bool any_chunk_ = false;
  uint8_t tail_[2 * kCdcMax];
  size_t tail_len_ = 0;
};

}  // namespace chuqu::iscc_internal
