// BLAKE3 tree hashing (spec §2.4–§2.6) over the compression back ends, and run-time
// selection of the back end.
#include "fingerprint/blake3/blake3.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <utility>

#include "chuqu/status.h"
#include "fingerprint/blake3/blake3_impl.h"

namespace chuqu {
namespace blake3_internal {
namespace {

constexpr Backend kPortableBackend = {"portable", 1, PortableHashMany};
#if defined(CHUQU_BLAKE3_X86)
constexpr Backend kSse41Backend = {"sse41", 4, Sse41HashMany};
constexpr Backend kAvx2Backend = {"avx2", 8, Avx2HashMany};
constexpr Backend kAvx512Backend = {"avx512", 16, Avx512HashMany};
#endif

const Backend& BackendFor(Impl impl) {
  switch (impl) {
#if defined(CHUQU_BLAKE3_X86)
    case Impl::kSse41:
      return kSse41Backend;
    case Impl::kAvx2:
      return kAvx2Backend;
    case Impl::kAvx512:
      return kAvx512Backend;
#endif
    default:
      return kPortableBackend;
  }
}

Impl DetectBest() {
  for (Impl impl : {Impl::kAvx512, Impl::kAvx2, Impl::kSse41}) {
    if (ImplSupported(impl)) return impl;
  }
  return Impl::kPortable;
}

std::atomic<Impl>& ActiveImplSlot() {
  static std::atomic<Impl> slot{DetectBest()};
  return slot;
}

}  // namespace

bool ImplSupported(Impl impl) {
  switch (impl) {
    case Impl::kPortable:
      return true;
#if defined(CHUQU_BLAKE3_X86)
    // The AVX-512 back end falls back to the AVX2 and SSE4.1 kernels for leftover inputs,
    // and the AVX2 one to SSE4.1, so each requires the narrower ones too.
    case Impl::kSse41:
      return __builtin_cpu_supports("sse4.1");
    case Impl::kAvx2:
      return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("avx2");
    case Impl::kAvx512:
      return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#endif
    default:
      return false;
  }
}

const char* ImplName(Impl impl) {
  switch (impl) {
    case Impl::kPortable:
      return "portable";
    case Impl::kSse41:
      return "sse41";
    case Impl::kAvx2:
      return "avx2";
    case Impl::kAvx512:
      return "avx512";
  }
  return "?";
}

void SetImpl(Impl impl) {
  CHUQU_CHECK(ImplSupported(impl));
  ActiveImplSlot().store(impl, std::memory_order_relaxed);
}

Impl ActiveImpl() { return ActiveImplSlot().load(std::memory_order_relaxed); }

const Backend& ActiveBackend() { return BackendFor(ActiveImpl()); }

}  // namespace blake3_internal

namespace {

using blake3_internal::Backend;
using blake3_internal::PortableCompressInPlace;
using blake3_internal::PortableCompressXof;
using blake3_internal::kBlockLen;
using blake3_internal::kBlocksPerChunk;
using blake3_internal::kChunkEnd;
using blake3_internal::kChunkLen;
using blake3_internal::kChunkStart;
using blake3_internal::kParent;
using blake3_internal::kRoot;

// Chunks hashed in one batch by the subtree code: the chunk CVs of a batch live on the
// stack (4 KiB) and its parents are compressed level by level with hash_many too.
constexpr size_t kBatchChunks = 128;

void LoadKeyWords(const uint8_t bytes[32], uint32_t words[8]) {
  for (int i = 0; i < 8; ++i) {
    words[i] = static_cast<uint32_t>(bytes[4 * i]) |
               static_cast<uint32_t>(bytes[4 * i + 1]) << 8 |
               static_cast<uint32_t>(bytes[4 * i + 2]) << 16 |
               static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
  }
}

void StoreCvBytes(const uint32_t words[8], uint8_t bytes[32]) {
  for (int i = 0; i < 8; ++i) {
    bytes[4 * i] = static_cast<uint8_t>(words[i]);
    bytes[4 * i + 1] = static_cast<uint8_t>(words[i] >> 8);
    bytes[4 * i + 2] = static_cast<uint8_t>(words[i] >> 16);
    bytes[4 * i + 3] = static_cast<uint8_t>(words[i] >> 24);
  }
}

// The inputs of a compression not yet performed (spec §2.5, §2.6): the root node must be
// compressed with ROOT and any output counter, every other node once for its CV.
struct Output {
  uint32_t cv[8];
  uint8_t block[kBlockLen];
  uint8_t block_len;
  uint64_t counter;
  uint8_t flags;

  void ChainingValue(uint8_t out[32]) const {
    uint32_t words[8];
    std::memcpy(words, cv, sizeof(words));
    PortableCompressInPlace(words, block, block_len, counter, flags);
    StoreCvBytes(words, out);
  }

  void RootBytes(std::span<uint8_t> out) const {
    uint64_t output_block = 0;
    uint8_t buf[64];
    for (size_t pos = 0; pos < out.size(); pos += 64) {
      PortableCompressXof(cv, block, block_len, output_block++, flags | kRoot, buf);
      std::memcpy(out.data() + pos, buf, std::min<size_t>(64, out.size() - pos));
    }
  }
};

Output ParentOutput(const uint8_t left[32], const uint8_t right[32], const uint32_t key[8],
                    uint8_t flags) {
  Output o;
  std::memcpy(o.cv, key, sizeof(o.cv));
  std::memcpy(o.block, left, 32);
  std::memcpy(o.block + 32, right, 32);
  o.block_len = kBlockLen;
  o.counter = 0;
  o.flags = flags | kParent;
  return o;
}

// Reduces the subtree of `num_chunks` full chunks at `input` (first chunk index
// `counter`) to `num_cvs` (1 or 2) chaining values, none ROOT-finalized: with 2, the
// root's two children. Chunks and then each level of parents go through hash_many, so
// every level of a batch is compressed as wide as the back end allows.
// REQUIRES: num_chunks is a power of two, num_chunks >= num_cvs.
void SubtreeCvs(const Backend& be, const uint8_t* input, size_t num_chunks,
                const uint32_t key[8], uint64_t counter, uint8_t flags, size_t num_cvs,
                uint8_t* out) {
  if (num_chunks > kBatchChunks) {
    const size_t half = num_chunks / 2;
    uint8_t pair[64];
    SubtreeCvs(be, input, half, key, counter, flags, 1, pair);
    SubtreeCvs(be, input + half * kChunkLen, half, key, counter + half, flags, 1, pair + 32);
    if (num_cvs == 2) {
      std::memcpy(out, pair, 64);
    } else {
      ParentOutput(pair, pair + 32, key, flags).ChainingValue(out);
    }
    return;
  }
  const uint8_t* ptrs[kBatchChunks] = {};
  alignas(64) uint8_t cvs_a[kBatchChunks * 32];
  alignas(64) uint8_t cvs_b[kBatchChunks / 2 * 32];
  for (size_t i = 0; i < num_chunks; ++i) ptrs[i] = input + i * kChunkLen;
  be.hash_many(ptrs, num_chunks, kBlocksPerChunk, key, counter, /*increment_counter=*/true,
               flags, kChunkStart, kChunkEnd, cvs_a);
  // Each level's CVs are contiguous, so parent i's block is bytes [64i, 64i + 64).
  uint8_t* cur = cvs_a;
  uint8_t* next = cvs_b;
  size_t n = num_chunks;
  for (; n > num_cvs; n /= 2) {
    for (size_t i = 0; i < n / 2; ++i) ptrs[i] = cur + 64 * i;
    be.hash_many(ptrs, n / 2, 1, key, 0, /*increment_counter=*/false,
                 static_cast<uint8_t>(flags | kParent), 0, 0, next);
    std::swap(cur, next);
  }
  std::memcpy(out, cur, 32 * n);
}

}  // namespace

Blake3Hasher::Blake3Hasher() : Blake3Hasher(blake3_internal::kIv, 0) {}

Blake3Hasher::Blake3Hasher(const uint32_t key[8], uint8_t flags) : tree_(key, flags) {}

Blake3Hasher::Tree::Tree(const uint32_t key[8], uint8_t flags) : flags_(flags) {
  std::memcpy(key_, key, sizeof(key_));
  Reset();
}

Blake3Hasher Blake3Hasher::Keyed(const std::array<uint8_t, kBlake3KeyLen>& key) {
  uint32_t words[8];
  LoadKeyWords(key.data(), words);
  return Blake3Hasher(words, blake3_internal::kKeyedHash);
}

Blake3Hasher Blake3Hasher::DeriveKey(std::string_view context) {
  Blake3Hasher context_hasher(blake3_internal::kIv, blake3_internal::kDeriveKeyContext);
  context_hasher.Update(context);
  const std::array<uint8_t, 32> context_key = context_hasher.Finalize();
  uint32_t words[8];
  LoadKeyWords(context_key.data(), words);
  return Blake3Hasher(words, blake3_internal::kDeriveKeyMaterial);
}

void Blake3Hasher::Tree::Reset() {
  cv_stack_len_ = 0;
  ChunkReset(0);
}

void Blake3Hasher::Tree::ChunkReset(uint64_t chunk_counter) {
  std::memcpy(chunk_cv_, key_, sizeof(chunk_cv_));
  chunk_counter_ = chunk_counter;
  std::memset(buf_, 0, sizeof(buf_));
  buf_len_ = 0;
  blocks_compressed_ = 0;
}

uint8_t Blake3Hasher::Tree::ChunkStartFlag() const { return blocks_compressed_ == 0 ? kChunkStart : 0; }

// Fills the (empty) chunk state with the input's last chunk; its last block stays
// buffered for Finalize(), which compresses it with CHUNK_END (and ROOT if the chunk is
// the whole input). REQUIRES: ChunkLen() == 0, 0 < len <= kChunkLen.
void Blake3Hasher::Tree::ChunkUpdate(const uint8_t* data, size_t len) {
  CHUQU_CHECK(ChunkLen() == 0 && len > 0 && len <= kChunkLen);
  while (len > kBlockLen) {
    PortableCompressInPlace(chunk_cv_, data, kBlockLen, chunk_counter_,
                            static_cast<uint8_t>(flags_ | ChunkStartFlag()));
    ++blocks_compressed_;
    data += kBlockLen;
    len -= kBlockLen;
  }
  std::memcpy(buf_, data, len);
  buf_len_ = static_cast<uint8_t>(len);
}

// Merges completed subtrees so that the stack holds one CV per 1-bit of total_chunks
// (spec §5.1.2, lazy merging: the newest CV is merged only once more input arrives).
void Blake3Hasher::Tree::MergeCvStack(uint64_t total_chunks) {
  const size_t post_merge = static_cast<size_t>(std::popcount(total_chunks));
  while (cv_stack_len_ > post_merge) {
    uint8_t* left = cv_stack_ + (cv_stack_len_ - 2) * kBlake3OutLen;
    ParentOutput(left, left + kBlake3OutLen, key_, flags_).ChainingValue(left);
    --cv_stack_len_;
  }
}

void Blake3Hasher::Tree::PushCv(const uint8_t cv[32], uint64_t chunk_counter) {
  MergeCvStack(chunk_counter);
  CHUQU_CHECK(cv_stack_len_ <= kMaxDepth);
  std::memcpy(cv_stack_ + cv_stack_len_ * kBlake3OutLen, cv, kBlake3OutLen);
  ++cv_stack_len_;
}

void Blake3Hasher::Update(std::string_view data) {
  Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

void Blake3Hasher::Update(std::span<const uint8_t> data) {
  const uint8_t* in = data.data();
  size_t len = data.size();
  if (len == 0) return;
  if (pending_len_ > 0) {
    const size_t take = std::min(kPendingLen - pending_len_, len);
    std::memcpy(pending_ + pending_len_, in, take);
    pending_len_ += take;
    in += take;
    len -= take;
    if (pending_len_ < kPendingLen) return;
    tree_.Update(pending_, kPendingLen);
    pending_len_ = 0;
  }
  const size_t direct = len - len % kPendingLen;
  tree_.Update(in, direct);
  if (len > direct) {
    std::memcpy(pending_, in + direct, len - direct);
    pending_len_ = len - direct;
  }
}

void Blake3Hasher::Reset() {
  tree_.Reset();
  pending_len_ = 0;
}

void Blake3Hasher::Tree::Update(const uint8_t* in, size_t len) {
  const Backend& be = blake3_internal::ActiveBackend();
  if (len == 0) return;
  // Callers never leave a partial chunk behind: Blake3() updates once, Blake3Hasher feeds
  // whole 16-chunk runs at 16-chunk offsets (which this loop consumes entirely) and then
  // once more on a copy in Finalize().
  CHUQU_CHECK(ChunkLen() == 0);
  // Whole subtrees go through hash_many. At least one byte is kept back for the chunk
  // state unless the input ends on a subtree that is pushed as its two children, so
  // that Finalize() can always ROOT-finalize the last node.
  while (len > kChunkLen) {
    size_t subtree_len = std::bit_floor(len);
    const uint64_t count_so_far = chunk_counter_ * kChunkLen;
    // A subtree must start at a multiple of its own size (spec §2.1 tree layout).
    while (((subtree_len - 1) & count_so_far) != 0) subtree_len /= 2;
    const size_t subtree_chunks = subtree_len / kChunkLen;
    if (subtree_chunks == 1) {
      uint8_t cv[32];
      be.hash_many(&in, 1, kBlocksPerChunk, key_, chunk_counter_, true, flags_, kChunkStart,
                   kChunkEnd, cv);
      PushCv(cv, chunk_counter_);
    } else {
      const size_t half = subtree_chunks / 2;
      uint8_t pair[64];
      SubtreeCvs(be, in, subtree_chunks, key_, chunk_counter_, flags_, 2, pair);
      PushCv(pair, chunk_counter_);
      PushCv(pair + 32, chunk_counter_ + half);
    }
    ChunkReset(chunk_counter_ + subtree_chunks);
    in += subtree_len;
    len -= subtree_len;
  }
  if (len > 0) {
    ChunkUpdate(in, len);
    MergeCvStack(chunk_counter_);
  }
}

void Blake3Hasher::Finalize(std::span<uint8_t> out) const {
  if (pending_len_ == 0) {
    tree_.Finalize(out);
    return;
  }
  Tree tree = tree_;
  tree.Update(pending_, pending_len_);
  tree.Finalize(out);
}

void Blake3Hasher::Tree::Finalize(std::span<uint8_t> out) const {
  Output o;
  size_t remaining = cv_stack_len_;
  if (remaining == 0 || ChunkLen() > 0) {
    std::memcpy(o.cv, chunk_cv_, sizeof(o.cv));
    std::memcpy(o.block, buf_, kBlockLen);
    o.block_len = buf_len_;
    o.counter = chunk_counter_;
    o.flags = static_cast<uint8_t>(flags_ | ChunkStartFlag() | kChunkEnd);
  } else {
    // Update() ended on a subtree pushed as two children.
    CHUQU_CHECK(remaining >= 2);
    remaining -= 2;
    o = ParentOutput(cv_stack_ + remaining * 32, cv_stack_ + (remaining + 1) * 32, key_,
                     flags_);
  }
  while (remaining > 0) {
    --remaining;
    uint8_t right[32];
    o.ChainingValue(right);
    o = ParentOutput(cv_stack_ + remaining * 32, right, key_, flags_);
  }
  o.RootBytes(out);
}

std::array<uint8_t, kBlake3OutLen> Blake3Hasher::Finalize() const {
  std::array<uint8_t, kBlake3OutLen> out;
  Finalize(std::span<uint8_t>(out));
  return out;
}

std::array<uint8_t, kBlake3OutLen> Blake3(std::span<const uint8_t> data) {
  // One block (ISCC Meta-Code hashes millions of n-grams): the root is the only chunk's
  // only block, one compression.
  if (data.size() <= kBlockLen) {
    uint8_t block[kBlockLen] = {};
    if (!data.empty()) std::memcpy(block, data.data(), data.size());
    uint32_t cv[8];
    std::memcpy(cv, blake3_internal::kIv, sizeof(cv));
    PortableCompressInPlace(
        cv, block, static_cast<uint8_t>(data.size()), 0, kChunkStart | kChunkEnd | kRoot);
    std::array<uint8_t, kBlake3OutLen> out;
    StoreCvBytes(cv, out.data());
    return out;
  }
  // Larger inputs go to the tree directly: no pending buffer to fill or copy.
  Blake3Hasher::Tree tree(blake3_internal::kIv, 0);
  tree.Update(data.data(), data.size());
  std::array<uint8_t, kBlake3OutLen> out;
  tree.Finalize(out);
  return out;
}

}  // namespace chuqu
