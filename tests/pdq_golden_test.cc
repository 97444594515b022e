// PDQ against the reference's hashes in ../shared/data/pdq (README "How a test should use
// this"): full-resolution core hashes, all 8 dihedral variants and quality, for lossless
// inputs bit-exact; JPEGs through chuqu's libvips decoder; the CLI's 512x512 pre-resize.
#include <gtest/gtest.h>
#include <vips/vips.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fingerprint/pdq/pdq_hasher.h"
#include "media/image.h"

namespace chuqu::pdq {
namespace {

const std::string kData = std::string(CHUQU_SHARED_DATA) + "/pdq/";

struct Row {
  int quality = 0;
  std::array<std::string, kNumDihedral> hashes;
};

// Splits one CSV line, honouring double quotes.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::map<std::string, Row> LoadTable(const std::string& name) {
  std::ifstream in(kData + "expected/" + name);
  std::map<std::string, Row> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() < 10) continue;
    Row r;
    r.quality = std::stoi(f[1]);
    for (int d = 0; d < kNumDihedral; ++d) r.hashes[d] = f[2 + d];
    rows[f[0]] = r;
  }
  return rows;
}

// README rule 1 decoding of a PNG: 8-bit, alpha dropped (not composited), grey replicated,
// 16-bit clipped to 255 (what Pillow's I;16 -> RGB does). Raw libvips, no colour handling.
RgbBuffer LoadPngRaw(const std::string& path) {
  RgbBuffer out;
  if (VIPS_INIT("pdq_golden_test") != 0) return out;
  VipsImage* image = vips_image_new_from_file(path.c_str(), nullptr);
  if (image == nullptr) return out;
  size_t size = 0;
  void* mem = vips_image_write_to_memory(image, &size);
  const int w = image->Xsize, h = image->Ysize, bands = image->Bands;
  const bool u16 = image->BandFmt == VIPS_FORMAT_USHORT;
  out.width = w;
  out.height = h;
  out.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t p = 0; p < static_cast<size_t>(w) * h; ++p) {
    for (int k = 0; k < 3; ++k) {
      const int band = bands >= 3 ? k : 0;
      const size_t at = p * bands + band;
      const int v = u16 ? std::min<int>(255, static_cast<const uint16_t*>(mem)[at])
                        : static_cast<const uint8_t*>(mem)[at];
      out.rgb[p * 3 + k] = static_cast<uint8_t>(v);
    }
  }
  g_free(mem);
  g_object_unref(image);
  return out;
}

RgbBuffer Decode(const std::string& path) {
  Result<media::RgbImage> img = media::DecodeImageRgb(path);
  EXPECT_TRUE(img.ok()) << path << ": " << img.status().ToString();
  RgbBuffer out;
  if (!img.ok()) return out;
  out.width = img->width;
  out.height = img->height;
  out.rgb = std::move(img->rgb);
  return out;
}

int CheckAll(const RgbBuffer& image, const Row& row, const std::string& what, bool exact) {
  PdqHasher hasher;
  Result<PdqDihedralResult> r = hasher.HashRgbDihedral(image.view());
  EXPECT_TRUE(r.ok()) << what;
  if (!r.ok()) return 256;
  int worst = 0;
  for (int d = 0; d < kNumDihedral; ++d) {
    const int dist = Distance(r->hashes[d], *Hash256::ParseHex(row.hashes[d]));
    worst = std::max(worst, dist);
    if (exact) {
      EXPECT_EQ(r->hashes[d].Hex(), row.hashes[d])
          << what << " " << DihedralName(static_cast<Dihedral>(d));
    }
  }
  if (exact) {
    EXPECT_EQ(r->quality, row.quality) << what;
  }
  Result<PdqResult> single = hasher.HashRgb(image.view());
  EXPECT_TRUE(single.ok());
  if (single.ok() && image.width != 64) {
    EXPECT_EQ(single->hash, r->hashes[0]) << what;
  }
  return worst;
}

// Rule 1: lossless inputs, bit-exact, all 8 variants and quality.
TEST(PdqGoldenTest, LosslessPngsAreBitExact) {
  const std::map<std::string, Row> core = LoadTable("computed-core-fullres.csv");
  ASSERT_EQ(core.size(), 35u);
  int checked = 0;
  for (const auto& [file, row] : core) {
    if (file.size() < 4 || file.substr(file.size() - 4) != ".png") continue;
    CheckAll(LoadPngRaw(kData + file), row, file, /*exact=*/true);
    ++checked;
  }
  const std::map<std::string, std::string> decoded = {
      {"bridge-1-original", "reg-test-input/dih/bridge-1-original.jpg"},
      {"q0122", "reg-test-input/labelme-subset/q0122.jpg"},
      {"q2821", "reg-test-input/labelme-subset/q2821.jpg"},
      {"rgb", "pytx-test-resources/rgb.jpeg"},
      {"shrink-a-lot", "bridge-mods/shrink-a-lot.jpg"},
      {"square-512x512", "bridge-mods/square-512x512.jpg"}};
  for (const auto& [stem, jpeg] : decoded) {
    ASSERT_TRUE(core.count(jpeg)) << jpeg;
    const std::string png = "decoded-rgb/" + stem + ".libjpeg-turbo-rgb.png";
    CheckAll(LoadPngRaw(kData + png), core.at(jpeg), png, /*exact=*/true);
    ++checked;
  }
  EXPECT_EQ(checked, 11);
}

// The production decoder gives the same pixels for opaque PNGs (alpha 255 everywhere).
TEST(PdqGoldenTest, ProductionDecoderOnOpaquePngs) {
  const std::map<std::string, Row> core = LoadTable("computed-core-fullres.csv");
  for (const std::string file :
       {"misc-images/c.png", "reg-test-input/pen-and-coaster.png",
        "pytx-test-resources/test_pdq_hasher-RANDOM_IMAGE_BASE64.png",
        "decoded-rgb/bridge-1-original.libjpeg-turbo-rgb.png"}) {
    const Row& row = core.count(file) ? core.at(file) : core.at("reg-test-input/dih/bridge-1-original.jpg");
    CheckAll(Decode(kData + file), row, file, /*exact=*/true);
  }
}

// Rule 2: every JPEG through chuqu's decoder (libvips -> libjpeg-turbo 2.1.5, defaults).
// Same decoder as the expected values, so exact; the repo's own rule (quality >= 80 ->
// distance <= 10) is asserted as well in case a platform's libjpeg differs.
TEST(PdqGoldenTest, JpegsThroughProductionDecoder) {
  const std::map<std::string, Row> core = LoadTable("computed-core-fullres.csv");
  int jpegs = 0, exact = 0;
  for (const auto& [file, row] : core) {
    if (file.find(".jp") == std::string::npos) continue;
    ++jpegs;
    const RgbBuffer image = Decode(kData + file);
    const int worst = CheckAll(image, row, file, /*exact=*/false);
    if (row.quality >= 80) {
      EXPECT_LE(worst, 10) << file;
    }
    PdqHasher hasher;
    Result<PdqDihedralResult> r = hasher.HashRgbDihedral(image.view());
    if (worst == 0 && r.ok() && r->quality == row.quality) ++exact;
  }
  EXPECT_EQ(jpegs, 30);
  EXPECT_EQ(exact, jpegs) << "JPEGs not bit-exact with the libjpeg-turbo 2.1.5 reference decode";
}

// Rule 3: every assertion the repository itself makes as "exact".
TEST(PdqGoldenTest, RepoExactAssertions) {
  std::ifstream in(kData + "expected/repo-expected-pdq.csv");
  ASSERT_TRUE(in);
  std::string line;
  std::getline(in, line);
  int exact_rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() < 7 || f[6].rfind("exact", 0) != 0) continue;
    const std::string& file = f[3];
    const bool png = file.substr(file.size() - 4) == ".png";
    const RgbBuffer image = png ? LoadPngRaw(kData + file) : Decode(kData + file);
    PdqHasher hasher;
    Result<PdqResult> r = hasher.HashRgb(image.view());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->hash.Hex(), f[4]) << f[0] << ":" << f[1];
    if (!f[5].empty()) {
      EXPECT_EQ(r->quality, std::stoi(f[5])) << f[0] << ":" << f[1];
    }
    ++exact_rows;
  }
  EXPECT_GE(exact_rows, 6);
}

// Rule 4: the reference CLI (pdq-photo-hasher --pdqdih-across) after its 512x512 resize.
TEST(PdqGoldenTest, ReferenceCliPreResize) {
  const std::map<std::string, Row> cli = LoadTable("computed-cli-pdq-photo-hasher.csv");
  ASSERT_FALSE(cli.empty());
  int compared = 0;
  for (const auto& [file, row] : cli) {
    if (file == "pytx-test-resources/I16.png") continue;  // ImageMagick scales 16-bit
    const bool png = file.substr(file.size() - 4) == ".png";
    const RgbBuffer image = png ? LoadPngRaw(kData + file) : Decode(kData + file);
    CheckAll(ResizeLikeReferenceCli(image.view()), row, file + " (cli resize)", /*exact=*/true);
    ++compared;
  }
  EXPECT_EQ(compared, 34);
}

}  // namespace
}  // namespace chuqu::pdq
