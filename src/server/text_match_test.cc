// POST /v1/match and /v1/works with a text/plain body: UTF-8 text is fingerprinted from memory
// (no spool file, no libmagic), and answers exactly as the spooled path does for the same bytes
// (application/octet-stream and multipart uploads, which keep that path); other text/plain
// bodies (another encoding, binary) still take the spooled path with its refusals.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/testing/make_text.h"
#include "server/testing/test_server.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using chuqu::testing::Latin1;
using chuqu::testing::MakeChinese;
using chuqu::testing::MakeText;

const char kFrenchUtf8[] =
    "L'été dernier, à Besançon, la pluie tombait sur les façades grises et les cafés "
    "étaient pleins. Élodie écrivait des lettres à sa soeur, décrivant chaque détail: "
    "le goût amer du café, les pavés glissants, la lumière dorée du soir qui s'éteignait "
    "derrière la cathédrale. Ces lettres, conservées dans une boîte en fer, racontent une "
    "époque où l'on prenait le temps de rêver, de marcher, de regarder passer les bateaux.\n";


class TextMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = testing::TestServer::Create("chuqu_text_match_test_");
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    ts_ = std::move(*ts);
    ts_->NewRegisteredParty("Alice", &token_);
    ASSERT_TRUE(ts_->Listen().ok());
    client_ = ts_->NewClient();
    dir_ = ts_->dir();
    registry_ = &ts_->registry();
  }

  httplib::Headers Auth(const std::string& idempotency_key = "") const {
    httplib::Headers h = {{"Authorization", "Bearer " + token_}};
    if (!idempotency_key.empty()) h.emplace("Idempotency-Key", idempotency_key);
    return h;
  }

  std::pair<int, json> Raw(const std::string& path, const std::string& body,
                           const std::string& content_type, const std::string& key = "") {
    return testing::StatusAndJson(client_->Post(path.c_str(), Auth(key), body, content_type));
  }
  std::pair<int, json> Upload(const std::string& path, const std::string& body,
                              const std::string& filename, const std::string& key = "") {
    httplib::MultipartFormDataItems items = {{"file", body, filename, "text/plain"}};
    return testing::StatusAndJson(client_->Post(path.c_str(), Auth(key), items));
  }

  uint64_t Register(const std::string& text, const std::string& filename) {
    auto [status, body] = Upload("/v1/works", text, filename);
    EXPECT_EQ(status, 201) << body.dump();
    return body.value("work", ~uint64_t{0});
  }

  std::unique_ptr<testing::TestServer> ts_;
  fs::path dir_;
  registry::Registry* registry_ = nullptr;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(TextMatchTest, TextPlainAnswersAsTheSpooledUpload) {
  std::vector<std::string> texts;
  std::vector<uint64_t> works;
  for (uint32_t s = 1; s <= 4; ++s) {
    texts.push_back(s % 2 ? MakeText(s, 200) : MakeChinese(s, 30));
    works.push_back(Register(texts.back(), "text-" + std::to_string(s) + ".txt"));
  }
  works.push_back(Register(kFrenchUtf8, "french.txt"));
  struct Query {
    const char* what;
    std::string bytes;
    uint64_t work;  // expected first match
  };
  const Query queries[] = {
      {"english excerpt", texts[0].substr(texts[0].size() / 5, texts[0].size() * 3 / 5), works[0]},
      {"chinese", texts[1], works[1]},
      {"bom", "\xEF\xBB\xBF" + texts[3], works[3]},
      {"quote inside new text", MakeText(50, 80) + " " + texts[2].substr(200, 600), works[2]},
      {"accents", kFrenchUtf8, works[4]},
  };
  for (const Query& q : queries) {
    SCOPED_TRACE(q.what);
    auto [status, fast] = Raw("/v1/match", q.bytes, "text/plain");
    ASSERT_EQ(status, 200) << fast.dump();
    ASSERT_FALSE(fast["matches"].empty());
    EXPECT_EQ(fast["matches"][0]["work"], q.work);
    EXPECT_EQ(Raw("/v1/match", q.bytes, "text/plain; charset=utf-8"), std::make_pair(200, fast));
    EXPECT_EQ(Raw("/v1/match", q.bytes, "application/octet-stream"), std::make_pair(200, fast));
    EXPECT_EQ(Upload("/v1/match", q.bytes, "query.txt"), std::make_pair(200, fast));
  }
  // The same French text in ISO-8859-1 is not UTF-8: spooled and detected as before, decoded to
  // the same text, so the same text evidence (not a byte copy of the UTF-8 registration).
  auto [status, latin1] = Raw("/v1/match", Latin1(kFrenchUtf8), "text/plain");
  ASSERT_EQ(status, 200) << latin1.dump();
  ASSERT_FALSE(latin1["matches"].empty());
  EXPECT_EQ(latin1["matches"][0]["work"], works[4]);
  const json& evidence = latin1["matches"][0]["evidence"];
  EXPECT_EQ(evidence["method"], "text");
  // The UTF-8 body's text evidence, listed under "also" of its exact match.
  const json utf8 = Raw("/v1/match", kFrenchUtf8, "text/plain").second;
  json utf8_text;
  for (const json& e : utf8["matches"][0]["evidence"]["also"]) {
    if (e["method"] == "text") utf8_text = e;
  }
  EXPECT_EQ(evidence["spans"], utf8_text["spans"]);
  EXPECT_EQ(evidence["query_coverage"], utf8_text["query_coverage"]);
}

TEST_F(TextMatchTest, UnreadableBodiesAreRefusedAsBefore) {
  const uint64_t size = registry_->size();
  // Binary declared as text: the spooled path's refusal (a .txt whose content is not text).
  const std::string binary("\x00\x9f\x92\x96\x00\xff\xfe\x01\x02\x03", 10);
  for (const char* path : {"/v1/match", "/v1/works"}) {
    SCOPED_TRACE(path);
    // And so is one byte, even a letter: libmagic calls it binary, and so the answer stays.
    for (const std::string& bytes : {binary, std::string("a")}) {
      auto [status, body] = Raw(path, bytes, "text/plain");
      EXPECT_EQ(status, 400) << body.dump();
      EXPECT_EQ(body["error"]["code"], "invalid_argument");
      EXPECT_TRUE(body["error"]["message"].get<std::string>().ends_with(
          "named .txt but the content is binary data"))
          << body.dump();
    }
    // Blank text: UTF-8, so in memory; the same refusal as a spooled blank file.
    auto [blank_status, blank] = Raw(path, " \n\n\t ", "text/plain");
    EXPECT_EQ(blank_status, 400) << blank.dump();
    EXPECT_EQ(blank["error"]["message"], "upload.txt: no text content could be extracted");
    auto [spooled_status, spooled] = Upload(path, " \n\n\t ", "blank.txt");
    EXPECT_EQ(spooled_status, 400);
    EXPECT_TRUE(spooled["error"]["message"].get<std::string>().ends_with(
        "no text content could be extracted"))
        << spooled.dump();
    auto [empty_status, empty] = Raw(path, "", "text/plain");
    EXPECT_EQ(empty_status, 400);
    EXPECT_EQ(empty["error"]["message"], "empty upload");
  }
  EXPECT_EQ(registry_->size(), size);
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(TextMatchTest, Utf8TextNeedsNoSpoolFile) {
  const std::string text = MakeText(7, 150);
  const uint64_t work = Register(text, "poem.txt");
  // With the spool directory replaced by a file, spooled uploads fail (500); UTF-8 text/plain
  // bodies never touch it.
  fs::remove_all(dir_ / "tmp");
  std::ofstream(dir_ / "tmp") << "not a directory";
  auto [status, body] = Raw("/v1/match", text.substr(100, 500), "text/plain");
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_FALSE(body["matches"].empty());
  EXPECT_EQ(body["matches"][0]["work"], work);
  EXPECT_EQ(Raw("/v1/match", text, "application/octet-stream").first, 500);
  EXPECT_EQ(Raw("/v1/match", Latin1(kFrenchUtf8), "text/plain").first, 500);
  auto [reg_status, reg] = Raw("/v1/works", MakeChinese(8, 20), "text/plain");
  EXPECT_EQ(reg_status, 201) << reg.dump();
}

TEST_F(TextMatchTest, TextPlainRegistrationIsTheSpooledUploadsEntry) {
  const std::string text = MakeChinese(9, 25);
  auto [status, body] = Raw("/v1/works", text, "text/plain; charset=utf-8", "key-1");
  ASSERT_EQ(status, 201) << body.dump();
  EXPECT_EQ(body["media"], "text");
  EXPECT_EQ(body["entry"]["body"]["work"]["title"], "upload");
  const uint64_t work = body["work"];
  const uint64_t size = registry_->size();
  // The spooled upload of the same bytes under the name a raw body is spooled under, with the
  // same key: "same content" only if the entry body is byte-for-byte the same.
  auto [replay_status, replay] = Upload("/v1/works", text, "upload.txt", "key-1");
  EXPECT_EQ(replay_status, 409) << replay.dump();
  EXPECT_EQ(replay["error"]["code"], "already_exists");
  EXPECT_EQ(replay["work"], work);
  // And the other way round, for a text first registered through the spool.
  const std::string english = MakeText(10, 120);
  EXPECT_EQ(Upload("/v1/works", english, "upload.txt", "key-2").first, 201);
  auto [again_status, again] = Raw("/v1/works", english, "text/plain", "key-2");
  EXPECT_EQ(again_status, 409) << again.dump();
  EXPECT_EQ(again["error"]["code"], "already_exists");
  EXPECT_EQ(registry_->size(), size + 1);
  // Without a key: registered, the earlier one named as prior art.
  auto [copy_status, copy] = Raw("/v1/works", text, "text/plain");
  ASSERT_EQ(copy_status, 201) << copy.dump();
  ASSERT_FALSE(copy["prior_art"].empty());
  EXPECT_EQ(copy["prior_art"][0]["work"], work);
}

}  // namespace
}  // namespace chuqu::server
