// BLAKE3 (O'Connor, Aumasson, Neves, Wilcox-O'Hearn, "BLAKE3: one function, fast
// everywhere", 2020): hash, keyed hash, key derivation and extendable output.
// Written from the specification; the ISCC Instance-Code and Meta-Code use it.
//
// Input is hashed in aligned power-of-two subtrees whose chunks are compressed many at a
// time with SIMD (SSE4.1 / AVX2 / AVX-512, chosen at run time); small Update() pieces are
// first collected into 16-chunk runs, so the piece size does not limit the speed much.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace chuqu {

inline constexpr size_t kBlake3OutLen = 32;
inline constexpr size_t kBlake3KeyLen = 32;
inline constexpr size_t kBlake3BlockLen = 64;
inline constexpr size_t kBlake3ChunkLen = 1024;

// Streaming BLAKE3. A copyable value (about 18 KiB); not thread-safe: one thread per
// object, distinct objects may be used concurrently. Finalize() does not change the
// state, so more input may follow and Finalize() may be called again.
class Blake3Hasher {
 public:
  // The default hash mode (spec §2.1, §2.4).
  Blake3Hasher();
  // keyed_hash mode (spec §2.3): the 32-byte key replaces the IV.
  static Blake3Hasher Keyed(const std::array<uint8_t, kBlake3KeyLen>& key);
  // derive_key mode (spec §2.3): `context` should be a hardcoded, globally unique,
  // application-specific string; key material is then fed with Update().
  static Blake3Hasher DeriveKey(std::string_view context);

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);

  // Writes out.size() bytes of extendable output starting at offset 0 (spec §2.6).
  // Any length, including 0; the first 32 bytes equal Finalize().
  void Finalize(std::span<uint8_t> out) const;
  std::array<uint8_t, kBlake3OutLen> Finalize() const;

  // Forgets all input; keeps the mode and key.
  void Reset();

 private:
  friend std::array<uint8_t, kBlake3OutLen> Blake3(std::span<const uint8_t> data);

  // The hash tree (spec §2.4, §5.1.2): the chunk being filled and the stack of chaining
  // values of complete subtrees, merged lazily. Update() hands whole aligned subtrees of
  // its input to the SIMD hash_many.
  class Tree {
   public:
    Tree(const uint32_t key[8], uint8_t flags);
    // REQUIRES: every earlier Update() ended on a chunk boundary (whole 16-chunk runs).
    void Update(const uint8_t* data, size_t len);
    void Finalize(std::span<uint8_t> out) const;
    void Reset();

   private:
    // Maximum tree depth: 2^64 bytes = 2^54 chunks; lazy merging needs one more slot.
    static constexpr size_t kMaxDepth = 54;

    void PushCv(const uint8_t cv[32], uint64_t chunk_counter);
    void MergeCvStack(uint64_t total_chunks);
    void ChunkUpdate(const uint8_t* data, size_t len);
    size_t ChunkLen() const { return kBlake3BlockLen * blocks_compressed_ + buf_len_; }
    uint8_t ChunkStartFlag() const;
    void ChunkReset(uint64_t chunk_counter);

    uint32_t key_[8];
    uint8_t flags_;
    // Chunk state.
    uint32_t chunk_cv_[8];
    uint64_t chunk_counter_;
    uint8_t buf_[kBlake3BlockLen];
    uint8_t buf_len_;
    uint8_t blocks_compressed_;
    // Chaining values of complete subtrees, left to right.
    uint8_t cv_stack_len_;
    uint8_t cv_stack_[(kMaxDepth + 1) * kBlake3OutLen];
  };

  // Small updates are collected here so that the tree only ever sees whole multiples of
  // 16 chunks at 16-chunk-aligned offsets: every flush is a full-width hash_many batch
  // (16 lanes with AVX-512) however small the caller's pieces are.
  static constexpr size_t kPendingLen = 16 * kBlake3ChunkLen;

  Blake3Hasher(const uint32_t key[8], uint8_t flags);

  Tree tree_;
  size_t pending_len_ = 0;
  uint8_t pending_[kPendingLen];
};

// One-shot BLAKE3 hash of `data` (32 bytes).
std::array<uint8_t, kBlake3OutLen> Blake3(std::span<const uint8_t> data);

}  // namespace chuqu
