// SQLite implementation of the Store (embedded default; docs/store.md has the schema).
//
// Durability: WAL journal with synchronous=FULL, so Append returns only after the commit is on
// disk. One writer connection (Append) and a pool of reader connections, each Snapshot holding
// one open read transaction (WAL gives it a stable view while the writer commits).
// Corruption: `PRAGMA quick_check` at open, cell_size_check on every connection, SQLITE_CORRUPT
// mapped to Status::Corruption, and every value read back verified (see store.h).
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

struct sqlite3;

namespace chuqu::store {

struct SqliteOptions {
  // Run PRAGMA quick_check at open (O(database size); off only for benchmarks of huge stores).
  bool quick_check_on_open = true;
  // How long a connection waits for a lock held by another process before failing.
  int busy_timeout_ms = 5000;
  // Create the file and schema if absent; otherwise a missing file is NotFound.
  bool create_if_missing = true;
  // Page cache per connection, KiB (SQLite's default is 2 MiB). Keeps the upper B-tree levels
  // that every proof walks in memory on large logs.
  int cache_size_kib = 16384;
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const SqliteOptions& options = {});
  ~SqliteStore() override;

  [[nodiscard]] Status Append(const AppendBatch& batch) override;
  [[nodiscard]] Status CreateTables(std::span<const std::string_view> statements) override;
  Result<std::unique_ptr<Snapshot>> NewSnapshot() override;

  // Full PRAGMA integrity_check (slow; for `chuqu log check`). Corruption with SQLite's report.
  // Uses the writer connection: not concurrently with Append.
  [[nodiscard]] Status IntegrityCheck();

  class Connection;  // a sqlite3 handle with its prepared statements (sqlite_store.cc)

 private:
  SqliteStore(std::string path, SqliteOptions options);
  Result<std::unique_ptr<Connection>> Connect(bool writer);
  void ReturnReader(std::unique_ptr<Connection> connection);
  friend class SqliteSnapshot;

  const std::string path_;
  const SqliteOptions options_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mu_
};

}  // namespace chuqu::store
