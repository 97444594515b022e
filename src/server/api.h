// The /v1 registry API (docs/api.md, docs/openapi.yaml) over a registry::Registry.
//
// Writes need a Bearer token (TokenStore); the token names the acting party. Two ways to sign:
//  - custody: the server holds the party's key in DIR/parties/<party>.key (0600, written by
//    `chuqu token create`) and signs the entry for the token's party only — so a token can
//    never act for another party or on another party's share (the registry checks ownership);
//  - client-signed: POST /v1/entries takes an entry the party signed itself (entry.h); its
//    "party" must be the token's party, and the registry checks signature and sequence number
//    (a replayed entry is refused).
// A party with a custodial key is registered (party entry) on its first write.
// JSON bodies are strict: Content-Type application/json, an object, unknown fields refused.
//
// Thread-safety: handlers run concurrently; Registry is thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "registry/registry.h"
#include "server/server.h"

namespace chuqu::server {

class Api {
 public:
  // `registry` must outlive the Api. Uploads are spooled to DIR/tmp (created, 0700).
  Api(registry::Registry& registry, std::string data_dir);
  void AddRoutes(Server& server);

  // DIR/parties/<party>.key: the custodial key file of `party`.
  static std::string CustodialKeyPath(const std::string& data_dir, const std::string& party);

 private:
  // The key the server holds for `party` (the operator's, or DIR/parties/<party>.key), with the
  // party entry logged if the party is new. PermissionDenied if the server holds none.
  Result<registry::PartyKey> SigningKey(const std::string& party);

  registry::Registry& registry_;
  std::string data_dir_;
  std::string tmp_dir_;
  std::mutex keys_mu_;
  std::map<std::string, registry::PartyKey> keys_;  // loaded and registered
};

}  // namespace chuqu::server
