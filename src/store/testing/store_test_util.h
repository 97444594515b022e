// Test helpers shared by the Store tests: batches built the way the sequencer builds them, and
// the PostgreSQL test server's URL (scripts/pg-test-server exports CHUQU_PG_URL).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "store/store.h"

namespace chuqu::store::testing {

// Builds batches the way the sequencer does, from an in-memory tree (the oracle).
class BatchBuilder {
 public:
  AppendBatch Next(const std::vector<std::string>& entries) {
    AppendBatch batch;
    batch.old_size = tree_.size();
    for (const std::string& e : entries) tree_.Append(ledger::LeafHash(e));
    batch.entries = entries;
    const auto& all = tree_.hashes();
    batch.hashes.assign(all.begin() + ledger::StoredHashCount(batch.old_size), all.end());
    for (const ledger::Tile& tile : ledger::NewTiles(batch.old_size, tree_.size())) {
      Result<std::string> data = ledger::ReadTileData(tile, tree_);
      CHUQU_CHECK(data.ok());
      batch.tiles.push_back({tile.level, tile.index, *data});
    }
    batch.checkpoint.size = tree_.size();
    Result<Hash> root = ledger::TreeHash(tree_.size(), tree_);
    CHUQU_CHECK(root.ok());
    batch.checkpoint.root = *root;
    batch.checkpoint.note = "checkpoint " + std::to_string(tree_.size()) + "\n";
    return batch;
  }
  const ledger::MemoryHashStore& tree() const { return tree_; }

 private:
  ledger::MemoryHashStore tree_;
};

inline std::vector<std::string> Entries(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) out.push_back("entry " + std::to_string(i));
  return out;
}

// The test server's URL (CHUQU_PG_URL), or "" when none is configured.
inline std::string TestPgUrl() {
  const char* url = std::getenv("CHUQU_PG_URL");
  return url == nullptr ? std::string() : std::string(url);
}

// CI=true: a missing PostgreSQL server is a failure there, never a silent skip.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// A schema name no other test uses: prefix + 12 random hex digits.
inline std::string UniqueSchema(const std::string& prefix) {
  std::random_device rd;
  std::mt19937_64 rng((uint64_t{rd()} << 32) ^ rd());
  static const char kHex[] = "0123456789abcdef";
  std::string s = prefix + "_";
  for (int i = 0; i < 12; ++i) s += kHex[rng() % 16];
  return s;
}

// `url` with a schema=NAME parameter added.
inline std::string WithSchema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
}

}  // namespace chuqu::store::testing

// In a test body or SetUp: `url` = CHUQU_PG_URL, or the test skips (fails when CI=true).
#define CHUQU_PG_URL_OR_SKIP(url)                                                          \
  const std::string url = ::chuqu::store::testing::TestPgUrl();                          \
  if (url.empty()) {                                                                     \
    if (::chuqu::store::testing::InCi()) {                                               \
      FAIL() << "CI=true but CHUQU_PG_URL is not set: run the tests through "            \
                "scripts/pg-test-server -- ctest ...";                                   \
    }                                                                                    \
    GTEST_SKIP() << "CHUQU_PG_URL is not set (scripts/pg-test-server -- ctest ... runs " \
                    "the PostgreSQL tests)";                                             \
  }
