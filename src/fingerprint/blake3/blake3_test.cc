#include "fingerprint/blake3/blake3.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fingerprint/blake3/blake3_impl.h"

namespace chuqu {
namespace {

namespace bi = blake3_internal;

std::string Hex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

// The test-vector input: 0, 1, ..., 250, 0, 1, ...
std::vector<uint8_t> VectorInput(size_t len) {
  std::vector<uint8_t> v(len);
  for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(i % 251);
  return v;
}

std::vector<uint8_t> RandomBytes(size_t len, std::mt19937_64& rng) {
  std::vector<uint8_t> v(len);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Selects an implementation for one test and restores the previous one afterwards.
class ScopedImpl {
 public:
  explicit ScopedImpl(bi::Impl impl) : saved_(bi::ActiveImpl()) { bi::SetImpl(impl); }
  ~ScopedImpl() { bi::SetImpl(saved_); }

 private:
  bi::Impl saved_;
};

// Oracle written straight from spec §2.1 and §2.4, independent of the hasher's stack:
// a left subtree holds the largest power of two chunks that leaves at least one byte
// for the right. Returns the node's inputs; the caller compresses it.
struct NaiveNode {
  uint32_t cv[8];
  uint8_t block[64];
  uint8_t block_len;
  uint64_t counter;
  uint8_t flags;
};

void NaiveCv(const NaiveNode& n, uint8_t out[32]) {
  uint32_t cv[8];
  std::memcpy(cv, n.cv, sizeof(cv));
  bi::PortableCompressInPlace(cv, n.block, n.block_len, n.counter, n.flags);
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(cv[i] >> (8 * j));
  }
}

NaiveNode NaiveTree(const uint8_t* in, size_t len, uint64_t chunk_index, const uint32_t key[8],
                    uint8_t flags) {
  NaiveNode n{};
  if (len <= 1024) {
    uint32_t cv[8];
    std::memcpy(cv, key, sizeof(cv));
    const size_t blocks = len == 0 ? 1 : (len + 63) / 64;
    for (size_t b = 0; b + 1 < blocks; ++b) {
      bi::PortableCompressInPlace(cv, in + 64 * b, 64, chunk_index,
                                  static_cast<uint8_t>(flags | (b == 0 ? bi::kChunkStart : 0)));
    }
    std::memcpy(n.cv, cv, sizeof(cv));
    const size_t last = len - (blocks - 1) * 64;
    if (last > 0) std::memcpy(n.block, in + (blocks - 1) * 64, last);
    n.block_len = static_cast<uint8_t>(last);
    n.counter = chunk_index;
    n.flags = static_cast<uint8_t>(flags | bi::kChunkEnd | (blocks == 1 ? bi::kChunkStart : 0));
    return n;
  }
  size_t left_chunks = 1;
  while (left_chunks * 2 * 1024 < len) left_chunks *= 2;
  const size_t left_len = left_chunks * 1024;
  NaiveCv(NaiveTree(in, left_len, chunk_index, key, flags), n.block);
  NaiveCv(NaiveTree(in + left_len, len - left_len, chunk_index + left_chunks, key, flags),
          n.block + 32);
  std::memcpy(n.cv, key, 32);
  n.block_len = 64;
  n.counter = 0;
  n.flags = static_cast<uint8_t>(flags | bi::kParent);
  return n;
}

std::vector<uint8_t> NaiveBlake3(std::span<const uint8_t> in, size_t out_len) {
  NaiveNode root = NaiveTree(in.data(), in.size(), 0, bi::kIv, 0);
  std::vector<uint8_t> out(out_len);
  for (size_t pos = 0, block = 0; pos < out_len; pos += 64, ++block) {
    uint8_t buf[64];
    bi::PortableCompressXof(root.cv, root.block, root.block_len, block,
                            static_cast<uint8_t>(root.flags | bi::kRoot), buf);
    std::memcpy(out.data() + pos, buf, std::min<size_t>(64, out_len - pos));
  }
  return out;
}

class Blake3ImplTest : public ::testing::TestWithParam<bi::Impl> {
 protected:
  void SetUp() override {
    if (!bi::ImplSupported(GetParam())) GTEST_SKIP() << "not supported on this CPU/build";
    scoped_.emplace(GetParam());
  }
  void TearDown() override { scoped_.reset(); }

 private:
  std::optional<ScopedImpl> scoped_;
};

TEST_P(Blake3ImplTest, OfficialVectors) {
  std::ifstream f(CHUQU_SHARED_DATA "/blake3/test_vectors.json");
  ASSERT_TRUE(f) << "missing test_vectors.json";
  const nlohmann::json j = nlohmann::json::parse(f);
  const std::string key_str = j.at("key");
  ASSERT_EQ(key_str.size(), 32u);
  std::array<uint8_t, 32> key;
  std::memcpy(key.data(), key_str.data(), 32);
  const std::string context = j.at("context_string");

  int checked = 0;
  for (const auto& c : j.at("cases")) {
    const size_t len = c.at("input_len");
    const std::vector<uint8_t> input = VectorInput(len);
    struct Mode {
      const char* name;
      Blake3Hasher hasher;
    };
    for (Mode mode : {Mode{"hash", Blake3Hasher()}, Mode{"keyed_hash", Blake3Hasher::Keyed(key)},
                      Mode{"derive_key", Blake3Hasher::DeriveKey(context)}}) {
      const std::string want = c.at(mode.name);
      SCOPED_TRACE(std::string(mode.name) + " len=" + std::to_string(len));
      Blake3Hasher one_shot = mode.hasher;
      one_shot.Update(input);
      std::vector<uint8_t> out(want.size() / 2);
      one_shot.Finalize(out);
      EXPECT_EQ(Hex(out), want);
      EXPECT_EQ(Hex(one_shot.Finalize()), want.substr(0, 64));
      // Every prefix length of the extended output.
      for (size_t n : {0, 1, 31, 33, 63, 64, 65, 100}) {
        std::vector<uint8_t> part(n);
        one_shot.Finalize(part);
        EXPECT_EQ(Hex(part), want.substr(0, 2 * n));
      }
      // The same input streamed in odd pieces.
      for (size_t piece : {1, 7, 64, 1000, 1025}) {
        Blake3Hasher streamed = mode.hasher;
        for (size_t pos = 0; pos < len; pos += piece) {
          streamed.Update(std::span<const uint8_t>(input).subspan(pos, std::min(piece, len - pos)));
        }
        streamed.Finalize(out);
        EXPECT_EQ(Hex(out), want) << "piece=" << piece;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * 35);
}

TEST_P(Blake3ImplTest, MatchesNaiveTreeAroundBoundaries) {
  std::mt19937_64 rng(1);
  std::vector<size_t> lens;
  for (size_t base : {0, 64, 1024, 2048, 3072, 4096, 5120, 8192, 16384, 31744, 65536,
                      128 * 1024, 129 * 1024, 131072 + 3 * 1024, 1 << 20}) {
    for (int d = -65; d <= 65; d += (d >= -2 && d < 2) ? 1 : 63) {
      if (static_cast<long>(base) + d >= 0) lens.push_back(base + d);
    }
  }
  for (size_t len : lens) {
    const std::vector<uint8_t> in = RandomBytes(len, rng);
    const std::vector<uint8_t> want = NaiveBlake3(in, 100);
    EXPECT_EQ(Hex(Blake3(in)), Hex(std::span<const uint8_t>(want).first(32))) << "len=" << len;
    Blake3Hasher h;
    h.Update(in);
    std::vector<uint8_t> got(100);
    h.Finalize(got);
    EXPECT_EQ(Hex(got), Hex(want)) << "len=" << len;
  }
}

TEST_P(Blake3ImplTest, StreamingEqualsOneShotAtRandomSplits) {
  std::mt19937_64 rng(2);
  const size_t kLens[] = {1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096,
                          4097, 17 * 1024 + 5, 64 * 1024, 64 * 1024 + 1, 129 * 1024 + 63,
                          300 * 1024 + 7};
  for (size_t len : kLens) {
    const std::vector<uint8_t> in = RandomBytes(len, rng);
    std::vector<uint8_t> want(131);
    Blake3Hasher one;
    one.Update(in);
    one.Finalize(want);
    for (int trial = 0; trial < 12; ++trial) {
      Blake3Hasher h;
      size_t pos = 0;
      while (pos < len) {
        // Mix piece sizes: tiny, around block and chunk sizes, and large runs.
        size_t piece;
        switch (rng() % 4) {
          case 0: piece = rng() % 70; break;
          case 1: piece = 1024 * (rng() % 3) + rng() % 130 - 65 + 64; break;
          case 2: piece = 1024 * (1 + rng() % 40); break;
          default: piece = rng() % (len + 1); break;
        }
        piece = std::min(piece, len - pos);
        h.Update(std::span<const uint8_t>(in).subspan(pos, piece));
        pos += piece;
        if (rng() % 8 == 0) (void)h.Finalize();  // Finalize() must not disturb the state
      }
      std::vector<uint8_t> got(131);
      h.Finalize(got);
      ASSERT_EQ(Hex(got), Hex(want)) << "len=" << len << " trial=" << trial;
    }
  }
}

TEST_P(Blake3ImplTest, HashManyMatchesPortable) {
  const bi::Backend& be = bi::ActiveBackend();
  std::mt19937_64 rng(3);
  const std::vector<uint8_t> data = RandomBytes(40 * 1024 + 64, rng);
  for (size_t n = 0; n <= 37; ++n) {
    for (size_t blocks : {1, 2, 15, 16}) {
      for (uint64_t counter : {uint64_t{0}, uint64_t{5}, uint64_t{0xFFFFFFFF} - 3,
                               uint64_t{0x1234FFFFFFFA}}) {
        for (bool inc : {true, false}) {
          const uint8_t* ptrs[40];
          // Unaligned, overlapping inputs on purpose.
          for (size_t i = 0; i < n; ++i) ptrs[i] = data.data() + 1 + 997 * i;
          uint32_t key[8];
          for (auto& w : key) w = static_cast<uint32_t>(rng());
          const uint8_t flags = static_cast<uint8_t>(rng() % 128);
          std::vector<uint8_t> got(32 * n + 1, 0xAA), want(32 * n + 1, 0xAA);
          be.hash_many(ptrs, n, blocks, key, counter, inc, flags, 1, 2, got.data());
          bi::PortableHashMany(ptrs, n, blocks, key, counter, inc, flags, 1, 2, want.data());
          ASSERT_EQ(Hex(got), Hex(want))
              << "n=" << n << " blocks=" << blocks << " counter=" << counter << " inc=" << inc;
        }
      }
    }
  }
}

TEST_P(Blake3ImplTest, RandomSizesMatchPortable) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 60; ++i) {
    const size_t len = rng() % (i < 40 ? 20000 : 600000);
    const std::vector<uint8_t> in = RandomBytes(len, rng);
    const auto got = Blake3(in);
    std::array<uint8_t, 32> want;
    {
      ScopedImpl portable(bi::Impl::kPortable);
      want = Blake3(in);
    }
    ASSERT_EQ(Hex(got), Hex(want)) << "len=" << len;
  }
}

INSTANTIATE_TEST_SUITE_P(AllImpls, Blake3ImplTest, ::testing::ValuesIn(bi::kAllImpls),
                         [](const auto& info) { return std::string(bi::ImplName(info.param)); });

TEST(Blake3Test, DefaultImplIsWidestSupported) {
  bi::Impl widest = bi::Impl::kPortable;
  for (bi::Impl impl : bi::kAllImpls) {
    if (bi::ImplSupported(impl)) widest = impl;
  }
  EXPECT_EQ(bi::ImplName(bi::ActiveImpl()), std::string(bi::ImplName(widest)));
  EXPECT_TRUE(bi::ImplSupported(bi::Impl::kPortable));
}

TEST(Blake3Test, KnownEmptyHash) {
  EXPECT_EQ(Hex(Blake3({})),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
}

TEST(Blake3Test, OneShotEqualsHasherForShortInputs) {
  std::mt19937_64 rng(7);
  for (size_t len = 0; len <= 200; ++len) {
    const std::vector<uint8_t> in = RandomBytes(len, rng);
    Blake3Hasher h;
    h.Update(in);
    EXPECT_EQ(Blake3(in), h.Finalize()) << "len=" << len;
    EXPECT_EQ(Hex(Blake3(in)), Hex(NaiveBlake3(in, 32))) << "len=" << len;
  }
}

TEST(Blake3Test, UpdateAfterFinalizeContinues) {
  std::mt19937_64 rng(5);
  const std::vector<uint8_t> in = RandomBytes(5000, rng);
  Blake3Hasher h;
  h.Update(std::span<const uint8_t>(in).first(2048));
  const auto mid = h.Finalize();
  EXPECT_EQ(mid, Blake3(std::span<const uint8_t>(in).first(2048)));
  h.Update(std::span<const uint8_t>(in).subspan(2048));
  EXPECT_EQ(h.Finalize(), Blake3(in));
}

TEST(Blake3Test, CopyIsIndependent) {
  Blake3Hasher a;
  a.Update("hello ");
  Blake3Hasher b = a;
  a.Update("world");
  b.Update("there");
  Blake3Hasher c;
  c.Update("hello world");
  EXPECT_EQ(a.Finalize(), c.Finalize());
  EXPECT_NE(a.Finalize(), b.Finalize());
}

TEST(Blake3Test, ResetKeepsMode) {
  std::array<uint8_t, 32> key{};
  key[0] = 7;
  Blake3Hasher h = Blake3Hasher::Keyed(key);
  h.Update("garbage that is forgotten");
  h.Reset();
  h.Update("abc");
  Blake3Hasher fresh = Blake3Hasher::Keyed(key);
  fresh.Update("abc");
  EXPECT_EQ(h.Finalize(), fresh.Finalize());
  Blake3Hasher plain;
  plain.Update("abc");
  EXPECT_NE(h.Finalize(), plain.Finalize());
}

TEST(Blake3Test, EmptyUpdatesAreNoOps) {
  Blake3Hasher h;
  h.Update(std::span<const uint8_t>());
  h.Update("a");
  h.Update(std::string_view());
  EXPECT_EQ(h.Finalize(), Blake3(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("a"), 1)));
}

TEST(Blake3Test, ExtendedOutputIsPrefixConsistent) {
  Blake3Hasher h;
  h.Update("xof");
  std::vector<uint8_t> longer(1000), shorter(333);
  h.Finalize(longer);
  h.Finalize(shorter);
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()));
  EXPECT_EQ(Hex(std::span<const uint8_t>(longer).first(32)), Hex(h.Finalize()));
}

}  // namespace
}  // namespace chuqu
