// The /v1 API on loopback against a real registry: happy paths for every route and the
// refusals of the security section (auth, another party's share, wrong signer, replay,
// malformed / unknown / oversized input), each checked to have written nothing.
#include "server/api.h"

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/make_text.h"
#include "ledger/bundle.h"
#include "registry/entry.h"
#include "server/testing/test_server.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using chuqu::testing::MakeText;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = testing::TestServer::Create("chuqu_api_test_");
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    ts_ = std::move(*ts);
    registry_ = &ts_->registry();
    alice_ = ts_->NewCustodialParty(&alice_token_);
    bob_ = ts_->NewCustodialParty(&bob_token_);
    // Carol signs her own entries: the server holds no key for her.
    carol_ = registry::PartyKey::Generate();
    carol_token_ = *ts_->tokens().Create(carol_.party);
    ASSERT_TRUE(ts_->Listen().ok());
    server_ = &ts_->server();
    client_ = ts_->NewClient();
  }

  static httplib::Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  httplib::Result Upload(const std::string& path, const std::string& token,
                         const std::string& text, const std::string& info = "") {
    httplib::MultipartFormDataItems items = {{"file", text, "poem.txt", "text/plain"}};
    if (!info.empty()) items.push_back({"info", info, "", "application/json"});
    return client_->Post(path.c_str(), Auth(token), items);
  }

  httplib::Result PostJson(const std::string& path, const std::string& token, const json& body) {
    return client_->Post(path.c_str(), Auth(token), body.dump(), "application/json");
  }

  static json Body(const httplib::Result& r) {
    EXPECT_TRUE(r);
    if (!r) return json();
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j;
  }

  // A refusal: the status, a JSON error, and nothing logged.
  void ExpectRefused(const httplib::Result& r, int status, uint64_t size_before) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    json j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r->body;
    EXPECT_TRUE(j["error"]["code"].is_string()) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
    EXPECT_EQ(registry_->size(), size_before);
  }

  uint64_t RegisterText(const std::string& token, const std::string& text) {
    auto r = Upload("/v1/works", token, text, R"({"kind":"text","title":"Poem"})");
    EXPECT_TRUE(r);
    if (!r) return ~uint64_t{0};
    EXPECT_EQ(r->status, 201) << r->body;
    return Body(r).value("work", ~uint64_t{0});
  }

  std::unique_ptr<testing::TestServer> ts_;
  registry::Registry* registry_ = nullptr;
  Server* server_ = nullptr;
  registry::PartyKey alice_, bob_, carol_;
  std::string alice_token_, bob_token_, carol_token_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiTest, RegisterGetMatchEvidence) {
  const std::string text = MakeText(1, 400);
  auto r = Upload("/v1/works", alice_token_, text, R"({"kind":"text","title":"Poem"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  json reg = Body(r);
  const uint64_t work = reg["work"];
  EXPECT_EQ(reg["media"], "text");
  EXPECT_EQ(reg["entry"]["party"], alice_.party);
  EXPECT_NE(reg["receipt"].get<std::string>().find("c2sp.org/tlog-proof@v1"), std::string::npos);

  auto g = client_->Get(("/v1/works/" + std::to_string(work)).c_str());
  ASSERT_TRUE(g);
  ASSERT_EQ(g->status, 200) << g->body;
  json w = Body(g);
  EXPECT_EQ(w["owners"][0]["party"], alice_.party);
  EXPECT_EQ(w["owners"][0]["basis_points"], 10000);
  EXPECT_EQ(w["entry"]["body"]["work"]["title"], "Poem");

  // A copy with an edit is found, first registration named.
  std::string copy = text;
  copy.replace(100, 5, "EDIT ");
  auto m = client_->Post("/v1/match", Auth(bob_token_), copy, "text/plain");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200) << m->body;
  json matches = Body(m)["matches"];
  ASSERT_FALSE(matches.empty()) << m->body;
  EXPECT_EQ(matches[0]["work"], work);
  EXPECT_EQ(matches[0]["first_registration"]["party"], alice_.party);

  auto e = client_->Get(("/v1/evidence/" + std::to_string(work)).c_str());
  ASSERT_TRUE(e);
  ASSERT_EQ(e->status, 200) << e->body;
  auto bundle = ledger::ParseBundle(e->body);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->log_key, registry_->log_key());

  auto seq = client_->Get(("/v1/parties/" + alice_.party + "/next-seq").c_str());
  ASSERT_TRUE(seq);
  EXPECT_EQ(Body(seq)["next_seq"], 3);  // party entry, work entry
  auto key = client_->Get("/v1/log-key");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->body, registry_->log_key() + "\n");
}

TEST_F(ApiTest, RegisterByFingerprintsAndMatchThem) {
  json fp = {{"media", "image"},
             {"sha256", std::string(64, 'a')},
             {"pdq", "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"},
             {"pdq_quality", 90}};
  auto r = PostJson("/v1/works", alice_token_, {{"fingerprints", fp}, {"info", {{"kind", "image"}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto m = PostJson("/v1/match", bob_token_, {{"fingerprints", fp}});
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200) << m->body;
  EXPECT_EQ(Body(m)["matches"][0]["work"], Body(r)["work"]);
}

TEST_F(ApiTest, BadInputIsRefusedAndWritesNothing) {
  const std::string text = MakeText(2, 200);
  const uint64_t n = registry_->size();
  // Auth.
  ExpectRefused(client_->Post("/v1/works", text, "text/plain"), 401, n);
  ExpectRefused(client_->Post("/v1/works", Auth("cq_nope"), text, "text/plain"), 401, n);
  // Content types and JSON.
  ExpectRefused(client_->Post("/v1/works", Auth(alice_token_), text, "image/gif"), 400, n);
  ExpectRefused(client_->Post("/v1/transfers", Auth(alice_token_), "{\"work\":", "application/json"),
                400, n);
  ExpectRefused(client_->Post("/v1/transfers", Auth(alice_token_), "[1,2]", "application/json"),
                400, n);
  ExpectRefused(client_->Post("/v1/transfers", Auth(alice_token_), R"({"work":1})", "text/plain"),
                400, n);
  ExpectRefused(PostJson("/v1/transfers", alice_token_,
                         {{"work", 1}, {"to", bob_.party}, {"basis_points", 1}, {"extra", 1}}),
                400, n);
  ExpectRefused(PostJson("/v1/transfers", alice_token_,
                         {{"work", -1}, {"to", bob_.party}, {"basis_points", 1}}),
                400, n);
  ExpectRefused(PostJson("/v1/transfers", alice_token_,
                         {{"work", "1"}, {"to", bob_.party}, {"basis_points", 1}}),
                400, n);
  ExpectRefused(Upload("/v1/works", alice_token_, text, R"({"kind":"text","colour":"red"})"), 400,
                n);
  ExpectRefused(Upload("/v1/works", alice_token_, text, R"({"kind":"sculpture"})"), 400, n);
  ExpectRefused(Upload("/v1/works", alice_token_, text, "{not json"), 400, n);
  {
    httplib::MultipartFormDataItems items = {{"upload", text, "a.txt", "text/plain"}};
    ExpectRefused(client_->Post("/v1/works", Auth(alice_token_), items), 400, n);
  }
  ExpectRefused(PostJson("/v1/works", alice_token_, {{"fingerprints", {{"media", "image"},
                                                                       {"pdq", "zz"}}}}),
                400, n);
  // Too large: refused before reading it all.
  ExpectRefused(client_->Post("/v1/works", Auth(alice_token_), std::string(2 << 20, 'a'),
                              "text/plain"),
                413, n);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  // Ids.
  for (const char* p : {"/v1/works/007", "/v1/works/-1", "/v1/works/18446744073709551616",
                        "/v1/works/1x", "/v1/evidence/abc"}) {
    SCOPED_TRACE(p);
    ExpectRefused(client_->Get(p), 400, n);
  }
  ExpectRefused(client_->Get("/v1/works/999999"), 404, n);
  ExpectRefused(client_->Get("/v1/evidence/999999"), 404, n);
  ExpectRefused(client_->Get("/v1/parties/ABC/next-seq"), 400, n);
}

TEST_F(ApiTest, PartiesCannotActOnOthersShares) {
  const uint64_t work = RegisterText(alice_token_, MakeText(3, 300));
  // Bob's party entry first (a custodial party is registered on its first write).
  ASSERT_TRUE(registry_->RegisterParty(bob_, "Bob").ok());
  const uint64_t n = registry_->size();
  // Bob cannot transfer Alice's share: his token only signs as Bob.
  ExpectRefused(PostJson("/v1/transfers", bob_token_,
                         {{"work", work}, {"to", registry_->operator_key().party}, {"basis_points", 5000}}),
                403, n);
  // Bob cannot offer a licence on Alice's work.
  ExpectRefused(PostJson("/v1/offers", bob_token_, {{"work", work}, {"price", 100}}), 403, n);
  // Offer (exclusive, by the sole owner) and accept once.
  auto o = PostJson("/v1/offers", alice_token_,
                    {{"work", work}, {"type", "exclusive"}, {"price", 500}});
  ASSERT_TRUE(o);
  ASSERT_EQ(o->status, 201) << o->body;
  const uint64_t offer = Body(o)["index"];
  auto a = client_->Post(("/v1/offers/" + std::to_string(offer) + "/accept").c_str(),
                         Auth(bob_token_), "", "application/json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 201) << a->body;
  ExpectRefused(client_->Post(("/v1/offers/" + std::to_string(offer) + "/accept").c_str(),
                              Auth(bob_token_), "", "application/json"),
                409, registry_->size());
  // Alice can transfer half to Bob; more than she holds is a rule refusal.
  auto t = PostJson("/v1/transfers", alice_token_,
                    {{"work", work}, {"to", bob_.party}, {"basis_points", 5000}});
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 201) << t->body;
  ExpectRefused(PostJson("/v1/transfers", alice_token_,
                         {{"work", work}, {"to", bob_.party}, {"basis_points", 6000}}),
                409, registry_->size());
  // Claims: Bob claims, Alice answers, the operator resolves (Bob cannot).
  auto c = PostJson("/v1/claims", bob_token_, {{"work", work}, {"reason", "mine"}});
  ASSERT_TRUE(c);
  ASSERT_EQ(c->status, 201) << c->body;
  const std::string claim = std::to_string(Body(c)["index"].get<uint64_t>());
  auto ans = PostJson("/v1/claims/" + claim + "/answer", alice_token_, {{"text", "no"}});
  ASSERT_TRUE(ans);
  EXPECT_EQ(ans->status, 201) << ans->body;
  ExpectRefused(PostJson("/v1/claims/" + claim + "/resolve", bob_token_, {{"outcome", "upheld"}}),
                403, registry_->size());
  auto g = client_->Get(("/v1/works/" + std::to_string(work)).c_str());
  ASSERT_TRUE(g);
  EXPECT_GE(Body(g)["history"].size(), 4u);
}

TEST_F(ApiTest, ClientSignedEntriesWrongSignerAndReplay) {
  const uint64_t n = registry_->size();
  // Carol: no custodial key, so custodial writes are refused ...
  ExpectRefused(Upload("/v1/works", carol_token_, MakeText(4, 100)), 403, n);
  // ... but she can submit her own signed party entry.
  registry::Entry e;
  e.kind = std::string(registry::kKindParty);
  e.time = registry::NowRfc3339();
  e.party = carol_.party;
  e.seq = 1;
  e.body = {{"name", "Carol"}};
  auto bytes = registry::SignEntry(e, carol_.secret_key);
  ASSERT_TRUE(bytes.ok());
  // Alice's token cannot submit Carol's entry.
  ExpectRefused(PostJson("/v1/entries", alice_token_, {{"entry", *bytes}}), 403, n);
  // A tampered entry fails its signature.
  std::string tampered = *bytes;
  tampered.replace(tampered.find("Carol"), 5, "Karol");
  auto bad = PostJson("/v1/entries", carol_token_, {{"entry", tampered}});
  ASSERT_TRUE(bad);
  EXPECT_GE(bad->status, 400);
  EXPECT_LT(bad->status, 500);
  EXPECT_EQ(registry_->size(), n);
  auto ok = PostJson("/v1/entries", carol_token_, {{"entry", *bytes}});
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 201) << ok->body;
  // Replaying the same signed entry is refused (sequence number).
  auto replay = PostJson("/v1/entries", carol_token_, {{"entry", *bytes}});
  ASSERT_TRUE(replay);
  EXPECT_GE(replay->status, 400);
  EXPECT_LT(replay->status, 500);
  EXPECT_EQ(registry_->size(), n + 1);
  ExpectRefused(PostJson("/v1/entries", carol_token_, {{"entry", *bytes}, {"blobs", {"!!"}}}), 400,
                n + 1);
}

// Idempotency-Key (docs/api.md): a replay answers 409 already_exists naming the applied entry
// and writes nothing; the same key with other content is a 409 conflict; keys are per party.
TEST_F(ApiTest, IdempotentRegistrationReplayAndConflict) {
  auto upload = [&](const std::string& token, const std::string& text, const std::string& key) {
    httplib::MultipartFormDataItems items = {{"file", text, "poem.txt", "text/plain"}};
    httplib::Headers h = Auth(token);
    h.emplace("Idempotency-Key", key);
    return client_->Post("/v1/works", h, items);
  };
  const std::string text = MakeText(11, 300);
  auto first = upload(alice_token_, text, "reg-1");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  const uint64_t work = Body(first)["work"];
  EXPECT_EQ(Body(first)["entry"]["body"]["request"], registry::RequestId(alice_.party, "reg-1"));
  EXPECT_EQ(Body(first)["entry"]["body"]["work"]["title"], "poem");  // the client's file name
  const uint64_t n = registry_->size();

  // The same request again (a retry after a lost response): 409, the original work named.
  auto replay = upload(alice_token_, text, "reg-1");
  ExpectRefused(replay, 409, n);
  json r = Body(replay);
  EXPECT_EQ(r["error"]["code"], "already_exists");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("request already applied as entry " +
                                                          std::to_string(work)),
            std::string::npos)
      << replay->body;
  EXPECT_EQ(r["work"], work);
  EXPECT_EQ(r["index"], work);
  // The same key with other content: a conflict naming the entry, no "work".
  auto conflict = upload(alice_token_, MakeText(12, 300), "reg-1");
  ExpectRefused(conflict, 409, n);
  json c = Body(conflict);
  EXPECT_EQ(c["error"]["code"], "failed_precondition");
  EXPECT_NE(c["error"]["message"].get<std::string>().find("entry " + std::to_string(work)),
            std::string::npos);
  EXPECT_EQ(c["index"], work);
  EXPECT_FALSE(c.contains("work"));
  EXPECT_EQ(registry_->NextSeq(alice_.party), 3);  // party entry, one work

  // Keys are per party; a new key is a new request.
  auto bobs = upload(bob_token_, text, "reg-1");
  ASSERT_TRUE(bobs);
  EXPECT_EQ(bobs->status, 201) << bobs->body;
  auto again = upload(alice_token_, text, "reg-2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 201) << again->body;

  // Registration by fingerprints, too.
  json fp = {{"media", "image"},
             {"sha256", std::string(64, 'b')},
             {"pdq", "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"},
             {"pdq_quality", 90}};
  httplib::Headers h = Auth(alice_token_);
  h.emplace("Idempotency-Key", "fp-1");
  const std::string body = json{{"fingerprints", fp}}.dump();
  auto f1 = client_->Post("/v1/works", h, body, "application/json");
  ASSERT_TRUE(f1);
  ASSERT_EQ(f1->status, 201) << f1->body;
  auto f2 = client_->Post("/v1/works", h, body, "application/json");
  ExpectRefused(f2, 409, registry_->size());
  EXPECT_EQ(Body(f2)["work"], Body(f1)["work"]);
}

TEST_F(ApiTest, IdempotentCustodialWritesAndBadKeys) {
  const uint64_t work = RegisterText(alice_token_, MakeText(13, 300));
  ASSERT_TRUE(registry_->RegisterParty(bob_, "Bob").ok());
  auto post = [&](const std::string& path, const std::string& token, const json& b,
                  const std::string& key) {
    httplib::Headers h = Auth(token);
    h.emplace("Idempotency-Key", key);
    return client_->Post(path.c_str(), h, b.dump(), "application/json");
  };
  const json transfer = {{"work", work}, {"to", bob_.party}, {"basis_points", 10000}};
  auto t = post("/v1/transfers", alice_token_, transfer, "move all");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 201) << t->body;
  const uint64_t index = Body(t)["index"];
  // Retried after it applied (Alice no longer holds a share): still named as applied.
  auto t2 = post("/v1/transfers", alice_token_, transfer, "move all");
  ExpectRefused(t2, 409, registry_->size());
  EXPECT_EQ(Body(t2)["error"]["code"], "already_exists") << t2->body;
  EXPECT_EQ(Body(t2)["index"], index);
  EXPECT_FALSE(Body(t2).contains("work"));
  // Offers and claims take keys too.
  const json offer = {{"work", work}, {"price", 100}};
  auto o = post("/v1/offers", bob_token_, offer, "offer-1");
  ASSERT_TRUE(o);
  ASSERT_EQ(o->status, 201) << o->body;
  ExpectRefused(post("/v1/offers", bob_token_, offer, "offer-1"), 409, registry_->size());
  const json claim = {{"work", work}, {"reason", "mine"}};
  auto c = post("/v1/claims", alice_token_, claim, "claim-1");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->status, 201) << c->body;
  ExpectRefused(post("/v1/claims", alice_token_, claim, "claim-1"), 409, registry_->size());
  // Malformed keys: 400 before anything is written (also no party entry for a new party).
  const uint64_t n = registry_->size();
  std::string unused_token;
  const registry::PartyKey dave = ts_->NewCustodialParty(&unused_token);
  for (const std::string& bad : {std::string(129, 'k'), std::string("bell"),
                                 std::string("cafÃ©")}) {
    SCOPED_TRACE(bad);
    ExpectRefused(post("/v1/claims", unused_token, claim, bad), 400, n);
    httplib::MultipartFormDataItems items = {{"file", MakeText(14, 100), "a.txt", "text/plain"}};
    httplib::Headers h = Auth(unused_token);
    h.emplace("Idempotency-Key", bad);
    ExpectRefused(client_->Post("/v1/works", h, items), 400, n);
  }
  EXPECT_EQ(registry_->NextSeq(dave.party), 1);
  // A key of exactly 128 printable characters is fine.
  auto ok = post("/v1/claims", alice_token_, claim, std::string(128, '~'));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
}

}  // namespace
}  // namespace chuqu::server
