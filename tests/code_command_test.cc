// End-to-end tests of `chuqu code`: runs the built binary (CHUQU_BINARY) on files made at
// test time and checks its stdout, stderr and exit status, every bad-input case included.
#include <gtest/gtest.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"
#include "chuqu/iscc.h"

extern char** environ;

namespace chuqu {
namespace {

// A private temporary directory, removed at exit.
const std::string& Dir() {
  static const chuqu::testing::TempDir dir("chuqu_code_test_");
  static const std::string path = dir.string();
  return path;
}

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = Dir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out, err;
  long max_rss_kib = 0;
};

// Runs chuqu with `args`, capturing stdout/stderr through files; reports the child's peak
// resident set size (getrusage of the reaped child).
RunResult Chuqu(const std::vector<std::string>& args) {
  const std::string out = Dir() + "/stdout", err = Dir() + "/stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_s = {CHUQU_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  RunResult r;
  if (posix_spawn(&pid, CHUQU_BINARY, &fa, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_kib = usage.ru_maxrss;
  r.out = Read(out);
  r.err = Read(err);
  return r;
}

std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::stringstream ss(out);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex;
  static constexpr char k[] = "0123456789abcdef";
  for (unsigned char b : h) {
    hex += k[b >> 4];
    hex += k[b & 15];
  }
  return hex;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The error line chuqu prints for a failing file.
void ExpectFailure(const std::string& path, const std::string& reason_part) {
  RunResult r = Chuqu({"code", path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  const std::string prefix = "chuqu code: " + path + ": ";
  EXPECT_EQ(r.err.substr(0, prefix.size()), prefix) << r.err;
  EXPECT_NE(r.err.find(reason_part), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ChuquCode, PlainTextEqualsIsccFunctions) {
  ASSERT_GE(sodium_init(), 0);
  const std::string text =
      "\xEF\xBB\xBF" "The quick brown fox jumps over the lazy dog.\n\nIt was a bright cold day "
      "in April, and the clocks were striking thirteen.\n";
  const std::string path = Write("my_story-draft.txt", text);
  RunResult r = Chuqu({"code", "--json", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];

  // What iscc-sdk computes: Meta from the file name (no title in plain text), Text-Code of
  // the cleaned text without BOM, Data and Instance of the bytes.
  auto meta = GenMetaCode("my story draft", "", std::nullopt);
  ASSERT_TRUE(meta.ok());
  auto clean = IsccTextClean(text.substr(3));
  ASSERT_TRUE(clean.ok());
  auto content = GenTextCode(*clean);
  ASSERT_TRUE(content.ok());
  auto data = GenDataCode(Bytes(text));
  auto instance = GenInstanceCode(Bytes(text));
  ASSERT_TRUE(data.ok() && instance.ok());
  std::vector<std::string> units = {meta->iscc, content->iscc, *data, instance->iscc};
  auto iscc = GenIsccCode(units);
  ASSERT_TRUE(iscc.ok());

  EXPECT_EQ(j["file"], path);
  EXPECT_EQ(j["media"], "text");
  EXPECT_EQ(j["iscc"], *iscc);
  EXPECT_EQ(j["units"]["meta"], meta->iscc);
  EXPECT_EQ(j["units"]["content"], content->iscc);
  EXPECT_EQ(j["units"]["data"], *data);
  EXPECT_EQ(j["units"]["instance"], instance->iscc);
  EXPECT_EQ(j["sha256"], Sha256Hex(text));
}

TEST(ChuquCode, JsonShapePerMediaType) {
  const std::string png = Dir() + "/pic.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=96x64 -frames:v 1 " + png));
  const std::string wav = Dir() + "/tone.wav";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i sine=duration=4 " + wav));
  const std::string mp4 = Dir() + "/clip.mp4";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=96x64:duration=2 "
                    "-metadata title='Clip Title' -pix_fmt yuv420p " + mp4));
  const std::string bin = Write("blob.bin", std::string("\x00\x01\xfe\xff\x00\x13\x37", 7));
  RunResult r = Chuqu({"code", "--json", png, wav, mp4, bin});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  const char* media[] = {"image", "audio", "video", "data"};
  const char* prefix[] = {"ISCC:KE", "ISCC:KI", "ISCC:KM", "ISCC:KU"};
  const char* content_prefix[] = {"ISCC:EE", "ISCC:EI", "ISCC:EM", ""};
  for (size_t i = 0; i < 4; ++i) {
    const auto& j = lines[i];
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> expected_keys = {"file", "iscc", "media", "sha256", "units"};
    if (i == 0) expected_keys.insert(expected_keys.begin() + 3, "pdq");  // images only
    EXPECT_EQ(keys, expected_keys);
    EXPECT_EQ(j["media"], media[i]);
    EXPECT_EQ(j["iscc"].get<std::string>().substr(0, 7), prefix[i]) << j.dump();
    EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
    EXPECT_TRUE(j["units"].contains("data") && j["units"].contains("instance"));
    if (i < 3) {
      EXPECT_EQ(j["units"]["content"].get<std::string>().substr(0, 7), content_prefix[i]);
      EXPECT_TRUE(j["units"].contains("meta"));
    } else {
      EXPECT_FALSE(j["units"].contains("content"));
      EXPECT_FALSE(j["units"].contains("meta"));
    }
  }
  // The video's title tag is its Meta-Code name.
  auto meta = GenMetaCode("Clip Title", "", std::nullopt);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(lines[2]["units"]["meta"], meta->iscc);

  // Without --json: a block per file.
  RunResult text = Chuqu({"code", png});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("  media     image (image/png)\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(lines[0]["iscc"].get<std::string>()), std::string::npos);
}

TEST(ChuquCode, BadInputsAreOneLineEachAndOthersStillCoded) {
  // Zero bytes.
  ExpectFailure(Write("empty.txt", ""), "empty");
  // Unreadable paths.
  ExpectFailure(Dir() + "/does-not-exist.jpg", "no such file");
  ExpectFailure(Dir(), "directory");
  // Wrong extension.
  const std::string fake_png = Dir() + "/photo.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i sine=duration=1 -f mp3 " + fake_png));
  ExpectFailure(fake_png, "named .png but the content is MP3 audio");
  // Invalid "text": bytes that are neither UTF-8 nor any identifiable encoding.
  std::string noise;
  for (int i = 0; i < 3000; ++i) noise += static_cast<char>((i * 7919 + (i >> 3) * 31) & 0xFF);
  ExpectFailure(Write("notes.txt", noise), "named .txt");
  // Truncated and corrupt files.
  const std::string jpg = Dir() + "/whole.jpg";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=320x240 -frames:v 1 " + jpg));
  const std::string full = Read(jpg);
  ExpectFailure(Write("cut.jpg", full.substr(0, full.size() / 2)), "image");
  ExpectFailure(Write("broken.pdf", "%PDF-1.4\n1 0 obj garbage\n"), "PDF");
  // Huge image: a PNG header declaring 100000 x 100000 pixels (decompression bomb).
  const std::string tiny = Dir() + "/tiny.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i color=c=red:s=2x2 -frames:v 1 " + tiny));
  std::string png = Read(tiny);
  ASSERT_GT(png.size(), 33u);
  for (int k = 0; k < 2; ++k) {  // IHDR width and height at offsets 16 and 20
    const uint32_t v = 100000;
    for (int b = 0; b < 4; ++b) png[16 + 4 * k + b] = static_cast<char>(v >> (24 - 8 * b));
  }
  uint32_t crc = 0xFFFFFFFFu;  // CRC-32 of "IHDR" + data (bytes 12..28)
  for (size_t i = 12; i < 29; ++i) {
    crc ^= static_cast<uint8_t>(png[i]);
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  for (int b = 0; b < 4; ++b) png[29 + b] = static_cast<char>(crc >> (24 - 8 * b));
  ExpectFailure(Write("bomb.png", png), "megapixels");
  // A container without an audio or video stream.
  const std::string srt = Write("subs.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n\n");
  const std::string mkv = Dir() + "/subs.mkv";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -i " + srt + " " + mkv));
  ExpectFailure(mkv, "no audio or video stream");

  // A failing file does not stop the others.
  const std::string good = Write("good.txt", "Some perfectly good words.\n");
  RunResult r = Chuqu({"code", "--json", Dir() + "/missing.txt", good, Write("zero.bin", "")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(JsonLines(r.out).size(), 1u);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
}

// A video whose every frame has the same timestamp (frame rate 0): coded or refused with
// a message, never a crash or a hang.
TEST(ChuquCode, ZeroFrameRateVideo) {
  const std::string mp4 = Dir() + "/rate.mp4";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=64x48:rate=5:duration=2 "
                    "-pix_fmt yuv420p -c:v libx264 " + mp4));
  std::string bytes = Read(mp4);
  // stts: [size][stts][ver/flags][entry count][sample count][sample delta] → delta = 0.
  const size_t stts = bytes.find("stts");
  ASSERT_NE(stts, std::string::npos);
  for (int b = 0; b < 4; ++b) bytes[stts + 16 + b] = 0;
  const std::string zero = Write("zero_rate.mp4", bytes);
  RunResult r = Chuqu({"code", "--json", zero});
  ASSERT_NE(r.exit_code, -1) << "crashed";
  if (r.exit_code == 0) {
    auto lines = JsonLines(r.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["media"], "video");
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err.rfind("chuqu code: " + zero + ": ", 0), 0u) << r.err;
  }
}

// Data and Instance codes stream the file: a large (sparse) file codes in bounded memory.
// 256 MiB keeps the test to seconds; docs/media.md has a measured 4 GiB run.
TEST(ChuquCode, LargeFileInBoundedMemory) {
  const std::string big = Dir() + "/big.bin";
  {
    std::ofstream f(big, std::ios::binary);
    f << "chuqu large-file test header\x01\x02";
  }
  std::filesystem::resize_file(big, 256ull << 20);
  RunResult r = Chuqu({"code", "--json", big});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["media"], "data");
#if !defined(__SANITIZE_ADDRESS__)
  // The binary alone maps ~50 MiB (libvips' ~200 shared libraries); streaming must add
  // little on top, and the whole run must stay under 64 MiB.
  RunResult baseline = Chuqu({"code", "--json", Write("small.bin", std::string("\x00\x01\x02", 3))});
  ASSERT_EQ(baseline.exit_code, 0) << baseline.err;
  EXPECT_LT(r.max_rss_kib - baseline.max_rss_kib, 16 * 1024)
      << "peak RSS " << r.max_rss_kib << " KiB vs " << baseline.max_rss_kib << " KiB for 3 bytes";
  EXPECT_LT(r.max_rss_kib, 64 * 1024) << "peak RSS " << r.max_rss_kib << " KiB";
#endif
  std::filesystem::remove(big);
}

// The README's main-job command.
TEST(ChuquCode, ReadmeSample) {
  RunResult r = Chuqu({"code", std::string(CHUQU_SOURCE_DIR) + "/README.md"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ISCC:KA"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace chuqu
