#include "ledger/merkle.h"

#include <sodium.h>

#include <bit>
#include <string>

#include "ledger/note.h"

namespace chuqu::ledger {
namespace {

Hash Sha256Prefixed(uint8_t prefix, std::span<const uint8_t> a, std::span<const uint8_t> b) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &prefix, 1);
  if (!a.empty()) crypto_hash_sha256_update(&st, a.data(), a.size());
  if (!b.empty()) crypto_hash_sha256_update(&st, b.data(), b.size());
  Hash out;
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

// Largest power of two strictly smaller than n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// The maximal perfect subtrees covering [lo, hi), left to right, as stored-hash indexes.
void AppendRangeIndexes(uint64_t lo, uint64_t hi, std::vector<int64_t>& out) {
  while (lo < hi) {
    int level = lo == 0 ? 63 : std::countr_zero(lo);
    while ((uint64_t{1} << level) > hi - lo) --level;
    out.push_back(StoredHashIndex(level, static_cast<int64_t>(lo >> level)));
    lo += uint64_t{1} << level;
  }
}

// Folds the subtree hashes of one range from the right: the root of that range.
Hash FoldRange(std::span<const Hash> hashes) {
  CHUQU_CHECK(!hashes.empty());
  Hash h = hashes.back();
  for (size_t i = hashes.size() - 1; i-- > 0;) h = NodeHash(hashes[i], h);
  return h;
}

// A proof as ranges of leaves; each becomes one hash.
struct Range {
  uint64_t lo, hi;
};

Result<std::vector<Hash>> HashRanges(const std::vector<Range>& ranges, const HashReader& reader) {
  std::vector<int64_t> indexes;
  std::vector<size_t> ends;
  for (const Range& r : ranges) {
    AppendRangeIndexes(r.lo, r.hi, indexes);
    ends.push_back(indexes.size());
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> stored, reader.ReadHashes(indexes));
  if (stored.size() != indexes.size()) {
    return Status::Internal("hash reader returned " + std::to_string(stored.size()) +
                            " hashes for " + std::to_string(indexes.size()) + " indexes");
  }
  std::vector<Hash> out;
  out.reserve(ranges.size());
  size_t begin = 0;
  for (size_t end : ends) {
    out.push_back(FoldRange(std::span<const Hash>(stored).subspan(begin, end - begin)));
    begin = end;
  }
  return out;
}

// RFC 6962 §2.1.1 PATH(m, D[lo:hi]) as ranges, leaf sibling first.
void InclusionRanges(uint64_t m, uint64_t lo, uint64_t hi, std::vector<Range>& out) {
  // Iterative descent, collecting siblings top-down, then reversed.
  std::vector<Range> top_down;
  while (hi - lo > 1) {
    uint64_t k = SplitPoint(hi - lo);
    if (m < lo + k) {
      top_down.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      top_down.push_back({lo, lo + k});
      lo = lo + k;
    }
  }
  out.assign(top_down.rbegin(), top_down.rend());
}

// RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], b) as ranges.
void ConsistencyRanges(uint64_t m, uint64_t lo, uint64_t hi, bool b, std::vector<Range>& out) {
  std::vector<Range> siblings;  // appended after the recursion, innermost first
  while (true) {
    uint64_t n = hi - lo;
    if (m == n) {
      if (!b) out.push_back({lo, hi});
      break;
    }
    uint64_t k = SplitPoint(n);
    if (m <= k) {
      siblings.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      siblings.push_back({lo, lo + k});
      m -= k;
      lo = lo + k;
      b = false;
    }
  }
  out.insert(out.end(), siblings.rbegin(), siblings.rend());
}

Status CheckSize(uint64_t size, const char* what) {
  if (size > kMaxTreeSize) {
    return Status::OutOfRange(std::string(what) + " " + std::to_string(size) +
                              " exceeds the maximum tree size 2^62");
  }
  return Status::Ok();
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

Hash LeafHash(std::span<const uint8_t> entry) { return Sha256Prefixed(0x00, entry, {}); }

Hash LeafHash(std::string_view entry) {
  return LeafHash(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(entry.data()),
                                           entry.size()));
}

Hash NodeHash(const Hash& left, const Hash& right) { return Sha256Prefixed(0x01, left, right); }

Hash EmptyRoot() { return Sha256(""); }

Hash Sha256(std::string_view data) {
  Hash out;
  crypto_hash_sha256(out.data(), reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return out;
}

std::string HashToBase64(const Hash& h) { return Base64Encode(h); }

Result<Hash> HashFromBase64(std::string_view b64) {
  CHUQU_ASSIGN_OR_RETURN(std::string raw, Base64Decode(b64));
  if (raw.size() != 32) {
    return Status::InvalidArgument("hash is " + std::to_string(raw.size()) +
                                   " bytes, want 32");
  }
  Hash h;
  std::copy(raw.begin(), raw.end(), h.begin());
  return h;
}

std::string HashToHex(const Hash& h) {
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s.push_back(kHexDigits[b >> 4]);
    s.push_back(kHexDigits[b & 15]);
  }
  return s;
}

Result<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) return Status::InvalidArgument("hex hash must be 64 characters");
  Hash h;
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return Status::InvalidArgument("hex hash has a non-hex character");
      v = v * 16 + d;
    }
    h[i] = static_cast<uint8_t>(v);
  }
  return h;
}

int64_t StoredHashIndex(int level, int64_t n) {
  CHUQU_CHECK(level >= 0 && level < 63 && n >= 0);
  // The hash at (level, n) is stored right after leaf m = ((n+1) << level) - 1; before leaf m
  // come 2m - popcount(m) hashes (each leaf j adds 1 + trailing-ones(j)).
  uint64_t m = ((static_cast<uint64_t>(n) + 1) << level) - 1;
  return static_cast<int64_t>(2 * m - std::popcount(m) + level);
}

std::pair<int, int64_t> SplitStoredHashIndex(int64_t index) {
  CHUQU_CHECK(index >= 0);
  // Find the leaf m whose append stored `index`: the largest m with StoredHashIndex(0, m) <=
  // index. 2m - popcount(m) is within 64 of 2m, so start near index/2 and step.
  auto base = [](uint64_t m) { return 2 * m - std::popcount(m); };
  uint64_t m = static_cast<uint64_t>(index) / 2;
  while (m > 0 && base(m) > static_cast<uint64_t>(index)) --m;
  while (base(m + 1) <= static_cast<uint64_t>(index)) ++m;
  int level = static_cast<int>(static_cast<uint64_t>(index) - base(m));
  CHUQU_CHECK(level <= std::countr_one(m));
  return {level, static_cast<int64_t>(m >> level)};
}

int64_t StoredHashCount(uint64_t size) {
  CHUQU_CHECK(size <= kMaxTreeSize);
  if (size == 0) return 0;
  uint64_t m = size - 1;
  return static_cast<int64_t>(2 * m - std::popcount(m) + 1 + std::countr_one(m));
}

Result<std::vector<Hash>> StoredHashes(uint64_t index, const Hash& leaf_hash,
                                       const HashReader& reader) {
  CHUQU_RETURN_IF_ERROR(CheckSize(index + 1, "tree size"));
  std::vector<int64_t> siblings;
  uint64_t n = index;
  for (int level = 0; n & 1; ++level, n >>= 1) {
    siblings.push_back(StoredHashIndex(level, static_cast<int64_t>(n ^ 1)));
  }
  std::vector<Hash> out{leaf_hash};
  if (siblings.empty()) return out;
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> left, reader.ReadHashes(siblings));
  if (left.size() != siblings.size()) return Status::Internal("hash reader returned too few");
  Hash h = leaf_hash;
  for (const Hash& l : left) {
    h = NodeHash(l, h);
    out.push_back(h);
  }
  return out;
}

Result<Hash> TreeHash(uint64_t size, const HashReader& reader) {
  CHUQU_RETURN_IF_ERROR(CheckSize(size, "tree size"));
  if (size == 0) return EmptyRoot();
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> h, HashRanges({{0, size}}, reader));
  return h[0];
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const HashReader& reader) {
  CHUQU_RETURN_IF_ERROR(CheckSize(size, "tree size"));
  if (index >= size) {
    return Status::OutOfRange("leaf index " + std::to_string(index) +
                              " is beyond the tree of size " + std::to_string(size));
  }
  std::vector<Range> ranges;
  InclusionRanges(index, 0, size, ranges);
  if (ranges.empty()) return std::vector<Hash>{};
  return HashRanges(ranges, reader);
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                           const HashReader& reader) {
  CHUQU_RETURN_IF_ERROR(CheckSize(new_size, "tree size"));
  if (old_size > new_size) {
    return Status::OutOfRange("old tree size " + std::to_string(old_size) +
                              " is larger than new tree size " + std::to_string(new_size));
  }
  if (old_size == 0 || old_size == new_size) return std::vector<Hash>{};
  std::vector<Range> ranges;
  ConsistencyRanges(old_size, 0, new_size, true, ranges);
  return HashRanges(ranges, reader);
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  // RFC 9162 §2.1.3.2.
  if (index >= size) {
    return Status::OutOfRange("leaf index " + std::to_string(index) +
                              " is not in a tree of size " + std::to_string(size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return Status::Corruption("inclusion proof is longer than the tree allows");
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        // fn == sn and even: skip levels where this node has no right sibling.
        do {
          fn >>= 1;
          sn >>= 1;
        } while (!(fn & 1) && fn != 0);
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::Corruption("inclusion proof is too short for the tree size");
  if (r != root) return Status::Corruption("inclusion proof does not lead to the root hash");
  return Status::Ok();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, std::span<const Hash> proof,
                         const Hash& old_root, const Hash& new_root) {
  if (old_size > new_size) {
    return Status::OutOfRange("old tree size " + std::to_string(old_size) +
                              " is larger than new tree size " + std::to_string(new_size));
  }
  if (old_size == new_size) {
    if (!proof.empty()) return Status::Corruption("consistency proof between equal sizes must be empty");
    if (old_root != new_root) return Status::Corruption("same tree size but different root hashes");
    return Status::Ok();
  }
  if (old_size == 0) {
    if (!proof.empty()) return Status::Corruption("consistency proof from the empty tree must be empty");
    if (old_root != EmptyRoot()) return Status::Corruption("root of the empty tree is wrong");
    return Status::Ok();
  }
  // RFC 9162 §2.1.4.2.
  if (proof.empty()) return Status::Corruption("consistency proof is empty");
  size_t i = 0;
  Hash first;
  if (std::has_single_bit(old_size)) {
    first = old_root;
  } else {
    first = proof[0];
    i = 1;
  }
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = first;
  Hash sr = first;
  for (; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (sn == 0) return Status::Corruption("consistency proof is longer than the trees allow");
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        do {
          fn >>= 1;
          sn >>= 1;
        } while (!(fn & 1) && fn != 0);
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::Corruption("consistency proof is too short for the tree sizes");
  if (fr != old_root) return Status::Corruption("consistency proof does not lead to the old root hash");
  if (sr != new_root) return Status::Corruption("consistency proof does not lead to the new root hash");
  return Status::Ok();
}

Hash ReferenceTreeHash(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  if (leaf_hashes.size() == 1) return leaf_hashes[0];
  uint64_t k = SplitPoint(leaf_hashes.size());
  return NodeHash(ReferenceTreeHash(leaf_hashes.subspan(0, k)),
                  ReferenceTreeHash(leaf_hashes.subspan(k)));
}

uint64_t MemoryHashStore::Append(const Hash& leaf_hash) {
  Result<std::vector<Hash>> add = StoredHashes(size_, leaf_hash, *this);
  CHUQU_CHECK(add.ok());
  hashes_.insert(hashes_.end(), add->begin(), add->end());
  return size_++;
}

Result<std::vector<Hash>> MemoryHashStore::ReadHashes(std::span<const int64_t> indexes) const {
  std::vector<Hash> out;
  out.reserve(indexes.size());
  for (int64_t i : indexes) {
    if (i < 0 || static_cast<uint64_t>(i) >= hashes_.size()) {
      return Status::NotFound("stored hash " + std::to_string(i) + " not present");
    }
    out.push_back(hashes_[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace chuqu::ledger
