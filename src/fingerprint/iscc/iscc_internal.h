// Helpers shared by the ISCC translation units (not a public API).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "chuqu/iscc.h"
#include "chuqu/status.h"

namespace chuqu::iscc_internal {

// Unit lengths are 32..256 bits in steps of 32 (codec.py encode_length).
Status CheckUnitBits(int bits);

// Header ‖ digest[:bits/8] in canonical "ISCC:" form (codec.py encode_component).
// REQUIRES: CheckUnitBits(bits).ok() and digest.size() >= bits/8.
std::string EncodeUnit(MainType mt, uint8_t st, std::span<const uint8_t> digest, int bits);

// DecodeIscc without the SubType check (iscc-core's decode_header does not validate;
// the Mixed-Code vectors contain a Content SubType 5). Sets *first_byte to header byte 0.
Result<IsccUnit> DecodeIsccRelaxed(std::string_view code, uint8_t* first_byte);

// RFC 4648 base32, upper case, no padding.
std::string EncodeBase32(std::span<const uint8_t> data);

// simhash.py alg_simhash: per bit (MSB first) majority vote, ties -> 1.
// REQUIRES: all digests have `nbytes` bytes; count >= 1.
std::vector<uint8_t> SimHash(const uint8_t* digests, size_t count, size_t nbytes);

// minhash.py alg_minhash_256: 64 minima, compressed to 32 bytes (4 LSBs each).
// REQUIRES: features non-empty.
std::array<uint8_t, 32> MinHash256(std::span<const uint32_t> features);

// MinHash kernels; kAuto picks the widest the CPU supports (all are bit-identical).
enum class MinHashImpl { kAuto, kScalar, kAvx2, kAvx512 };
// mins[k] = min(mins[k], ((A_k*f + B_k) mod 2^64 mod 2^61-1) & 0xFFFFFFFF) over features.
// REQUIRES: the named kernel is supported by the CPU.
void MinHashUpdate(uint64_t* mins, std::span<const uint32_t> features,
                   MinHashImpl impl = MinHashImpl::kAuto);
std::array<uint8_t, 32> MinHashCompress(const uint64_t* mins);

// Streaming MinHash: maintains the 64 running minima.
class MinHasher {
 public:
  MinHasher();
  void Add(uint32_t feature);
  void Add(std::span<const uint32_t> features);
  std::array<uint8_t, 32> Digest() const;

 private:
  alignas(64) uint64_t min_[64];
};

// Lower-case hex.
std::string Hex(std::span<const uint8_t> data);

// UTF-8 (RFC 3629) helpers live in src/base/utf8.h.
using ::chuqu::AppendUtf8;
using ::chuqu::DecodeUtf8;
using ::chuqu::IsValidUtf8;

// Python str.isspace() and str.strip().
bool IsPythonSpace(char32_t c);
std::u32string PyStrip(std::u32string_view s);

// text_trim: cut at `max_bytes`, drop a partial trailing sequence, strip whitespace.
std::string TextTrim(std::string_view utf8, size_t max_bytes);

}  // namespace chuqu::iscc_internal

namespace chuqu::iscc_internal {
// Python-exact text normalisation (see text_normalize.cc). InvalidArgument on bad UTF-8.
Result<std::string> TextClean(std::string_view utf8);
Result<std::string> TextCollapse(std::string_view utf8);
// The same computed the plain way with ICU only (the test oracle for TextCollapse's
// fast paths).
Result<std::string> TextCollapseReference(std::string_view utf8);
// " ".join(text.split()). REQUIRES: valid UTF-8.
std::string TextRemoveNewlines(std::string_view utf8);
}  // namespace chuqu::iscc_internal
