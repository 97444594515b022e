#include "store/postgres/pg_store.h"

#include <pqxx/pqxx>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "store/batch_check.h"
#include "store/verified_read.h"

namespace chuqu::store {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kTileWidth = 256;

// PostgreSQL type OIDs (src/include/catalog/pg_type.dat), for mapping result columns.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kByteaOid = 17;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kOidOid = 26;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

// docs/log-store.md "PostgreSQL store" describes these tables; %s is the quoted schema.
// log_head holds the size of the latest checkpoint (NULL before the first): its row lock is
// the compare-and-swap of Append.
constexpr const char* kTables[] = {
    "CREATE TABLE %s.log_entries(idx BIGINT PRIMARY KEY, data BYTEA NOT NULL)",
    "CREATE TABLE %s.log_hashes(id BIGINT PRIMARY KEY, hash BYTEA NOT NULL)",
    "CREATE TABLE %s.log_tiles(level INTEGER NOT NULL, idx BIGINT NOT NULL,"
    " data BYTEA NOT NULL, PRIMARY KEY(level, idx))",
    "CREATE TABLE %s.log_checkpoints(size BIGINT PRIMARY KEY, root BYTEA NOT NULL,"
    " note BYTEA NOT NULL)",
    "CREATE TABLE %s.log_head(id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT)",
    "INSERT INTO %s.log_head(id, size) VALUES(1, NULL)",
    "CREATE TABLE %s.store_meta(version INTEGER NOT NULL)",
};

bool ValidSchemaName(std::string_view s) {
  // "pg_" names are reserved for PostgreSQL's own schemas.
  if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0])) ||
      s.rfind("pg_", 0) == 0) {
    return false;
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::islower(u) || std::isdigit(u) || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// bytea input syntax (hex format).
std::string ByteaText(std::string_view bytes) { return "\\x" + Hex(bytes); }

// A bytea[] array literal: {"\\x..","\\x.."} (backslashes escaped inside quoted elements).
template <typename Range>
std::string ByteaArray(const Range& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    out += "\"\\\\x";
    out += Hex(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
    out += '"';
  }
  return out + "}";
}

template <typename Int>
std::string IntArray(const std::vector<Int>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bytea column in text form (bytea_output=hex, set for every connection).
Result<std::string> ByteaValue(const pqxx::field& f) {
  const char* p = f.c_str();
  const size_t n = f.size();
  if (n < 2 || p[0] != '\\' || p[1] != 'x' || n % 2 != 0) {
    return Status::Corruption("postgres store: bytea value is not in hex form");
  }
  std::string out((n - 2) / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(p[2 + 2 * i]);
    const int lo = HexValue(p[3 + 2 * i]);
    if (hi < 0 || lo < 0) return Status::Corruption("postgres store: bad hex in a bytea value");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

Result<int64_t> IntValue(const pqxx::field& f) {
  int64_t v = 0;
  const char* p = f.c_str();
  auto [end, ec] = std::from_chars(p, p + f.size(), v);
  if (ec != std::errc() || end != p + f.size()) {
    return Status::Corruption("postgres store: \"" + std::string(p, f.size()) +
                              "\" is not an integer");
  }
  return v;
}

Result<Hash> HashValue(const pqxx::field& f, std::string_view what) {
  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ByteaValue(f));
  if (bytes.size() != 32) {
    return Status::Corruption("postgres store: " + std::string(what) + " is " +
                              std::to_string(bytes.size()) + " bytes, not 32");
  }
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

Result<SqlValue> ColumnValue(const pqxx::field& f) {
  if (f.is_null()) return SqlValue(std::monostate());
  switch (f.type()) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kOidOid: {
      CHUQU_ASSIGN_OR_RETURN(int64_t v, IntValue(f));
      return SqlValue(v);
    }
    case kBoolOid:
      return SqlValue(int64_t{f.c_str()[0] == 't' ? 1 : 0});
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return SqlValue(std::strtod(f.c_str(), nullptr));
    case kByteaOid: {
      CHUQU_ASSIGN_OR_RETURN(std::string bytes, ByteaValue(f));
      return SqlValue(Blob{std::move(bytes)});
    }
    default:
      return SqlValue(std::string(f.c_str(), f.size()));
  }
}

// Parameters as libpq text values (nullptr = NULL), types inferred by the server.
struct TextParams {
  std::vector<std::string> storage;
  std::vector<const char*> pointers;
};

Result<TextParams> ToTextParams(std::span<const SqlValue> params) {
  TextParams out;
  out.storage.reserve(params.size());
  std::vector<bool> null(params.size(), false);
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    if (std::holds_alternative<std::monostate>(v)) {
      null[i] = true;
      out.storage.emplace_back();
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      out.storage.push_back(std::to_string(*n));
    } else if (const auto* d = std::get_if<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", *d);
      out.storage.emplace_back(buf);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      if (s->find('\0') != std::string::npos) {
        return Status::InvalidArgument("postgres store: text parameter ?" + std::to_string(i + 1) +
                                       " contains a NUL byte (use a Blob)");
      }
      out.storage.push_back(*s);
    } else {
      out.storage.push_back(ByteaText(std::get<Blob>(v).bytes));
    }
  }
  for (size_t i = 0; i < params.size(); ++i) {
    out.pointers.push_back(null[i] ? nullptr : out.storage[i].c_str());
  }
  return out;
}

// Maps a libpqxx exception (rethrown inside) to a Status. `url` is already redacted.
Status FromException(std::string_view what, const std::string& url) {
  const std::string prefix = "postgres store: " + std::string(what) + ": ";
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Status::Unavailable(prefix + "connection to " + url + " failed or was lost: " +
                               e.what());
  } catch (const pqxx::in_doubt_error& e) {
    return Status::Unavailable(prefix + "connection to " + url +
                               " lost during commit; the outcome is unknown: " + e.what());
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    std::string message = prefix + e.what();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (!state.empty()) message += " (SQLSTATE " + state + ")";
    const std::string cls = state.substr(0, 2);
    if (state == "XX001" || state == "XX002") return Status::Corruption(message);
    if (state == "25006") return Status::InvalidArgument(message);  // read-only transaction
    if (cls == "08" || cls == "57" || state == "40001" || state == "40P01" || state == "55P03") {
      return Status::Unavailable(message);  // connection, shutdown, conflicts: retry later
    }
    if (cls == "23") return Status::FailedPrecondition(message);  // constraint violated
    if (cls == "42" || cls == "22" || cls == "0A") return Status::InvalidArgument(message);
    if (cls == "53") return Status::ResourceExhausted(message);
    if (cls == "28") return Status::PermissionDenied(message);
    return Status::IOError(message);
  } catch (const std::exception& e) {
    return Status::IOError(prefix + e.what());
  }
}

// Runs `body` (returning Status or Result<T>) with libpqxx exceptions mapped to Status.
template <typename F>
auto Guarded(std::string_view what, const std::string& url, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (...) {
    return FromException(what, url);
  }
}

struct ParsedUrl {
  std::string conninfo;  // for libpq: our parameters removed, session settings added
  std::string schema;    // from schema=, or empty
};

// Splits a libpq URI, takes out schema=, and adds the session settings every connection (and
// libpqxx's automatic reconnection) must have.
Result<ParsedUrl> ParseUrl(const std::string& url, const PgOptions& options) {
  if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
    return Status::InvalidArgument("postgres store: the URL must start with postgresql://");
  }
  ParsedUrl out;
  const size_t q = url.find('?');
  out.conninfo = url.substr(0, q);
  std::vector<std::pair<std::string, std::string>> params;
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(url).substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (kv.empty()) continue;
      const size_t eq = kv.find('=');
      std::string key(kv.substr(0, eq));
      std::string value(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
      if (key == "schema") {
        out.schema = value;
      } else {
        params.emplace_back(std::move(key), std::move(value));
      }
    }
  }
  auto has = [&](std::string_view key) {
    for (const auto& [k, v] : params) {
      if (k == key) return true;
    }
    return false;
  };
  // Session settings (URL-encoded "-c name=value" list): durability, quiet notices, bytea hex.
  const std::string settings =
      "-c%20synchronous_commit%3Don%20-c%20client_min_messages%3Dwarning"
      "%20-c%20bytea_output%3Dhex%20-c%20standard_conforming_strings%3Don";
  bool merged = false;
  for (auto& [k, v] : params) {
    if (k == "options") {
      v += "%20" + settings;
      merged = true;
    }
  }
  if (!merged) params.emplace_back("options", settings);
  if (!has("connect_timeout")) {
    params.emplace_back("connect_timeout", std::to_string(options.connect_timeout_seconds));
  }
  if (!has("application_name")) params.emplace_back("application_name", "chuqu");
  if (!has("client_encoding")) params.emplace_back("client_encoding", "UTF8");
  for (size_t i = 0; i < params.size(); ++i) {
    out.conninfo += (i == 0 ? '?' : '&') + params[i].first + "=" + params[i].second;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SQL translation.

Result<std::string> PgStore::TranslateSql(std::string_view sql, int* params) {
  std::string out;
  out.reserve(sql.size() + 16);
  int max_param = 0;
  size_t i = 0;
  auto ident_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  };
  auto copy_quoted = [&](char quote) -> Status {
    const size_t start = i++;
    while (true) {
      if (i >= sql.size()) {
        return Status::InvalidArgument("unterminated quoted text in SQL: " + std::string(sql));
      }
      if (sql[i] == quote) {
        if (i + 1 < sql.size() && sql[i + 1] == quote) {
          i += 2;  // doubled quote
          continue;
        }
        ++i;
        break;
      }
      ++i;
    }
    out.append(sql.substr(start, i - start));
    return Status::Ok();
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      CHUQU_RETURN_IF_ERROR(copy_quoted(c));
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, stop - i));
      i = stop;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return Status::InvalidArgument("unterminated comment in SQL: " + std::string(sql));
      }
      out.append(sql.substr(i, end + 2 - i));
      i = end + 2;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) && n < 100000) {
        n = n * 10 + (sql[j] - '0');
        ++j;
      }
      if (j == i + 1 || n == 0) {
        return Status::InvalidArgument("SQL parameters must be numbered ?1, ?2, ...: " +
                                       std::string(sql));
      }
      max_param = std::max(max_param, n);
      out += '$';
      out.append(sql.substr(i + 1, j - i - 1));
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < sql.size() && ident_char(sql[j])) ++j;
      const std::string_view word = sql.substr(i, j - i);
      if ((word == "x" || word == "X") && j < sql.size() && sql[j] == '\'') {
        // SQLite blob literal x'00ff' -> '\x00ff'::bytea (in PostgreSQL x'..' is a bit string).
        const size_t end = sql.find('\'', j + 1);
        if (end == std::string_view::npos) {
          return Status::InvalidArgument("unterminated blob literal in SQL: " + std::string(sql));
        }
        out += "'\\x";
        out.append(sql.substr(j + 1, end - j - 1));
        out += "'::bytea";
        i = end + 1;
        continue;
      }
      std::string upper(word);
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper == "INTEGER") {
        out += "BIGINT";
      } else if (upper == "BLOB") {
        out += "BYTEA";
      } else if (upper == "REAL") {
        out += "DOUBLE PRECISION";
      } else {
        out.append(word);
      }
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < sql.size() && (ident_char(sql[j]) || sql[j] == '.')) ++j;
      out.append(sql.substr(i, j - i));
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  if (params) *params = max_param;
  return out;
}

// ---------------------------------------------------------------------------------------------
// URLs.

std::string PgStore::RedactUrl(std::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t host_start = scheme + 3;
    const size_t path = out.find_first_of("/?", host_start);
    const size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at >= host_start) {
      const size_t colon = out.find(':', host_start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&' && out[pos - 1] != ' ') continue;
    const size_t start = pos + 9;
    const size_t end = out.find_first_of("& ", start);
    out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
  }
  return out;
}

std::string PgStore::StripPassword(std::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t host_start = scheme + 3;
    const size_t path = out.find_first_of("/?", host_start);
    const size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at >= host_start) {
      const size_t colon = out.find(':', host_start);
      if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
    }
  }
  for (size_t pos = out.find("password="); pos != std::string::npos;) {
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&') {
      pos = out.find("password=", pos + 1);
      continue;
    }
    const size_t end = out.find('&', pos);
    if (end == std::string::npos) {
      out.erase(pos - 1);  // with its '?' or '&'
    } else {
      out.erase(pos, end + 1 - pos);
    }
    pos = out.find("password=");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Connections.

class PgStore::Connection {
 public:
  explicit Connection(const std::string& conninfo)
      : conn_(std::make_unique<pqxx::connection>(conninfo)),
        quiet_(std::make_unique<pqxx::quiet_errorhandler>(*conn_)) {}
  ~Connection() {
    quiet_.reset();  // unregisters from the connection before it closes
    conn_.reset();
  }
  pqxx::connection& c() { return *conn_; }
  bool is_open() const { return conn_->is_open(); }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::quiet_errorhandler> quiet_;  // core code never logs: no notices on stderr
};

namespace {

// Executes `sql` (already in PostgreSQL's dialect) with text parameters.
pqxx::result Exec(pqxx::transaction_base& txn, const std::string& sql,
                  const std::vector<const char*>& params) {
  return txn.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
}

class PgWriteTransaction final : public WriteTransaction {
 public:
  PgWriteTransaction(pqxx::work& txn, const std::string& url) : txn_(txn), url_(url) {}
  Status Execute(std::string_view sql, std::span<const SqlValue> params) override {
    int count = 0;
    CHUQU_ASSIGN_OR_RETURN(std::string pg_sql, PgStore::TranslateSql(sql, &count));
    if (static_cast<size_t>(count) != params.size()) {
      return Status::InvalidArgument("extra write: " + std::to_string(params.size()) +
                                     " parameters for " + std::string(sql));
    }
    CHUQU_ASSIGN_OR_RETURN(TextParams text, ToTextParams(params));
    return Guarded("extra write", url_, [&]() -> Status {
      Exec(txn_, pg_sql, text.pointers);
      return Status::Ok();
    });
  }

 private:
  pqxx::work& txn_;
  const std::string& url_;
};

using ReadTransaction =
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

Result<CheckpointRecord> CheckpointRow(const pqxx::row& row) {
  CheckpointRecord record;
  CHUQU_ASSIGN_OR_RETURN(int64_t size, IntValue(row[0]));
  if (size < 0) return Status::Corruption("postgres store: negative checkpoint size");
  record.size = static_cast<uint64_t>(size);
  CHUQU_ASSIGN_OR_RETURN(record.root, HashValue(row[1], "checkpoint root"));
  CHUQU_ASSIGN_OR_RETURN(record.note, ByteaValue(row[2]));
  return record;
}

}  // namespace

class PgSnapshot final : public Snapshot {
 public:
  PgSnapshot(PgStore* store, std::unique_ptr<PgStore::Connection> c)
      : store_(store), c_(std::move(c)) {}
  ~PgSnapshot() override {
    bool healthy = false;
    if (txn_) {
      try {
        txn_->commit();  // ends the read transaction; nothing to lose
        healthy = true;
      } catch (...) {
      }
      txn_.reset();
    }
    if (healthy && c_->is_open()) store_->ReturnReader(std::move(c_));
  }

  // Opens the read transaction; the first statement fixes its snapshot.
  Status Start() {
    return Guarded("begin snapshot", store_->redacted_url_, [&]() -> Status {
      txn_ = std::make_unique<ReadTransaction>(c_->c());
      pqxx::result r = txn_->exec(
          "SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1");
      if (!r.empty()) {
        CHUQU_ASSIGN_OR_RETURN(CheckpointRecord record, CheckpointRow(r[0]));
        latest_ = std::move(record);
      }
      return Status::Ok();
    });
  }

  Result<std::optional<CheckpointRecord>> LatestCheckpoint() override { return latest_; }

  Result<CheckpointRecord> CheckpointAt(uint64_t size) override {
    if (size > static_cast<uint64_t>(INT64_MAX)) {
      return Status::OutOfRange("checkpoint size " + std::to_string(size) + " is too large");
    }
    return Guarded("read checkpoint", url(), [&]() -> Result<CheckpointRecord> {
      pqxx::result r = txn_->exec_params(
          "SELECT size, root, note FROM log_checkpoints WHERE size = $1", std::to_string(size));
      if (r.empty()) return Status::NotFound("no checkpoint of size " + std::to_string(size));
      return CheckpointRow(r[0]);
    });
  }

  Result<std::vector<CheckpointRecord>> Checkpoints(uint64_t after_size, size_t limit) override {
    std::vector<CheckpointRecord> out;
    if (after_size >= static_cast<uint64_t>(INT64_MAX)) return out;
    const int64_t lim =
        limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit);
    return Guarded("read checkpoints", url(), [&]() -> Result<std::vector<CheckpointRecord>> {
      pqxx::result r = txn_->exec_params(
          "SELECT size, root, note FROM log_checkpoints WHERE size > $1 ORDER BY size LIMIT $2",
          std::to_string(after_size), std::to_string(lim));
      for (const pqxx::row& row : r) {
        CHUQU_ASSIGN_OR_RETURN(CheckpointRecord record, CheckpointRow(row));
        out.push_back(std::move(record));
      }
      return out;
    });
  }

  Result<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override {
    auto read_rows = [&](uint64_t from, uint64_t n, const EntryRowSink& row) -> Status {
      return Guarded("read entries", url(), [&]() -> Status {
        pqxx::result r = txn_->exec_params(
            "SELECT idx, data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            std::to_string(from), std::to_string(from + n));
        for (const pqxx::row& pg_row : r) {
          CHUQU_ASSIGN_OR_RETURN(int64_t idx, IntValue(pg_row[0]));
          CHUQU_ASSIGN_OR_RETURN(std::string data, ByteaValue(pg_row[1]));
          CHUQU_RETURN_IF_ERROR(row(idx, data));
        }
        return Status::Ok();
      });
    };
    return ReadVerifiedEntries("postgres store", first, count, latest_ ? latest_->size : 0,
                               HashReader(), read_rows);
  }

  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) override {
    if (indexes.empty()) return std::vector<Hash>();
    return Guarded("read stored hashes", url(), [&]() -> Result<std::vector<Hash>> {
      pqxx::result r = txn_->exec_params(
          "SELECT id, hash FROM log_hashes WHERE id = ANY($1::bigint[])",
          IntArray(std::vector<int64_t>(indexes.begin(), indexes.end())));
      std::map<int64_t, Hash> found;
      for (const pqxx::row& row : r) {
        CHUQU_ASSIGN_OR_RETURN(int64_t id, IntValue(row[0]));
        CHUQU_ASSIGN_OR_RETURN(Hash h, HashValue(row[1], "stored hash"));
        found[id] = h;
      }
      std::vector<Hash> out;
      out.reserve(indexes.size());
      for (int64_t index : indexes) {
        auto it = found.find(index);
        if (it == found.end()) {
          return Status::NotFound("postgres store: no stored hash " + std::to_string(index));
        }
        out.push_back(it->second);
      }
      return out;
    });
  }

  Result<std::string> ReadTile(int level, uint64_t index, int width) override {
    auto read_stored = [&]() -> Result<std::string> {
      return Guarded("read tile", url(), [&]() -> Result<std::string> {
        pqxx::result r =
            txn_->exec_params("SELECT data FROM log_tiles WHERE level = $1 AND idx = $2",
                              std::to_string(level), std::to_string(index));
        if (r.empty()) {
          return Status::NotFound("no tile " + std::to_string(level) + "/" +
                                  std::to_string(index));
        }
        return ByteaValue(r[0][0]);
      });
    };
    return ReadVerifiedTile("postgres store", level, index, width, read_stored, HashReader());
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    std::span<const SqlValue> params) override {
    int count = 0;
    CHUQU_ASSIGN_OR_RETURN(std::string pg_sql, PgStore::TranslateSql(sql, &count));
    if (static_cast<size_t>(count) != params.size()) {
      return Status::InvalidArgument("query: " + std::to_string(params.size()) +
                                     " parameters for " + std::string(sql));
    }
    CHUQU_ASSIGN_OR_RETURN(TextParams text, ToTextParams(params));
    return Guarded("query", url(), [&]() -> Result<std::vector<SqlRow>> {
      // A savepoint, so a failed query (refused write, missing table) leaves the snapshot
      // usable, as in SqliteStore.
      txn_->exec("SAVEPOINT chuqu_query");
      pqxx::result r;
      try {
        r = Exec(*txn_, pg_sql, text.pointers);
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (...) {
        txn_->exec("ROLLBACK TO SAVEPOINT chuqu_query");
        throw;
      }
      txn_->exec("RELEASE SAVEPOINT chuqu_query");
      std::vector<SqlRow> rows;
      rows.reserve(r.size());
      for (const pqxx::row& row : r) {
        SqlRow out;
        out.reserve(row.size());
        for (const pqxx::field& f : row) {
          CHUQU_ASSIGN_OR_RETURN(SqlValue v, ColumnValue(f));
          out.push_back(std::move(v));
        }
        rows.push_back(std::move(out));
      }
      return rows;
    });
  }

 private:
  const std::string& url() const { return store_->redacted_url_; }

  StoredHashReader HashReader() {
    return [this](std::span<const int64_t> ids) { return ReadHashes(ids); };
  }

  PgStore* store_;
  std::unique_ptr<PgStore::Connection> c_;
  std::unique_ptr<ReadTransaction> txn_;
  std::optional<CheckpointRecord> latest_;
};

// ---------------------------------------------------------------------------------------------
// PgStore.

PgStore::PgStore(std::string conninfo, std::string redacted_url, std::string schema,
                 PgOptions options)
    : conninfo_(std::move(conninfo)),
      redacted_url_(std::move(redacted_url)),
      schema_(std::move(schema)),
      options_(std::move(options)) {}

PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore::Connection>> PgStore::Connect() {
  return Guarded("connect", redacted_url_, [&]() -> Result<std::unique_ptr<Connection>> {
    auto c = std::make_unique<Connection>(conninfo_);
    // Schema names are checked ([a-z_][a-z0-9_]*), so quoting is plain.
    pqxx::nontransaction setup(c->c());
    setup.exec("SET search_path TO \"" + schema_ + "\"");
    setup.commit();
    return c;
  });
}

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, const PgOptions& options) {
  CHUQU_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseUrl(url, options));
  std::string schema = !options.schema.empty()   ? options.schema
                       : !parsed.schema.empty() ? parsed.schema
                                                : std::string("chuqu");
  if (!ValidSchemaName(schema)) {
    return Status::InvalidArgument("postgres store: schema name \"" + schema +
                                   "\" must match [a-z_][a-z0-9_]{0,62}");
  }
  std::unique_ptr<PgStore> store(
      new PgStore(parsed.conninfo, RedactUrl(url), std::move(schema), options));
  CHUQU_ASSIGN_OR_RETURN(store->writer_, store->Connect());
  CHUQU_RETURN_IF_ERROR(store->CreateOrCheckSchema());
  return store;
}

Status PgStore::CreateOrCheckSchema() {
  return Guarded("open schema " + schema_, redacted_url_, [&]() -> Status {
    pqxx::work txn(writer_->c());
    // Serialises concurrent opens of one schema (creation is check-then-create).
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "chuqu store " + schema_);
    pqxx::result ns =
        txn.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema_);
    const std::string quoted = "\"" + schema_ + "\"";
    if (ns.empty()) {
      if (!options_.create_if_missing) {
        return Status::NotFound("postgres store: no schema " + schema_ + " in " + redacted_url_);
      }
      txn.exec("CREATE SCHEMA " + quoted);
      for (const char* ddl : kTables) {
        char buf[512];
        std::snprintf(buf, sizeof(buf), ddl, quoted.c_str());
        txn.exec(buf);
      }
      txn.exec("INSERT INTO " + quoted + ".store_meta(version) VALUES(" +
               std::to_string(kSchemaVersion) + ")");
      txn.commit();
      return Status::Ok();
    }
    pqxx::result meta = txn.exec_params(
        "SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'store_meta'", schema_);
    if (meta.empty()) {
      return Status::FailedPrecondition("postgres store: schema " + schema_ + " in " +
                                        redacted_url_ + " exists but holds no chuqu store");
    }
    pqxx::result version = txn.exec("SELECT version FROM " + quoted + ".store_meta");
    if (version.size() != 1) {
      return Status::Corruption("postgres store: " + schema_ + ".store_meta has " +
                                std::to_string(version.size()) + " rows");
    }
    CHUQU_ASSIGN_OR_RETURN(int64_t v, IntValue(version[0][0]));
    if (v != kSchemaVersion) {
      return Status::Unsupported("postgres store: schema version " + std::to_string(v) + " of " +
                                 schema_ + " is not " + std::to_string(kSchemaVersion));
    }
    txn.commit();
    return Status::Ok();
  });
}

Status PgStore::DropSchema(const std::string& url, const std::string& schema) {
  if (!ValidSchemaName(schema)) return Status::InvalidArgument("bad schema name " + schema);
  CHUQU_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseUrl(url, PgOptions{}));
  return Guarded("drop schema " + schema, RedactUrl(url), [&]() -> Status {
    Connection c(parsed.conninfo);
    pqxx::nontransaction txn(c.c());
    txn.exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    txn.commit();
    return Status::Ok();
  });
}

Status PgStore::Append(const AppendBatch& batch) {
  CHUQU_RETURN_IF_ERROR(CheckBatchShape(batch, "postgres store"));
  const uint64_t new_size = batch.old_size + batch.entries.size();
  const int64_t first_hash = ledger::StoredHashCount(batch.old_size);
  for (const TileRecord& tile : batch.tiles) {
    if (tile.data.empty() || tile.data.size() % 32 != 0 || tile.data.size() > 32 * kTileWidth) {
      return Status::InvalidArgument("postgres store: tile of " +
                                     std::to_string(tile.data.size()) + " bytes");
    }
  }
  if (!writer_) {
    CHUQU_ASSIGN_OR_RETURN(writer_, Connect());
  }
  Status s = Guarded("append", redacted_url_, [&]() -> Status {
    pqxx::work txn(writer_->c());
    pqxx::result head = txn.exec("SELECT size FROM log_head WHERE id = 1 FOR UPDATE");
    if (head.size() != 1) return Status::Corruption("postgres store: log_head row is missing");
    std::optional<int64_t> latest;
    if (!head[0][0].is_null()) {
      CHUQU_ASSIGN_OR_RETURN(int64_t v, IntValue(head[0][0]));
      latest = v;
    }
    const int64_t old_size = static_cast<int64_t>(batch.old_size);
    if (latest ? *latest != old_size || new_size == batch.old_size : batch.old_size != 0) {
      return Status::FailedPrecondition(
          "postgres store: batch extends size " + std::to_string(batch.old_size) +
          " but the latest checkpoint has size " +
          (latest ? std::to_string(*latest) : std::string("(none)")));
    }
    if (!batch.entries.empty()) {
      txn.exec_params(
          "INSERT INTO log_entries(idx, data) SELECT $1::bigint + t.i - 1, t.d"
          " FROM unnest($2::bytea[]) WITH ORDINALITY AS t(d, i)",
          std::to_string(old_size), ByteaArray(batch.entries));
    }
    if (!batch.hashes.empty()) {
      txn.exec_params(
          "INSERT INTO log_hashes(id, hash) SELECT $1::bigint + t.i - 1, t.h"
          " FROM unnest($2::bytea[]) WITH ORDINALITY AS t(h, i)",
          std::to_string(first_hash), ByteaArray(batch.hashes));
    }
    if (!batch.tiles.empty()) {
      std::vector<int> levels;
      std::vector<uint64_t> indexes;
      std::vector<std::string_view> data;
      for (const TileRecord& tile : batch.tiles) {
        levels.push_back(tile.level);
        indexes.push_back(tile.index);
        data.push_back(tile.data);
      }
      // A stored tile only ever grows (a narrower tile is a prefix of a wider one).
      txn.exec_params(
          "INSERT INTO log_tiles(level, idx, data)"
          " SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])"
          " ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data"
          " WHERE octet_length(excluded.data) > octet_length(log_tiles.data)",
          IntArray(levels), IntArray(indexes), ByteaArray(data));
    }
    txn.exec_params(
        "WITH c AS (INSERT INTO log_checkpoints(size, root, note) VALUES($1, $2, $3))"
        " UPDATE log_head SET size = $1 WHERE id = 1",
        std::to_string(new_size),
        ByteaText(std::string_view(reinterpret_cast<const char*>(batch.checkpoint.root.data()),
                                   batch.checkpoint.root.size())),
        ByteaText(batch.checkpoint.note));
    if (batch.extra_writes) {
      PgWriteTransaction extra(txn, redacted_url_);
      CHUQU_RETURN_IF_ERROR(batch.extra_writes(extra));
    }
    txn.commit();
    return Status::Ok();
  });
  // A lost connection is replaced on the next Append.
  if (s.code() == StatusCode::kUnavailable) writer_.reset();
  return s;
}

Status PgStore::CreateTables(std::span<const std::string_view> statements) {
  if (!writer_) {
    CHUQU_ASSIGN_OR_RETURN(writer_, Connect());
  }
  Status s = Guarded("create tables", redacted_url_, [&]() -> Status {
    pqxx::work txn(writer_->c());
    // Two processes opening one store at once would race on the catalog (IF NOT EXISTS is
    // check-then-create): the same lock as CreateOrCheckSchema serialises them.
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "chuqu store " + schema_);
    PgWriteTransaction tables(txn, redacted_url_);
    for (std::string_view sql : statements) CHUQU_RETURN_IF_ERROR(tables.Execute(sql, {}));
    txn.commit();
    return Status::Ok();
  });
  if (s.code() == StatusCode::kUnavailable) writer_.reset();
  return s;
}

Result<std::unique_ptr<Snapshot>> PgStore::NewSnapshot() {
  std::unique_ptr<Connection> c;
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!c) {
    CHUQU_ASSIGN_OR_RETURN(c, Connect());
  }
  auto snapshot = std::make_unique<PgSnapshot>(this, std::move(c));
  Status s = snapshot->Start();
  if (s.code() == StatusCode::kUnavailable) {
    // A pooled connection the server dropped: try once on a fresh one.
    CHUQU_ASSIGN_OR_RETURN(c, Connect());
    snapshot = std::make_unique<PgSnapshot>(this, std::move(c));
    s = snapshot->Start();
  }
  CHUQU_RETURN_IF_ERROR(s);
  return std::unique_ptr<Snapshot>(std::move(snapshot));
}

void PgStore::ReturnReader(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (idle_readers_.size() < options_.max_idle_connections) {
    idle_readers_.push_back(std::move(connection));
  }
}

}  // namespace chuqu::store
