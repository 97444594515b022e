// Internals shared by the BLAKE3 hasher and its compression back ends (portable, SSE4.1,
// AVX2, AVX-512). Not a public API.
//
// This header is included by files compiled with -mavx2 / -mavx512f: it must declare
// only data and functions, never define an inline function, or the linker could keep
// an AVX-512 copy of it for callers on machines without AVX-512 (ODR merging).
#pragma once

#include <cstddef>
#include <cstdint>

namespace chuqu::blake3_internal {

// Spec §2.1, table 1 (the SHA-256 IV).
inline constexpr uint32_t kIv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                                    0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// Spec §2.2, table 3: domain separation flags.
inline constexpr uint8_t kChunkStart = 1 << 0;
inline constexpr uint8_t kChunkEnd = 1 << 1;
inline constexpr uint8_t kParent = 1 << 2;
inline constexpr uint8_t kRoot = 1 << 3;
inline constexpr uint8_t kKeyedHash = 1 << 4;
inline constexpr uint8_t kDeriveKeyContext = 1 << 5;
inline constexpr uint8_t kDeriveKeyMaterial = 1 << 6;

inline constexpr size_t kBlockLen = 64;
inline constexpr size_t kChunkLen = 1024;
inline constexpr size_t kBlocksPerChunk = kChunkLen / kBlockLen;
inline constexpr int kRounds = 7;

// Spec §2.2, table 2: the message word permutation applied between rounds.
inline constexpr uint8_t kMsgPermutation[16] = {2, 6, 3, 10, 7, 0, 4, 13,
                                               1, 11, 12, 5, 9, 14, 15, 8};

// kMsgSchedule.s[r][i]: the index of the original message word used in position i of
// round r (the permutation applied r times). A plain array (no std:: member functions in
// the SIMD files); consteval, so never emitted as code.
struct MsgSchedule {
  uint8_t s[kRounds][16];
};
consteval MsgSchedule MakeMsgSchedule() {
  MsgSchedule m{};
  for (uint8_t i = 0; i < 16; ++i) m.s[0][i] = i;
  for (int r = 1; r < kRounds; ++r) {
    for (int i = 0; i < 16; ++i) m.s[r][i] = m.s[r - 1][kMsgPermutation[i]];
  }
  return m;
}
inline constexpr MsgSchedule kMsgSchedule = MakeMsgSchedule();

// Hashes num_inputs independent inputs of `blocks` full blocks each, starting from the
// chaining value `key`, and writes one 32-byte little-endian chaining value per input to
// out[32 * i]. Input i uses counter + i if increment_counter (chunks), else counter
// (parents). flags_start is added to the first block's flags, flags_end to the last's.
using HashManyFn = void (*)(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                            const uint32_t key[8], uint64_t counter, bool increment_counter,
                            uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                            uint8_t* out);

// Compresses one block into the 8-word chaining value `cv` (spec §2.2, first half of the
// output). `block` is 64 bytes, zero-padded past block_len.
void PortableCompressInPlace(uint32_t cv[8], const uint8_t block[kBlockLen], uint8_t block_len,
                             uint64_t counter, uint8_t flags);
// Full 64-byte compression output, for the extendable output (spec §2.6).
void PortableCompressXof(const uint32_t cv[8], const uint8_t block[kBlockLen],
                         uint8_t block_len, uint64_t counter, uint8_t flags, uint8_t out[64]);
void PortableHashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                      const uint32_t key[8], uint64_t counter, bool increment_counter,
                      uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out);

#if defined(CHUQU_BLAKE3_X86)
void Sse41HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                   const uint32_t key[8], uint64_t counter, bool increment_counter,
                   uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out);
void Avx2HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                  const uint32_t key[8], uint64_t counter, bool increment_counter,
                  uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out);
void Avx512HashMany(const uint8_t* const* inputs, size_t num_inputs, size_t blocks,
                    const uint32_t key[8], uint64_t counter, bool increment_counter,
                    uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t* out);
#endif

// One implementation of hash_many; `degree` is how many inputs it compresses at once.
// Single blocks (chunk tails, parents on the CV stack, XOF) always use the portable
// kernel: SIMD row-layout kernels (SSE4.1, AVX-512VL; see git history) are bound by the
// latency of one G chain and measured slower than the scalar code on the AMD EPYC hosts.
struct Backend {
  const char* name;
  size_t degree;
  HashManyFn hash_many;
};

enum class Impl : uint8_t { kPortable, kSse41, kAvx2, kAvx512 };
inline constexpr Impl kAllImpls[] = {Impl::kPortable, Impl::kSse41, Impl::kAvx2, Impl::kAvx512};

// Whether this build and this CPU can run `impl`.
bool ImplSupported(Impl impl);
const char* ImplName(Impl impl);
// Selects the implementation every hasher in the process uses from now on (tests and
// benchmarks; the default is the widest the CPU supports). All implementations compute
// the same function, so switching while other threads hash is harmless.
// REQUIRES: ImplSupported(impl).
void SetImpl(Impl impl);
Impl ActiveImpl();
const Backend& ActiveBackend();

}  // namespace chuqu::blake3_internal
