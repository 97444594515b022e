#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "ledger/merkle.h"
#include "ledger/tiles.h"

namespace chuqu::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "chuqu_store_test_XXXXXX").string();
    CHUQU_CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

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

std::vector<std::string> Entries(int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) out.push_back("entry " + std::to_string(i));
  return out;
}

void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::unique_ptr<Snapshot> Snap() {
    auto s = store_->NewSnapshot();
    CHUQU_CHECK(s.ok());
    return std::move(*s);
  }

  TempDir dir_;
  std::string path_ = dir_.File("log.db");
  std::unique_ptr<SqliteStore> store_;
  BatchBuilder builder_;
};

TEST_F(SqliteStoreTest, EmptyStoreHasNoCheckpoint) {
  auto snap = Snap();
  auto latest = snap->LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
  EXPECT_EQ(snap->ReadEntries(0, 1).status().code(), StatusCode::kOutOfRange);
}

TEST_F(SqliteStoreTest, AppendAndReadBack) {
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
  auto at = snap->CheckpointAt(308);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->note, "checkpoint 308\n");
  EXPECT_EQ(snap->CheckpointAt(307).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(snap->CheckpointAt(UINT64_MAX).status().code(), StatusCode::kOutOfRange);
}

TEST_F(SqliteStoreTest, CompareAndSwapRejectsStaleOrDuplicateBatch) {
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

TEST_F(SqliteStoreTest, MalformedBatchIsRefused) {
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

TEST_F(SqliteStoreTest, ExtraWritesCommitOrAbortWithTheBatch) {
  AppendBatch first = builder_.Next(Entries(0, 2));
  first.extra_writes = [](WriteTransaction& txn) -> Status {
    CHUQU_RETURN_IF_ERROR(txn.Execute("CREATE TABLE works(id INTEGER PRIMARY KEY, name TEXT)"));
    SqlValue params[] = {int64_t{7}, std::string("first")};
    return txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", params);
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
  auto rows = snap->Query("SELECT id, name, NULL, 1.5, x'00ff' FROM works WHERE id = ?1", id);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], SqlValue(int64_t{7}));
  EXPECT_EQ((*rows)[0][1], SqlValue(std::string("first")));
  EXPECT_EQ((*rows)[0][2], SqlValue(std::monostate()));
  EXPECT_EQ((*rows)[0][3], SqlValue(1.5));
  EXPECT_EQ(std::get<Blob>((*rows)[0][4]).bytes, std::string("\x00\xff", 2));
  EXPECT_EQ(snap->Query("DELETE FROM works").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(snap->Query("SELECT * FROM works WHERE id = ?1").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(snap->Query("SELECT * FROM no_such_table").ok());
  snap.reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT group_concat(id) FROM works", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "7");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, SnapshotIsStableWhileWriterCommits) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 10))).ok());
  auto old_snap = Snap();
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(10, 10))).ok());
  EXPECT_EQ((*old_snap->LatestCheckpoint())->size, 10u);
  EXPECT_EQ(old_snap->ReadEntries(10, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*Snap()->LatestCheckpoint())->size, 20u);
}

TEST_F(SqliteStoreTest, ReadersDuringWrites) {
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

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 300))).ok());
  store_.reset();
  auto again = SqliteStore::Open(path_, {.create_if_missing = false});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto snap = (*again)->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(*(*snap)->ReadEntries(0, 300), Entries(0, 300));
  EXPECT_TRUE((*again)->IntegrityCheck().ok());
}

TEST(SqliteStoreOpenTest, MissingOrForeignFile) {
  TempDir dir;
  EXPECT_EQ(SqliteStore::Open(dir.File("none.db"), {.create_if_missing = false}).status().code(),
            StatusCode::kNotFound);
  {
    FILE* f = fopen(dir.File("junk.db").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::string junk(8192, 'j');
    fwrite(junk.data(), 1, junk.size(), f);
    fclose(f);
  }
  EXPECT_EQ(SqliteStore::Open(dir.File("junk.db")).status().code(), StatusCode::kCorruption);
}

// Damage written behind the store's back (as a bad disk or a stray writer would) is reported.
TEST_F(SqliteStoreTest, TamperedValuesAreCorruption) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 600))).ok());
  Sql(path_, "UPDATE log_entries SET data = 'entry 99x' WHERE idx = 99");
  auto snap = Snap();
  EXPECT_EQ(snap->ReadEntries(90, 20).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(snap->ReadEntries(0, 99).ok());
  snap.reset();

  Sql(path_, "UPDATE log_tiles SET data = zeroblob(8192) WHERE level = 0 AND idx = 1");
  EXPECT_EQ(Snap()->ReadTile(0, 1, 256).status().code(), StatusCode::kCorruption);
  // A stored hash changed: its entry and its tile no longer agree with it.
  Sql(path_, "UPDATE log_hashes SET hash = zeroblob(32) WHERE id = 0");
  EXPECT_EQ(Snap()->ReadEntries(0, 1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Snap()->ReadTile(0, 0, 1).status().code(), StatusCode::kCorruption);
  Sql(path_, "UPDATE log_hashes SET hash = x'00' WHERE id = 5");
  std::vector<int64_t> five = {5};
  EXPECT_EQ(Snap()->ReadHashes(five).status().code(), StatusCode::kCorruption);
  Sql(path_, "DELETE FROM log_entries WHERE idx = 500");
  EXPECT_EQ(Snap()->ReadEntries(400, 200).status().code(), StatusCode::kCorruption);
  Sql(path_, "DELETE FROM log_entries WHERE idx = 599");
  EXPECT_EQ(Snap()->ReadEntries(599, 1).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace chuqu::store
