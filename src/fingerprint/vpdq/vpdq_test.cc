#include "fingerprint/vpdq/vpdq.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/testing/read_file.h"

namespace chuqu::vpdq {
namespace {

using chuqu::testing::ReadFileBytes;

const std::string kData = std::string(CHUQU_SHARED_DATA) + "/vpdq/";

TEST(VpdqFormatTest, SampleHashFilesRoundTrip) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "sample-hashes")) {
    if (entry.path().extension() != ".txt") continue;
    const std::string text = ReadFileBytes(entry.path());
    Result<std::vector<VpdqFeature>> parsed = ParseHashFile(text);
    ASSERT_TRUE(parsed.ok()) << entry.path() << ": " << parsed.status().ToString();
    ASSERT_FALSE(parsed->empty());
    EXPECT_EQ(FormatHashFile(*parsed), text) << entry.path();
    for (size_t i = 0; i < parsed->size(); ++i) {
      EXPECT_EQ((*parsed)[i].frame_number, static_cast<int>(i));  // every frame was hashed
    }
    ++files;
  }
  EXPECT_EQ(files, 31);
}

TEST(VpdqFormatTest, ParseRejectsMalformedLines) {
  const std::string hex(64, 'a');
  EXPECT_TRUE(ParseHashFile("").ok());
  EXPECT_TRUE(ParseHashFile("0,100," + hex + ",0.000").ok());
  EXPECT_TRUE(ParseHashFile("0,100," + hex + ",0.000\r\n1,99," + hex + ",0.033\n").ok());
  for (const std::string& bad :
       {std::string("\n"), "0,100," + hex, "0,100," + hex + ",0.0,extra", "x,100," + hex + ",0",
        "-1,100," + hex + ",0", "0,101," + hex + ",0", "0,100," + hex.substr(1) + ",0",
        "0,100," + hex + ",nan", "0,100," + hex + ",", "0, 100," + hex + ",0",
        "0,100," + hex + ",1e999", "0,100," + hex + ",1e300", "99999999999,100," + hex + ",0"}) {
    Result<std::vector<VpdqFeature>> r = ParseHashFile(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  Result<std::vector<VpdqFeature>> r = ParseHashFile("0,100," + hex + ",0\n1,100,zz,0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos);
}

TEST(VpdqSamplingTest, FrameStepAndTimestamps) {
  EXPECT_EQ(FrameStep(1.0, 30.0), 30);
  EXPECT_EQ(FrameStep(1.0, 29.97), 29);
  EXPECT_EQ(FrameStep(0.0, 30.0), 1);
  EXPECT_EQ(FrameStep(0.01, 30.0), 1);
  EXPECT_EQ(FrameStep(1.0, 0.0), 1);
  EXPECT_EQ(FrameStep(1e300, 30.0), 2147483647);
  VpdqFeature f;
  f.timestamp = ReferenceTimestamp(1, 30.0);
  EXPECT_EQ(FormatHashLine(f).substr(FormatHashLine(f).rfind(',') + 1), "0.033");
  EXPECT_DOUBLE_EQ(ReferenceTimestamp(30, 30.0), 1.0);
}

// Shared data rule 3: the video-to-video scores of all 256 ordered pairs, both semantics.
TEST(VpdqMatchTest, MatchMatrixOfSampleHashes) {
  std::ifstream csv(kData + "expected/computed-match-matrix-sample-hashes.csv");
  ASSERT_TRUE(csv);
  std::map<std::string, std::vector<VpdqFeature>> cache;
  auto load = [&](const std::string& rel) -> const std::vector<VpdqFeature>& {
    auto it = cache.find(rel);
    if (it == cache.end()) {
      Result<std::vector<VpdqFeature>> r = ParseHashFile(ReadFileBytes(kData + rel));
      EXPECT_TRUE(r.ok()) << rel;
      it = cache.emplace(rel, r.ok() ? *r : std::vector<VpdqFeature>{}).first;
    }
    return it->second;
  };
  std::string line;
  std::getline(csv, line);  // header
  int rows = 0;
  while (std::getline(csv, line)) {
    std::stringstream ss(line);
    std::string q, t, a, b, c, d;
    std::getline(ss, q, ',');
    std::getline(ss, t, ',');
    std::getline(ss, a, ',');
    std::getline(ss, b, ',');
    std::getline(ss, c, ',');
    std::getline(ss, d, ',');
    const auto& qf = load(q);
    const auto& tf = load(t);
    MatchResult cpp = MatchVideos(qf, tf, MatchOptions::CppReference());
    MatchResult py = MatchVideos(qf, tf, MatchOptions::Pytx());
    EXPECT_NEAR(cpp.query_match_pct, std::stod(a), 1e-6) << line;
    EXPECT_NEAR(cpp.compared_match_pct, std::stod(b), 1e-6) << line;
    EXPECT_NEAR(py.query_match_pct, std::stod(c), 1e-6) << line;
    EXPECT_NEAR(py.compared_match_pct, std::stod(d), 1e-6) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 256);
}

TEST(VpdqMatchTest, EdgeCases) {
  Hash256 a;
  Hash256 b;
  for (int k = 0; k < 31; ++k) b.SetBit(k);  // distance 31
  std::vector<VpdqFeature> q = {{a, 0, 100, 0}};
  std::vector<VpdqFeature> t = {{b, 0, 100, 0}, {b, 1, 100, 1}};
  EXPECT_EQ(MatchVideos(q, t, MatchOptions::Pytx()).query_match_pct, 100.0);       // <= 31
  EXPECT_EQ(MatchVideos(q, t, MatchOptions::CppReference()).query_match_pct, 0.0);  // < 31
  EXPECT_EQ(MatchVideos(q, t, MatchOptions::Pytx()).compared_frames, 1u);          // deduped
  EXPECT_EQ(MatchVideos(q, t, MatchOptions::CppReference()).compared_frames, 2u);
  std::vector<VpdqFeature> low = {{a, 0, 49, 0}};
  MatchResult r = MatchVideos(low, t);
  EXPECT_TRUE(r.empty);
  EXPECT_EQ(r.query_match_pct, 0.0);
  EXPECT_TRUE(MatchVideos({}, {}).empty);
}

TEST(VpdqFrameHasherTest, TinyFrameIsAnError) {
  VpdqFrameHasher hasher;
  std::vector<uint8_t> rgb(4 * 4 * 3, 10);
  Result<VpdqFeature> r = hasher.HashFrame({rgb.data(), 4, 4, 12}, 0, 0);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> ok(8 * 8 * 3, 10);
  Result<VpdqFeature> f = hasher.HashFrame({ok.data(), 8, 8, 24}, 3, 0.1);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->frame_number, 3);
}

}  // namespace
}  // namespace chuqu::vpdq
