// The in-memory image path (Registry::IsImage, RegisterImage, MatchImage: an upload fingerprinted
// without a spool file, decoded once) against the file path (RegisterFile, MatchFile) for the
// same bytes under the same name: equal entries (body and blobs), equal matches, equal refusals.
#include <gtest/gtest.h>
#include <vips/vips.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/testing/read_file.h"
#include "base/testing/temp_dir.h"
#include "registry/registry.h"
#include "registry/testing/same_results.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;
using chuqu::testing::ReadFileBytes;
using testing::ExpectSameFingerprints;
using testing::ExpectSameMatches;

const std::string kImages = std::string(CHUQU_SHARED_DATA) + "/media/images/";

class ImageBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(vips_init("image_bytes_test"), 0);
    auto r = Registry::Init(dir_.Sub("reg"), "test.example/log");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(*r);
    alice_ = PartyKey::Generate();
    ASSERT_TRUE(reg_->RegisterParty(alice_, "Alice").ok());
  }

  // A file named `name` holding `bytes`, as the server would spool the upload.
  std::string File(const std::string& bytes, const std::string& name) {
    const fs::path sub = dir_.path() / ("f" + std::to_string(files_++));
    fs::create_directories(sub);
    const std::string path = (sub / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // kodim03 re-encoded by libvips with `suffix` (e.g. ".webp[Q=80]"), with a half-transparent
  // alpha band when `alpha`.
  std::string Encoded(const std::string& suffix, bool alpha) {
    VipsImage* in = vips_image_new_from_file((kImages + "kodak/kodim03.png").c_str(), nullptr);
    EXPECT_NE(in, nullptr);
    if (in == nullptr) return "";
    VipsImage* src = in;
    VipsImage* with_alpha = nullptr;
    if (alpha && vips_bandjoin_const1(in, &with_alpha, 128.0, nullptr) == 0) src = with_alpha;
    void* buf = nullptr;
    size_t len = 0;
    const int rc = vips_image_write_to_buffer(src, suffix.c_str(), &buf, &len, nullptr);
    std::string out = rc == 0 ? std::string(static_cast<const char*>(buf), len) : "";
    g_free(buf);
    if (with_alpha != nullptr) g_object_unref(with_alpha);
    g_object_unref(in);
    EXPECT_FALSE(out.empty()) << "libvips could not write " << suffix;
    return out;
  }

  chuqu::testing::TempDir dir_{"chuqu_image_bytes_"};  // outlives reg_
  int files_ = 0;
  std::unique_ptr<Registry> reg_;
  PartyKey alice_;
};

TEST_F(ImageBytesTest, SameEntriesAndMatchesAsTheFile) {
  struct Case {
    std::string name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"parrots.png", ReadFileBytes(kImages + "kodak/kodim23.png")},
      {"wp001.jpg", ReadFileBytes(kImages + "wikimedia-commons/wp001.jpg")},
      {"boats with alpha.png", Encoded(".png", true)},
      {"boats.webp", Encoded(".webp[Q=80]", false)},
      {"boats.tif", Encoded(".tif", true)},
  };
  WorkInfo info;
  info.kind = "image";
  int key = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.bytes.empty());
    ASSERT_TRUE(Registry::IsImage(c.bytes, c.name));
    const std::string path = File(c.bytes, c.name);
    Result<Fingerprints> fp_file = Registry::FingerprintFile(path);
    Result<Fingerprints> fp_mem = Registry::FingerprintImage(c.bytes, c.name);
    ASSERT_TRUE(fp_file.ok()) << fp_file.status().ToString();
    ASSERT_TRUE(fp_mem.ok()) << fp_mem.status().ToString();
    ExpectSameFingerprints(*fp_file, *fp_mem);
    // The same query either way, before and after the work is registered.
    Result<std::vector<Match>> mem = reg_->MatchImage(c.bytes, c.name);
    Result<std::vector<Match>> file = reg_->MatchFile(path);
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ExpectSameMatches(*file, *mem);

    const std::string idem = "key-" + std::to_string(key++);
    Result<RegisterResult> r = reg_->RegisterImage(alice_, c.bytes, c.name, info, idem);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->media, "image");
    const nlohmann::json entry = nlohmann::json::parse(r->entry);
    const nlohmann::json& content = entry["body"]["content"];
    EXPECT_TRUE(content.contains("pdq")) << content.dump();
    EXPECT_EQ(content["image"]["algorithm"], "orb-cqif-1") << content.dump();
    // The file registration under the same Idempotency-Key is the same request only if its
    // entry body (PDQ, ISCC, local-features blob, title from the name) is equal.
    const uint64_t size = reg_->size();
    Result<RegisterResult> again = reg_->RegisterFile(alice_, path, info, idem);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
    EXPECT_EQ(reg_->size(), size);

    mem = reg_->MatchImage(c.bytes, c.name);
    file = reg_->MatchFile(path);
    ASSERT_TRUE(mem.ok() && file.ok());
    ExpectSameMatches(*file, *mem);
    // Found (first, or after an earlier copy of the same photo in another format).
    EXPECT_TRUE(std::any_of(mem->begin(), mem->end(),
                            [&](const Match& m) { return m.work == r->work; }));
  }
}

TEST_F(ImageBytesTest, BadBytesGiveTheFilePathsErrorsAndWriteNothing) {
  const std::string png = ReadFileBytes(kImages + "kodak/kodim05.png");
  const std::string jpeg = ReadFileBytes(kImages + "wikimedia-commons/wp002.jpg");
  ASSERT_FALSE(png.empty());
  ASSERT_FALSE(jpeg.empty());
  const uint64_t size = reg_->size();
  const std::pair<std::string, std::string> truncated[] = {
      {"cut.png", png.substr(0, png.size() / 3)}, {"cut.jpg", jpeg.substr(0, jpeg.size() / 2)}};
  for (const auto& [name, bytes] : truncated) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(Registry::IsImage(bytes, name));  // the header is intact
    Result<RegisterResult> mem = reg_->RegisterImage(alice_, bytes, name, {});
    Result<RegisterResult> file = reg_->RegisterFile(alice_, File(bytes, name), {});
    ASSERT_FALSE(mem.ok());
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(mem.status().code(), file.status().code());
    EXPECT_TRUE(mem.status().message().starts_with(name + ": ")) << mem.status().message();
    Result<std::vector<Match>> query = reg_->MatchImage(bytes, name);
    Result<std::vector<Match>> file_query = reg_->MatchFile(File(bytes, name));
    ASSERT_EQ(query.ok(), file_query.ok()) << query.status().ToString();
    if (!query.ok()) {
      EXPECT_EQ(query.status().code(), file_query.status().code());
    } else {
      ExpectSameMatches(*file_query, *query);
    }
  }
  // Named as something else: not an in-memory image, and refused as the file path refuses it.
  EXPECT_FALSE(Registry::IsImage(png, "scan.pdf"));
  Result<RegisterResult> misnamed = reg_->RegisterImage(alice_, png, "scan.pdf", {});
  ASSERT_FALSE(misnamed.ok());
  EXPECT_EQ(misnamed.status().message(), "scan.pdf: named .pdf but the content is a PNG image");
  EXPECT_FALSE(Registry::IsImage("plain words, not pixels\n", "words.png"));
  EXPECT_FALSE(Registry::IsImage("", "empty.png"));
  EXPECT_EQ(reg_->size(), size);
}

}  // namespace
}  // namespace chuqu::registry
