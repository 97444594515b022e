// An in-process chuqu server for tests: a fresh registry in a temporary directory, a token
// store, and a Server with the /v1 Api on an ephemeral 127.0.0.1 port, served from a thread.
// Test support only (chuqu_server_test_support); not thread-safe.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/testing/temp_dir.h"
#include "registry/registry.h"
#include "server/api.h"
#include "server/server.h"
#include "server/tokens.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::server::testing {

class TestServer {
 public:
  // A new registry (SQLite, origin "test.example/log") in a temporary directory named
  // "<prefix>XXXXXX", its log opened a second time for the server's /log/ routes, and its
  // token store. Nothing listens yet.
  static Result<std::unique_ptr<TestServer>> Create(const std::string& prefix);
  ~TestServer();  // stops serving; the directory goes last

  // No access log, 1 MiB request bodies.
  static ServerOptions QuietOptions();
  // The Server and /v1 Api for `options` (its port forced to 0), not listening yet.
  void Build(ServerOptions options = QuietOptions());
  // Binds an ephemeral port and serves from a thread. REQUIRES: Build().
  [[nodiscard]] Status Start();
  // Build() and Start().
  [[nodiscard]] Status Listen(ServerOptions options = QuietOptions()) {
    Build(std::move(options));
    return Start();
  }
  // Stops serving and joins the thread; no-op when not serving.
  void Stop();

  // A custodial party: its key where the Api finds it, a token for it in *token.
  registry::PartyKey NewCustodialParty(std::string* token);
  // NewCustodialParty, registered in the log under `name` (before any request: a refused
  // first write would otherwise still log the party).
  registry::PartyKey NewRegisteredParty(const std::string& name, std::string* token);
  // An httplib client for the server. REQUIRES: Start().
  std::unique_ptr<httplib::Client> NewClient() const;

  const std::filesystem::path& dir() const { return dir_.path(); }
  registry::Registry& registry() { return *registry_; }
  store::SqliteStore& store() { return *store_; }
  TokenStore& tokens() { return *tokens_; }
  Server& server() { return *server_; }  // REQUIRES: Build()
  int port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

 private:
  explicit TestServer(const std::string& prefix) : dir_(prefix) {}

  chuqu::testing::TempDir dir_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Api> api_;
  std::thread thread_;
};

// A response's status and JSON body (a test failure if there is no response or the body is not
// JSON; then {0, null} or {status, discarded}).
std::pair<int, nlohmann::json> StatusAndJson(const httplib::Result& r);

}  // namespace chuqu::server::testing
