#include "store/open_store.h"

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::store {

bool IsPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& location,
                                         const OpenStoreOptions& options) {
  if (IsPostgresUrl(location)) {
    PgOptions po;
    po.create_if_missing = options.create_if_missing;
    CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> pg, PgStore::Open(location, po));
    return std::unique_ptr<Store>(std::move(pg));
  }
  SqliteOptions so;
  so.create_if_missing = options.create_if_missing;
  so.quick_check_on_open = options.quick_check_on_open;
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> sqlite, SqliteStore::Open(location, so));
  return std::unique_ptr<Store>(std::move(sqlite));
}

}  // namespace chuqu::store
