#include "media/detect.h"

#include <gtest/gtest.h>

#include "media/test_media.h"

namespace chuqu::media {
namespace {

using test_util::MakePdf;
using test_util::Shell;
using test_util::TestDir;
using test_util::WriteFile;

TEST(DetectMedia, ByContent) {
  auto text = DetectMedia(WriteFile("plain.txt", "Hello there, this is text.\n"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->kind, MediaKind::kText);
  EXPECT_EQ(text->mime, "text/plain");

  auto html = DetectMedia(WriteFile(
      "page.html", "<!DOCTYPE html><html><head><title>T</title></head><body>x</body></html>"));
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->kind, MediaKind::kHtml);

  auto pdf = DetectMedia(WriteFile("doc.pdf", MakePdf("Hello")));
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(pdf->kind, MediaKind::kPdf);

  const std::string png = TestDir() + "/pic.png";
  ASSERT_TRUE(Shell("ffmpeg -nostdin -y -f lavfi -i testsrc=size=16x16 -frames:v 1 " + png));
  auto image = DetectMedia(png);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->kind, MediaKind::kImage);

  // No extension, or an unknown one, is fine: content decides.
  auto noext = DetectMedia(WriteFile("noext", MakePdf("Hi")));
  ASSERT_TRUE(noext.ok());
  EXPECT_EQ(noext->kind, MediaKind::kPdf);

  auto binary = DetectMedia(WriteFile("blob.bin", std::string("\x00\x01\x02\xff\xfe\x00\x10", 7)));
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(binary->kind, MediaKind::kOther);
}

TEST(DetectMedia, ExtensionContradictingContentIsAnError) {
  auto r = DetectMedia(WriteFile("photo.png", MakePdf("Hello")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "named .png but the content is a PDF document");

  auto upper = DetectMedia(WriteFile("PHOTO.JPG", "just some words in a file\n"));
  ASSERT_FALSE(upper.ok());
  EXPECT_EQ(upper.status().message(), "named .jpg but the content is plain text");

  auto bin = DetectMedia(WriteFile("notes.txt", std::string("\x00\x01\x02\xff\xfe\x00\x10\x80", 8)));
  ASSERT_FALSE(bin.ok());
  EXPECT_NE(bin.status().message().find("named .txt"), std::string::npos);
}

TEST(DetectMedia, LargeUtf8TextCutInsideACharacterIsText) {
  // 256 KiB sniff window: make the window end inside a 3-byte character.
  std::string text(256 * 1024 - 1, 'a');
  for (size_t i = 100; i < text.size(); i += 80) text[i] = '\n';
  text += "\xE4\xB8\xAD more text after the window\n";
  auto r = DetectMedia(WriteFile("big.txt", text));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, MediaKind::kText);
}

TEST(DetectMedia, BadPaths) {
  EXPECT_EQ(DetectMedia(TestDir() + "/nope.txt").status().code(), StatusCode::kNotFound);
  auto empty = DetectMedia(WriteFile("empty.txt", ""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "file is empty (0 bytes)");
  EXPECT_EQ(DetectMedia(TestDir()).status().code(), StatusCode::kInvalidArgument);
}

TEST(DescribeMime, Names) {
  EXPECT_EQ(DescribeMime("application/pdf"), "a PDF document");
  EXPECT_EQ(DescribeMime("application/x-foo"), "content of type application/x-foo");
}

}  // namespace
}  // namespace chuqu::media
