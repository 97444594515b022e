// The server on loopback (ephemeral port): the tlog-tiles endpoints against a real store and
// sequencer, strict tile paths, health, metrics, JSON errors, size limits, auth and rate limits.
#include "server/server.h"

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/temp_dir.h"
#include "ledger/checkpoint.h"
#include "ledger/sequencer.h"
#include "ledger/tiles.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = ledger::Ed25519Signer::Generate("example.test/log");
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    auto store = store::SqliteStore::Open((dir_ / "log.db").string());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(ledger::InitLog(*store_, *signer_).ok());
    auto tokens = TokenStore::Open(dir_.string());
    ASSERT_TRUE(tokens.ok());
    tokens_ = std::move(*tokens);
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      thread_.join();
    }
    server_.reset();
    store_.reset();
  }

  void Append(int n) {
    ledger::SequencerOptions o;
    o.batch_interval = std::chrono::microseconds(0);
    auto seq = ledger::Sequencer::Start(*store_, *signer_, o);
    ASSERT_TRUE(seq.ok());
    std::vector<std::future<Result<ledger::SequencedEntry>>> f;
    for (int i = 0; i < n; ++i) {
      entries_.push_back("entry " + std::to_string(entries_.size()));
      f.push_back((*seq)->Append(entries_.back()));
    }
    for (auto& x : f) ASSERT_TRUE(x.get().ok());
  }

  void Start(ServerOptions o = {}) {
    o.port = 0;
    o.access_log = false;
    server_ = std::make_unique<Server>(o, *store_, tokens_.get());
    if (add_routes_) add_routes_(*server_);
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  static void ExpectJsonError(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
  }

  chuqu::testing::TempDir tmp_{"chuqu_server_test_"};
  fs::path dir_ = tmp_.path();
  std::unique_ptr<ledger::Ed25519Signer> signer_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<TokenStore> tokens_;
  std::vector<std::string> entries_;
  std::function<void(Server&)> add_routes_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, CheckpointTilesAndBundlesVerify) {
  Append(300);  // one full level-0 tile and a partial one of 44
  Start();
  auto cp = client_->Get("/log/checkpoint");
  ASSERT_TRUE(cp);
  ASSERT_EQ(cp->status, 200);
  EXPECT_EQ(cp->get_header_value("Cache-Control"), "no-cache");
  auto verifier = signer_->MakeVerifier();
  auto opened = ledger::OpenCheckpoint(cp->body, *verifier, verifier->name());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const ledger::Checkpoint* parsed = &opened->checkpoint;
  EXPECT_EQ(parsed->size, 300u);

  // Every tile the checkpoint publishes is served; reading the tree through them gives its root.
  class HttpTiles final : public ledger::TileReader {
   public:
    explicit HttpTiles(httplib::Client& c) : c_(c) {}
    Result<std::vector<std::string>> ReadTiles(std::span<const ledger::Tile> tiles) const override {
      std::vector<std::string> out;
      for (const auto& t : tiles) {
        auto r = c_.Get("/log/" + ledger::TilePath(t));
        if (!r || r->status != 200) return Status::NotFound(ledger::TilePath(t));
        out.push_back(r->body);
      }
      return out;
    }
    httplib::Client& c_;
  };
  HttpTiles tiles(*client_);
  ledger::TileHashReader reader(300, tiles);
  auto root = ledger::TreeHash(300, reader);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(*root, parsed->root_hash);

  auto full = client_->Get("/log/tile/0/000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body.size(), 256u * 32);
  EXPECT_EQ(full->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto partial = client_->Get("/log/tile/0/001.p/44");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 200);
  EXPECT_EQ(partial->body.size(), 44u * 32);
  EXPECT_EQ(partial->get_header_value("Cache-Control"), "public, max-age=60");
  auto narrower = client_->Get("/log/tile/0/001.p/10");  // a prefix of the stored one
  ASSERT_TRUE(narrower);
  EXPECT_EQ(narrower->body, partial->body.substr(0, 320));

  auto bundle = client_->Get("/log/tile/entries/001.p/44");
  ASSERT_TRUE(bundle);
  ASSERT_EQ(bundle->status, 200);
  auto got = ledger::ParseEntryBundle(bundle->body);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 44u);
  EXPECT_EQ((*got)[0], entries_[256]);
  EXPECT_EQ((*got)[43], entries_[299]);
  auto full_bundle = client_->Get("/log/tile/entries/000");
  ASSERT_TRUE(full_bundle);
  ASSERT_EQ(full_bundle->status, 200);
  EXPECT_EQ(ledger::ParseEntryBundle(full_bundle->body)->size(), 256u);
}

TEST_F(ServerTest, TilesBeyondTheLogAre404) {
  Append(3);
  Start();
  ExpectJsonError(client_->Get("/log/tile/0/000"), 404, "not_found");  // not full yet
  ExpectJsonError(client_->Get("/log/tile/0/000.p/4"), 404, "not_found");
  ExpectJsonError(client_->Get("/log/tile/1/000.p/1"), 404, "not_found");
  ExpectJsonError(client_->Get("/log/tile/entries/000"), 404, "not_found");
  ExpectJsonError(client_->Get("/log/tile/entries/000.p/4"), 404, "not_found");
  ExpectJsonError(client_->Get("/log/tile/entries/x001/000"), 404, "not_found");
  auto ok = client_->Get("/log/tile/entries/000.p/3");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, MalformedTilePathsAreRefused) {
  Append(3);
  Start();
  for (const char* p : {
           "/log/tile/0/000.p/0",       // width 0
           "/log/tile/0/000.p/256",     // full width written as partial
           "/log/tile/0/000.p/003x",    // trailing text
           "/log/tile/0/0",             // not 3 digits
           "/log/tile/0/x000",          // x on the last group
           "/log/tile/0/x000/000",      // leading zero group
           "/log/tile/64/000",          // level > 63
           "/log/tile/-1/000",
           "/log/tile/0/x999/x999/x999/x999/x999/x999/x999/000",  // overflow of N
           "/log/tile/../checkpoint",   // traversal
           "/log/tile/%2e%2e/checkpoint",
           "/log/tile/0/000/",
           "/log/tile/",
           "/log/tile/entries/",
           "/log/tile/entries/000.p/",
           "/log/tile/0/000%00",
       }) {
    SCOPED_TRACE(p);
    ExpectJsonError(client_->Get(p), 404, "not_found");
  }
}

TEST_F(ServerTest, HealthzMetricsAndUnknownRoutes) {
  Append(5);
  Start();
  // The server records a request's metrics after sending its response; on one keep-alive
  // connection the next request is read only after that, so /metrics below sees every earlier
  // request (a new connection per request could be served before the previous one is counted).
  client_->set_keep_alive(true);
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(nlohmann::json::parse(h->body)["log_size"], 5);
  ExpectJsonError(client_->Get("/nope"), 404, "not_found");
  ExpectJsonError(client_->Post("/log/checkpoint", "x", "text/plain"), 404, "not_found");
  ASSERT_TRUE(client_->Get("/log/checkpoint"));
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("chuqu_log_size 5\n"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("route=\"/log/checkpoint\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
            std::string::npos)
      << m->body;
}

TEST_F(ServerTest, AuthRateLimitAndBodyLimit) {
  auto token = tokens_->Create("alice");
  ASSERT_TRUE(token.ok());
  add_routes_ = [](Server& s) {
    s.Route("POST", "/v1/echo", "/v1/echo", Auth::kRequired,
            [](const httplib::Request& req, httplib::Response& res, const Caller& c) {
              res.set_content(*c.party + ":" + req.body, "text/plain");
              return Status::Ok();
            });
    s.Route("GET", "/v1/fail", "/v1/fail", Auth::kNone,
            [](const httplib::Request&, httplib::Response&, const Caller&) -> Status {
              throw std::runtime_error("boom");
            });
  };
  ServerOptions o;
  o.max_body_bytes = 1000;
  o.rate_per_second = 0.001;  // effectively the burst only
  o.rate_burst = 3;
  Start(o);
  httplib::Headers auth = {{"Authorization", "Bearer " + *token}};
  ExpectJsonError(client_->Post("/v1/echo", "hi", "text/plain"), 401, "unauthenticated");
  ExpectJsonError(client_->Post("/v1/echo", {{"Authorization", "Bearer cq_wrong"}}, "hi",
                                "text/plain"),
                  401, "unauthenticated");
  ExpectJsonError(client_->Post("/v1/echo", {{"Authorization", "Basic " + *token}}, "hi",
                                "text/plain"),
                  401, "unauthenticated");
  auto ok = client_->Post("/v1/echo", auth, "hi", "text/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "alice:hi");
  // Over the size limit: refused before the handler (which would spend a rate unit).
  ExpectJsonError(client_->Post("/v1/echo", auth, std::string(5000, 'x'), "text/plain"), 413,
                  "too_large");
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());  // 413 closes
  ASSERT_TRUE(client_->Post("/v1/echo", auth, "2", "text/plain"));
  ASSERT_TRUE(client_->Post("/v1/echo", auth, "3", "text/plain"));
  auto limited = client_->Post("/v1/echo", auth, "4", "text/plain");
  ExpectJsonError(limited, 429, "rate_limited");
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  // A second token of another party has its own bucket.
  auto bob = tokens_->Create("bob");
  ASSERT_TRUE(bob.ok());
  auto other = client_->Post("/v1/echo", {{"Authorization", "Bearer " + *bob}}, "x", "text/plain");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  // Exceptions become a 500 without detail.
  auto fail = client_->Get("/v1/fail");
  ExpectJsonError(fail, 500, "internal");
  EXPECT_EQ(fail->body.find("boom"), std::string::npos);
}

TEST(TokenStoreTest, HashedAtRestAndSeenAcrossInstances) {
  chuqu::testing::TempDir tmp("chuqu_tokens_");
  const std::string tmpl = tmp.string();
  auto a = TokenStore::Open(tmpl);
  auto b = TokenStore::Open(tmpl);
  ASSERT_TRUE(a.ok() && b.ok());
  auto t = (*a)->Create("party1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->substr(0, 3), "cq_");
  EXPECT_EQ((*a)->Lookup(*t), "party1");
  EXPECT_EQ((*b)->Lookup(*t), "party1");  // created by another process: reloaded on a miss
  EXPECT_FALSE((*b)->Lookup("cq_other"));
  std::ifstream in(fs::path(tmpl) / "tokens");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.find(*t), std::string::npos);  // never in clear
  EXPECT_EQ(fs::status(fs::path(tmpl) / "tokens").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE((*a)->Create("has space").ok());
}

}  // namespace
}  // namespace chuqu::server
