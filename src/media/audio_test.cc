#include "media/audio.h"

#include <gtest/gtest.h>

#include <sstream>

#include "media/test_media.h"

namespace chuqu::media {
namespace {

using test_util::Capture;
using test_util::Shell;
using test_util::TestDir;

std::string MakeAudio(const std::string& name, const std::string& args) {
  const std::string path = TestDir() + "/" + name;
  EXPECT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i 'sine=frequency=440:duration=8' -f lavfi -i "
                    "'anoisesrc=d=8:c=pink:seed=3:a=0.3' -filter_complex amix=inputs=2 " +
                    args + " " + path));
  return path;
}

// `fpcalc -raw -signed -length 0` FINGERPRINT= line as integers. fpcalc 1.5.1 built
// against FFmpeg 5 reports the decoder's end-of-file as an error after the last frame,
// so -ignore-errors is needed to get its output (the fingerprint is unaffected).
std::vector<int32_t> Fpcalc(const std::string& path) {
  std::string out = Capture("fpcalc -raw -signed -length 0 -ignore-errors " + path);
  std::vector<int32_t> values;
  const size_t p = out.find("FINGERPRINT=");
  if (p == std::string::npos) return values;
  std::stringstream ss(out.substr(p + 12));
  std::string item;
  while (std::getline(ss, item, ',')) values.push_back(static_cast<int32_t>(std::stol(item)));
  return values;
}

void ExpectMatchesFpcalc(const std::string& path) {
  auto r = ExtractAudio(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->chromaprint.size(), 30u);
  if (!Shell("command -v fpcalc")) GTEST_SKIP() << "fpcalc (libchromaprint-tools) not installed";
  std::vector<int32_t> expected = Fpcalc(path);
  ASSERT_FALSE(expected.empty()) << "fpcalc gave no fingerprint";
  EXPECT_EQ(r->chromaprint, expected);
}

TEST(ExtractAudio, WavMatchesFpcalc) { ExpectMatchesFpcalc(MakeAudio("a.wav", "-ar 44100 -ac 2")); }
TEST(ExtractAudio, Mp3MatchesFpcalc) { ExpectMatchesFpcalc(MakeAudio("a.mp3", "-ar 44100 -ac 2")); }
TEST(ExtractAudio, MonoAt11025NeedsNoResampler) {
  ExpectMatchesFpcalc(MakeAudio("m.wav", "-ar 11025 -ac 1 -c:a pcm_s16le"));
}

TEST(ExtractAudio, TitleAndLimit) {
  const std::string path = MakeAudio("t.ogg", "-metadata title='Night Song' -c:a libvorbis");
  AudioOptions options;
  options.max_seconds = 3;
  auto r = ExtractAudio(path, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Night Song");
  EXPECT_NEAR(r->seconds, 3.0, 0.01);
}

TEST(ExtractAudio, BadInputs) {
  EXPECT_EQ(ExtractAudio(TestDir() + "/none.wav").status().code(), StatusCode::kNotFound);
  const std::string png = TestDir() + "/still.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=16x16 -frames:v 1 " + png));
  auto no_audio = ExtractAudio(png);
  ASSERT_FALSE(no_audio.ok());
  EXPECT_EQ(no_audio.status().message(), "no audio stream");
  auto junk = ExtractAudio(test_util::WriteFile("junk.mp3", std::string(5000, '\x42')));
  EXPECT_FALSE(junk.ok());
}

}  // namespace
}  // namespace chuqu::media
