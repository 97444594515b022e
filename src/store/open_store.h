// Opening a Store by where it lives: a PostgreSQL URL or a SQLite file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/store.h"

namespace chuqu::store {

// True for "postgresql://..." and "postgres://..." (a PgStore, pg_store.h).
bool IsPostgresUrl(std::string_view location);

struct OpenStoreOptions {
  // Create the SQLite file / the PostgreSQL schema if absent; otherwise absent is NotFound.
  bool create_if_missing = true;
  // SQLite only: PRAGMA quick_check at open (see SqliteOptions).
  bool quick_check_on_open = true;
};

// A PgStore for a PostgreSQL URL (schema from its "schema=" parameter), else a SqliteStore on
// the file `location`.
Result<std::unique_ptr<Store>> OpenStore(const std::string& location,
                                         const OpenStoreOptions& options = {});

}  // namespace chuqu::store
