#include "media/iscc_image.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace chuqu::media
