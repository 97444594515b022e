// Image local features in the registry: a registered photo is found in a heavy crop and in a
// copy pasted into a larger background (method "image-local", with the matched region), a
// different photo is not, and a reopened registry (index rebuilt from the stored CQIF blobs)
// gives the same answers.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <vips/vips.h>

#include "base/task_runner.h"
#include "base/testing/temp_dir.h"

#include "media/image.h"
#include "registry/registry.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;

const std::string kKodak = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/";

// A temporary directory "chuqu_registry_image_XXXXXX", removed with the test.
class TempDir : public chuqu::testing::TempDir {
 public:
  TempDir() : chuqu::testing::TempDir("chuqu_registry_image_") {}
};

media::RgbImage Decode(const std::string& path) {
  Result<media::RgbImage> img = media::DecodeImageRgb(path);
  CHUQU_CHECK(img.ok());
  return std::move(*img);
}

// Binary PPM (P6): a lossless file libvips reads, written without an encoder.
void WritePpm(const media::RgbImage& img, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << img.width << " " << img.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(img.rgb.data()),
            static_cast<std::streamsize>(img.rgb.size()));
}

media::RgbImage Crop(const media::RgbImage& src, int x0, int y0, int w, int h) {
  media::RgbImage out{w, h, std::vector<uint8_t>(3ull * w * h)};
  for (int y = 0; y < h; ++y) {
    std::copy_n(&src.rgb[3ull * ((y0 + y) * src.width + x0)], 3ull * w, &out.rgb[3ull * y * w]);
  }
  return out;
}

// Box-filter downscale by an integer factor.
media::RgbImage Shrink(const media::RgbImage& src, int f) {
  media::RgbImage out{src.width / f, src.height / f, {}};
  out.rgb.resize(3ull * out.width * out.height);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < f; ++dy) {
          for (int dx = 0; dx < f; ++dx) {
            sum += src.rgb[3ull * ((y * f + dy) * src.width + x * f + dx) + c];
          }
        }
        out.rgb[3ull * (y * out.width + x) + c] = static_cast<uint8_t>(sum / (f * f));
      }
    }
  }
  return out;
}

void Paste(const media::RgbImage& src, media::RgbImage& dst, int x0, int y0) {
  for (int y = 0; y < src.height; ++y) {
    std::copy_n(&src.rgb[3ull * y * src.width], 3ull * src.width,
                &dst.rgb[3ull * ((y0 + y) * dst.width + x0)]);
  }
}

// The match for `work`, if any.
const Match* Find(const std::vector<Match>& matches, uint64_t work) {
  for (const Match& m : matches) {
    if (m.work == work) return &m;
  }
  return nullptr;
}

// rect [x0, y0, x1, y1] (fractions) is within `tol` of the expected one.
void ExpectRect(const nlohmann::json& rect, double x0, double y0, double x1, double y1,
                double tol) {
  ASSERT_TRUE(rect.is_array() && rect.size() == 4) << rect.dump();
  EXPECT_NEAR(rect[0].get<double>(), x0, tol) << rect.dump();
  EXPECT_NEAR(rect[1].get<double>(), y0, tol) << rect.dump();
  EXPECT_NEAR(rect[2].get<double>(), x1, tol) << rect.dump();
  EXPECT_NEAR(rect[3].get<double>(), y1, tol) << rect.dump();
}

TEST(RegistryImageTest, CropAndInBackgroundCopiesAreFoundWithRegionAndSurviveReopen) {
  TempDir dir;
  const std::string reg_dir = dir.Sub("reg");
  Result<std::unique_ptr<Registry>> r = Registry::Init(reg_dir, "test.example/log");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::unique_ptr<Registry> reg = std::move(*r);
  const PartyKey alice = PartyKey::Generate();
  ASSERT_TRUE(reg->RegisterParty(alice, "Alice").ok());

  // kodim23 (parrots, 768 x 512) is registered; kodim01 and kodim03 are not.
  const std::string original = kKodak + "kodim23.png";
  WorkInfo info;
  info.kind = "image";
  info.title = "Parrots";
  Result<RegisterResult> reg_result = reg->RegisterFile(alice, original, info);
  ASSERT_TRUE(reg_result.ok()) << reg_result.status().ToString();
  const uint64_t work = reg_result->work;
  {
    // The entry commits to a CQIF blob of local features.
    const nlohmann::json entry = nlohmann::json::parse(reg_result->entry);
    const nlohmann::json& image = entry["body"]["content"]["image"];
    ASSERT_TRUE(image.is_object()) << entry.dump();
    EXPECT_EQ(image["algorithm"], "orb-cqif-1");
    EXPECT_GT(image["count"].get<int>(), 100);
    Result<std::string> blob = reg->Blob(image["sha256"].get<std::string>());
    ASSERT_TRUE(blob.ok());
    EXPECT_EQ(blob->substr(0, 4), "CQIF");
  }

  const media::RgbImage ref = Decode(original);
  ASSERT_EQ(ref.width, 768);
  ASSERT_EQ(ref.height, 512);
  // Heavy crop: 300 x 230 pixels (18% of the area) around the parrots' heads.
  const std::string crop_path = dir.Sub("crop.ppm");
  WritePpm(Crop(ref, 330, 60, 300, 230), crop_path);
  // The whole photo at 1/2 scale (384 x 256) pasted into another photo at (300, 200).
  media::RgbImage background = Decode(kKodak + "kodim01.png");
  ASSERT_GE(background.width, 700);
  ASSERT_GE(background.height, 460);
  Paste(Shrink(ref, 2), background, 300, 200);
  const std::string pasted_path = dir.Sub("in_background.ppm");
  WritePpm(background, pasted_path);
  const std::string distractor = kKodak + "kodim03.png";

  struct Answers {
    nlohmann::json crop, pasted;
    size_t distractor_hits = 0;
  };
  auto check = [&](const Registry& registry) -> Answers {
    Answers a;
    Result<std::vector<Match>> m = registry.MatchFile(crop_path);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return a;
    const Match* hit = Find(*m, work);
    EXPECT_NE(hit, nullptr) << "crop not found";
    if (hit != nullptr) {
      EXPECT_EQ(hit->media, "image");
      EXPECT_EQ(hit->evidence["method"], "image-local") << hit->evidence.dump();
      EXPECT_GE(hit->evidence["inliers"].get<int>(), 8);
      EXPECT_GT(hit->evidence["descriptor_distance"].get<double>(), 0);
      EXPECT_LE(hit->evidence["descriptor_distance"].get<double>(), 56);
      // The crop shows itself whole, and is the crop rectangle of the work.
      ExpectRect(hit->evidence["region"]["query"]["rect"], 0, 0, 1, 1, 0.05);
      ExpectRect(hit->evidence["region"]["work"]["rect"], 330.0 / 768, 60.0 / 512, 630.0 / 768,
                 290.0 / 512, 0.04);
      a.crop = hit->evidence;
    }
    m = registry.MatchFile(pasted_path);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return a;
    hit = Find(*m, work);
    EXPECT_NE(hit, nullptr) << "in-background copy not found";
    if (hit != nullptr) {
      EXPECT_EQ(hit->evidence["method"], "image-local") << hit->evidence.dump();
      // The whole work, at (300, 200) - (684, 456) of the 768 x 512 background.
      ExpectRect(hit->evidence["region"]["work"]["rect"], 0, 0, 1, 1, 0.05);
      ExpectRect(hit->evidence["region"]["query"]["rect"], 300.0 / background.width,
                 200.0 / background.height, 684.0 / background.width, 456.0 / background.height,
                 0.04);
      a.pasted = hit->evidence;
    }
    m = registry.MatchFile(distractor);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (m.ok()) a.distractor_hits = m->size();
    return a;
  };

  const Answers before = check(*reg);
  EXPECT_EQ(before.distractor_hits, 0u);

  // Reopen: the matcher is rebuilt from the log and the stored blobs.
  reg.reset();
  Result<std::unique_ptr<Registry>> reopened = Registry::Open(reg_dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  const Answers after = check(**reopened);
  EXPECT_EQ(after.crop, before.crop);
  EXPECT_EQ(after.pasted, before.pasted);
  EXPECT_EQ(after.distractor_hits, 0u);
}

// A query photo far larger than the registered one (a 3200-px JPEG: the match path decodes it
// once, shrunk on load, for every code) is found as the whole work; the same file cut short is
// a clear error naming the file.
TEST(RegistryImageTest, LargeJpegQueryIsFoundAndATruncatedOneIsAnError) {
  TempDir dir;
  Result<std::unique_ptr<Registry>> r = Registry::Init(dir.Sub("reg"), "test.example/log");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Registry& reg = **r;
  WorkInfo info;
  info.kind = "image";
  info.title = "Parrots";
  Result<RegisterResult> work = reg.RegisterFile(reg.operator_key(), kKodak + "kodim23.png", info);
  ASSERT_TRUE(work.ok()) << work.status().ToString();

  ASSERT_EQ(vips_init("registry_image_test"), 0);
  VipsImage* in = vips_image_new_from_file((kKodak + "kodim23.png").c_str(), nullptr);
  ASSERT_NE(in, nullptr);
  VipsImage* big = nullptr;
  ASSERT_EQ(vips_resize(in, &big, 3200.0 / 768, nullptr), 0);
  const std::string jpeg = dir.Sub("big.jpg");
  ASSERT_EQ(vips_jpegsave(big, jpeg.c_str(), "Q", 90, nullptr), 0);
  g_object_unref(big);
  g_object_unref(in);

  Result<std::vector<Match>> m = reg.MatchFile(jpeg);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, work->work);
  EXPECT_GT((*m)[0].score, 0.9) << (*m)[0].evidence.dump();

  // With a runner (`chuqu match` passes a one-worker pool): the same answer.
  {
    ThreadPool pool(1);
    Options options;
    options.matcher.runner = &pool;
    r->reset();
    Result<std::unique_ptr<Registry>> pooled = Registry::Open(dir.Sub("reg"), options);
    ASSERT_TRUE(pooled.ok()) << pooled.status().ToString();
    Result<std::vector<Match>> again = (*pooled)->MatchFile(jpeg);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ASSERT_EQ(again->size(), m->size());
    for (size_t i = 0; i < m->size(); ++i) {
      EXPECT_EQ((*again)[i].work, (*m)[i].work);
      EXPECT_EQ((*again)[i].score, (*m)[i].score);
      EXPECT_EQ((*again)[i].evidence, (*m)[i].evidence);
    }
    pooled->reset();
    r = Registry::Open(dir.Sub("reg"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  const std::string cut = dir.Sub("cut.jpg");
  fs::copy_file(jpeg, cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  m = (*r)->MatchFile(cut);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find(cut), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace chuqu::registry
