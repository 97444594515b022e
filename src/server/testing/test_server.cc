#include "server/testing/test_server.h"

#include <gtest/gtest.h>

namespace chuqu::server::testing {

Result<std::unique_ptr<TestServer>> TestServer::Create(const std::string& prefix) {
  std::unique_ptr<TestServer> t(new TestServer(prefix));
  CHUQU_ASSIGN_OR_RETURN(t->registry_,
                         registry::Registry::Init(t->dir_.string(), "test.example/log"));
  store::SqliteOptions so;
  so.create_if_missing = false;
  CHUQU_ASSIGN_OR_RETURN(t->store_, store::SqliteStore::Open(t->dir_.Sub("log.db"), so));
  CHUQU_ASSIGN_OR_RETURN(t->tokens_, TokenStore::Open(t->dir_.string()));
  return t;
}

TestServer::~TestServer() {
  Stop();
  server_.reset();
  api_.reset();
  store_.reset();
  registry_.reset();
}

ServerOptions TestServer::QuietOptions() {
  ServerOptions o;
  o.access_log = false;
  o.max_body_bytes = 1 << 20;
  return o;
}

void TestServer::Build(ServerOptions options) {
  Stop();
  options.port = 0;
  server_ = std::make_unique<Server>(options, *store_, tokens_.get());
  api_ = std::make_unique<Api>(*registry_, dir_.string());
  api_->AddRoutes(*server_);
}

Status TestServer::Start() {
  CHUQU_CHECK(server_ != nullptr);
  CHUQU_RETURN_IF_ERROR(server_->Bind());
  thread_ = std::thread([this] { server_->Run(); });
  return Status::Ok();
}

void TestServer::Stop() {
  if (!thread_.joinable()) return;
  server_->Stop();
  thread_.join();
}

registry::PartyKey TestServer::NewCustodialParty(std::string* token) {
  registry::PartyKey k = registry::PartyKey::Generate();
  std::filesystem::create_directories(dir_.path() / "parties");
  CHUQU_CHECK(registry::WritePartyKeyFile(Api::CustodialKeyPath(dir_.string(), k.party), k).ok());
  Result<std::string> t = tokens_->Create(k.party);
  CHUQU_CHECK(t.ok());
  *token = *t;
  return k;
}

registry::PartyKey TestServer::NewRegisteredParty(const std::string& name, std::string* token) {
  registry::PartyKey k = NewCustodialParty(token);
  CHUQU_CHECK(registry_->RegisterParty(k, name).ok());
  return k;
}

std::pair<int, nlohmann::json> StatusAndJson(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response";
  if (!r) return {0, nlohmann::json()};
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  return {r->status, j};
}

std::unique_ptr<httplib::Client> TestServer::NewClient() const {
  return std::make_unique<httplib::Client>("127.0.0.1", port());
}

}  // namespace chuqu::server::testing
