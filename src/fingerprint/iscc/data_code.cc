// Data-Code (ISO 24138 §5.8; iscc_core/code_data.py DataHasherV0, cdc.py): FastCDC
// chunking with the gear table, xxh32 per chunk, MinHash-256 over the chunk features.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/data_chunker.h"
#include "fingerprint/iscc/iscc_internal.h"
#include "fingerprint/iscc/iscc_tables.h"

namespace chuqu {
namespace iscc_internal {

size_t CdcCut(const uint8_t* data, size_t size) {
  // cdc.py alg_cdc_offset with alg_cdc_params(1024). Gear values are < 2^31, so
  // (p >> 1) + gear never overflows uint32.
  uint32_t p = 0;
  size_t i = std::min(kCdcMin, size);
  const size_t center = std::min(kCdcCenter, size);
  for (; i < center; ++i) {
    p = (p >> 1) + kCdcGear[data[i]];
    if (!(p & kCdcMaskS)) return i + 1;
  }
  const size_t max = std::min(kCdcMax, size);
  for (; i < max; ++i) {
    p = (p >> 1) + kCdcGear[data[i]];
    if (!(p & kCdcMaskL)) return i + 1;
  }
  return i;
}

void DataChunker::Emit(const uint8_t* data, size_t size) {
  features_[nfeatures_++] = XXH32(data, size, 0);
  any_chunk_ = true;
  if (nfeatures_ == kBatch) Flush();
}

void DataChunker::Flush() {
  if (nfeatures_) minhash_.Add(std::span<const uint32_t>(features_, nfeatures_));
  nfeatures_ = 0;
}

void DataChunker::Update(std::span<const uint8_t> data) {
  // Whole-stream chunking needs kCdcMax bytes of look-ahead (or EOF) for a cut to be final.
  while (tail_len_ > 0 && !data.empty()) {
    // Top the tail up to a full window, then cut chunks that start inside the old tail.
    const size_t old_len = tail_len_;
    const size_t take = std::min(data.size(), kCdcMax);
    std::memcpy(tail_ + tail_len_, data.data(), take);
    tail_len_ += take;
    if (tail_len_ < kCdcMax) {
      return;  // all input consumed, still no full window
    }
    size_t pos = 0;
    while (pos < old_len && tail_len_ - pos >= kCdcMax) {
      const size_t cut = CdcCut(tail_ + pos, tail_len_ - pos);
      Emit(tail_ + pos, cut);
      pos += cut;
    }
    if (pos >= old_len) {
      // The next chunk starts inside `data`: continue on the caller's buffer.
      data = data.subspan(pos - old_len);
      tail_len_ = 0;
    } else {
      // Fewer than kCdcMax bytes remain after pos, and all of `take` is in the tail.
      std::memmove(tail_, tail_ + pos, tail_len_ - pos);
      tail_len_ -= pos;
      data = data.subspan(take);
    }
  }
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= kCdcMax) {
    const size_t cut = CdcCut(p, n);
    Emit(p, cut);
    p += cut;
    n -= cut;
  }
  if (n) {
    std::memcpy(tail_ + tail_len_, p, n);
    tail_len_ += n;
  }
}

std::array<uint8_t, 32> DataChunker::Digest() const {
  DataChunker copy = *this;
  // EOF: the remaining tail is cut as the final buffer.
  size_t pos = 0;
  while (pos < copy.tail_len_) {
    const size_t cut = CdcCut(copy.tail_ + pos, copy.tail_len_ - pos);
    copy.Emit(copy.tail_ + pos, cut);
    pos += cut;
  }
  if (!copy.any_chunk_) copy.Emit(nullptr, 0);  // empty stream: xxh32(b"")
  copy.Flush();
  return copy.minhash_.Digest();
}

}  // namespace iscc_internal

struct DataHasher::Impl {
  iscc_internal::DataChunker chunker;
};

DataHasher::DataHasher() : impl_(std::make_unique<Impl>()) {}
DataHasher::~DataHasher() = default;
DataHasher::DataHasher(DataHasher&&) noexcept = default;
DataHasher& DataHasher::operator=(DataHasher&&) noexcept = default;

void DataHasher::Update(std::span<const uint8_t> data) { impl_->chunker.Update(data); }

std::array<uint8_t, 32> DataHasher::Digest() const { return impl_->chunker.Digest(); }

Result<std::string> DataHasher::Code(int bits) const {
  CHUQU_RETURN_IF_ERROR(iscc_internal::CheckUnitBits(bits));
  return iscc_internal::EncodeUnit(MainType::kData, kSubTypeNone, Digest(), bits);
}

Result<std::string> GenDataCode(std::span<const uint8_t> data, int bits) {
  CHUQU_RETURN_IF_ERROR(iscc_internal::CheckUnitBits(bits));
  DataHasher h;
  h.Update(data);
  return h.Code(bits);
}

}  // namespace chuqu
