// Portable BLAKE3 compression (spec §2.2) and a one-input-at-a-time hash_many. The
// reference the SIMD back ends are tested against.
#include <cstring>

#include "fingerprint/blake3/blake3_impl.h"

namespace chuqu::blake3_internal {
namespace {

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

inline void StoreLe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// The quarter-round G (spec §2.2).
inline void G(uint32_t s[16], int a, int b, int c, int d, uint32_t mx, uint32_t my) {
  s[a] = s[a] + s[b] + mx;
  s[d] = Rotr(s[d] ^ s[a], 16);
  s[c] = s[c] + s[d];
  s[b] = Rotr(s[b] ^ s[c], 12);
  s[a] = s[a] + s[b] + my;
  s[d] = Rotr(s[d] ^ s[a], 8);
  s[c] = s[c] + s[d];
  s[b] = Rotr(s[b] ^ s[c], 7);
}

// The seven rounds over the 16-word state; leaves the state before the final xors.
void CompressRounds(uint32_t s[16], const uint32_t cv[8], const uint8_t block[kBlockLen],
                    uint8_t block_len, uint64_t counter, uint8_t flags) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = LoadLe32(block + 4 * i);
  for (int i = 0; i < 8; ++i) s[i] = cv[i];
  for (int i = 0; i < 4; ++i) s[8 + i] = kIv[i];
  s[12] = static_cast<uint32_t>(counter);
  s[13] = static_cast<uint32_t>(counter >> 32);
  s[14] = block_len;
  s[15] = flags;
  // Unrolled so that the schedule's indices are constants and m[] can stay in registers.
#pragma GCC unroll 7
  for (int r = 0; r < kRounds; ++r) {
    const uint8_t* k = kMsgSchedule.s[r];
    G(s, 0, 4, 8, 12, m[k[0]], m[k[1]]);
    G(s, 1, 5, 9, 13, m[k[2]], m[k[3]]);
    G(s, 2, 6, 10, 14, m[k[4]], m[k[5]]);
    G(s, 3, 7, 11, 15, m[k[6]], m[k[7]]);
    G(s, 0, 5, 10, 15, m[k[8]], m[k[9]]);
    G(s, 1, 6, 11, 12, m[k[10]], m[k[11]]);
    G(s, 2, 7, 8, 13, m[k[12]], m[k[13]]);
    G(s, 3, 4, 9, 14, m[k[14]], m[k[15]]);
  }
}

}  // namespace

void PortableCompressInPlace(uint32_t cv[8], const uint8_t block[kBlockLen], uint8_t block_len,
                             uint64_t counter, uint8_t flags) {
  uint32_t s[16];
  CompressRounds(s, cv, block, block_len, counter, flags);
  for (int i = 0; i < 8; ++i) cv[i] = s[i] ^ s[i + 8];
}

void PortableCompressXof(const uint32_t cv[8], const uint8_t block[kBlockLen],
                         uint8_t block_len, uint64_t counter, uint8_t flags, uint8_t out[64]) {
  uint32_t s[16];
  CompressRounds(s, cv, block, block_len, counter, flags);
  for (int i = 0; i < 8; ++i) {
    StoreLe32(out + 4 * i, s[i] ^ s[i + 8]);
    StoreLe32(out + 32 + 4 * i, s[i + 8] ^ cv[i]);
  }
}

void PortableHashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                      const uint32_t key[8], uint64_t counter, bool increment_counter,
                      uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out) {
  for (size_t i = 0; i < num_inputs; ++i) {
    uint32_t cv[8];
    std::memcpy(cv, key, sizeof(cv));
    for (size_t b = 0; b < blocks; ++b) {
      uint8_t block_flags = flags;
      if (b == 0) block_flags |= flags_start;
      if (b + 1 == blocks) block_flags |= flags_end;
      PortableCompressInPlace(cv, inputs[i] + b * kBlockLen, kBlockLen, counter, block_flags);
    }
    for (int w = 0; w < 8; ++w) StoreLe32(out + 32 * i + 4 * w, cv[w]);
    if (increment_counter) ++counter;
  }
}

}  // namespace chuqu::blake3_internal
