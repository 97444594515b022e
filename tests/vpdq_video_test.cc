// vPDQ end to end: FFmpeg frames (src/media/video_frames) -> PDQ per frame, against the
// reference's published hashes (../shared/data/vpdq/README.md rules 1 and 2).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fingerprint/vpdq/vpdq.h"
#include "media/video_frames.h"

namespace chuqu::vpdq {
namespace {

const std::string kData = std::string(CHUQU_SHARED_DATA);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::vector<VpdqFeature>> HashVideo(const std::string& path, double seconds_per_frame) {
  media::VideoFrameOptions options;
  options.seconds_per_frame = seconds_per_frame;
  CHUQU_ASSIGN_OR_RETURN(auto reader, media::VideoFrameReader::Open(path, options));
  VpdqFrameHasher hasher;
  std::vector<VpdqFeature> out;
  CHUQU_RETURN_IF_ERROR(reader->ForEachFrame([&](const media::RgbFrame& f) -> Status {
    CHUQU_ASSIGN_OR_RETURN(
        VpdqFeature feature,
        hasher.HashFrame({f.data, f.width, f.height, f.stride}, f.frame_number, f.timestamp));
    out.push_back(feature);
    return Status::Ok();
  }));
  return out;
}

class VpdqVideoTest : public testing::TestWithParam<std::string> {};

// Rule 1: same frame count and numbers, same timestamps, distance < 31 where both
// qualities >= 50.
TEST_P(VpdqVideoTest, EveryFrameWithinReferenceTolerance) {
  const std::string name = GetParam();
  Result<std::vector<VpdqFeature>> ours =
      HashVideo(kData + "/tmk/sample-videos/" + name + ".mp4", 0);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  Result<std::vector<VpdqFeature>> ref =
      ParseHashFile(ReadFile(kData + "/vpdq/sample-hashes/" + name + ".txt"));
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(ours->size(), ref->size());
  int compared = 0, identical = 0;
  for (size_t i = 0; i < ref->size(); ++i) {
    const VpdqFeature& a = (*ours)[i];
    const VpdqFeature& b = (*ref)[i];
    EXPECT_EQ(a.frame_number, b.frame_number);
    EXPECT_EQ(FormatHashLine(a).substr(FormatHashLine(a).rfind(',')),
              FormatHashLine(b).substr(FormatHashLine(b).rfind(',')));
    if (a.quality >= 50 && b.quality >= 50) {
      EXPECT_LT(Distance(a.hash, b.hash), 31) << name << " frame " << i;
      ++compared;
    }
    identical += a.hash == b.hash;
  }
  RecordProperty("frames", static_cast<int>(ref->size()));
  RecordProperty("identical", identical);
  EXPECT_GT(compared, 0);
}

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds are ~3x slower: the shortest videos, one per resolution/shape.
INSTANTIATE_TEST_SUITE_P(
    SampleVideos, VpdqVideoTest,
    testing::Values("doorknob-hd-no-bar", "pattern-sd-grey-bar", "test-padded-dimensions"),
#else
INSTANTIATE_TEST_SUITE_P(
    SampleVideos, VpdqVideoTest,
    testing::Values("chair-19-sd-bar", "chair-20-sd-bar", "chair-orig-22-sd-bar",
                    "doorknob-hd-no-bar", "pattern-hd-no-bar", "pattern-longer-no-bar",
                    "pattern-sd-grey-bar", "pattern-sd-with-large-logo-bar",
                    "pattern-sd-with-small-logo-bar", "test-padded-dimensions"),
#endif
    [](const testing::TestParamInfo<std::string>& info) {
      std::string s = info.param;
      for (char& c : s) c = c == '-' ? '_' : c;
      return s;
    });

// Rule 2: one frame per second of chair-20-sd-bar against python-threatexchange's test.
TEST(VpdqVideoPytxTest, OneFramePerSecondMatchesPytx) {
  Result<std::vector<VpdqFeature>> ours =
      HashVideo(kData + "/tmk/sample-videos/chair-20-sd-bar.mp4", 1.0);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ASSERT_EQ(ours->size(), 21u);
  std::ifstream in(kData + "/vpdq/expected/pytx-test_vpdq_hash_and_match-chair-20-sd-bar-1fps.txt");
  std::vector<VpdqFeature> expected;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string hex, quality, ts;
    std::getline(ss, hex, ',');
    std::getline(ss, quality, ',');
    std::getline(ss, ts, ',');
    expected.push_back({*Hash256::ParseHex(hex), static_cast<int>(expected.size()) * 30,
                        std::stoi(quality), std::stod(ts)});
  }
  ASSERT_EQ(expected.size(), 21u);
  for (size_t i = 0; i < 21; ++i) {
    EXPECT_EQ((*ours)[i].timestamp, expected[i].timestamp);
    EXPECT_LE(Distance((*ours)[i].hash, expected[i].hash), 8) << "second " << i;
  }
  MatchResult m = MatchVideos(*ours, expected, MatchOptions::Pytx());
  EXPECT_EQ(m.query_match_pct, 100.0);
  EXPECT_EQ(m.compared_match_pct, 100.0);
}

}  // namespace
}  // namespace chuqu::vpdq
