// PostgreSQL-specific Store tests: URL handling and SQL translation (no server needed), and,
// against the server in CHUQU_PG_URL: a second writer refused by the compare-and-swap, a lost
// connection, damaged rows. The Store contract itself is tested for every store in
// store_test.cc.
#include "store/postgres/pg_store.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <chrono>
#include <thread>

#include "store/testing/store_test_util.h"

// LeakSanitizer: libpqxx 6.4 leaks the libpq result of a statement that fails because the
// connection broke (LostConnectionIsUnavailableThenRecovers): 216 B + 2 KiB per lost
// statement, inside libpq. Only allocations made inside libpq are exempt.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:PQmakeEmptyPGresult\nleak:libpq.so\n";
}

namespace chuqu::store {
namespace {

using testing::BatchBuilder;
using testing::Entries;

PgOptions CreateIfMissing(bool create) {
  PgOptions o;
  o.create_if_missing = create;
  return o;
}

PgOptions Timeout(int seconds) {
  PgOptions o;
  o.connect_timeout_seconds = seconds;
  return o;
}

TEST(PgStoreUrlTest, PasswordsAreRedactedOrStripped) {
  const std::string url =
      "postgresql://alice:s3cr%40t@db.example:5433/reg?schema=r1&sslmode=require";
  EXPECT_EQ(PgStore::RedactUrl(url),
            "postgresql://alice:***@db.example:5433/reg?schema=r1&sslmode=require");
  EXPECT_EQ(PgStore::StripPassword(url),
            "postgresql://alice@db.example:5433/reg?schema=r1&sslmode=require");
  EXPECT_EQ(PgStore::RedactUrl("postgresql://h/db?user=a&password=pw&x=1"),
            "postgresql://h/db?user=a&password=***&x=1");
  EXPECT_EQ(PgStore::StripPassword("postgresql://h/db?user=a&password=pw&x=1"),
            "postgresql://h/db?user=a&x=1");
  EXPECT_EQ(PgStore::StripPassword("postgresql://h/db?password=pw"), "postgresql://h/db");
  EXPECT_EQ(PgStore::RedactUrl("postgresql://bob@h/db"), "postgresql://bob@h/db");
  EXPECT_EQ(PgStore::RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
}

TEST(PgStoreUrlTest, SqliteDialectIsTranslated) {
  int n = 0;
  auto t = PgStore::TranslateSql(
      "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB, c real, d TEXT, blobs integer)", &n);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t,
            "CREATE TABLE t(a BIGINT PRIMARY KEY, b BYTEA, c DOUBLE PRECISION, d TEXT, "
            "blobs BIGINT)");
  EXPECT_EQ(n, 0);
  t = PgStore::TranslateSql("SELECT '?1 integer', \"blob\", x'00FF' FROM t WHERE a = ?12 -- ?3\n"
                            "AND b = ?2 /* ?4 */",
                            &n);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t,
            "SELECT '?1 integer', \"blob\", '\\x00FF'::bytea FROM t WHERE a = $12 -- ?3\n"
            "AND b = $2 /* ?4 */");
  EXPECT_EQ(n, 12);
  t = PgStore::TranslateSql("INSERT INTO t VALUES(?1, 'it''s', ?1)", &n);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "INSERT INTO t VALUES($1, 'it''s', $1)");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(PgStore::TranslateSql("SELECT ?", &n).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PgStore::TranslateSql("SELECT ?0", &n).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PgStore::TranslateSql("SELECT 'open", &n).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PgStore::TranslateSql("SELECT 1 /* open", &n).status().code(),
            StatusCode::kInvalidArgument);
}

// No server needed: nothing listens on port 1.
TEST(PgStoreOpenTest, RefusedConnectionIsUnavailableWithoutThePassword) {
  auto s = PgStore::Open("postgresql://chuqu:hunter2secret@127.0.0.1:1/chuqu?schema=x",
                         Timeout(2));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
  EXPECT_NE(s.status().message().find("postgresql://chuqu:***@127.0.0.1:1/chuqu"),
            std::string::npos)
      << s.status().message();
  EXPECT_EQ(s.status().message().find("hunter2"), std::string::npos) << s.status().message();
}

TEST(PgStoreOpenTest, BadUrlOrSchemaName) {
  EXPECT_EQ(PgStore::Open("mysql://h/db").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PgStore::Open("postgresql://127.0.0.1:1/db?schema=Bad-Name").status().code(),
            StatusCode::kInvalidArgument);
  for (const char* bad : {"1abc", "pg_catalog", "", "a\"b"}) {
    PgOptions o;
    o.schema = bad;
    if (*bad == '\0') continue;  // empty means "the URL's or the default"
    EXPECT_EQ(PgStore::Open("postgresql://127.0.0.1:1/db", o).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

// The password in a postgresql://user:password@host URL, or "".
std::string PasswordOf(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) return "";
  const size_t at = url.find('@', start);
  const size_t colon = url.find(':', start + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return "";
  return url.substr(colon + 1, at - colon - 1);
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHUQU_PG_URL_OR_SKIP(url);
    url_ = url;
    schema_ = testing::UniqueSchema("pgstore_test");
    auto store = PgStore::Open(StoreUrl());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) {
      EXPECT_TRUE(PgStore::DropSchema(url_, schema_).ok());
    }
  }
  std::string StoreUrl() const { return testing::WithSchema(url_, schema_); }

  // SQL behind the store's back, on the store's schema.
  void Sql(const std::string& sql) {
    pqxx::connection c(url_);
    pqxx::work txn(c);
    txn.exec("SET LOCAL search_path TO " + schema_);
    txn.exec(sql);
    txn.commit();
  }
  std::unique_ptr<Snapshot> Snap() {
    auto s = store_->NewSnapshot();
    CHUQU_CHECK(s.ok());
    return std::move(*s);
  }

  std::string url_, schema_;
  std::unique_ptr<PgStore> store_;
  BatchBuilder builder_;
};

TEST_F(PgStoreTest, MissingOrForeignSchema) {
  auto missing = PgStore::Open(testing::WithSchema(url_, schema_ + "_none"),
                               CreateIfMissing(false));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  const std::string foreign = schema_ + "_foreign";
  Sql("CREATE SCHEMA " + foreign + "; CREATE TABLE " + foreign + ".t(x int)");
  auto other = PgStore::Open(testing::WithSchema(url_, foreign));
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition) << other.status().ToString();
  EXPECT_TRUE(PgStore::DropSchema(url_, foreign).ok());
  EXPECT_EQ(store_->schema(), schema_);
}

TEST_F(PgStoreTest, SecondWriterIsRefusedByTheCompareAndSwap) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 3))).ok());
  auto second = PgStore::Open(StoreUrl(), CreateIfMissing(false));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  BatchBuilder stale;  // believes the log is empty
  Status s = (*second)->Append(stale.Next(Entries(100, 2)));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();

  // A writer racing another: it waits on the head row's lock, then sees the size the other
  // committed and refuses (no fork), although its batch was right when it started.
  pqxx::connection other(url_);
  pqxx::work txn(other);
  txn.exec("SELECT size FROM " + schema_ + ".log_head FOR UPDATE");
  AppendBatch next = builder_.Next(Entries(3, 2));
  Status raced;
  std::thread writer([&] { raced = (*second)->Append(next); });
  for (int i = 0; i < 500; ++i) {  // until the writer waits on the lock (at most 5 s)
    pqxx::connection probe(url_);
    pqxx::nontransaction q(probe);
    if (q.exec("SELECT 1 FROM pg_locks WHERE NOT granted").size() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  txn.exec("UPDATE " + schema_ + ".log_head SET size = 4");
  txn.commit();
  writer.join();
  EXPECT_EQ(raced.code(), StatusCode::kFailedPrecondition) << raced.ToString();
  auto snap = Snap();
  EXPECT_EQ((*snap->LatestCheckpoint())->size, 3u);
  EXPECT_EQ(snap->ReadEntries(3, 1).status().code(), StatusCode::kOutOfRange);
}

TEST_F(PgStoreTest, LostConnectionIsUnavailableThenRecovers) {
  const std::string app = schema_ + "_app";
  auto victim = PgStore::Open(StoreUrl() + "&application_name=" + app);
  ASSERT_TRUE(victim.ok()) << victim.status().ToString();
  ASSERT_TRUE((*victim)->Append(builder_.Next(Entries(0, 5))).ok());
  auto snap = (*victim)->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  // The server ends every session of this store (as a restart or a failover would).
  {
    pqxx::connection admin(url_);
    pqxx::nontransaction q(admin);
    q.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = " +
           q.quote(app));
  }
  AppendBatch batch = builder_.Next(Entries(5, 5));
  Status s = (*victim)->Append(batch);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  const std::string password = PasswordOf(url_);
  if (!password.empty()) {
    EXPECT_EQ(s.message().find(password), std::string::npos);
  }
  EXPECT_EQ((*snap)->ReadEntries(0, 1).status().code(), StatusCode::kUnavailable);
  snap->reset();
  // The next calls connect again.
  EXPECT_TRUE((*victim)->Append(batch).ok());
  auto fresh = (*victim)->NewSnapshot();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ((*(*fresh)->LatestCheckpoint())->size, 10u);
}

// Damage written behind the store's back (a bad disk, a stray writer) is reported.
TEST_F(PgStoreTest, DamagedRowsAreCorruption) {
  ASSERT_TRUE(store_->Append(builder_.Next(Entries(0, 600))).ok());
  Sql("UPDATE log_entries SET data = 'entry 99x'::bytea WHERE idx = 99");
  EXPECT_EQ(Snap()->ReadEntries(90, 20).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(Snap()->ReadEntries(0, 99).ok());

  Sql("UPDATE log_tiles SET data = decode(repeat('00', 8192), 'hex') WHERE level = 0 AND idx = 1");
  EXPECT_EQ(Snap()->ReadTile(0, 1, 256).status().code(), StatusCode::kCorruption);
  Sql("UPDATE log_tiles SET data = '\\x0102'::bytea WHERE level = 0 AND idx = 0");
  EXPECT_EQ(Snap()->ReadTile(0, 0, 1).status().code(), StatusCode::kCorruption);
  // A stored hash changed: its entry no longer agrees with it.
  Sql("UPDATE log_hashes SET hash = decode(repeat('00', 32), 'hex') WHERE id = 0");
  EXPECT_EQ(Snap()->ReadEntries(0, 1).status().code(), StatusCode::kCorruption);
  Sql("UPDATE log_hashes SET hash = '\\x00'::bytea WHERE id = 5");
  std::vector<int64_t> five = {5};
  EXPECT_EQ(Snap()->ReadHashes(five).status().code(), StatusCode::kCorruption);
  Sql("DELETE FROM log_entries WHERE idx = 500");
  EXPECT_EQ(Snap()->ReadEntries(400, 200).status().code(), StatusCode::kCorruption);
  Sql("DELETE FROM log_hashes WHERE id = " + std::to_string(ledger::StoredHashIndex(0, 599)));
  EXPECT_EQ(Snap()->ReadEntries(599, 1).status().code(), StatusCode::kCorruption);
  Sql("UPDATE log_checkpoints SET root = '\\x00'::bytea");
  EXPECT_EQ(store_->NewSnapshot().status().code(), StatusCode::kCorruption);
  Sql("DELETE FROM log_head");
  EXPECT_EQ(store_->Append(builder_.Next(Entries(600, 1))).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace chuqu::store
