#include "media/text.h"

#include <gtest/gtest.h>

#include <random>

#include "media/test_media.h"

namespace chuqu::media {
namespace {

using test_util::MakePdf;
using test_util::WriteFile;

TEST(DecodeTextBytes, Utf8PassesAndBomIsStripped) {
  EXPECT_EQ(*DecodeTextBytes("h\xC3\xA9llo"), "h\xC3\xA9llo");
  EXPECT_EQ(*DecodeTextBytes("\xEF\xBB\xBFhello"), "hello");
}

TEST(DecodeTextBytes, Latin1IsDetectedAndConverted) {
  std::string latin1;
  for (int i = 0; i < 20; ++i) {
    latin1 += "Le caf\xE9 de la gare est tr\xE8s agr\xE9" "able, on y mange une cr\xE8me br\xFBl\xE9" "e. ";
  }
  auto r = DecodeTextBytes(latin1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->find("caf\xC3\xA9"), std::string::npos);
  EXPECT_NE(r->find("cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e"), std::string::npos);
  EXPECT_TRUE(IsValidUtf8(*r));
}

TEST(DecodeTextBytes, Utf16WithBom) {
  std::string u16("\xFF\xFE", 2);
  for (char c : std::string("Hello world, this is UTF-16 text.")) {
    u16 += c;
    u16 += '\0';
  }
  auto r = DecodeTextBytes(u16);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "Hello world, this is UTF-16 text.");
}

TEST(DecodeTextBytes, UnidentifiableBytesAreAClearError) {
  std::mt19937 rng(7);
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>(rng() & 0xFF);
  auto r = DecodeTextBytes(noise);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos) << r.status().message();
}

TEST(IsValidUtf8, RejectsMalformed) {
  EXPECT_TRUE(IsValidUtf8("abc \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

TEST(ExtractHtml, VisibleTextAndTitle) {
  auto r = ExtractHtml(WriteFile("t.html",
                                 "<html><head><title> My  Page </title><style>p{}</style></head>"
                                 "<body><p>Fish &amp; chips</p><script>var x = 1;</script>"
                                 "<div>second</div></body></html>"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "My Page");
  EXPECT_NE(r->text.find("Fish & chips"), std::string::npos);
  EXPECT_NE(r->text.find("second"), std::string::npos);
  EXPECT_EQ(r->text.find("var x"), std::string::npos);
  EXPECT_EQ(r->text.find("p{}"), std::string::npos);
  EXPECT_EQ(r->text.find("My Page"), std::string::npos);
}

TEST(ExtractHtml, DeepNestingIsBounded) {
  std::string deep;
  for (int i = 0; i < 1500; ++i) deep += "<span>";
  deep += "bottom";
  auto r = ExtractHtml(WriteFile("deep.html", deep));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->text.find("bottom"), std::string::npos);
  // Far deeper input would make the parser quadratic: refused, not parsed.
  for (int i = 0; i < 100000; ++i) deep += "<span>";
  auto bomb = ExtractHtml(WriteFile("deeper.html", deep));
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.status().code(), StatusCode::kResourceExhausted);
  // Many unclosed paragraphs are ordinary HTML.
  std::string paragraphs;
  for (int i = 0; i < 20000; ++i) paragraphs += "<p>line<br>";
  EXPECT_TRUE(ExtractHtml(WriteFile("paras.html", paragraphs)).ok());
}

TEST(ExtractPdf, TextAndTitle) {
  auto r = ExtractPdf(WriteFile("hello.pdf", MakePdf("Hello PDF world", "A Title")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->text.find("Hello PDF world"), std::string::npos) << r->text;
  EXPECT_EQ(r->title, "A Title");
}

TEST(ExtractPdf, EncryptedAndCorruptAreClearErrors) {
  auto enc = ExtractPdf(WriteFile("locked.pdf", MakePdf("secret", "", true)));
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("encrypted"), std::string::npos) << enc.status().message();

  auto bad = ExtractPdf(WriteFile("bad.pdf", "%PDF-1.4\ngarbage garbage\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("PDF"), std::string::npos);

  std::string pdf = MakePdf("Truncated text here");
  auto cut = ExtractPdf(WriteFile("cut.pdf", pdf.substr(0, pdf.size() / 2)));
  // Poppler may repair a truncated file; either way no crash and a clear result.
  if (!cut.ok()) {
    EXPECT_NE(cut.status().message().find("PDF"), std::string::npos);
  }
}

TEST(ExtractPlainText, LimitsAndMissing) {
  TextOptions small;
  small.max_file_bytes = 10;
  auto r = ExtractPlainText(WriteFile("long.txt", "more than ten bytes"), small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ExtractPlainText("/nonexistent/x.txt").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chuqu::media
