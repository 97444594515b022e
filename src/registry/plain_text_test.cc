// The in-memory plain-text path (Registry::FingerprintPlainText, MatchPlainText,
// RegisterPlainText) against the file path (FingerprintFile, MatchFile, RegisterFile) for the
// same bytes: equal fingerprints (entry body and blobs), equal matches, equal entries.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "base/testing/make_text.h"
#include "base/testing/temp_dir.h"
#include "media/detect.h"
#include "media/extract.h"
#include "registry/registry.h"
#include "registry/testing/same_results.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;

using chuqu::testing::Latin1;
using chuqu::testing::MakeChinese;
using chuqu::testing::MakeText;
using testing::ExpectSameFingerprints;
using testing::ExpectSameMatches;


const char kFrench[] =
    "L'été dernier, à Besançon, la pluie tombait sur les façades grises et les cafés "
    "étaient pleins. Élodie écrivait des lettres à sa soeur, décrivant chaque détail: "
    "le goût amer du café, les pavés glissants, la lumière dorée du soir qui s'éteignait "
    "derrière la cathédrale. Ces lettres, conservées dans une boîte en fer, racontent une "
    "époque où l'on prenait le temps de rêver, de marcher, de regarder passer les bateaux.\n";

class PlainTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Registry::Init(dir_.Sub("reg"), "test.example/log");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(*r);
    alice_ = PartyKey::Generate();
    ASSERT_TRUE(reg_->RegisterParty(alice_, "Alice").ok());
  }

  // A file holding `bytes`, named as the server spools a raw text/plain upload.
  std::string File(const std::string& bytes, const std::string& name = "upload.txt") {
    const fs::path sub = dir_.path() / std::to_string(files_++);
    fs::create_directories(sub);
    const std::string path = (sub / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  chuqu::testing::TempDir dir_{"chuqu_plain_text_"};  // outlives reg_
  int files_ = 0;
  std::unique_ptr<Registry> reg_;
  PartyKey alice_;
};

TEST_F(PlainTextTest, SameFingerprintsAsTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"english", MakeText(1, 300)},
      {"chinese", MakeChinese(2, 40)},
      {"bom", "\xEF\xBB\xBF" + MakeText(3, 120)},
      {"crlf and tabs", "Title\tline\r\n\r\n" + MakeText(4, 80)},
      {"latin-1 (not UTF-8: decoded as the file's bytes are)", Latin1(kFrench)},
  };
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    const std::string path = File(bytes);
    // The file path's premise: libmagic takes these bytes for plain text.
    Result<media::Content> detected = media::Extract(path);
    ASSERT_TRUE(detected.ok()) << detected.status().ToString();
    ASSERT_EQ(detected->mime, "text/plain");
    Result<Fingerprints> file = Registry::FingerprintFile(path);
    Result<Fingerprints> mem = Registry::FingerprintPlainText(bytes, "upload.txt");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    EXPECT_EQ(mem->media, "text");
    EXPECT_FALSE(mem->meta_code.empty());
    EXPECT_TRUE(mem->text.has_value());
    ExpectSameFingerprints(*file, *mem);
  }
  // The name stands in for the file's: another name, another Meta-Code, same content codes.
  Result<Fingerprints> a = Registry::FingerprintPlainText(MakeText(5, 50), "a.txt");
  Result<Fingerprints> b = Registry::FingerprintPlainText(MakeText(5, 50), "b.txt");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->meta_code, b->meta_code);
  EXPECT_EQ(a->content_code, b->content_code);
  EXPECT_EQ(a->sha256, b->sha256);
}

TEST_F(PlainTextTest, Utf8FrenchMatchesItsLatin1File) {
  // The same text in two encodings: one content code, two byte codes.
  Result<Fingerprints> utf8 = Registry::FingerprintPlainText(kFrench, "upload.txt");
  Result<Fingerprints> latin1 = Registry::FingerprintFile(File(Latin1(kFrench)));
  ASSERT_TRUE(utf8.ok() && latin1.ok());
  EXPECT_EQ(utf8->query_text, latin1->query_text);
  EXPECT_EQ(utf8->content_code, latin1->content_code);
  EXPECT_NE(utf8->sha256, latin1->sha256);
}

TEST_F(PlainTextTest, SameMatchesAsTheFile) {
  std::vector<std::string> texts;
  for (uint32_t s = 10; s < 16; ++s) {
    texts.push_back(s % 2 ? MakeText(s, 250) : MakeChinese(s, 30));
    Result<RegisterResult> r = reg_->RegisterFile(alice_, File(texts.back(), "t.txt"), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  const std::vector<std::string> queries = {
      texts[1].substr(texts[1].size() / 5, texts[1].size() * 3 / 5),  // an excerpt
      texts[2],                                                       // a whole Chinese text
      MakeText(99, 60) + " " + texts[3].substr(300, 700) + " " + texts[5].substr(100, 500),
      "\xEF\xBB\xBF" + texts[0],
      MakeText(100, 200),  // nothing registered
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(i);
    Result<std::vector<Match>> file = reg_->MatchFile(File(queries[i]));
    Result<std::vector<Match>> mem = reg_->MatchPlainText(queries[i], "upload.txt");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    ExpectSameMatches(*file, *mem);
    if (i < 4) {
      ASSERT_FALSE(mem->empty());
    } else {
      EXPECT_TRUE(mem->empty());
    }
  }
}

TEST_F(PlainTextTest, SameEntryAsTheFile) {
  // One Idempotency-Key: the file registration is refused as "same content" only if its entry
  // body equals the in-memory one.
  const std::string text = MakeChinese(7, 20);
  Result<RegisterResult> mem = reg_->RegisterPlainText(alice_, text, "upload.txt", {}, "key-1");
  ASSERT_TRUE(mem.ok()) << mem.status().ToString();
  EXPECT_EQ(mem->media, "text");
  Result<WorkRecord> w = reg_->GetWork(mem->work);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->entry["body"]["work"]["title"], "upload");
  EXPECT_EQ(w->entry["body"]["work"]["kind"], "text");
  const uint64_t size = reg_->size();
  Result<RegisterResult> file = reg_->RegisterFile(alice_, File(text), {}, "key-1");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kAlreadyExists) << file.status().ToString();
  EXPECT_EQ(reg_->size(), size);
  // A different name is a different entry body.
  Result<RegisterResult> other = reg_->RegisterPlainText(alice_, text, "other.txt", {}, "key-1");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  // Registered again without a key: the first registration is prior art, a byte copy.
  Result<RegisterResult> again = reg_->RegisterPlainText(alice_, text, "upload.txt", {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_FALSE(again->prior_art.empty());
  EXPECT_EQ(again->prior_art[0].work, mem->work);
  EXPECT_DOUBLE_EQ(again->prior_art[0].score, 1.0);
}

TEST_F(PlainTextTest, BadBytesGiveTheFilePathsErrors) {
  const uint64_t size = reg_->size();
  struct Case {
    const char* what;
    std::string bytes;
    StatusCode code;
    const char* message;  // the end of both paths' messages
  };
  const Case cases[] = {
      {"empty", "", StatusCode::kInvalidArgument, "file is empty (0 bytes)"},
      {"blank", "  \n\t\n  ", StatusCode::kInvalidArgument, "no text content could be extracted"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Result<std::vector<Match>> mem = reg_->MatchPlainText(c.bytes, "upload.txt");
    Result<std::vector<Match>> file = reg_->MatchFile(File(c.bytes));
    ASSERT_FALSE(mem.ok());
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(mem.status().code(), c.code);
    EXPECT_EQ(file.status().code(), c.code);
    EXPECT_EQ(mem.status().message(), std::string("upload.txt: ") + c.message);
    EXPECT_TRUE(file.status().message().ends_with(c.message)) << file.status().message();
    EXPECT_FALSE(reg_->RegisterPlainText(alice_, c.bytes, "upload.txt", {}).ok());
  }
  // Binary is not plain text: callers take the file path, whose content detection refuses it
  // (the plain-text path does not sniff, see registry.h).
  const std::string binary("\x00\x9f\x92\x96\x00\xff\xfe\x01", 8);
  EXPECT_FALSE(Registry::IsPlainText(binary));
  Result<std::vector<Match>> file = reg_->MatchFile(File(binary));
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().message().ends_with("named .txt but the content is binary data"))
      << file.status().message();
  EXPECT_EQ(reg_->size(), size);
}

TEST(PlainTextPredicate, Utf8TextOnly) {
  EXPECT_TRUE(Registry::IsPlainText("hello\n"));
  EXPECT_TRUE(Registry::IsPlainText("\357\273\277bom"));  // after a BOM
  EXPECT_TRUE(Registry::IsPlainText("中文，\t\r\n\f\v\a\b\x1b[0m"));
  EXPECT_FALSE(Registry::IsPlainText(""));
  EXPECT_FALSE(Registry::IsPlainText("a"));  // libmagic: "very short file", binary
  EXPECT_TRUE(Registry::IsPlainText("ab"));
  EXPECT_FALSE(Registry::IsPlainText("\xEF\xBB\xBF"));          // a BOM alone
  EXPECT_FALSE(Registry::IsPlainText(std::string("a\0b", 3)));  // NUL
  EXPECT_FALSE(Registry::IsPlainText("a\001b"));                // other controls
  EXPECT_FALSE(Registry::IsPlainText("a\177b"));                // DEL
  EXPECT_FALSE(Registry::IsPlainText("caf\xe9"));               // Latin-1
  EXPECT_FALSE(Registry::IsPlainText("\xc0\xaf"));              // overlong
  EXPECT_FALSE(Registry::IsPlainText("\xed\xa0\x80"));          // surrogate
  EXPECT_FALSE(Registry::IsPlainText("\xe4\xb8"));              // truncated
}

// Random strings over text characters (ASCII, CJK, the text controls), sometimes with one byte
// libmagic does not count as text: those are never plain text; the others are, libmagic takes
// them for text too (the fast path accepts nothing the file path would call binary), and they
// fingerprint as the file path does.
TEST_F(PlainTextTest, RandomTextAgreesWithLibmagicAndTheFile) {
  static const char* kPieces[] = {"a",  "Z",  "9",  " ",    ".", ",",  "\n", "\r\n", "\t", "\f",
                                  "\v", "\a", "\b", "\x1b", "é", "中", "文", "。",   "😀",  "word "};
  static const char kNonText[] = {'\0', '\x01', '\x06', '\x0e', '\x1a', '\x1f', '\x7f'};
  std::mt19937 rng(2026);
  int plain = 0, checked_against_file = 0;
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 120);
    for (int k = 0; k < n; ++k) s += kPieces[rng() % std::size(kPieces)];
    if (s.size() < 2) s += "x";
    const bool poisoned = rng() % 4 == 0;
    if (poisoned) s.insert(rng() % (s.size() + 1), 1, kNonText[rng() % std::size(kNonText)]);
    SCOPED_TRACE(::testing::PrintToString(s));
    if (poisoned) {
      EXPECT_FALSE(Registry::IsPlainText(s));
      continue;
    }
    ASSERT_TRUE(Registry::IsPlainText(s));
    ++plain;
    const media::Detected d = media::DetectBytes(s);
    EXPECT_EQ(d.kind, media::MediaKind::kText) << d.mime;
    if (d.mime != "text/plain" || i % 10 != 0) continue;
    // Every tenth against the file path (a file costs a spool-like write and libmagic).
    Result<Fingerprints> file = Registry::FingerprintFile(File(s));
    Result<Fingerprints> mem = Registry::FingerprintPlainText(s, "upload.txt");
    ASSERT_EQ(file.ok(), mem.ok());
    if (file.ok()) ExpectSameFingerprints(*file, *mem);
    ++checked_against_file;
  }
  EXPECT_GT(plain, 150);
  EXPECT_GT(checked_against_file, 10);
}

}  // namespace
}  // namespace chuqu::registry
