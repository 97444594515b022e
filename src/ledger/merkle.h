// RFC 6962 / RFC 9162 Merkle tree over SHA-256: leaf and node hashes, tree hashes of any
// size, inclusion and consistency proofs (generation from stored hashes, and verification).
//
// Stored hashes. A log that appends one leaf at a time keeps every hash of every complete
// subtree, numbered as in golang.org/x/mod/sumdb/tlog ("stored hash index"): the hashes are
// stored in the order they become complete, so after leaf n-1 is appended exactly
// StoredHashCount(n) hashes exist. Level 0 holds leaf hashes; the hash at (level L, n) is the
// root of leaves [n*2^L, (n+1)*2^L). Appending leaf `index` adds StoredHashes(index, ...)
// (1 + number of trailing one bits of `index` hashes), so a sequencer appends in O(log n)
// reads of the right edge. Every function below reads only through a HashReader.
//
// Sizes and indexes are uint64. Functions that compute stored-hash indexes accept tree sizes up
// to kMaxTreeSize (2^62) so that every index fits in int64; larger sizes are an OutOfRange
// error, never an overflow. Verification accepts any uint64 size.
//
// Thread-safety: free functions are pure; a HashReader's own contract says whether it may be
// shared. MemoryHashStore is not synchronized (one writer, or readers with no writer).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::ledger {

using Hash = std::array<uint8_t, 32>;

inline constexpr uint64_t kMaxTreeSize = uint64_t{1} << 62;

// SHA-256(0x00 || entry). RFC 6962 §2.1.
Hash LeafHash(std::span<const uint8_t> entry);
Hash LeafHash(std::string_view entry);
// SHA-256(0x01 || left || right). RFC 6962 §2.1.
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256("") — the root of the empty tree (not the hash of an empty leaf).
Hash EmptyRoot();
// Plain SHA-256 of bytes (content digests).
Hash Sha256(std::string_view data);

// Standard base64 (RFC 4648 §4) of the 32 bytes, 44 characters, and its strict inverse
// (exactly 32 bytes, canonical padding, no whitespace).
std::string HashToBase64(const Hash& h);
Result<Hash> HashFromBase64(std::string_view b64);
// Lower-case hex, 64 characters, and its inverse (either case accepted).
std::string HashToHex(const Hash& h);
Result<Hash> HashFromHex(std::string_view hex);

// Stored-hash numbering (see top). REQUIRES: level < 63, n small enough for the result to fit.
int64_t StoredHashIndex(int level, int64_t n);
// Inverse of StoredHashIndex. REQUIRES: index >= 0.
std::pair<int, int64_t> SplitStoredHashIndex(int64_t index);
// Number of stored hashes of a tree of `size` leaves. REQUIRES: size <= kMaxTreeSize.
int64_t StoredHashCount(uint64_t size);

// Reads stored hashes by stored-hash index. Implementations: MemoryHashStore below, the SQLite
// store, and TileHashReader (tiles.h) which reads them out of c2sp tiles.
class HashReader {
 public:
  virtual ~HashReader() = default;
  // Returns the hashes at `indexes`, in the same order, or an error (NotFound if any is not
  // stored, Corruption/IOError from storage). Callers never ask for an index not yet stored
  // for the tree size they work with.
  virtual Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) const = 0;
};

// The hashes to store when appending leaf `index` (whose hash is `leaf_hash`) to a tree of
// `index` leaves: first the leaf hash, then one node per completed subtree, in stored-hash
// index order starting at StoredHashIndex(0, index). `reader` must hold the hashes of the
// tree of size `index`. Same as Go tlog.StoredHashes. Error if index >= kMaxTreeSize.
Result<std::vector<Hash>> StoredHashes(uint64_t index, const Hash& leaf_hash,
                                       const HashReader& reader);

// The root hash of the first `size` leaves (EmptyRoot() for 0). Reads O(log size) hashes.
Result<Hash> TreeHash(uint64_t size, const HashReader& reader);

// RFC 6962 §2.1.1 audit path of leaf `index` in the tree of `size` leaves, from the leaf's
// sibling upward. OutOfRange if index >= size or size > kMaxTreeSize.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const HashReader& reader);

// RFC 6962 §2.1.2 consistency proof from `old_size` to `new_size`. Empty when
// old_size == new_size or old_size == 0. OutOfRange if old_size > new_size.
Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const HashReader& reader);

// RFC 9162 §2.1.3.2. OK, or Corruption naming the mismatch (root, proof length), or
// OutOfRange for index >= size.
[[nodiscard]] Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                     std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2, with the cases the RFC leaves open decided as follows:
// old_size == new_size: the proof must be empty and the roots equal; old_size == 0: the proof
// must be empty (the empty tree is a prefix of every tree; old_root must be EmptyRoot());
// old_size > new_size: OutOfRange.
// Hashes are exactly 32 bytes by type: parsers reject any other length before calling, so the
// transparency-dev probe "sizes-are-equal-one-and-proof-is-empty" (12-byte placeholder roots,
// expected to pass) fails here by design, as it does in Go's sumdb tlog.
[[nodiscard]] Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                                       std::span<const Hash> proof, const Hash& old_root,
                                       const Hash& new_root);

// Root from leaf hashes by the RFC 6962 recursive definition: the test oracle. O(n) memory.
Hash ReferenceTreeHash(std::span<const Hash> leaf_hashes);

// All stored hashes in a vector; Append() computes StoredHashes itself.
class MemoryHashStore final : public HashReader {
 public:
  // Appends one leaf; returns its index.
  uint64_t Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }
  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) const override;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace chuqu::ledger
