// PDQ perceptual image hash values (Meta ThreatExchange, pdq/cpp/common/pdqhashtypes.h).
// Values only: hashing lives in src/fingerprint/pdq, matching in src/index.
// Thread-safety: plain values, no shared state.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "chuqu/status.h"

namespace chuqu {

// A 256-bit PDQ hash, 32 bytes. Layout follows the reference's hex order: the hex string is
// a 256-bit big-endian number, words[0] holds its most significant 64 bits (the first 16 hex
// digits) and words[3] the least significant. Bit k (k = 0 is the least significant bit of
// the number) is DCT coefficient (k / 16, k % 16), i.e. the reference's w[k / 16] bit k % 16.
struct Hash256 {
  static constexpr int kBits = 256;
  static constexpr int kHexLength = 64;

  std::array<uint64_t, 4> words{};

  // REQUIRES: 0 <= k < 256.
  bool Bit(int k) const { return (words[3 - k / 64] >> (k % 64)) & 1u; }
  void SetBit(int k) { words[3 - k / 64] |= uint64_t{1} << (k % 64); }

  // Number of one bits (the reference's "norm"; 128 for most hashes).
  int Popcount() const {
    return std::popcount(words[0]) + std::popcount(words[1]) + std::popcount(words[2]) +
           std::popcount(words[3]);
  }
  bool IsZero() const { return (words[0] | words[1] | words[2] | words[3]) == 0; }

  // 64 lowercase hex digits, as the reference's Hash256::format().
  std::string Hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(kHexLength, '0');
    for (int i = 0; i < kHexLength; ++i) {
      const uint64_t word = words[i / 16];
      out[i] = kDigits[(word >> (60 - 4 * (i % 16))) & 0xf];
    }
    return out;
  }

  // Parses exactly 64 hex digits (either case). Anything else is kInvalidArgument.
  static Result<Hash256> ParseHex(std::string_view hex) {
    if (hex.size() != kHexLength) {
      return Status::InvalidArgument("PDQ hash must be 64 hex digits, got " +
                                     std::to_string(hex.size()) + " characters");
    }
    Hash256 h;
    for (int i = 0; i < kHexLength; ++i) {
      const char c = hex[i];
      uint64_t v;
      if (c >= '0' && c <= '9') {
        v = static_cast<uint64_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v = static_cast<uint64_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v = static_cast<uint64_t>(c - 'A' + 10);
      } else {
        return Status::InvalidArgument("PDQ hash has a non-hex character at position " +
                                       std::to_string(i));
      }
      h.words[i / 16] |= v << (60 - 4 * (i % 16));
    }
    return h;
  }

  friend bool operator==(const Hash256&, const Hash256&) = default;
  friend auto operator<=>(const Hash256&, const Hash256&) = default;
};

static_assert(sizeof(Hash256) == 32);

// Hamming distance: number of differing bits, 0..256.
inline int Distance(const Hash256& a, const Hash256& b) {
  return std::popcount(a.words[0] ^ b.words[0]) + std::popcount(a.words[1] ^ b.words[1]) +
         std::popcount(a.words[2] ^ b.words[2]) + std::popcount(a.words[3] ^ b.words[3]);
}

// Policy constants from the reference (pdq/README.md; python-threatexchange pdq_utils.py).
inline constexpr int kPdqMatchDistance = 31;   // match iff distance <= 31
inline constexpr int kPdqMinUsefulQuality = 50;  // hashes with quality < 50 are unreliable

}  // namespace chuqu
