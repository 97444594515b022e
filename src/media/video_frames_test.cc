#include "media/video_frames.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "media/file.h"

namespace chuqu::media {
namespace {

const std::string kVideos = std::string(CHUQU_SHARED_DATA) + "/tmk/sample-videos/";

struct Collected {
  std::vector<int> numbers;
  std::vector<double> timestamps;
  int width = 0, height = 0;
  size_t min_stride = 0;
};

Result<Collected> ReadAll(const std::string& path, const VideoFrameOptions& options,
                          VideoInfo* info = nullptr) {
  CHUQU_ASSIGN_OR_RETURN(auto reader, VideoFrameReader::Open(path, options));
  if (info != nullptr) *info = reader->info();
  Collected c;
  CHUQU_RETURN_IF_ERROR(reader->ForEachFrame([&](const RgbFrame& f) {
    c.numbers.push_back(f.frame_number);
    c.timestamps.push_back(f.timestamp);
    c.width = f.width;
    c.height = f.height;
    c.min_stride = c.min_stride == 0 ? f.stride : std::min(c.min_stride, f.stride);
    // Touch the last byte of the last row so ASan checks the buffer bounds.
    volatile uint8_t last = f.data[(f.height - 1) * f.stride + 3 * f.width - 1];
    (void)last;
    return Status::Ok();
  }));
  return c;
}

TEST(VideoFramesTest, EveryFrameMatchesReferenceNumbering) {
  VideoFrameOptions options;
  options.seconds_per_frame = 0;
  VideoInfo info;
  Result<Collected> c = ReadAll(kVideos + "doorknob-hd-no-bar.mp4", options, &info);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(info.clock, SamplingClock::kFrameIndex);
  EXPECT_DOUBLE_EQ(info.fps, 30.0);
  EXPECT_EQ(info.codec, "h264");
  ASSERT_EQ(c->numbers.size(), 120u);  // lines in vpdq/sample-hashes/doorknob-hd-no-bar.txt
  for (int i = 0; i < 120; ++i) EXPECT_EQ(c->numbers[i], i);
  EXPECT_EQ(c->width, 1280);
  EXPECT_EQ(c->height, 720);
  EXPECT_GE(c->min_stride, 3u * 1280);
  char ts[32];
  std::snprintf(ts, sizeof(ts), "%.3f", c->timestamps[1]);
  EXPECT_STREQ(ts, "0.033");
}

TEST(VideoFramesTest, OneFramePerSecond) {
  VideoInfo info;
  Result<Collected> c = ReadAll(kVideos + "chair-20-sd-bar.mp4", {}, &info);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(info.frame_step, 30);
  ASSERT_EQ(c->numbers.size(), 21u);  // pytx expects 21 hashes at 1 fps
  for (size_t i = 0; i < c->numbers.size(); ++i) {
    EXPECT_EQ(c->numbers[i], static_cast<int>(30 * i));
    EXPECT_DOUBLE_EQ(c->timestamps[i], static_cast<double>(i));
  }
}

TEST(VideoFramesTest, PaddedDimensions) {
  VideoFrameOptions options;
  options.seconds_per_frame = 0;
  Result<Collected> c = ReadAll(kVideos + "test-padded-dimensions.mp4", options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->numbers.size(), 150u);
  EXPECT_EQ(c->width, 1080);
}

TEST(VideoFramesTest, ResolutionLimit) {
  VideoFrameOptions options;
  options.max_width = 640;
  Result<std::unique_ptr<VideoFrameReader>> r =
      VideoFrameReader::Open(kVideos + "doorknob-hd-no-bar.mp4", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  options = {};
  options.max_pixels = 1000;
  EXPECT_EQ(VideoFrameReader::Open(kVideos + "doorknob-hd-no-bar.mp4", options).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(VideoFramesTest, FrameBudget) {
  VideoFrameOptions options;
  options.max_decoded_frames = 10;
  Result<Collected> c = ReadAll(kVideos + "doorknob-hd-no-bar.mp4", options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<TempFile> WriteTemp(const std::string& bytes) {
  CHUQU_ASSIGN_OR_RETURN(TempFile f, TempFile::Create("chuqu-video-test"));
  std::ofstream out(f.path(), std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return f;
}

TEST(VideoFramesTest, BadInputsAreClearErrors) {
  EXPECT_EQ(VideoFrameReader::Open("/nonexistent/video.mp4").status().code(),
            StatusCode::kNotFound);
  // Zero-length file.
  Result<TempFile> empty = WriteTemp("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(VideoFrameReader::Open(empty->path()).status().code(), StatusCode::kInvalidArgument);
  // Garbage.
  Result<TempFile> junk = WriteTemp(std::string(5000, 'x'));
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(VideoFrameReader::Open(junk->path()).ok());
  // A WAV file: audio only, no video stream.
  std::string wav = "RIFF";
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) wav += static_cast<char>(v >> (8 * i)); };
  auto u16 = [&](uint16_t v) { wav += static_cast<char>(v & 0xff); wav += static_cast<char>(v >> 8); };
  const uint32_t samples = 8000;
  u32(36 + samples * 2);
  wav += "WAVEfmt ";
  u32(16); u16(1); u16(1); u32(8000); u32(16000); u16(2); u16(16);
  wav += "data";
  u32(samples * 2);
  wav += std::string(samples * 2, '\0');
  Result<TempFile> audio = WriteTemp(wav);
  ASSERT_TRUE(audio.ok());
  Result<std::unique_ptr<VideoFrameReader>> r = VideoFrameReader::Open(audio->path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("no video stream"), std::string::npos);
}

TEST(VideoFramesTest, TruncatedFilesDecodeWhatIsThereOrFailCleanly) {
  const std::string whole = Slurp(kVideos + "doorknob-hd-no-bar.mp4");
  ASSERT_GT(whole.size(), 100000u);
  VideoFrameOptions options;
  options.seconds_per_frame = 0;
  // mp4 with the moov atom at the end loses its index when cut; at the front it keeps it.
  for (size_t cut : {size_t{100}, size_t{4096}, whole.size() / 3, whole.size() - 1000}) {
    Result<TempFile> f = WriteTemp(whole.substr(0, cut));
    ASSERT_TRUE(f.ok());
    Result<Collected> c = ReadAll(f->path(), options);
    if (c.ok()) {
      EXPECT_LE(c->numbers.size(), 120u) << cut;
    } else {
      EXPECT_NE(c.status().code(), StatusCode::kOk) << cut;
      EXPECT_FALSE(c.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace chuqu::media

namespace chuqu::media {
namespace {

// Variable frame rate: 10 frames in the first second, then one every 0.5 s. Made with the
// ffmpeg CLI (scripts/setup installs it); skipped if it is absent.
TEST(VideoFramesTest, VariableFrameRateByTimestamp) {
  Result<TempFile> tmp = TempFile::Create("chuqu-vfr");
  ASSERT_TRUE(tmp.ok());
  const std::string path = tmp->path() + ".mkv";
  const std::string cmd =
      "ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -t 3 "
      "-vf \"setpts='if(lt(N,10),N/10,1+(N-10)/2)/TB'\" -fps_mode vfr -c:v mpeg4 " +
      path + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "ffmpeg CLI not available";
  VideoFrameOptions options;
  options.by_timestamp = true;
  VideoInfo info;
  Result<Collected> c = ReadAll(path, options, &info);
  std::remove(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(info.clock, SamplingClock::kTimestamp);
  ASSERT_EQ(c->timestamps.size(), 3u);  // one frame in each of seconds 0, 1, 2
  EXPECT_NEAR(c->timestamps[0], 0.0, 1e-6);
  EXPECT_NEAR(c->timestamps[1], 1.0, 1e-6);
  EXPECT_NEAR(c->timestamps[2], 2.0, 1e-6);
  EXPECT_EQ(c->numbers[1], 10);
  EXPECT_EQ(c->numbers[2], 12);
}

}  // namespace
}  // namespace chuqu::media
