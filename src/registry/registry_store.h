// Which store a registry directory uses (Options::store_url): DIR/log.db (SQLite) by default,
// or a PostgreSQL schema, whose URL without its password Init records in DIR/store.url.
#pragma once

#include <memory>
#include <string>

#include "chuqu/status.h"
#include "store/store.h"

namespace chuqu::registry {

inline constexpr char kStoreUrlFile[] = "store.url";

// Init (create = true): creates the store `store_url` names ("" = DIR/log.db); AlreadyExists
// if it already holds a log; for PostgreSQL writes DIR/store.url (0600, no password).
// Open (create = false): the store `store_url` names, else the one DIR/store.url names, else
// DIR/log.db; NotFound if there is none.
// Where the store of an existing registry in `dir` lives: `store_url` if set, else the URL in
// DIR/store.url, else DIR/log.db (for store::OpenStore).
Result<std::string> RegistryStoreLocation(const std::string& dir, const std::string& store_url);

Result<std::unique_ptr<store::Store>> OpenRegistryStore(const std::string& dir,
                                                        const std::string& store_url,
                                                        bool create);

}  // namespace chuqu::registry
