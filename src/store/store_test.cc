// The Store contract (store.h), run against every implementation: SQLite always, PostgreSQL
// when CHUQU_PG_URL names a server (scripts/pg-test-server). Implementation-specific tests
// (damage behind the store's back, foreign files, lost connections) are in sqlite/ and
// postgres/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include "base/testing/temp_dir.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/testing/store_test_util.h"

namespace chuqu::store {
namespace {

namespace fs = std::filesystem;
using testing::BatchBuilder;
using testing::Entries;

enum class Kind { kSqlite, kPostgres };

std::string KindName(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kSqlite ? "Sqlite" : "Postgres";
}

class StoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kSqlite) {
      dir_ = tmp_.emplace("chuqu_store_test_").path();
      location_ = (dir_ / "log.db").string();
    } else {
      CHUQU_PG_URL_OR_SKIP(url);
      schema_ = testing::UniqueSchema("store_test");
      pg_url_ = url;
      location_ = testing::WithSchema(url, schema_);
    }
    Result<std::unique_ptr<Store>> store = Open(/*create=*/true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    tmp_.reset();
    if (!schema_.empty()) {
      EXPECT_TRUE(PgStore::DropSchema(pg_url_, schema_).ok());
    }
  }

  Result<std::unique_ptr<Store>> Open(bool create) {
    if (GetParam() == Kind::kSqlite) {
      CHUQU_ASSIGN_OR_RETURN(auto s, SqliteStore::Open(location_, {.create_if_missing = create}));
      return std::unique_ptr<Store>(std::move(s));
    }
    PgOptions options;
    options.create_if_missing = create;
    CHUQU_ASSIGN_OR_RETURN(auto s, PgStore::Open(location_, options));
    return std::unique_ptr<Store>(std::move(s));
  }

  std::unique_ptr<Snapshot> Snap() {
    auto s = store_->NewSnapshot();
    CHUQU_CHECK(s.ok());
    return std::move(*s);
  }

  std::optional<chuqu::testing::TempDir> tmp_;  // SQLite only
  fs::path dir_;
  std::string schema_, pg_url_, location_;
  std::unique_ptr<Store> store_;
  BatchBuilder builder_;
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values(Kind::kSqlite, Kind::kPostgres),
                         KindName);

TEST_P(StoreTest, EmptyStoreHasNoCheckpoint) {
  auto snap = Snap();
  auto latest = snap->LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
  EXPECT_EQ(snap->ReadEntries(0, 1).status().code(), StatusCode::kOutOfRange);
}

TEST_P(StoreTest, AppendAndReadBack) {
  ASSERT_TRUE(store_->Append(builder_.Next({})).ok());  // the size-0 checkpoint
  int next = 0;
  for (int count : {1, 2, 5, 300, 1, 250, 700}) {
    Status s = store_->Append(builder_.Next(Entries(next, count)));
    ASSERT_TRUE(s.ok()) << s.ToString();
    next += count;
  }
  auto snap = Snap();
  auto latest = snap->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->size, static_cast<uint64_t>(next));
  EXPECT_EQ((*latest)->root, *ledger::TreeHash(next, builder_.tree()));

  auto entries = snap->ReadEntries(0, next);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(*entries, Entries(0, next));
  EXPECT_EQ(snap->ReadEntries(next - 3, 4).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(snap->ReadEntries(UINT64_MAX, 2).status().code(), StatusCode::kOutOfRange);

  // Every stored hash, and proofs from the store equal proofs from the oracle.
  std::vector<int64_t> ids(ledger::StoredHashCount(next));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  auto hashes = snap->ReadHashes(ids);
  ASSERT_TRUE(hashes.ok());
  EXPECT_EQ(*hashes, builder_.tree().hashes());
  std::vector<int64_t> beyond = {static_cast<int64_t>(ids.size())};
  EXPECT_EQ(snap->ReadHashes(beyond).status().code(), StatusCode::kNotFound);
  SnapshotHashReader reader(*snap);
  for (uint64_t i : {0, 1, 777, next - 1}) {
    EXPECT_EQ(*ledger::InclusionProof(i, next, reader),
              *ledger::InclusionProof(i, next, builder_.tree()));
  }

  // Every tile a checkpoint of this size publishes is served and equals the oracle's.
  for (const ledger::Tile& tile : ledger::TilesForSize(next)) {
    auto data = snap->ReadTile(tile.level, tile.index, tile.width);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(*data, *ledger::ReadTileData(tile, builder_.tree()));
  }
  // A partial tile of an earlier checkpoint is a prefix of the stored one.
  EXPECT_TRUE(snap->ReadTile(0, 0, 3).ok());
  EXPECT_EQ(snap->ReadTile(0, 100, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(snap->ReadTile(0, 0, 0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(snap->ReadTile(0, 0, 257).status().code(), StatusCode::kOutOfRange);

  // History.
  auto all = snap->Checkpoints(0, 100);
  ASSERT_TRUE(all.ok());
  std::vector<uint64_t> sizes;
  for (const auto& c : *all) sizes.push_back(c.size);
  EXPECT_EQ(sizes, (std::vector<uint64_t>{1, 3, 8, 308, 309, 559, 1259}));
  auto two = snap->Checkpoints(3, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].size, 308u);
  auto at = snap->CheckpointAt(308);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->note, "checkpoint 308\n");
  EXPECT_EQ(snap->CheckpointAt(307).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(snap->CheckpointAt(UINT64_MAX).status().code(), StatusCode::kOutOfRange);
}

TEST_P(StoreTest, CompareAndSwapRejectsStaleOrDuplicateBatch) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 3))).ok());
  BatchBuilder other;  // a second writer that thinks the log is empty
  Status s = store_->Append(other.Next(Entries(100, 2)));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  AppendBatch empty = builder_.Next({});  // same size again
  EXPECT_EQ(store_->Append(empty).code(), StatusCode::kFailedPrecondition);
  auto snap = Snap();
  EXPECT_EQ((*snap->LatestCheckpoint())->size, 3u);
  EXPECT_EQ(*snap->ReadEntries(0, 3), Entries(0, 3));
}

TEST_P(StoreTest, MalformedBatchIsRefused) {
  AppendBatch batch = builder_.Next(Entries(0, 4));
  AppendBatch fewer = batch;
  fewer.hashes.pop_back();
  EXPECT_EQ(store_->Append(fewer).code(), StatusCode::kInvalidArgument);
  AppendBatch size = batch;
  size.checkpoint.size = 5;
  EXPECT_EQ(store_->Append(size).code(), StatusCode::kInvalidArgument);
  AppendBatch tile = batch;
  tile.tiles[0].data += "x";
  EXPECT_EQ(store_->Append(tile).code(), StatusCode::kInvalidArgument);
  AppendBatch overflow = batch;
  overflow.old_size = UINT64_MAX - 1;
  EXPECT_EQ(store_->Append(overflow).code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(Snap()->LatestCheckpoint()->has_value());  // nothing was written
  EXPECT_TRUE(store_->Append(batch).ok());
}

TEST_P(StoreTest, ExtraWritesCommitOrAbortWithTheBatch) {
  AppendBatch first = builder_.Next(Entries(0, 2));
  first.extra_writes = [](WriteTransaction& txn) -> Status {
    CHUQU_RETURN_IF_ERROR(txn.Execute(
        "CREATE TABLE works(id INTEGER PRIMARY KEY, name TEXT, data BLOB, score REAL)"));
    SqlValue params[] = {int64_t{7}, std::string("first"), Blob{std::string("\0\x01", 2)}, 0.25};
    return txn.Execute("INSERT INTO works(id, name, data, score) VALUES(?1, ?2, ?3, ?4)", params);
  };
  ASSERT_TRUE(store_->Append(first).ok());

  AppendBatch second = builder_.Next(Entries(2, 2));
  second.extra_writes = [](WriteTransaction& txn) -> Status {
    SqlValue params[] = {int64_t{8}, std::string("second")};
    CHUQU_RETURN_IF_ERROR(txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", params));
    SqlValue dup[] = {int64_t{7}, Blob{"dup"}};
    return txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", dup);  // fails
  };
  EXPECT_FALSE(store_->Append(second).ok());
  EXPECT_EQ((*Snap()->LatestCheckpoint())->size, 2u);  // the whole batch rolled back

  second.extra_writes = [](WriteTransaction& txn) -> Status {
    SqlValue one[] = {int64_t{1}};
    return txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", one);  // wrong arity
  };
  EXPECT_EQ(store_->Append(second).code(), StatusCode::kInvalidArgument);
  second.extra_writes = nullptr;
  EXPECT_TRUE(store_->Append(second).ok());

  // Derived rows are read back through a snapshot; writes there are refused.
  auto snap = Snap();
  SqlValue id[] = {int64_t{7}};
  auto rows = snap->Query(
      "SELECT id, name, NULL, 1.5, x'00ff', data, score FROM works WHERE id = ?1", id);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], SqlValue(int64_t{7}));
  EXPECT_EQ((*rows)[0][1], SqlValue(std::string("first")));
  EXPECT_EQ((*rows)[0][2], SqlValue(std::monostate()));
  EXPECT_EQ((*rows)[0][3], SqlValue(1.5));
  EXPECT_EQ(std::get<Blob>((*rows)[0][4]).bytes, std::string("\x00\xff", 2));
  EXPECT_EQ(std::get<Blob>((*rows)[0][5]).bytes, std::string("\0\x01", 2));
  EXPECT_EQ((*rows)[0][6], SqlValue(0.25));
  EXPECT_EQ(snap->Query("DELETE FROM works").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(snap->Query("SELECT * FROM works WHERE id = ?1").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(snap->Query("SELECT * FROM no_such_table").ok());
  // A refused query leaves the snapshot usable; the failed batch left no row behind.
  auto ids = snap->Query("SELECT id FROM works ORDER BY id");
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0][0], SqlValue(int64_t{7}));
}

TEST_P(StoreTest, CreateTablesOutsideTheLog) {
  const std::string_view schema[] = {
      "CREATE TABLE IF NOT EXISTS works(id INTEGER PRIMARY KEY, name TEXT)",
      "CREATE INDEX IF NOT EXISTS works_name ON works(name)"};
  ASSERT_TRUE(store_->CreateTables(schema).ok());
  ASSERT_TRUE(store_->CreateTables(schema).ok());  // idempotent: every open runs it
  EXPECT_FALSE(Snap()->LatestCheckpoint()->has_value());  // no checkpoint, no entry

  // A failing statement rolls back the statements before it.
  const std::string_view bad[] = {"CREATE TABLE IF NOT EXISTS owners(id INTEGER PRIMARY KEY)",
                                  "CREATE TABLE works(id INTEGER)"};  // exists
  EXPECT_FALSE(store_->CreateTables(bad).ok());
  EXPECT_FALSE(Snap()->Query("SELECT id FROM owners").ok());

  // The batches' extra writes then only add rows, and the tables survive reopening.
  AppendBatch batch = builder_.Next(Entries(0, 1));
  batch.extra_writes = [](WriteTransaction& txn) -> Status {
    SqlValue params[] = {int64_t{1}, std::string("one")};
    return txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", params);
  };
  ASSERT_TRUE(store_->Append(batch).ok());
  store_.reset();
  Result<std::unique_ptr<Store>> reopened = Open(/*create=*/false);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(*reopened);
  ASSERT_TRUE(store_->CreateTables(schema).ok());
  auto rows = Snap()->Query("SELECT name FROM works");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], SqlValue(std::string("one")));
}

TEST_P(StoreTest, SnapshotIsStableWhileWriterCommits) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 10))).ok());
  auto old_snap = Snap();
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(10, 10))).ok());
  EXPECT_EQ((*old_snap->LatestCheckpoint())->size, 10u);
  EXPECT_EQ(old_snap->ReadEntries(10, 1).status().code(), StatusCode::kOutOfRange);
  std::vector<int64_t> leaf = {ledger::StoredHashIndex(0, 15)};
  EXPECT_EQ(old_snap->ReadHashes(leaf).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*Snap()->LatestCheckpoint())->size, 20u);
}

TEST_P(StoreTest, ReadersDuringWrites) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 1))).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  auto reader = [&] {
    while (!done.load()) {
      auto snap = store_->NewSnapshot();
      if (!snap.ok()) {
        ++failures;
        continue;
      }
      auto latest = (*snap)->LatestCheckpoint();
      if (!latest.ok() || !latest->has_value()) {
        ++failures;
        continue;
      }
      uint64_t size = (*latest)->size;
      SnapshotHashReader hr(**snap);
      auto root = ledger::TreeHash(size, hr);
      auto entries = (*snap)->ReadEntries(size - 1, 1);
      if (!root.ok() || *root != (*latest)->root || !entries.ok() ||
          (*entries)[0] != "entry " + std::to_string(size - 1)) {
        ++failures;
      }
      ++reads;
    }
  };
  std::thread r1(reader), r2(reader);
  for (int i = 1; i < 400; i += 3) {
    ASSERT_TRUE(store_->Append(builder_.Next(Entries(i, 3))).ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_P(StoreTest, ReopenKeepsEverything) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 300))).ok());
  store_.reset();
  auto again = Open(/*create=*/false);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto snap = (*again)->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(*(*snap)->ReadEntries(0, 300), Entries(0, 300));
  // And the log continues where it stopped.
  snap->reset();
  EXPECT_TRUE((*again)->Append(builder_.Next(Entries(300, 5))).ok());
}

}  // namespace
}  // namespace chuqu::store
