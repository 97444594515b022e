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

#include <vips/vips.h>

#include "media/file.h"

namespace chuqu::media {
namespace {

// Images of every shape the registration decode handles: RGB, alpha, grey (+alpha), 16-bit,
// palette, EXIF-rotated, with an XMP title, from the shared data and generated here.
std::vector<std::string> ImagesDecodedOnce() {
  std::vector<std::string> paths;
  const std::string shared = std::string(CHUQU_SHARED_DATA) + "/media/images/";
  for (const char* name : {"kodak/kodim01.png", "kodak/kodim23.png", "wikimedia-commons/wp001.jpg",
                           "wikimedia-commons/wp002.jpg", "wikimedia-commons/wp007.jpg"}) {
    if (std::filesystem::exists(shared + name)) paths.push_back(shared + name);
  }
  const std::string dir = TestDir() + "/once_";
  const std::pair<const char*, const char*> ffmpeg[] = {
      {"rgba.png", "-vf format=rgba,colorchannelmixer=aa=0.6"},
      {"grey.png", "-pix_fmt gray"},
      {"greyalpha.png", "-vf format=ya8"},
      {"grey16.png", "-pix_fmt gray16be"},
      {"rgb48.png", "-pix_fmt rgb48be"},
      {"palette.gif", ""},
      {"q75.jpg", "-q:v 5"},
      {"lossy.webp", "-c:v libwebp"},
      {"deflate.tiff", "-compression_algo deflate"},
      {"still.jp2", "-c:v libopenjpeg"},
  };
  for (const auto& [name, args] : ffmpeg) {
    const std::string path = dir + name;
    if (Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=160x120 " + std::string(args) +
              " -frames:v 1 " + path)) {
      paths.push_back(path);
    } else {
      ADD_FAILURE() << "ffmpeg could not make " << name;
    }
  }
  // EXIF orientation 6 and an XMP title, written by libvips.
  VipsImage* src = vips_image_new_from_file((dir + "q75.jpg").c_str(), nullptr);
  if (src != nullptr) {
    VipsImage* copy = nullptr;
    if (vips_copy(src, &copy, nullptr) == 0) {
      vips_image_set_int(copy, "orientation", 6);
      static const char kXmp[] =
          "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/"
          "02/22-rdf-syntax-ns#\"><rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/"
          "\"><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Rotated title</rdf:li>"
          "</rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>";
      vips_image_set_blob_copy(copy, "xmp-data", kXmp, sizeof(kXmp) - 1);
      if (vips_jpegsave(copy, (dir + "rotated.jpg").c_str(), nullptr) == 0) {
        paths.push_back(dir + "rotated.jpg");
      }
      g_object_unref(copy);
    }
    g_object_unref(src);
  }
  vips_error_clear();
  return paths;
}

std::string Bytes(const std::string& path) {
  Result<std::string> b = ReadPrefix(path, 1 << 30);
  return b.ok() ? *b : "";
}

// A registration decodes its image once (ExtractOptions::image_rgb_long_side): the ISCC pixels
// are bit for bit those of IsccImagePixels (the conformant iscc-sdk pipeline), the RGB pixels
// those of DecodeImageRgb, the title that of ImageTitle — from a file and from memory alike.
TEST(ExtractImage, DecodedOnceGivesWhatEachDecoderGives) {
  const std::vector<std::string> paths = ImagesDecodedOnce();
  ASSERT_GE(paths.size(), 11u);
  bool saw_title = false;
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    Result<std::array<uint8_t, 1024>> iscc = IsccImagePixels(path);
    ImageDecodeOptions decode;
    decode.max_long_side = 8192;
    Result<RgbImage> rgb = DecodeImageRgb(path, decode);
    ASSERT_TRUE(iscc.ok()) << iscc.status().ToString();
    ASSERT_TRUE(rgb.ok()) << rgb.status().ToString();
    const std::string title = ImageTitle(path);
    saw_title |= title == "Rotated title";
    if (path.ends_with("rotated.jpg")) {  // orientation 6 applied
      EXPECT_EQ(rgb->width, 120);
      EXPECT_EQ(rgb->height, 160);
    }

    ExtractOptions options;
    options.image_rgb_long_side = 8192;
    const std::string bytes = Bytes(path);
    const std::string name = std::filesystem::path(path).filename().string();
    ASSERT_TRUE(IsImageBytes(bytes, name));
    Result<Content> file = Extract(path, options);
    Result<Content> mem = ExtractImageBytes(bytes, name, options);
    for (Result<Content>* c : {&file, &mem}) {
      ASSERT_TRUE(c->ok()) << c->status().ToString();
      Content& content = **c;
      EXPECT_EQ(content.type, ContentType::kImage);
      EXPECT_EQ(content.grey32, *iscc);
      EXPECT_EQ(content.rgb.width, rgb->width);
      EXPECT_EQ(content.rgb.height, rgb->height);
      EXPECT_TRUE(content.rgb.rgb == rgb->rgb);
      EXPECT_EQ(content.title, title);
    }
    EXPECT_EQ(mem->mime, file->mime);

    // Larger than the RGB bound: the ISCC pixels still come, the RGB is left to the caller.
    options.image_rgb_long_side = 16;
    Result<Content> big = ExtractImageBytes(bytes, name, options);
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(big->grey32, *iscc);
    EXPECT_TRUE(big->rgb.rgb.empty());
    // Without pixels (a match query decodes its own): identified and titled only.
    options.image_pixels = false;
    Result<Content> bare = ExtractImageBytes(bytes, name, options);
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(bare->type, ContentType::kImage);
    EXPECT_EQ(bare->title, title);
  }
  EXPECT_TRUE(saw_title);
}

TEST(ExtractImage, BadBytesFailAsTheFileDoes) {
  const std::string png = TestDir() + "/bad_src.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=320x240 -frames:v 1 " + png));
  const std::string bytes = Bytes(png);
  // Truncated: the same error as the file's, nothing half-decoded.
  const std::string cut = bytes.substr(0, bytes.size() / 2);
  Result<Content> cut_file = Extract(WriteFile("cut.png", cut));
  Result<Content> cut_mem = ExtractImageBytes(cut, "cut.png");
  ASSERT_FALSE(cut_file.ok());
  ASSERT_FALSE(cut_mem.ok());
  EXPECT_EQ(cut_mem.status().code(), cut_file.status().code());
  // And a truncated JPEG shrunk on load (a match query's decode), from memory as from a file:
  // libvips 8.14's thumbnail of a buffer needs fail_on in the loader's options too.
  const std::string jpg = TestDir() + "/bad_src.jpg";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=320x240 -frames:v 1 " + jpg));
  const std::string jpeg_cut = Bytes(jpg).substr(0, Bytes(jpg).size() / 2);
  ImageDecodeOptions small;
  small.max_long_side = 100;
  EXPECT_FALSE(DecodeImageRgb(WriteFile("cut.jpg", jpeg_cut), small).ok());
  Result<RgbImage> cut_thumb = DecodeImageRgbFromBuffer(
      {reinterpret_cast<const uint8_t*>(jpeg_cut.data()), jpeg_cut.size()}, small);
  EXPECT_FALSE(cut_thumb.ok());
  // A decompression bomb is refused before decoding.
  ExtractOptions tiny;
  tiny.image.max_pixels = 1000;
  EXPECT_EQ(ExtractImageBytes(bytes, "x.png", tiny).status().code(),
            StatusCode::kResourceExhausted);
  // Not images, or named as something else: not taken from memory, and refused if asked.
  EXPECT_FALSE(IsImageBytes(bytes, "photo.pdf"));
  EXPECT_EQ(ExtractImageBytes(bytes, "photo.pdf").status().message(),
            "named .pdf but the content is a PNG image");
  EXPECT_FALSE(IsImageBytes("just some words\n", "a.txt"));
  EXPECT_FALSE(IsImageBytes("", "a.png"));
  EXPECT_EQ(ExtractImageBytes("", "a.png").status().message(), "file is empty (0 bytes)");
  Result<Content> text = ExtractImageBytes("just some words\n", "a");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chuqu::media
