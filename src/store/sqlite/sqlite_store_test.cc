// SQLite-specific Store tests: the file on disk, damage written behind the store's back,
// integrity checks. The Store contract itself is tested for every store in store_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "base/testing/temp_dir.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "store/testing/store_test_util.h"

namespace chuqu::store {
namespace {

namespace fs = std::filesystem;
using testing::BatchBuilder;
using testing::Entries;

// A temporary directory "chuqu_store_test_XXXXXX"; File() names a file in it.
class TempDir : public chuqu::testing::TempDir {
 public:
  TempDir() : chuqu::testing::TempDir("chuqu_store_test_") {}
  std::string File(const std::string& name) const { return Sub(name); }
};

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

// Derived rows are ordinary tables of the database file (store_test.cc has the contract).
TEST_F(SqliteStoreTest, ExtraWritesLandInTheDatabaseFile) {
  AppendBatch first = builder_.Next(Entries(0, 2));
  first.extra_writes = [](WriteTransaction& txn) -> Status {
    CHUQU_RETURN_IF_ERROR(txn.Execute("CREATE TABLE works(id INTEGER PRIMARY KEY, name TEXT)"));
    SqlValue params[] = {int64_t{7}, std::string("first")};
    return txn.Execute("INSERT INTO works(id, name) VALUES(?1, ?2)", params);
  };
  ASSERT_TRUE(store_->Append(first).ok());
  store_.reset();

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
