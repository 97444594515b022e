// PostgreSQL implementation of the Store (issue #6; docs/log-store.md "PostgreSQL store"), for
// deployments that outgrow one file. Same guarantees as SqliteStore:
//
// Durability: one transaction per Append with synchronous_commit=on, so Append returns only
// after the commit is in the server's WAL on disk. Compare-and-swap: the transaction locks the
// single row of log_head (SELECT ... FOR UPDATE) and checks its size against batch.old_size; a
// second writer waits on the lock, then sees the new size and fails with FailedPrecondition
// (no fork, no serialization retries).
// Snapshots: REPEATABLE READ READ ONLY transactions, one connection each, from a small pool.
// Corruption: every value read back is verified as in SqliteStore (entries against leaf hashes,
// tiles against stored hashes, hash sizes), and server errors XX001/XX002 map to Corruption.
// Errors: libpqxx exceptions are caught here and mapped to Status; a refused or lost connection
// is Unavailable naming the URL without its password (RedactUrl). A broken connection is
// dropped; the next Append / NewSnapshot connects again.
//
// Namespace: each store lives in its own PostgreSQL schema (default "chuqu"), so many stores
// (registries, tests) share one database.
//
// SQL dialect: WriteTransaction::Execute and Snapshot::Query take the SQLite-flavoured SQL of
// the Store interface and TranslateSql() rewrites it: ?N parameters become $N, x'..' blob
// literals become bytea, and SQLite's storage type names INTEGER / BLOB / REAL become BIGINT /
// BYTEA / DOUBLE PRECISION (SQLite's INTEGER is 64-bit). Parameters are sent as text with
// their type inferred by the server (Blob as bytea hex); results map BIGINT/INTEGER/SMALLINT/
// BOOLEAN to int64_t, DOUBLE/REAL/NUMERIC to double, BYTEA to Blob, everything else to text.
// Query SQL must come from code, not from users.
//
// Thread-safety: as Store. The object must outlive every Snapshot it hands out.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace chuqu::store {

struct PgOptions {
  // The PostgreSQL schema holding the tables: [a-z_][a-z0-9_]{0,62}, not "pg_...". Empty: the URL's
  // "schema=" parameter, else "chuqu".
  std::string schema;
  // Create the schema and tables if absent; otherwise a missing schema is NotFound.
  bool create_if_missing = true;
  // Snapshot connections kept open for reuse once their snapshot ends.
  size_t max_idle_connections = 4;
  // libpq connect_timeout, seconds (unless the URL sets one).
  int connect_timeout_seconds = 5;
};

class PgStore final : public Store {
 public:
  // `url`: a libpq URI, postgresql://[user[:password]@]host[:port]/dbname[?param=value&...],
  // with one parameter of ours, schema=NAME (removed before libpq sees the URI). Passwords may
  // also come from PGPASSWORD or ~/.pgpass. Unavailable if the server cannot be reached.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url,
                                               const PgOptions& options = {});
  ~PgStore() override;

  [[nodiscard]] Status Append(const AppendBatch& batch) override;
  [[nodiscard]] Status CreateTables(std::span<const std::string_view> statements) override;
  Result<std::unique_ptr<Snapshot>> NewSnapshot() override;

  const std::string& schema() const { return schema_; }

  // Drops `schema` and everything in it (tests, `chuqu` tooling). Ok if it does not exist.
  [[nodiscard]] static Status DropSchema(const std::string& url, const std::string& schema);

  // `url` with the password (user:PASSWORD@ and password=...) replaced by "***".
  static std::string RedactUrl(std::string_view url);
  // `url` without any password (what may be written to a file; libpq then uses PGPASSWORD
  // or ~/.pgpass).
  static std::string StripPassword(std::string_view url);
  // The SQLite-flavoured statement in PostgreSQL's dialect (see above); `params` receives the
  // highest ?N used. InvalidArgument for anonymous "?" parameters or unterminated literals.
  static Result<std::string> TranslateSql(std::string_view sql, int* params);

  class Connection;  // a libpqxx connection set up for this store (pg_store.cc)

 private:
  PgStore(std::string conninfo, std::string redacted_url, std::string schema,
          PgOptions options);
  Result<std::unique_ptr<Connection>> Connect();
  Status CreateOrCheckSchema();
  void ReturnReader(std::unique_ptr<Connection> connection);
  friend class PgSnapshot;

  const std::string conninfo_;      // the URI libpq connects with (password included)
  const std::string redacted_url_;  // for messages
  const std::string schema_;
  const PgOptions options_;
  std::unique_ptr<Connection> writer_;  // only Append uses it; null after a lost connection
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mu_
};

}  // namespace chuqu::store
