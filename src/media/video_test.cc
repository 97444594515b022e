#include "media/video.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "media/test_media.h"

namespace chuqu::media {
namespace {

using test_util::Shell;
using test_util::TestDir;

std::string MakeVideo(const std::string& name, const std::string& extra = "") {
  const std::string path = TestDir() + "/" + name;
  EXPECT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=160x120:rate=25:duration=3 " +
                    extra + " -pix_fmt yuv420p " + path));
  return path;
}

// The signature file the ffmpeg CLI writes with iscc-sdk's command line.
std::string CliSignature(const std::string& video) {
  const std::string sig = video + ".sig";
  EXPECT_TRUE(Shell("ffmpeg -nostdin -y -i " + video +
                    " -vf fps=fps=5,signature=format=binary:filename=" + sig + " -f null -"));
  std::ifstream in(sig, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExtractVideo, MatchesFfmpegCli) {
  const std::string path = MakeVideo("clip.mp4", "-metadata title='Test Card'");
  auto r = ExtractVideo(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Test Card");
  EXPECT_NEAR(static_cast<double>(r->frames.size()), 15, 1);
  auto cli = ParseMpeg7Signature(CliSignature(path));
  ASSERT_TRUE(cli.ok()) << cli.status().ToString();
  EXPECT_EQ(r->frames, *cli);
  for (const auto& f : r->frames) {
    for (uint8_t v : f) EXPECT_LE(v, 2);
  }
}

TEST(ExtractVideo, MaxSecondsLimitsFrames) {
  const std::string path = MakeVideo("limit.mkv");
  VideoOptions options;
  options.max_seconds = 1;
  auto r = ExtractVideo(path, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->frames.size(), 7u);
  EXPECT_GE(r->frames.size(), 4u);
}

TEST(ExtractVideo, BadInputs) {
  const std::string audio = TestDir() + "/only_audio.m4a";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i sine=duration=1 -c:a aac " + audio));
  auto r = ExtractVideo(audio);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "no video stream");
  EXPECT_EQ(ExtractVideo(TestDir() + "/none.mp4").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ExtractVideo(test_util::WriteFile("junk.mp4", std::string(3000, 'x'))).ok());
}

TEST(ExtractVideo, TruncatedFileGivesAResultOrAnError) {
  const std::string path = MakeVideo("trunc.ts");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  const std::string cut = test_util::WriteFile("trunc_cut.ts", bytes.substr(0, bytes.size() / 3));
  auto r = ExtractVideo(cut);
  if (r.ok()) {
    EXPECT_GT(r->frames.size(), 0u);
  } else {
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(ParseMpeg7Signature, TruncatedIsCorruption) {
  EXPECT_EQ(ParseMpeg7Signature("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseMpeg7Signature(std::string(40, '\0')).status().code(), StatusCode::kOk);
  // A header claiming 1000 frames with no frame data.
  std::string header(40, '\0');
  header[16] = 0x01;  // bits 129.. hold the frame count; set a high bit inside it
  EXPECT_EQ(ParseMpeg7Signature(header).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace chuqu::media
