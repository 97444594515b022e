// Image uploads (multipart or application/octet-stream) are fingerprinted from memory: no spool
// file, one decode. Other uploads (video, formats libvips reads only from files) keep the spool.
// Refusals of bad images name the upload, never a server path.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/testing/read_file.h"
#include "server/testing/test_server.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kKodak = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/";

class ImageUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = testing::TestServer::Create("chuqu_image_upload_test_");
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    ts_ = std::move(*ts);
    ts_->NewRegisteredParty("Alice", &token_);
    ASSERT_TRUE(ts_->Listen().ok());
    client_ = ts_->NewClient();
    // With the spool directory replaced by a file, any upload that needs a file fails (500).
    fs::remove_all(ts_->dir() / "tmp");
    std::ofstream(ts_->dir() / "tmp") << "not a directory";
  }

  httplib::Headers Auth() const { return {{"Authorization", "Bearer " + token_}}; }
  std::pair<int, json> Upload(const std::string& path, const std::string& bytes,
                              const std::string& filename, const std::string& type) {
    httplib::MultipartFormDataItems items = {{"file", bytes, filename, type}};
    return testing::StatusAndJson(client_->Post(path.c_str(), Auth(), items));
  }
  std::pair<int, json> Raw(const std::string& path, const std::string& bytes) {
    return testing::StatusAndJson(
        client_->Post(path.c_str(), Auth(), bytes, "application/octet-stream"));
  }

  std::unique_ptr<testing::TestServer> ts_;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ImageUploadTest, ImagesNeedNoSpoolFile) {
  const std::string png = chuqu::testing::ReadFileBytes(kKodak + "kodim23.png");
  ASSERT_FALSE(png.empty());
  auto [status, reg] = Upload("/v1/works", png, "Parrots.png", "image/png");
  ASSERT_EQ(status, 201) << reg.dump();
  EXPECT_EQ(reg["media"], "image");
  EXPECT_EQ(reg["entry"]["body"]["work"]["title"], "Parrots");  // from the upload's name
  EXPECT_TRUE(reg["entry"]["body"]["content"].contains("pdq")) << reg.dump();
  const uint64_t work = reg["work"];

  auto [match_status, match] = Raw("/v1/match", png);
  ASSERT_EQ(match_status, 200) << match.dump();
  ASSERT_FALSE(match["matches"].empty());
  EXPECT_EQ(match["matches"][0]["work"], work);
  auto [multi_status, multi] = Upload("/v1/match", png, "query.png", "image/png");
  ASSERT_EQ(multi_status, 200) << multi.dump();
  EXPECT_EQ(multi["matches"][0]["work"], work);

  // Not an image read from memory: spooled, so here a server error.
  EXPECT_EQ(Raw("/v1/match", std::string("\x00\x01\x02 binary", 10)).first, 500);
}

TEST_F(ImageUploadTest, BadImagesAreRefusedByTheirUploadName) {
  const std::string png = chuqu::testing::ReadFileBytes(kKodak + "kodim05.png");
  const uint64_t size = ts_->registry().size();
  auto [status, body] = Upload("/v1/works", png.substr(0, png.size() / 3), "holiday.png",
                               "image/png");
  EXPECT_EQ(status, 400) << body.dump();
  const std::string message = body["error"]["message"];
  EXPECT_TRUE(message.starts_with("holiday.png: ")) << message;
  EXPECT_EQ(message.find(ts_->dir().string()), std::string::npos) << message;
  auto [m_status, m] = Raw("/v1/match", png.substr(0, png.size() / 3));
  EXPECT_EQ(m_status, 400) << m.dump();
  EXPECT_EQ(ts_->registry().size(), size);
}

}  // namespace
}  // namespace chuqu::server
