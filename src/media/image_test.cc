#include "media/image.h"

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <filesystem>

#include "media/test_media.h"
#include "media/vips_util.h"

namespace chuqu::media {
namespace {


using test_util::Shell;
using test_util::TestDir;

std::string Ffmpeg(const std::string& name, const std::string& lavfi, const std::string& extra = "") {
  std::string path = TestDir() + "/" + name;
  EXPECT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i '" + lavfi + "' -frames:v 1 " + extra + " " + path))
      << lavfi;
  return path;
}

TEST(DecodeImageRgb, DecodesPngToRgb) {
  std::string path = Ffmpeg("testsrc.png", "testsrc=size=64x48");
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 64);
  EXPECT_EQ(img->height, 48);
  EXPECT_EQ(img->rgb.size(), 64u * 48 * 3);
}

TEST(DecodeImageRgb, GreyBecomesThreeEqualChannels) {
  std::string path = Ffmpeg("grey.png", "testsrc=size=32x32", "-pix_fmt gray");
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->rgb.size(), 32u * 32 * 3);
  bool any_non_black = false;
  for (size_t i = 0; i < img->rgb.size(); i += 3) {
    EXPECT_EQ(img->rgb[i], img->rgb[i + 1]);
    EXPECT_EQ(img->rgb[i], img->rgb[i + 2]);
    any_non_black |= img->rgb[i] != 0;
  }
  EXPECT_TRUE(any_non_black);
}

TEST(DecodeImageRgb, TransparentIsWhite) {
  std::string path = Ffmpeg("clear.png", "color=c=red@0.0:s=8x8,format=rgba", "-pix_fmt rgba");
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  for (uint8_t v : img->rgb) EXPECT_EQ(v, 255);
}

TEST(DecodeImageRgb, SixteenBitToEightBit) {
  std::string path = Ffmpeg("deep.png", "color=c=0x808080:s=8x8", "-pix_fmt rgb48be");
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  for (uint8_t v : img->rgb) EXPECT_NEAR(v, 128, 4);  // ffmpeg's colour source goes via YUV
}

TEST(DecodeImageRgb, AppliesExifOrientation) {
  ASSERT_TRUE(internal::EnsureVips().ok());
  // 40x20: left half black, right half white; orientation 6 = rotate 90 degrees clockwise.
  VipsImage* black = nullptr;
  ASSERT_EQ(vips_black(&black, 40, 20, nullptr), 0);
  internal::VipsImagePtr b(black);
  VipsImage* ramp = nullptr;
  ASSERT_EQ(vips_xyz(&ramp, 40, 20, nullptr), 0);
  internal::VipsImagePtr r(ramp);
  VipsImage* x = nullptr;
  ASSERT_EQ(vips_extract_band(r.get(), &x, 0, nullptr), 0);
  internal::VipsImagePtr xp(x);
  VipsImage* mask = nullptr;
  ASSERT_EQ(vips_more_const1(xp.get(), &mask, 19.5, nullptr), 0);  // 0 or 255
  internal::VipsImagePtr m(mask);
  vips_image_set_int(m.get(), "orientation", 6);
  std::string path = TestDir() + "/oriented.jpg";
  ASSERT_EQ(vips_jpegsave(m.get(), path.c_str(), "Q", 95, nullptr), 0);
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 20);
  EXPECT_EQ(img->height, 40);
  // After rotating clockwise the white half (right) is at the bottom.
  EXPECT_LT(img->rgb[(2 * 20 + 10) * 3], 60);
  EXPECT_GT(img->rgb[(37 * 20 + 10) * 3], 200);
}

TEST(DecodeImageRgb, ShrinkOnLoadBoundsTheLongSide) {
  std::string path = Ffmpeg("big.jpg", "testsrc=size=2000x1000");
  ImageDecodeOptions options;
  options.max_long_side = 100;
  auto img = DecodeImageRgb(path, options);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 100);
  EXPECT_EQ(img->height, 50);
  // Not enlarged when already small.
  options.max_long_side = 5000;
  img = DecodeImageRgb(path, options);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->width, 2000);
}

TEST(DecodeImageRgb, RefusesAbovePixelLimit) {
  std::string path = Ffmpeg("limit.png", "testsrc=size=64x48");
  ImageDecodeOptions options;
  options.max_pixels = 1000;
  auto img = DecodeImageRgb(path, options);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(img.status().message().find("megapixels"), std::string::npos);
}

TEST(DecodeImageRgb, AnimatedGifGivesFirstFrame) {
  std::string path = TestDir() + "/anim.gif";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=40x30:rate=5 -frames:v 4 " + path));
  auto img = DecodeImageRgb(path);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 40);
  EXPECT_EQ(img->height, 30);
}

TEST(DecodeImageRgb, TruncatedJpegIsAnError) {
  std::string full = Ffmpeg("whole.jpg", "testsrc=size=320x240");
  std::string cut = TestDir() + "/cut.jpg";
  std::filesystem::copy_file(full, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(full) / 2);
  auto img = DecodeImageRgb(cut);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), StatusCode::kInvalidArgument) << img.status().ToString();
}

TEST(DecodeImageRgb, BadInputs) {
  EXPECT_EQ(DecodeImageRgb(TestDir() + "/missing.png").status().code(), StatusCode::kNotFound);
  std::string text = test_util::WriteFile("not_image.txt", "hello, world\n");
  EXPECT_EQ(DecodeImageRgb(text).status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(DecodeImageRgb(TestDir()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodeImageRgbFromBuffer({}).ok());
  std::string garbage(100, '\x89');
  EXPECT_FALSE(DecodeImageRgbFromBuffer(std::span(reinterpret_cast<const uint8_t*>(garbage.data()),
                                                  garbage.size()))
                   .ok());
}

TEST(DecodeImageRgbFromBuffer, MatchesFile) {
  std::string path = Ffmpeg("buf.png", "testsrc=size=50x20");
  auto from_file = DecodeImageRgb(path);
  ASSERT_TRUE(from_file.ok());
  std::string bytes;
  {
    FILE* f = fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
    fclose(f);
  }
  auto from_buf = DecodeImageRgbFromBuffer(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(from_buf.ok()) << from_buf.status().ToString();
  EXPECT_EQ(from_buf->rgb, from_file->rgb);
}

}  // namespace
}  // namespace chuqu::media
