// The client against a real in-process server (server::Server + Api on a loopback port):
// URL parsing, error mapping, custodial and client-signed writes, fingerprints-only requests
// (checked on a recording server: JSON, no content bytes), and transport failures.
#include "client/client.h"

#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/make_text.h"
#include "client/registry_client.h"
#include "ledger/bundle.h"
#include "media/image.h"
#include "server/api.h"
#include "server/server.h"
#include "server/tokens.h"
#include "server/testing/test_server.h"

namespace chuqu::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kImages = std::string(CHUQU_SHARED_DATA) + "/pdq/bridge-mods/";

using chuqu::testing::MakeText;

// A loopback port nothing listens on (bound, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHUQU_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHUQU_CHECK(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  CHUQU_CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(ServerUrlTest, ParsesWhatItShouldAndRefusesTheRest) {
  Result<ServerUrl> u = ParseServerUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "");
  u = ParseServerUrl("HTTPS://registry.example.cn/chuqu/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->prefix, "/chuqu");
  EXPECT_EQ(u->ToString(), "https://registry.example.cn:443/chuqu");
  u = ParseServerUrl("http://[::1]:9000");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "[::1]");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(ParseServerUrl("http://localhost")->port, 80);

  for (const char* bad : {"", "localhost:8080", "ftp://h", "http://", "http://:80", "http://h:",
                          "http://h:0", "http://h:65536", "http://h:8x", "http://h?x=1",
                          "http://h#f", "http://user:secret@h", "http://[::1", "http://[zz]",
                          "http://h h", "http://h/a b"}) {
    Result<ServerUrl> r = ParseServerUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(r.status().message().find("--server"), std::string::npos) << bad;
    }
  }
  // User info is refused without echoing the password.
  Result<ServerUrl> r = ParseServerUrl("http://user:secret@h");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--token"), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos) << r.status().message();
}

TEST(StatusFromReplyTest, ServerErrorBodiesBecomeStatuses) {
  Status s = StatusFromReply(
      409, R"({"error":{"code":"failed_precondition","message":"transfer exceeds the share"}})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "server refused: 409 failed_precondition: transfer exceeds the share");
  s = StatusFromReply(403, R"({"error":{"code":"permission_denied","message":"not yours"}})");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = StatusFromReply(409, R"({"error":{"code":"already_exists","message":"x"}})");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  s = StatusFromReply(401, R"({"error":{"code":"unauthenticated","message":"bad token"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("--token"), std::string::npos);
  s = StatusFromReply(500, R"({"error":{"code":"internal","message":"internal error"}})");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message().rfind("server failed: 500", 0), 0u) << s.message();
  // Not our JSON (a proxy's page): status mapped, body quoted on one printable line.
  s = StatusFromReply(502, "<html>\n\x01" "Bad gateway</html>");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "server failed: 502: \"<html>  Bad gateway</html>\"");
  s = StatusFromReply(404, "");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  s = StatusFromReply(413, R"({"error":{"code":"too_large","message":"body over 1 MiB"}})");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = StatusFromReply(429, R"({"error":{"code":"rate_limited","message":"slow down"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(ClientTest, TokenWithBadCharactersIsRefusedWithoutEchoingIt) {
  ClientOptions o;
  o.token = "cq_secret\r\nX-Evil: 1";
  Result<std::unique_ptr<Client>> c = Client::Create("http://127.0.0.1:1", o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("secret"), std::string::npos) << c.status().message();
}

TEST(ClientTest, NothingListeningNamesTheUrl) {
  const int port = ClosedPort();
  ClientOptions o;
  o.token = "cq_sometoken";
  o.connect_timeout_seconds = 2;
  auto c = Client::Create("http://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(c.ok());
  Result<json> r = (*c)->GetJson("/healthz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("sometoken"), std::string::npos);
}

// A recording server: what exactly does the client send for --fingerprints-only?
TEST(ClientTest, FingerprintsOnlySendsJsonAndNoContent) {
  httplib::Server rec;
  std::vector<std::pair<std::string, std::string>> seen;  // content type, body
  std::string auth;
  rec.Post("/v1/works", [&](const httplib::Request& req, httplib::Response& res) {
    seen.emplace_back(req.get_header_value("Content-Type"), req.body);
    auth = req.get_header_value("Authorization");
    res.status = 201;
    res.set_content(R"({"work":7,"index":7,"media":"image","entry":{},"receipt":"r","prior_art":[]})",
                    "application/json");
  });
  const int port = rec.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { rec.listen_after_bind(); });
  const std::string path = kImages + "aaa-orig.jpg";
  Result<registry::Fingerprints> fp = registry::Registry::FingerprintFile(path);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  Result<json> r = Status::Internal("unset");
  {
    ClientOptions o;
    o.token = "cq_abc";
    auto c = Client::Create("http://127.0.0.1:" + std::to_string(port), o);
    ASSERT_TRUE(c.ok());
    RegistryClient api(**c);
    r = api.RegisterFingerprints(*fp, DefaultWorkInfo({}, *fp, path), nullptr);
  }  // the client's keep-alive connection closes here, so stop() need not wait for it
  rec.stop();
  t.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["work"], 7);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "application/json");
  EXPECT_EQ(auth, "Bearer cq_abc");
  json body = json::parse(seen[0].second);
  EXPECT_EQ(body["fingerprints"]["media"], "image");
  EXPECT_EQ(body["fingerprints"]["pdq"], fp->pdq->Hex());
  EXPECT_EQ(body["info"]["kind"], "image");
  EXPECT_EQ(body["info"]["title"], "aaa orig");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  // Fingerprints, not the JPEG: the local features travel as their CQIF blob.
  EXPECT_LT(seen[0].second.size(), ss.str().size());
  EXPECT_EQ(seen[0].second.find(ss.str().substr(0, 64)), std::string::npos);
  ASSERT_TRUE(body["fingerprints"]["blobs"]["image"].is_string()) << body["fingerprints"].dump();
  const std::string image_blob = body["fingerprints"]["blobs"]["image"];
  EXPECT_EQ(image_blob.substr(0, 4), "Q1FJ");  // base64 of "CQI"

  // Text fingerprints travel as their CQTF blob too.
  registry::Fingerprints text;
  text.media = "text";
  text.text.emplace();
  Result<json> tj = FingerprintsJson(text);
  ASSERT_TRUE(tj.ok()) << tj.status().ToString();
  EXPECT_TRUE((*tj)["blobs"]["text"].is_string()) << tj->dump();
}

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = server::testing::TestServer::Create("chuqu_client_test_");
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    ts_ = std::move(*ts);
    dir_ = ts_->dir();
    registry_ = &ts_->registry();
    // Alice: custodial (the server holds her key). Carol: signs her own entries.
    alice_ = ts_->NewCustodialParty(&alice_token_);
    carol_ = registry::PartyKey::Generate();
    carol_token_ = *ts_->tokens().Create(carol_.party);

    server::ServerOptions o;
    o.access_log = false;
    ASSERT_TRUE(ts_->Listen(o).ok());
    url_ = ts_->url();
  }
  std::unique_ptr<Client> Connect(const std::string& token) {
    ClientOptions o;
    o.token = token;
    auto c = Client::Create(url_, o);
    CHUQU_CHECK(c.ok());
    return std::move(*c);
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  std::unique_ptr<server::testing::TestServer> ts_;
  fs::path dir_;
  registry::Registry* registry_ = nullptr;
  registry::PartyKey alice_, carol_;
  std::string alice_token_, carol_token_;
  std::string url_;
};

TEST_F(RegistryClientTest, UploadRegisterMatchShowEvidence) {
  auto c = Connect(alice_token_);
  RegistryClient api(*c);
  const std::string text = MakeText(3, 400);
  const std::string file = WriteFile("harbour-poem.txt", text);
  registry::WorkInfo info;
  info.title = "Harbour poem";
  Result<json> r = api.RegisterFile(file, info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["media"], "text");
  const uint64_t work = (*r)["work"];
  EXPECT_EQ((*r)["entry"]["party"], alice_.party);
  EXPECT_EQ((*r)["entry"]["body"]["work"]["title"], "Harbour poem");
  EXPECT_EQ((*r)["entry"]["body"]["work"]["kind"], "text");  // "other" became the media

  std::string copy = text;
  copy.replace(120, 5, "EDIT ");
  Result<json> m = api.MatchFile(WriteFile("copy.txt", copy));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_FALSE((*m)["matches"].empty());
  EXPECT_EQ((*m)["matches"][0]["work"], work);

  Result<json> w = api.GetWork(work);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->at("owners")[0]["party"], alice_.party);
  Result<json> missing = api.GetWork(work + 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind("server refused: 404 not_found: ", 0), 0u)
      << missing.status().message();

  Result<std::string> bundle = api.Evidence(work);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  Result<std::string> key = api.LogKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, registry_->log_key());
  auto parsed = ledger::ParseBundle(*bundle);
  ASSERT_TRUE(parsed.ok());
  ledger::BundleVerifyOptions vo;
  vo.trusted_log_key = *key;
  vo.content = text;
  EXPECT_TRUE(ledger::VerifyBundle(*parsed, vo).ok);

  // A missing local file fails before anything is sent.
  const uint64_t size = registry_->size();
  Result<json> none = api.RegisterFile((dir_ / "nope.txt").string(), info);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("nope.txt"), std::string::npos);
  EXPECT_EQ(registry_->size(), size);
}

// Binary PPM (P6) of the region (x0, y0, w, h) of `src`: a lossless file libvips reads.
void WriteCropPpm(const media::RgbImage& src, int x0, int y0, int w, int h,
                  const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int y = 0; y < h; ++y) {
    out.write(reinterpret_cast<const char*>(&src.rgb[3ull * ((y0 + y) * src.width + x0)]), 3 * w);
  }
}

TEST_F(RegistryClientTest, FingerprintsOnlyImageCarriesLocalFeatures) {
  auto c = Connect(alice_token_);
  RegistryClient api(*c);
  // What `chuqu register --server URL --fingerprints-only` does without --party.
  const std::string original = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/kodim23.png";
  Result<registry::Fingerprints> fp = registry::Registry::FingerprintFile(original);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  ASSERT_TRUE(fp->image.has_value());
  Result<json> r = api.RegisterFingerprints(*fp, DefaultWorkInfo({}, *fp, original), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t work = (*r)["work"];
  EXPECT_EQ((*r)["entry"]["body"]["content"]["image"]["algorithm"], "orb-cqif-1") << r->dump();

  // A heavy crop (300 x 230 of 768 x 512, 18% of the area) is found by its local features.
  Result<media::RgbImage> ref = media::DecodeImageRgb(original);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const std::string crop = (dir_ / "crop.ppm").string();
  WriteCropPpm(*ref, 330, 60, 300, 230, crop);
  Result<json> m = api.MatchFile(crop);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const json* hit = nullptr;
  for (const json& x : (*m)["matches"]) {
    if (x["work"] == work) hit = &x;
  }
  ASSERT_NE(hit, nullptr) << m->dump();
  EXPECT_EQ((*hit)["evidence"]["method"], "image-local") << hit->dump();

  // A corrupt blob: 400 naming it, nothing written.
  Result<json> fj = FingerprintsJson(*fp);
  ASSERT_TRUE(fj.ok());
  const uint64_t size = registry_->size();
  for (const char* bad : {"Q1FJRgAAAA==", "!!!", "AAAA"}) {
    json body = {{"fingerprints", *fj}, {"info", {{"kind", "image"}}}};
    body["fingerprints"]["blobs"]["image"] = bad;
    Result<json> refused = c->PostJsonForJson("/v1/works", body);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("400"), std::string::npos)
        << refused.status().message();
    EXPECT_NE(refused.status().message().find("fingerprints.blobs.image"), std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(registry_->size(), size);
}

TEST_F(RegistryClientTest, ClientSignedWritesAndRefusals) {
  auto c = Connect(carol_token_);
  RegistryClient api(*c);
  // Carol's text work, signed here with its CQTF blob; her party entry goes first.
  const std::string text = MakeText(9, 300);
  const std::string file = WriteFile("carol.txt", text);
  Result<registry::Fingerprints> fp = registry::Registry::FingerprintFile(file);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  Result<json> r = api.RegisterFingerprints(*fp, DefaultWorkInfo({}, *fp, file), &carol_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t work = (*r)["work"];
  EXPECT_EQ((*r)["media"], "text");
  EXPECT_EQ((*r)["entry"]["party"], carol_.party);
  EXPECT_EQ((*r)["entry"]["seq"], 2);
  EXPECT_TRUE((*r)["prior_art"].empty());
  EXPECT_EQ(*api.NextSeq(carol_.party), 3);
  // The server can match it by text: the blob arrived.
  auto m = registry_->MatchFile(file);
  ASSERT_TRUE(m.ok());
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, work);

  // A second registration of a copy, signed, names the first as prior art.
  std::string copy = text;
  copy.replace(50, 5, "EDIT ");
  const std::string copy_file = WriteFile("copy.txt", copy);
  auto fp2 = registry::Registry::FingerprintFile(copy_file);
  ASSERT_TRUE(fp2.ok());
  r = api.RegisterFingerprints(*fp2, DefaultWorkInfo({}, *fp2, copy_file), &carol_, copy_file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE((*r)["prior_art"].empty());
  EXPECT_EQ((*r)["prior_art"][0]["work"], work);

  // Signed transfer to Alice, then Alice (custodial) offers a licence on her share.
  Result<json> t = api.Transfer(&carol_, work, alice_.party, 2500);
  ASSERT_FALSE(t.ok());  // Alice has no party entry yet: the registry refuses
  auto ca = Connect(alice_token_);
  RegistryClient alice(*ca);
  const std::string img = kImages + "aaa-orig.jpg";
  ASSERT_TRUE(alice.RegisterFile(img, {}).ok());  // registers Alice's party on the way
  t = api.Transfer(&carol_, work, alice_.party, 2500);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)["entry"]["kind"], "transfer");
  Result<json> w = api.GetWork(work);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->at("owners").size(), 2u);

  // Wrong key for the token: Alice's token with Carol's key -> 403, nothing written.
  uint64_t size = registry_->size();
  Result<json> wrong = alice.Transfer(&carol_, work, alice_.party, 100);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.status().message().rfind("server refused: 403 permission_denied: ", 0), 0u)
      << wrong.status().message();
  EXPECT_EQ(registry_->size(), size);
  // Custodial write for a party whose key the server does not hold: 403 saying to sign.
  Result<json> nokey = api.Transfer(nullptr, work, alice_.party, 100);
  ASSERT_FALSE(nokey.ok());
  EXPECT_EQ(nokey.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(nokey.status().message().find("/v1/entries"), std::string::npos);
  // Over her share: 409 with the registry's reason.
  Result<json> over = api.Transfer(&carol_, work, alice_.party, 9000);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kFailedPrecondition) << over.status().ToString();
  EXPECT_EQ(registry_->size(), size);
  // A bad token.
  auto bad = Connect("cq_0000");
  RegistryClient nobody(*bad);
  Result<json> unauth = nobody.Transfer(nullptr, work, alice_.party, 1);
  ASSERT_FALSE(unauth.ok());
  EXPECT_EQ(unauth.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unauth.status().message().find("cq_0000"), std::string::npos);
  EXPECT_EQ(registry_->size(), size);

  // Licence and claim flows, custodial and signed.
  registry::LicenceOffer o;
  o.work = work;
  o.price = 100;
  Result<json> offer = api.OfferLicence(&carol_, o);
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  Result<json> grant = alice.AcceptLicence(nullptr, (*offer)["index"]);
  ASSERT_TRUE(grant.ok()) << grant.status().ToString();
  Result<json> claim = alice.Claim(nullptr, work, "copied", {{"note", "x"}});
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  Result<json> answer = api.Answer(&carol_, (*claim)["index"], "mine");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  Result<json> resolve = alice.Resolve(nullptr, (*claim)["index"], "rejected", "");
  ASSERT_FALSE(resolve.ok());  // only the operator resolves
  EXPECT_EQ(resolve.status().code(), StatusCode::kPermissionDenied);
  Result<json> cap = api.SetPriceCap(carol_, "image", 10, "CNY");
  ASSERT_FALSE(cap.ok());  // only the operator sets caps
  EXPECT_EQ(cap.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace chuqu::client
