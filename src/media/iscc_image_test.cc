#include "media/iscc_image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "media/test_media.h"

namespace chuqu::media {
namespace {

TEST(PillowLuma, IntegerRounding) {
  EXPECT_EQ(PillowLuma(0, 0, 0), 0);
  EXPECT_EQ(PillowLuma(255, 255, 255), 255);
  EXPECT_EQ(PillowLuma(255, 0, 0), 76);
  EXPECT_EQ(PillowLuma(0, 255, 0), 150);
  EXPECT_EQ(PillowLuma(0, 0, 255), 29);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(PillowLuma(v, v, v), v);
}

TEST(PillowCompositeOnWhite, Extremes) {
  EXPECT_EQ(PillowCompositeOnWhite(10, 20, 30, 255), (std::array<uint8_t, 3>{10, 20, 30}));
  EXPECT_EQ(PillowCompositeOnWhite(10, 20, 30, 0), (std::array<uint8_t, 3>{255, 255, 255}));
  auto half = PillowCompositeOnWhite(0, 0, 0, 128);
  EXPECT_NEAR(half[0], 127, 1);
}

TEST(PillowResizeBicubic, IdentityAndUniform) {
  std::vector<uint8_t> grey(32 * 32);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<uint8_t>(i * 7);
  EXPECT_EQ(PillowResizeBicubic(grey, 32, 32, 32, 32), grey);
  std::vector<uint8_t> flat(300 * 200, 77);
  for (uint8_t v : PillowResizeBicubic(flat, 300, 200, 32, 32)) EXPECT_EQ(v, 77);
}

uint64_t Fnv1a(std::span<const uint8_t> v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : v) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Golden values from Pillow 9.4.0 (Debian 12 python3-pil) on the same synthetic pixels:
// Image.frombytes(...).resize(size, Image.BICUBIC), and for RGBA
// Image.alpha_composite(white, im).convert("L").resize((32, 32), BICUBIC).
TEST(PillowResizeBicubic, MatchesPillow) {
  struct Case {
    int w, h, ow, oh;
    uint64_t fnv;
    std::array<uint8_t, 8> head;
  };
  const Case cases[] = {
      {1000, 37, 32, 32, 0x1c0de67dd0911948ull, {118, 131, 127, 129, 125, 129, 125, 129}},
      {20, 50, 32, 32, 0x152bfc93d8a1e801ull, {2, 6, 16, 24, 32, 40, 48, 56}},
      {300, 300, 17, 5, 0x60a4b7eb4f3f328bull, {128, 128, 128, 128, 128, 127, 128, 128}},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> grey(static_cast<size_t>(c.w) * c.h);
    for (int y = 0; y < c.h; ++y) {
      for (int x = 0; x < c.w; ++x) grey[static_cast<size_t>(y) * c.w + x] = (x * 13 + y * 7) % 256;
    }
    const std::vector<uint8_t> out = PillowResizeBicubic(grey, c.w, c.h, c.ow, c.oh);
    ASSERT_EQ(out.size(), static_cast<size_t>(c.ow) * c.oh);
    EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 8),
              std::vector<uint8_t>(c.head.begin(), c.head.end()))
        << c.w << "x" << c.h;
    EXPECT_EQ(Fnv1a(out), c.fnv) << c.w << "x" << c.h;
  }
}

TEST(IsccImagePixelsFromRgba, MatchesPillowPipeline) {
  const int w = 613, h = 211;
  std::vector<uint8_t> rgba;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      rgba.push_back(static_cast<uint8_t>((x * 3 + y) % 256));
      rgba.push_back(static_cast<uint8_t>((y * 5 + x * x) % 256));
      rgba.push_back(static_cast<uint8_t>((x ^ y) % 256));
      rgba.push_back(static_cast<uint8_t>((x * 7 + y * 11) % 256));
    }
  }
  const auto px = IsccImagePixelsFromRgba(rgba, w, h);
  EXPECT_EQ(std::vector<uint8_t>(px.begin(), px.begin() + 8),
            (std::vector<uint8_t>{180, 168, 196, 187, 183, 179, 166, 196}));
  EXPECT_EQ(Fnv1a(px), 0xef629f4f59cf6a14ull);
}

TEST(IsccImagePixels, TrimOptionRemovesUniformBorder) {
  // A small picture on a wide flat border: trimmed, the picture fills the 32x32 output.
  const int w = 200, h = 100;
  std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4, 255);
  for (int y = 40; y < 60; ++y) {
    for (int x = 90; x < 110; ++x) {
      uint8_t* p = &rgba[(static_cast<size_t>(y) * w + x) * 4];
      p[0] = p[1] = p[2] = static_cast<uint8_t>(x < 100 ? 0 : 128);
    }
  }
  const auto trimmed = IsccImagePixelsFromRgba(rgba, w, h, true);
  EXPECT_LT(trimmed[0], 10);          // top-left is now the black half
  EXPECT_GT(trimmed[31], 100);        // top-right the grey half
  const auto untrimmed = IsccImagePixelsFromRgba(rgba, w, h, false);
  EXPECT_EQ(untrimmed[0], 255);       // still the white border
}

TEST(IsccImagePixels, FileWithAlphaErrorsAndLimits) {
  const std::string path = test_util::TestDir() + "/rgba.png";
  ASSERT_TRUE(test_util::Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=120x90 -vf "
                               "format=rgba,colorchannelmixer=aa=0.5 -frames:v 1 " + path));
  auto from_file = IsccImagePixels(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_NE(std::count(from_file->begin(), from_file->end(), from_file->front()), 1024);
  auto bad = IsccImagePixels(test_util::TestDir() + "/missing.png");
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  IsccImageOptions tiny;
  tiny.max_pixels = 100;
  EXPECT_EQ(IsccImagePixels(path, tiny).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace chuqu::media
