// PDQ through chuqu's image decoder on the awkward inputs uploads bring: EXIF orientation,
// CMYK JPEG, palette PNG, grey, 16-bit, alpha, animated GIF (first frame), images under
// 5 px, and a 20,000 x 20,000 JPEG that must hash in bounded memory (shrink-on-load).
// Fixtures are generated with libvips into temporary files.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <vips/vips.h>

#include <string>

#include "fingerprint/pdq/pdq_hasher.h"
#include "media/file.h"
#include "media/image.h"

namespace chuqu::pdq {
namespace {

const std::string kData = std::string(CHUQU_SHARED_DATA) + "/pdq/";

struct Hashed {
  PdqResult pdq;
  int width = 0;
  int height = 0;
};

Result<Hashed> HashFile(const std::string& path, int max_long_side = 0) {
  media::ImageDecodeOptions options;
  options.max_long_side = max_long_side;
  CHUQU_ASSIGN_OR_RETURN(media::RgbImage img, media::DecodeImageRgb(path, options));
  PdqHasher hasher;
  CHUQU_ASSIGN_OR_RETURN(
      PdqResult r,
      hasher.HashRgb({img.rgb.data(), img.width, img.height, 3 * static_cast<size_t>(img.width)}));
  return Hashed{r, img.width, img.height};
}

class PdqMediaTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(VIPS_INIT("pdq_media_test"), 0); }

  // A temp file path with the given extension (the file is created by the caller).
  std::string TempPath(const std::string& ext) {
    Result<media::TempFile> f = media::TempFile::Create("chuqu-pdq");
    EXPECT_TRUE(f.ok());
    temps_.push_back(std::move(*f));
    const std::string path = temps_.back().path() + ext;
    extra_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : extra_) std::remove(p.c_str());
  }

  VipsImage* Load(const std::string& path) {
    VipsImage* img = vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_RANDOM, nullptr);
    EXPECT_NE(img, nullptr) << vips_error_buffer();
    return img;
  }

  std::vector<media::TempFile> temps_;
  std::vector<std::string> extra_;
};

const std::string kBridge = "reg-test-input/dih/bridge-1-original.jpg";

TEST_F(PdqMediaTest, ExifOrientationIsApplied) {
  // Orientation 8 displays the stored pixels rotated 90 degrees counter-clockwise, i.e. as
  // bridge-2-rotate-90.jpg stores them.
  VipsImage* img = Load(kData + kBridge);
  ASSERT_NE(img, nullptr);
  VipsImage* copy = nullptr;
  ASSERT_EQ(vips_copy(img, &copy, nullptr), 0);
  vips_image_set_int(copy, VIPS_META_ORIENTATION, 8);
  const std::string path = TempPath(".jpg");
  ASSERT_EQ(vips_jpegsave(copy, path.c_str(), "Q", 95, nullptr), 0) << vips_error_buffer();
  g_object_unref(copy);
  g_object_unref(img);
  Result<Hashed> oriented = HashFile(path);
  ASSERT_TRUE(oriented.ok()) << oriented.status().ToString();
  EXPECT_EQ(oriented->width, 1004);
  EXPECT_EQ(oriented->height, 1600);
  Result<Hashed> rotated = HashFile(kData + "reg-test-input/dih/bridge-2-rotate-90.jpg");
  ASSERT_TRUE(rotated.ok());
  EXPECT_LE(Distance(oriented->pdq.hash, rotated->pdq.hash), 10);
}

TEST_F(PdqMediaTest, CmykGreyAndPaletteEncodingsHashAlike) {
  const std::string source = kData + "bridge-mods/square-512x512.jpg";
  Result<Hashed> original = HashFile(source);
  ASSERT_TRUE(original.ok());
  VipsImage* img = Load(source);
  ASSERT_NE(img, nullptr);

  VipsImage* cmyk = nullptr;
  ASSERT_EQ(vips_icc_export(img, &cmyk, "output_profile", "cmyk", nullptr), 0)
      << vips_error_buffer();
  const std::string cmyk_path = TempPath(".jpg");
  ASSERT_EQ(vips_jpegsave(cmyk, cmyk_path.c_str(), "Q", 95, nullptr), 0) << vips_error_buffer();
  g_object_unref(cmyk);

  VipsImage* grey = nullptr;
  ASSERT_EQ(vips_colourspace(img, &grey, VIPS_INTERPRETATION_B_W, nullptr), 0);
  const std::string grey_path = TempPath(".jpg");
  ASSERT_EQ(vips_jpegsave(grey, grey_path.c_str(), "Q", 95, nullptr), 0);
  g_object_unref(grey);

  const std::string palette_path = TempPath(".png");
  ASSERT_EQ(vips_pngsave(img, palette_path.c_str(), "palette", TRUE, nullptr), 0)
      << vips_error_buffer();

  VipsImage* ushort = nullptr;
  ASSERT_EQ(vips_cast(img, &ushort, VIPS_FORMAT_USHORT, "shift", TRUE, nullptr), 0);
  VipsImage* rgb16 = nullptr;
  ASSERT_EQ(vips_copy(ushort, &rgb16, "interpretation", VIPS_INTERPRETATION_RGB16, nullptr), 0);
  const std::string png16_path = TempPath(".png");
  ASSERT_EQ(vips_pngsave(rgb16, png16_path.c_str(), "bitdepth", 16, nullptr), 0)
      << vips_error_buffer();
  g_object_unref(rgb16);
  g_object_unref(ushort);
  g_object_unref(img);

  for (const std::string& path : {cmyk_path, grey_path, palette_path, png16_path}) {
    Result<Hashed> h = HashFile(path);
    ASSERT_TRUE(h.ok()) << path << ": " << h.status().ToString();
    EXPECT_EQ(h->width, 512);
    EXPECT_GE(h->pdq.quality, 80) << path;
    // Different colour encodings of one photo stay well inside the match threshold.
    EXPECT_LE(Distance(h->pdq.hash, original->pdq.hash), 16) << path;
  }
  // 16-bit with shift: exactly the 8-bit pixels again.
  EXPECT_EQ(HashFile(png16_path)->pdq.hash, original->pdq.hash);
}

TEST_F(PdqMediaTest, AlphaGreyAndSixteenBitFilesFromThePytxSet) {
  for (const char* name : {"pytx-test-resources/LA.png", "pytx-test-resources/I16.png",
                           "reg-test-input/pen-and-coaster.png"}) {
    Result<Hashed> h = HashFile(kData + name);
    ASSERT_TRUE(h.ok()) << name << ": " << h.status().ToString();
    EXPECT_FALSE(h->pdq.too_small);
    EXPECT_EQ(h->pdq.hash.Popcount() > 100, true) << name;
  }
}

TEST_F(PdqMediaTest, AnimatedGifHashesTheFirstFrame) {
  VipsImage* img = Load(kData + "reg-test-input/labelme-subset/q0122.jpg");  // 256x256
  ASSERT_NE(img, nullptr);
  VipsImage* inverted = nullptr;
  ASSERT_EQ(vips_invert(img, &inverted, nullptr), 0);
  VipsImage* frames[2] = {img, inverted};
  VipsImage* strip = nullptr;
  ASSERT_EQ(vips_arrayjoin(frames, &strip, 2, "across", 1, nullptr), 0);
  VipsImage* anim = nullptr;
  ASSERT_EQ(vips_copy(strip, &anim, nullptr), 0);
  vips_image_set_int(anim, VIPS_META_PAGE_HEIGHT, 256);
  const std::string path = TempPath(".gif");
  ASSERT_EQ(vips_gifsave(anim, path.c_str(), nullptr), 0) << vips_error_buffer();
  g_object_unref(anim);
  g_object_unref(strip);
  g_object_unref(inverted);
  g_object_unref(img);
  Result<Hashed> h = HashFile(path);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->width, 256);
  EXPECT_EQ(h->height, 256);
  Result<Hashed> first = HashFile(kData + "reg-test-input/labelme-subset/q0122.jpg");
  ASSERT_TRUE(first.ok());
  // GIF palette quantisation moves a few bits; the inverted second frame would flip ~all.
  EXPECT_LE(Distance(h->pdq.hash, first->pdq.hash), 24);
}

TEST_F(PdqMediaTest, UnderFivePixelsIsReportedTooSmall) {
  VipsImage* img = nullptr;
  ASSERT_EQ(vips_black(&img, 4, 40, "bands", 3, nullptr), 0);
  const std::string path = TempPath(".png");
  ASSERT_EQ(vips_pngsave(img, path.c_str(), nullptr), 0);
  g_object_unref(img);
  Result<Hashed> h = HashFile(path);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(h->pdq.too_small);
  EXPECT_TRUE(h->pdq.hash.IsZero());
  EXPECT_EQ(h->pdq.quality, 0);
}

#if !defined(__SANITIZE_ADDRESS__)  // ~1 GB of pixels to encode: release builds only
TEST_F(PdqMediaTest, HugeJpegHashesInBoundedMemory) {
  // 20,000 x 20,000 grey stripes, encoded by streaming (never held in memory here).
  VipsImage* xyz = nullptr;
  ASSERT_EQ(vips_xyz(&xyz, 20000, 20000, nullptr), 0);
  VipsImage* x = nullptr;
  ASSERT_EQ(vips_extract_band(xyz, &x, 0, nullptr), 0);
  VipsImage* mod = nullptr;
  ASSERT_EQ(vips_remainder_const1(x, &mod, 1000, nullptr), 0);
  VipsImage* scaled = nullptr;
  ASSERT_EQ(vips_linear1(mod, &scaled, 0.255, 0, "uchar", TRUE, nullptr), 0);
  const std::string path = TempPath(".jpg");  // grey: a third of the encoding work
  ASSERT_EQ(vips_jpegsave(scaled, path.c_str(), "Q", 75, nullptr), 0) << vips_error_buffer();
  for (VipsImage* i : {scaled, mod, x, xyz}) g_object_unref(i);

  Result<Hashed> h = HashFile(path, /*max_long_side=*/8192);  // what `chuqu hash` uses
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_LE(std::max(h->width, h->height), 8192);
  EXPECT_FALSE(h->pdq.too_small);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  // A full decode would need 1.2 GB of RGB plus 3.2 GB of float planes.
  EXPECT_LT(usage.ru_maxrss / 1024, 1536) << "peak RSS in MiB";
}
#endif

}  // namespace
}  // namespace chuqu::pdq
