#include "ledger/note.h"

#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/test_util.h"

namespace chuqu::ledger {
namespace {

using testing::ReadTlog;
using testing::Trim;

std::unique_ptr<NoteVerifier> MustVerifier(const std::string& vkey) {
  auto v = ParseVerifierKey(vkey);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(*v) : nullptr;
}

TEST(NoteTest, Base64Strict) {
  EXPECT_EQ(Base64Encode(std::string_view("")), "");
  EXPECT_EQ(Base64Encode(std::string_view("f")), "Zg==");
  EXPECT_EQ(Base64Encode(std::string_view("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYh==").ok());  // non-zero padding bits
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm 9").ok());
  EXPECT_FALSE(Base64Decode("Zg=a").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
}

// Go's published PeterNeumann key pair: signing reproduces the example note byte for byte.
TEST(NoteTest, PeterNeumannSignsByteForByte) {
  std::string skey = Trim(ReadTlog("golang-mod/extracted/PeterNeumann.skey"));
  std::string vkey = Trim(ReadTlog("golang-mod/extracted/PeterNeumann.vkey"));
  std::string note = ReadTlog("golang-mod/extracted/PeterNeumann.note");
  auto signer = Ed25519Signer::FromSignerKey(skey);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->SignerKey(), skey);
  EXPECT_EQ((*signer)->VerifierKey(), vkey);
  auto parsed = ParseNote(note);
  ASSERT_TRUE(parsed.ok());
  const NoteSigner* signers[] = {signer->get()};
  auto signed_note = SignNote(parsed->text, signers);
  ASSERT_TRUE(signed_note.ok());
  EXPECT_EQ(*signed_note, note);
  auto v = MustVerifier(vkey);
  const NoteVerifier* vs[] = {v.get()};
  auto opened = OpenNote(note, vs);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->text, parsed->text);
}

TEST(NoteTest, UnknownSignatureIgnored) {
  auto v = MustVerifier(Trim(ReadTlog("golang-mod/extracted/PeterNeumann.vkey")));
  const NoteVerifier* vs[] = {v.get()};
  auto opened = OpenNote(ReadTlog("golang-mod/extracted/PeterNeumann+EnochRoot.note"), vs);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->verified.size(), 1u);
  ASSERT_EQ(opened->unverified.size(), 1u);
  EXPECT_EQ(opened->unverified[0].name, "EnochRoot");
}

TEST(NoteTest, C2spExampleAndSumGolangOrg) {
  {
    auto v = MustVerifier(Trim(ReadTlog("c2sp/extracted/signed-note-example.vkey")));
    const NoteVerifier* vs[] = {v.get()};
    auto opened = OpenNote(ReadTlog("c2sp/extracted/signed-note-example.note"), vs);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->text, "This is an example message.\n");
  }
  {
    auto v = MustVerifier(Trim(ReadTlog("transparency-dev-formats/extracted/sum.golang.org.vkey")));
    const NoteVerifier* vs[] = {v.get()};
    std::string note = ReadTlog("transparency-dev-formats/extracted/sum.golang.org-6476701.checkpoint");
    auto opened = OpenNote(note, vs);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto cp = ParseCheckpoint(opened->text);
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(cp->origin, "go.sum database tree");
    EXPECT_EQ(cp->size, 6476701u);
    // Origin differs from the key name, as in the Go checksum database.
    EXPECT_FALSE(OpenCheckpoint(note, *v, v->name()).ok());
    EXPECT_TRUE(OpenCheckpoint(note, *v, "go.sum database tree").ok());
  }
}

TEST(NoteTest, TestKeyPairsAndVerifierRules) {
  std::istringstream in(ReadTlog("transparency-dev-formats/extracted/test-keypairs.txt"));
  std::map<std::string, std::pair<std::string, std::string>> keys;  // name -> (vkey, skey)
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string vkey = line.substr(0, line.find(' '));
    std::string skey = line.substr(line.find(' ') + 1);
    keys[vkey.substr(0, vkey.find('+'))] = {vkey, skey};
  }
  ASSERT_EQ(keys.size(), 4u);
  std::vector<std::unique_ptr<Ed25519Signer>> signers;
  for (const auto& [name, kp] : keys) {
    auto s = Ed25519Signer::FromSignerKey(kp.second);
    ASSERT_TRUE(s.ok()) << name;
    EXPECT_EQ((*s)->VerifierKey(), kp.first);
    signers.push_back(std::move(*s));
  }
  std::vector<const NoteSigner*> sp;
  for (auto& s : signers) sp.push_back(s.get());
  std::string text = "multi\nsigned\n";
  auto note = SignNote(text, sp);
  ASSERT_TRUE(note.ok());
  auto known = MustVerifier(keys["Known"].first);
  auto again = MustVerifier(keys["KnownAgain"].first);
  {
    const NoteVerifier* vs[] = {known.get(), again.get()};
    auto opened = OpenNote(*note, vs);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(opened->verified.size(), 2u);
    EXPECT_EQ(opened->unverified.size(), 2u);
  }
  // No known key: rejected.
  {
    const NoteVerifier* vs[] = {};
    EXPECT_EQ(OpenNote(*note, std::span<const NoteVerifier* const>(vs, 0)).status().code(),
              StatusCode::kUnauthenticated);
  }
  // A known key whose signature fails rejects the whole note, even if another verifies.
  {
    auto parsed = ParseNote(*note);
    ASSERT_TRUE(parsed.ok());
    for (auto& s : parsed->signatures) {
      if (s.name == "KnownAgain") s.signature[10] ^= 1;
    }
    const NoteVerifier* vs[] = {known.get(), again.get()};
    auto opened = OpenNote(FormatNote(*parsed), vs);
    EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(opened.status().message().find("KnownAgain"), std::string::npos);
  }
  // Same name, wrong key ID ("grease"): ignored, not a failure.
  {
    auto parsed = ParseNote(*note);
    parsed->signatures.push_back({"Known", known->key_id() ^ 1, std::string(64, 'x')});
    const NoteVerifier* vs[] = {known.get()};
    auto opened = OpenNote(FormatNote(*parsed), vs);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(opened->verified.size(), 1u);
  }
  // Modified text: rejected.
  {
    std::string bad = *note;
    bad[0] = 'M';
    const NoteVerifier* vs[] = {known.get()};
    EXPECT_FALSE(OpenNote(bad, vs).ok());
  }
}

TEST(NoteTest, MalformedNotes) {
  auto signer = Ed25519Signer::Generate("example.org/log");
  ASSERT_TRUE(signer.ok());
  const NoteSigner* sp[] = {signer->get()};
  auto v = (*signer)->MakeVerifier();
  const NoteVerifier* vs[] = {v.get()};
  std::string good = *SignNote("hello\n", sp);
  ASSERT_TRUE(OpenNote(good, vs).ok());
  const std::string kBad[] = {
      "",
      "hello\n",
      "hello\n\n",
      "hello\n\n— example.org/log AAAA\n",           // signature too short
      "hello\n\n- example.org/log " + good.substr(good.rfind(' ') + 1),  // ASCII dash
      "hello\n\n— example.org/log\n",                  // no signature
      "hel\tlo" + good.substr(5),                     // control character
      "hel\xff" "lo" + good.substr(5),                // invalid UTF-8
      good.substr(0, good.size() - 1),                // no final newline
      good + "\n",                                    // trailing blank line
      "hello\n\n— bad+name " + good.substr(good.rfind(' ') + 1),
  };
  for (const std::string& m : kBad) {
    auto r = OpenNote(m, vs);
    EXPECT_FALSE(r.ok()) << m;
  }
  std::string many = "hello\n\n";
  for (int i = 0; i < 101; ++i) many += "— other AAAAAAA=\n";
  EXPECT_EQ(ParseNote(many).status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(SignNote("no newline", sp).ok());
  EXPECT_FALSE(SignNote("blank\n\nline\n", sp).ok());
  EXPECT_FALSE(SignNote("ctrl\x01\n", sp).ok());
  EXPECT_FALSE(Ed25519Signer::Generate("has space").ok());
  EXPECT_FALSE(Ed25519Signer::Generate("has+plus").ok());
  EXPECT_FALSE(Ed25519Signer::Generate("").ok());
  EXPECT_FALSE(IsValidKeyName("nbsp\xc2\xa0"));
  EXPECT_TRUE(IsValidKeyName("出处.example/log"));
}

// As golang/mod does: every single-character change of a vkey is rejected or gives a key
// that does not verify the note.
TEST(NoteTest, MangledVerifierKeys) {
  std::string vkey = Trim(ReadTlog("golang-mod/extracted/PeterNeumann.vkey"));
  std::string note = ReadTlog("golang-mod/extracted/PeterNeumann.note");
  int rejected = 0;
  for (size_t i = 0; i < vkey.size(); ++i) {
    for (char c : std::string("A+0/9az=\xe2")) {
      if (vkey[i] == c) continue;
      // The key ID is hex; Go accepts either case, so an upper-case digit is the same key.
      bool in_key_id = i > vkey.find('+') && i < vkey.rfind('+');
      if (in_key_id && std::tolower(static_cast<unsigned char>(c)) == vkey[i]) continue;
      std::string m = vkey;
      m[i] = c;
      auto v = ParseVerifierKey(m);
      if (!v.ok()) {
        ++rejected;
        continue;
      }
      const NoteVerifier* vs[] = {v->get()};
      EXPECT_FALSE(OpenNote(note, vs).ok()) << m;
    }
    EXPECT_FALSE(ParseVerifierKey(vkey.substr(0, i)).ok());
  }
  EXPECT_GT(rejected, 0);
  EXPECT_FALSE(ParseVerifierKey(vkey + "A").ok());
  EXPECT_FALSE(Ed25519Signer::FromSignerKey(vkey).ok());
  EXPECT_FALSE(Ed25519Signer::FromSignerKey("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").ok());
}

}  // namespace
}  // namespace chuqu::ledger
