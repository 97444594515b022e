#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <cstring>
#include <unordered_map>
#include <utility>

#include "store/batch_check.h"
#include "store/verified_read.h"

namespace chuqu::store {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kTileWidth = 256;

// docs/store.md describes these tables.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS log_entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_hashes(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_tiles(level INTEGER NOT NULL, idx INTEGER NOT NULL,
                                     data BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL,
                                           note BLOB NOT NULL);
)sql";

Status SqlError(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    message += " (" + std::string(sqlite3_errmsg(db)) + ")";
  }
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption("sqlite store: " + message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("sqlite store: " + message);
    case SQLITE_CONSTRAINT:
      return Status::FailedPrecondition("sqlite store: " + message);
    case SQLITE_CANTOPEN:
      return Status::NotFound("sqlite store: " + message);
    default:
      return Status::IOError("sqlite store: " + message);
  }
}

// A prepared statement borrowed from a connection's cache; reset when the borrow ends.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_STATIC);
  }
  void BindBlob(int i, const Hash& h) { sqlite3_bind_blob(stmt_, i, h.data(), 32, SQLITE_STATIC); }
  void BindValue(int i, const SqlValue& v) {
    if (std::holds_alternative<std::monostate>(v)) {
      sqlite3_bind_null(stmt_, i);
    } else if (auto* n = std::get_if<int64_t>(&v)) {
      sqlite3_bind_int64(stmt_, i, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      sqlite3_bind_double(stmt_, i, *d);
    } else if (auto* s = std::get_if<std::string>(&v)) {
      sqlite3_bind_text64(stmt_, i, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      const std::string& b = std::get<Blob>(v).bytes;
      sqlite3_bind_blob64(stmt_, i, b.data(), b.size(), SQLITE_STATIC);
    }
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  SqlValue Value(int col) {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_INTEGER:
        return sqlite3_column_int64(stmt_, col);
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt_, col);
      case SQLITE_TEXT: {
        const unsigned char* t = sqlite3_column_text(stmt_, col);
        return std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, col));
      }
      case SQLITE_BLOB:
        return Blob{std::string(Bytes(col))};
      default:
        return std::monostate();
    }
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string_view Bytes(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
  }

 private:
  sqlite3_stmt* stmt_;
};

Result<Hash> HashColumn(std::string_view bytes, std::string_view what) {
  if (bytes.size() != 32) {
    return Status::Corruption("sqlite store: " + std::string(what) + " is " +
                              std::to_string(bytes.size()) + " bytes, not 32");
  }
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

}  // namespace

class SqliteStore::Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  sqlite3* db() { return db_; }

  // The cached prepared statement for `sql` (prepared on first use).
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqlError(db_, rc, "prepare " + sql);
    cache_.emplace(sql, stmt);
    return stmt;
  }

  Status Exec(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqlError(db_, rc, sql);
    return Status::Ok();
  }

  // Rows of a one-text-column query (PRAGMA results).
  Result<std::vector<std::string>> TextRows(const std::string& sql) {
    CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Prepare(sql));
    Stmt stmt(raw);
    std::vector<std::string> rows;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(raw, 0);
      rows.emplace_back(t == nullptr ? "" : reinterpret_cast<const char*>(t));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, rc, sql);
    return rows;
  }

  Result<std::optional<CheckpointRecord>> Latest() {
    CHUQU_ASSIGN_OR_RETURN(
        sqlite3_stmt * raw,
        Prepare("SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1"));
    Stmt stmt(raw);
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return std::optional<CheckpointRecord>();
    if (rc != SQLITE_ROW) return SqlError(db_, rc, "read latest checkpoint");
    CHUQU_ASSIGN_OR_RETURN(CheckpointRecord record, ReadCheckpointRow(stmt));
    return std::optional<CheckpointRecord>(std::move(record));
  }

  static Result<CheckpointRecord> ReadCheckpointRow(Stmt& stmt) {
    CheckpointRecord record;
    int64_t size = stmt.Int(0);
    if (size < 0) return Status::Corruption("sqlite store: negative checkpoint size");
    record.size = static_cast<uint64_t>(size);
    CHUQU_ASSIGN_OR_RETURN(record.root, HashColumn(stmt.Bytes(1), "checkpoint root"));
    record.note = std::string(stmt.Bytes(2));
    return record;
  }

  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) {
    CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Prepare("SELECT hash FROM log_hashes WHERE id = ?1"));
    std::vector<Hash> out;
    out.reserve(indexes.size());
    for (int64_t index : indexes) {
      Stmt stmt(raw);
      stmt.Bind(1, index);
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) {
        return Status::NotFound("sqlite store: no stored hash " + std::to_string(index));
      }
      if (rc != SQLITE_ROW) return SqlError(db_, rc, "read stored hash");
      CHUQU_ASSIGN_OR_RETURN(Hash h, HashColumn(stmt.Bytes(0), "stored hash"));
      out.push_back(h);
    }
    return out;
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

namespace {

class SqliteWriteTransaction final : public WriteTransaction {
 public:
  explicit SqliteWriteTransaction(SqliteStore::Connection& c) : c_(c) {}
  Status Execute(std::string_view sql, std::span<const SqlValue> params) override {
    CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw, c_.Prepare(std::string(sql)));
    Stmt stmt(raw);
    if (static_cast<size_t>(sqlite3_bind_parameter_count(raw)) != params.size()) {
      return Status::InvalidArgument("extra write: " + std::to_string(params.size()) +
                                     " parameters for " + std::string(sql));
    }
    for (size_t i = 0; i < params.size(); ++i) stmt.BindValue(static_cast<int>(i + 1), params[i]);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqlError(c_.db(), rc, "extra write");
    return Status::Ok();
  }

 private:
  SqliteStore::Connection& c_;
};

}  // namespace

class SqliteSnapshot final : public Snapshot {
 public:
  SqliteSnapshot(SqliteStore* store, std::unique_ptr<SqliteStore::Connection> c)
      : store_(store), c_(std::move(c)) {}
  ~SqliteSnapshot() override {
    // Ending a read transaction cannot lose data; a failure leaves the connection unusable,
    // so it is closed rather than pooled.
    if (c_->Exec("COMMIT").ok()) {
      store_->ReturnReader(std::move(c_));
    }
  }

  // Opens the read transaction: BEGIN is deferred, the first read fixes the snapshot.
  Status Start() {
    CHUQU_RETURN_IF_ERROR(c_->Exec("BEGIN"));
    CHUQU_ASSIGN_OR_RETURN(latest_, c_->Latest());
    return Status::Ok();
  }

  Result<std::optional<CheckpointRecord>> LatestCheckpoint() override { return latest_; }

  Result<CheckpointRecord> CheckpointAt(uint64_t size) override {
    if (size > static_cast<uint64_t>(INT64_MAX)) {
      return Status::OutOfRange("checkpoint size " + std::to_string(size) + " is too large");
    }
    CHUQU_ASSIGN_OR_RETURN(
        sqlite3_stmt * raw,
        c_->Prepare("SELECT size, root, note FROM log_checkpoints WHERE size = ?1"));
    Stmt stmt(raw);
    stmt.Bind(1, static_cast<int64_t>(size));
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) {
      return Status::NotFound("no checkpoint of size " + std::to_string(size));
    }
    if (rc != SQLITE_ROW) return SqlError(c_->db(), rc, "read checkpoint");
    return SqliteStore::Connection::ReadCheckpointRow(stmt);
  }

  Result<std::vector<CheckpointRecord>> Checkpoints(uint64_t after_size, size_t limit) override {
    std::vector<CheckpointRecord> out;
    if (after_size >= static_cast<uint64_t>(INT64_MAX)) return out;
    CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw,
                           c_->Prepare("SELECT size, root, note FROM log_checkpoints "
                                       "WHERE size > ?1 ORDER BY size LIMIT ?2"));
    Stmt stmt(raw);
    stmt.Bind(1, static_cast<int64_t>(after_size));
    stmt.Bind(2, limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit));
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      CHUQU_ASSIGN_OR_RETURN(CheckpointRecord record,
                             SqliteStore::Connection::ReadCheckpointRow(stmt));
      out.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE) return SqlError(c_->db(), rc, "read checkpoints");
    return out;
  }

  Result<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override {
    auto read_rows = [&](uint64_t from, uint64_t n, const EntryRowSink& row) -> Status {
      CHUQU_ASSIGN_OR_RETURN(
          sqlite3_stmt * raw,
          c_->Prepare("SELECT idx, data FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx"));
      Stmt stmt(raw);
      stmt.Bind(1, static_cast<int64_t>(from));
      stmt.Bind(2, static_cast<int64_t>(from + n));
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        CHUQU_RETURN_IF_ERROR(row(stmt.Int(0), stmt.Bytes(1)));
      }
      if (rc != SQLITE_DONE) return SqlError(c_->db(), rc, "read entries");
      return Status::Ok();
    };
    return ReadVerifiedEntries("sqlite store", first, count, latest_ ? latest_->size : 0,
                               HashReader(), read_rows);
  }

  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) override {
    return c_->ReadHashes(indexes);
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    std::span<const SqlValue> params) override {
    CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw, c_->Prepare(std::string(sql)));
    if (!sqlite3_stmt_readonly(raw)) {
      return Status::InvalidArgument("snapshot query is not read-only: " + std::string(sql));
    }
    if (static_cast<size_t>(sqlite3_bind_parameter_count(raw)) != params.size()) {
      return Status::InvalidArgument("query: " + std::to_string(params.size()) +
                                     " parameters for " + std::string(sql));
    }
    Stmt stmt(raw);
    for (size_t i = 0; i < params.size(); ++i) stmt.BindValue(static_cast<int>(i + 1), params[i]);
    std::vector<SqlRow> rows;
    const int columns = sqlite3_column_count(raw);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      SqlRow row;
      row.reserve(columns);
      for (int i = 0; i < columns; ++i) row.push_back(stmt.Value(i));
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqlError(c_->db(), rc, "query");
    return rows;
  }

  Result<std::string> ReadTile(int level, uint64_t index, int width) override {
    auto read_stored = [&]() -> Result<std::string> {
      CHUQU_ASSIGN_OR_RETURN(
          sqlite3_stmt * raw,
          c_->Prepare("SELECT data FROM log_tiles WHERE level = ?1 AND idx = ?2"));
      Stmt stmt(raw);
      stmt.Bind(1, level);
      stmt.Bind(2, static_cast<int64_t>(index));
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) return Status::NotFound("no tile");
      if (rc != SQLITE_ROW) return SqlError(c_->db(), rc, "read tile");
      return std::string(stmt.Bytes(0));
    };
    return ReadVerifiedTile("sqlite store", level, index, width, read_stored, HashReader());
  }

 private:
  StoredHashReader HashReader() {
    return [this](std::span<const int64_t> ids) { return c_->ReadHashes(ids); };
  }

  SqliteStore* store_;
  std::unique_ptr<SqliteStore::Connection> c_;
  std::optional<CheckpointRecord> latest_;
};

SqliteStore::SqliteStore(std::string path, SqliteOptions options)
    : path_(std::move(path)), options_(options) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore::Connection>> SqliteStore::Connect(bool writer) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (writer && options_.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path_.c_str(), &db, flags, nullptr);
  auto c = std::make_unique<Connection>(db);  // closes db even when open failed
  if (rc != SQLITE_OK) return SqlError(db, rc, "open " + path_);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options_.busy_timeout_ms);
  CHUQU_RETURN_IF_ERROR(c->Exec("PRAGMA cell_size_check=ON"));
  CHUQU_RETURN_IF_ERROR(c->Exec("PRAGMA synchronous=FULL"));
  const std::string cache = "PRAGMA cache_size=-" + std::to_string(options_.cache_size_kib);
  CHUQU_RETURN_IF_ERROR(c->Exec(cache.c_str()));
  if (!writer) CHUQU_RETURN_IF_ERROR(c->Exec("PRAGMA query_only=ON"));
  return c;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const SqliteOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  CHUQU_ASSIGN_OR_RETURN(store->writer_, store->Connect(/*writer=*/true));
  Connection& w = *store->writer_;
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> mode, w.TextRows("PRAGMA journal_mode=WAL"));
  if (mode.empty() || mode[0] != "wal") {
    return Status::IOError("sqlite store: cannot use WAL journal for " + path);
  }
  if (options.quick_check_on_open) {
    CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> rows, w.TextRows("PRAGMA quick_check"));
    if (rows.size() != 1 || rows[0] != "ok") {
      std::string report;
      for (size_t i = 0; i < rows.size() && i < 5; ++i) report += (i ? "; " : "") + rows[i];
      return Status::Corruption("sqlite store: quick_check of " + path + ": " + report);
    }
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> version, w.TextRows("PRAGMA user_version"));
  int user_version = version.empty() ? 0 : std::atoi(version[0].c_str());
  if (user_version == 0) {
    CHUQU_RETURN_IF_ERROR(w.Exec("BEGIN IMMEDIATE"));
    Status s = w.Exec(kSchema);
    if (s.ok()) s = w.Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    if (s.ok()) s = w.Exec("COMMIT");
    if (!s.ok()) {
      (void)w.Exec("ROLLBACK");
      return s;
    }
  } else if (user_version != kSchemaVersion) {
    return Status::Unsupported("sqlite store: schema version " + std::to_string(user_version) +
                               " of " + path + " is not " + std::to_string(kSchemaVersion));
  }
  return store;
}

Status SqliteStore::IntegrityCheck() {
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> rows, writer_->TextRows("PRAGMA integrity_check"));
  if (rows.size() == 1 && rows[0] == "ok") return Status::Ok();
  std::string report;
  for (size_t i = 0; i < rows.size() && i < 5; ++i) report += (i ? "; " : "") + rows[i];
  return Status::Corruption("sqlite store: integrity_check of " + path_ + ": " + report);
}

Status SqliteStore::Append(const AppendBatch& batch) {
  CHUQU_RETURN_IF_ERROR(CheckBatchShape(batch, "sqlite store"));
  const uint64_t new_size = batch.old_size + batch.entries.size();
  const int64_t first_hash = ledger::StoredHashCount(batch.old_size);
  Connection& w = *writer_;
  CHUQU_RETURN_IF_ERROR(w.Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    CHUQU_ASSIGN_OR_RETURN(std::optional<CheckpointRecord> latest, w.Latest());
    if (latest ? latest->size != batch.old_size || new_size == batch.old_size
               : batch.old_size != 0) {
      return Status::FailedPrecondition(
          "sqlite store: batch extends size " + std::to_string(batch.old_size) +
          " but the latest checkpoint has size " +
          (latest ? std::to_string(latest->size) : std::string("(none)")));
    }
    {
      CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw,
                             w.Prepare("INSERT INTO log_entries(idx, data) VALUES(?1, ?2)"));
      for (size_t i = 0; i < batch.entries.size(); ++i) {
        Stmt stmt(raw);
        stmt.Bind(1, static_cast<int64_t>(batch.old_size + i));
        stmt.BindBlob(2, batch.entries[i]);
        int rc = stmt.Step();
        if (rc != SQLITE_DONE) return SqlError(w.db(), rc, "insert entry");
      }
    }
    {
      CHUQU_ASSIGN_OR_RETURN(sqlite3_stmt * raw,
                             w.Prepare("INSERT INTO log_hashes(id, hash) VALUES(?1, ?2)"));
      for (size_t i = 0; i < batch.hashes.size(); ++i) {
        Stmt stmt(raw);
        stmt.Bind(1, first_hash + static_cast<int64_t>(i));
        stmt.BindBlob(2, batch.hashes[i]);
        int rc = stmt.Step();
        if (rc != SQLITE_DONE) return SqlError(w.db(), rc, "insert stored hash");
      }
    }
    {
      CHUQU_ASSIGN_OR_RETURN(
          sqlite3_stmt * raw,
          w.Prepare("INSERT INTO log_tiles(level, idx, data) VALUES(?1, ?2, ?3) "
                    "ON CONFLICT(level, idx) DO UPDATE SET data = excluded.data "
                    "WHERE length(excluded.data) > length(log_tiles.data)"));
      for (const TileRecord& tile : batch.tiles) {
        if (tile.data.empty() || tile.data.size() % 32 != 0 || tile.data.size() > 32 * kTileWidth) {
          return Status::InvalidArgument("sqlite store: tile of " +
                                         std::to_string(tile.data.size()) + " bytes");
        }
        Stmt stmt(raw);
        stmt.Bind(1, tile.level);
        stmt.Bind(2, static_cast<int64_t>(tile.index));
        stmt.BindBlob(3, tile.data);
        int rc = stmt.Step();
        if (rc != SQLITE_DONE) return SqlError(w.db(), rc, "write tile");
      }
    }
    {
      CHUQU_ASSIGN_OR_RETURN(
          sqlite3_stmt * raw,
          w.Prepare("INSERT INTO log_checkpoints(size, root, note) VALUES(?1, ?2, ?3)"));
      Stmt stmt(raw);
      stmt.Bind(1, static_cast<int64_t>(new_size));
      stmt.BindBlob(2, batch.checkpoint.root);
      stmt.BindBlob(3, batch.checkpoint.note);
      int rc = stmt.Step();
      if (rc != SQLITE_DONE) return SqlError(w.db(), rc, "insert checkpoint");
    }
    if (batch.extra_writes) {
      SqliteWriteTransaction txn(w);
      CHUQU_RETURN_IF_ERROR(batch.extra_writes(txn));
    }
    return w.Exec("COMMIT");
  };
  Status s = body();
  if (!s.ok() && !sqlite3_get_autocommit(w.db())) (void)w.Exec("ROLLBACK");
  return s;
}

Status SqliteStore::CreateTables(std::span<const std::string_view> statements) {
  Connection& w = *writer_;
  CHUQU_RETURN_IF_ERROR(w.Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    SqliteWriteTransaction txn(w);
    for (std::string_view sql : statements) CHUQU_RETURN_IF_ERROR(txn.Execute(sql, {}));
    return w.Exec("COMMIT");
  };
  Status s = body();
  if (!s.ok() && !sqlite3_get_autocommit(w.db())) (void)w.Exec("ROLLBACK");
  return s;
}

Result<std::unique_ptr<Snapshot>> SqliteStore::NewSnapshot() {
  std::unique_ptr<Connection> c;
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!c) {
    CHUQU_ASSIGN_OR_RETURN(c, Connect(/*writer=*/false));
  }
  auto snapshot = std::make_unique<SqliteSnapshot>(this, std::move(c));
  CHUQU_RETURN_IF_ERROR(snapshot->Start());
  return std::unique_ptr<Snapshot>(std::move(snapshot));
}

void SqliteStore::ReturnReader(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  idle_readers_.push_back(std::move(connection));
}

}  // namespace chuqu::store
