#include "media/video_regions.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace chuqu::media {
namespace {

// Smooth moving content: a few random sinusoids (steps between neighbours stay small).
struct Waves {
  double fx[3], fy[3], phase[3], speed[3];
  explicit Waves(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 3; ++i) {
      fx[i] = 0.01 + 0.04 * u(rng);
      fy[i] = 0.01 + 0.04 * u(rng);
      phase[i] = 6.3 * u(rng);
      speed[i] = 0.5 + 2 * u(rng);
    }
  }
  uint8_t At(double x, double y, int t) const {
    double v = 128;
    for (int i = 0; i < 3; ++i) v += 40 * std::sin(fx[i] * x + fy[i] * y + phase[i] + speed[i] * t);
    return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
  }
};

struct Box {
  int x, y, w, h;
};

// `frames` frames of background waves with, for each box, other waves inside it.
std::vector<std::vector<uint8_t>> Render(int width, int height, int frames,
                                         const std::vector<Box>& boxes, std::mt19937_64& rng) {
  const Waves background(rng);
  std::vector<Waves> insets;
  for (size_t i = 0; i < boxes.size(); ++i) insets.emplace_back(rng);
  std::vector<std::vector<uint8_t>> out;
  for (int t = 0; t < frames; ++t) {
    std::vector<uint8_t> f(static_cast<size_t>(width) * height);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        uint8_t v = background.At(x, y, t);
        for (size_t i = 0; i < boxes.size(); ++i) {
          const Box& b = boxes[i];
          if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) {
            v = insets[i].At(x - b.x, y - b.y, t);
          }
        }
        f[static_cast<size_t>(y) * width + x] = v;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<LumaFrame> View(const std::vector<std::vector<uint8_t>>& frames, int w, int h) {
  std::vector<LumaFrame> out;
  for (const auto& f : frames) out.push_back({f.data(), w, h});
  return out;
}

void ExpectRegion(const index::VideoRegion& r, const Box& b, int w, int h) {
  EXPECT_NEAR(r.x * w, b.x, 1.01);
  EXPECT_NEAR(r.y * h, b.y, 1.01);
  EXPECT_NEAR(r.width * w, b.w, 1.01);
  EXPECT_NEAR(r.height * h, b.h, 1.01);
}

TEST(FindInsetsTest, FindsAnInsetAtEveryCorpusPosition) {
  std::mt19937_64 rng(5);
  const int w = 320, h = 180;
  // Corners 5 px from the border and the centre, scales 0.3 to 0.55.
  const Box boxes[] = {{5, 5, 96, 54}, {w - 5 - 176, 5, 176, 99}, {5, h - 5 - 64, 114, 64},
                       {w - 5 - 140, h - 5 - 79, 140, 79}, {(w - 130) / 2, (h - 73) / 2, 130, 73}};
  for (const Box& b : boxes) {
    const auto frames = Render(w, h, 12, {b}, rng);
    const auto found = FindInsets(View(frames, w, h));
    ASSERT_FALSE(found.empty()) << b.x << "," << b.y;
    ExpectRegion(found[0], b, w, h);
    EXPECT_LE(found.size(), 4u);
  }
}

TEST(FindInsetsTest, TwoInsetsAndMaxInsets) {
  std::mt19937_64 rng(6);
  const int w = 320, h = 180;
  const Box a{10, 10, 100, 56}, b{180, 100, 120, 68};
  const auto frames = Render(w, h, 10, {a, b}, rng);
  InsetOptions options;
  const auto found = FindInsets(View(frames, w, h), options);
  ASSERT_GE(found.size(), 2u);
  int hits = 0;
  for (const auto& r : found) {
    for (const Box& x : {a, b}) {
      hits += std::abs(r.x * w - x.x) <= 1.01 && std::abs(r.y * h - x.y) <= 1.01 &&
              std::abs(r.width * w - x.w) <= 1.01 && std::abs(r.height * h - x.h) <= 1.01;
    }
  }
  EXPECT_EQ(hits, 2);
  options.max_insets = 1;
  EXPECT_EQ(FindInsets(View(frames, w, h), options).size(), 1u);
}

TEST(FindInsetsTest, FindsAPictureBetweenBars) {
  std::mt19937_64 rng(8);
  const int w = 240, h = 240;
  auto frames = Render(w, h, 10, {}, rng);
  for (auto& f : frames) {  // black bars above and below a 4:3 picture
    std::fill(f.begin(), f.begin() + 30 * w, 0);
    std::fill(f.end() - 30 * w, f.end(), 0);
  }
  const auto found = FindInsets(View(frames, w, h));
  ASSERT_FALSE(found.empty());
  ExpectRegion(found[0], {0, 30, w, h - 60}, w, h);
}

TEST(FindInsetsTest, NoInsetInPlainOrFlatVideo) {
  std::mt19937_64 rng(7);
  const int w = 160, h = 90;
  EXPECT_TRUE(FindInsets(View(Render(w, h, 8, {}, rng), w, h)).empty());
  std::vector<std::vector<uint8_t>> flat(4, std::vector<uint8_t>(w * h, 77));
  EXPECT_TRUE(FindInsets(View(flat, w, h)).empty());
}

TEST(FindInsetsTest, BadInputGivesNothing) {
  EXPECT_TRUE(FindInsets({}).empty());
  std::vector<uint8_t> small(10 * 10, 0);
  const LumaFrame tiny[] = {{small.data(), 10, 10}};
  EXPECT_TRUE(FindInsets(tiny).empty());
  std::vector<uint8_t> a(32 * 32, 0), b(40 * 32, 0);
  const LumaFrame mixed[] = {{a.data(), 32, 32}, {b.data(), 40, 32}};
  EXPECT_TRUE(FindInsets(mixed).empty());
  const LumaFrame null_data[] = {{nullptr, 32, 32}};
  EXPECT_TRUE(FindInsets(null_data).empty());
}

}  // namespace
}  // namespace chuqu::media
