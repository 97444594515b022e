#include "media/extract.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "media/image_meta.h"
#include "media/test_media.h"

namespace chuqu::media {
namespace {

using test_util::MakePdf;
using test_util::Shell;
using test_util::TestDir;
using test_util::WriteFile;

TEST(Extract, DispatchesByContent) {
  auto text = Extract(WriteFile("story.txt", "Once upon a time there was a file.\n"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->type, ContentType::kText);
  EXPECT_EQ(text->text, "Once upon a time there was a file.\n");

  auto pdf = Extract(WriteFile("paper", MakePdf("Words in a PDF", "Paper Title")));
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->type, ContentType::kText);
  EXPECT_EQ(pdf->title, "Paper Title");

  const std::string png = TestDir() + "/x.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=64x64 -frames:v 1 " + png));
  auto image = Extract(png);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->type, ContentType::kImage);

  const std::string wav = TestDir() + "/x.wav";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i sine=duration=3 " + wav));
  auto audio = Extract(wav);
  ASSERT_TRUE(audio.ok()) << audio.status().ToString();
  EXPECT_EQ(audio->type, ContentType::kAudio);
  EXPECT_FALSE(audio->chromaprint.empty());

  // A video with a sound track is video; cover art does not make audio a video.
  const std::string mp4 = TestDir() + "/x.mp4";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=64x48:duration=2 -f lavfi -i "
                    "sine=duration=2 -pix_fmt yuv420p -shortest " + mp4));
  auto video = Extract(mp4);
  ASSERT_TRUE(video.ok()) << video.status().ToString();
  EXPECT_EQ(video->type, ContentType::kVideo);
  EXPECT_FALSE(video->frames.empty());

  auto other = Extract(WriteFile("blob.bin", std::string("\x00\x9f\x92\x96\x00\xff", 6)));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->type, ContentType::kNone);
}

TEST(Extract, BadInputs) {
  EXPECT_EQ(Extract(TestDir() + "/absent").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Extract(WriteFile("zero.bin", "")).ok());
  EXPECT_FALSE(Extract(WriteFile("blank.txt", "   \n\n  ")).ok());
  // A container without audio or video (subtitles only).
  const std::string srt = WriteFile("s.srt", "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n");
  const std::string mkv = TestDir() + "/subs.mkv";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -i " + srt + " " + mkv));
  auto subs = Extract(mkv);
  ASSERT_FALSE(subs.ok());
  EXPECT_EQ(subs.status().message(), "no audio or video stream in the file");
}

TEST(NameFromPath, LikeIsccSdk) {
  EXPECT_EQ(NameFromPath("/a/b/my-holiday_photo.final.jpg"), "my holiday photo.final");
  EXPECT_EQ(NameFromPath("README"), "README");
  EXPECT_EQ(NameFromPath(".hidden"), ".hidden");
  EXPECT_EQ(NameFromPath("dir.d/file"), "file");
}

TEST(ImageTitle, XmpAndIptc) {
  EXPECT_EQ(XmpTitle("<x><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Sun &amp; Sea"
                     "</rdf:li></rdf:Alt></dc:title></x>"),
            "Sun & Sea");
  EXPECT_EQ(XmpTitle("<rdf:Description iscc:name=\"Named\" dc:format=\"x\"/>"), "Named");
  EXPECT_EQ(XmpTitle("<x>nothing</x>"), "");
  std::string iptc = std::string("\x1C\x02\x05\x00\x05", 5) + "Hello";
  EXPECT_EQ(IptcTitle(iptc), "Hello");
  EXPECT_EQ(IptcTitle(std::string("\x1C\x02\x05\x00\x50", 5) + "short"), "");
}

// Every file of the shared test data goes through Extract without crashing or hanging.
// Errors are fine (JSON, keys, ... are data; some samples are deliberately odd). Files
// over 20 MB are skipped and video/audio decoding stops after 1 s / 30 s of media to keep
// the test to seconds: the decoders' code paths are the same past that point.
TEST(Extract, SharedDataDoesNotCrash) {
  const std::filesystem::path root = CHUQU_SHARED_DATA;
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no shared data at " << root;
  ExtractOptions options;
  options.video.max_seconds = 1;
  options.audio.max_seconds = 30;
  int files = 0, ok = 0;
  std::map<std::string, int> types;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.file_size() > 20'000'000) continue;
    ++files;
    auto r = Extract(entry.path().string(), options);
    if (r.ok()) {
      ++ok;
      ++types[std::string(ContentTypeName(r->type))];
    } else {
      EXPECT_FALSE(r.status().message().empty()) << entry.path();
    }
  }
  EXPECT_GT(files, 0);
  for (const auto& [t, n] : types) std::printf("  %s: %d\n", t.c_str(), n);
  std::printf("  %d of %d files extracted\n", ok, files);
}

}  // namespace
}  // namespace chuqu::media

namespace chuqu::media {
namespace {

// Bytes declared plain text give Extract's Content for a file holding them that libmagic
// detects as plain text: one decoder (PlainTextFromBytes) behind both.
TEST(ExtractPlainTextBytes, SameContentAsTheFile) {
  const std::string cases[] = {
      "Once upon a time there was a file.\n",
      "\357\273\277With a byte order mark.\r\n",
      "中文文本，没有标题。\n第二行。\n",
      "caf\351 cr\350me br\373l\351e, d\351j\340 vu, fa\347ade et na\357vet\351 \340 la carte.\n",
  };
  int n = 0;
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(n);
    Result<Content> file = Extract(WriteFile("declared" + std::to_string(n++) + ".txt", bytes));
    Result<Content> mem = ExtractPlainTextBytes(bytes);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    EXPECT_EQ(file->mime, "text/plain");
    EXPECT_EQ(mem->mime, file->mime);
    EXPECT_EQ(mem->type, ContentType::kText);
    EXPECT_EQ(mem->text, file->text);
    EXPECT_EQ(mem->title, file->title);
  }
}

TEST(ExtractPlainTextBytes, BadInputs) {
  EXPECT_EQ(ExtractPlainTextBytes("").status().message(), "file is empty (0 bytes)");
  EXPECT_EQ(ExtractPlainTextBytes(" \n\t ").status().message(),
            "no text content could be extracted");
  ExtractOptions small;
  small.text.max_file_bytes = 10;
  Result<Content> big = ExtractPlainTextBytes("more than ten bytes", small);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  // Markup is not interpreted: the caller declared plain text.
  Result<Content> html = ExtractPlainTextBytes("<html><body><p>Hi</p></body></html>");
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->text, "<html><body><p>Hi</p></body></html>");
}

TEST(IsUtf8PlainText, TextCharactersOnly) {
  EXPECT_TRUE(IsUtf8PlainText("plain\ttext\r\n"));
  EXPECT_TRUE(IsUtf8PlainText("\357\273\277中文"));  // after a BOM
  EXPECT_FALSE(IsUtf8PlainText(""));
  EXPECT_FALSE(IsUtf8PlainText(std::string("nul\0", 4)));
  EXPECT_FALSE(IsUtf8PlainText("caf\xe9"));
  EXPECT_FALSE(IsUtf8PlainText("\002stx"));
}

}  // namespace
}  // namespace chuqu::media
