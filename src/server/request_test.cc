// request.h: each refusal of untrusted request content has a clear InvalidArgument, and the
// inputs libFuzzer found (fuzz/server_request_fuzz.cc) are kept here as regressions.
#include "server/request.h"

#include <sodium.h>

#include <string>

#include <gtest/gtest.h>

namespace chuqu::server {
namespace {

using nlohmann::json;

void ExpectInvalid(const Status& s, std::string_view message_part) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(message_part), std::string::npos) << s.ToString();
}

TEST(RequestTest, JsonContentTypes) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
  EXPECT_FALSE(IsJsonContentType("application/json-patch+json"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType(""));
}

TEST(RequestTest, JsonBodyIsStrict) {
  auto ok = ParseJsonBody("application/json", R"({"work":1,"to":"x"})", {"work", "to"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["work"], 1);
  ExpectInvalid(ParseJsonBody("text/plain", "{}", {}).status(), "Content-Type");
  ExpectInvalid(ParseJsonBody("application/json", "{\"work\":", {"work"}).status(), "malformed");
  ExpectInvalid(ParseJsonBody("application/json", "", {}).status(), "malformed");
  ExpectInvalid(ParseJsonBody("application/json", "[1]", {}).status(), "must be an object");
  ExpectInvalid(ParseJsonBody("application/json", R"({"work":1,"x":2})", {"work"}).status(),
                "unknown field \"x\"");
  // Invalid UTF-8 inside a string.
  ExpectInvalid(ParseJsonBody("application/json", "{\"to\":\"\xff\"}", {"to"}).status(),
                "malformed");
}

TEST(RequestTest, NestingIsBounded) {
  const auto nested = [](int depth) {
    return "{\"attributes\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth), "JSON body").ok());
  ExpectInvalid(ParseJson(nested(kMaxJsonDepth + 1), "JSON body").status(), "nested deeper");
  // A hostile body of a million brackets is refused without being parsed.
  ExpectInvalid(ParseJson(std::string(1 << 20, '['), "JSON body").status(), "nested deeper");
  // Brackets inside strings (and escaped quotes) do not count.
  const std::string in_string = "{\"a\":\"" + std::string(100, '[') + "\\\"" + "\"}";
  EXPECT_TRUE(ParseJson(in_string, "JSON body").ok());
}

TEST(RequestTest, IntegersStayWithinDoublePrecision) {
  const json j = json::parse(
      R"({"a":9007199254740991,"b":9007199254740992,"c":-9007199254740992,
          "d":18446744073709551615,"e":1.5,"f":"1","g":-1,"h":true})");
  EXPECT_EQ(*JsonInt(j, "a", true), 9007199254740991);
  ExpectInvalid(JsonInt(j, "b", true).status(), "2^53");
  ExpectInvalid(JsonInt(j, "c", true).status(), "2^53");
  ExpectInvalid(JsonInt(j, "d", true).status(), "2^53");  // was read as -1 before
  ExpectInvalid(JsonInt(j, "e", true).status(), "\"e\"");
  ExpectInvalid(JsonInt(j, "f", true).status(), "\"f\"");
  EXPECT_EQ(*JsonInt(j, "g", true), -1);
  EXPECT_EQ(*JsonInt(j, "missing", false, 7), 7);
  ExpectInvalid(JsonInt(j, "missing", true).status(), "missing field \"missing\"");
  EXPECT_EQ(*JsonId(j, "a"), 9007199254740991u);
  ExpectInvalid(JsonId(j, "b").status(), "non-negative integer");
  ExpectInvalid(JsonId(j, "g").status(), "non-negative integer");
  ExpectInvalid(JsonId(j, "f").status(), "non-negative integer");
  EXPECT_EQ(*JsonBool(j, "h", false), true);
  ExpectInvalid(JsonBool(j, "a", false).status(), "must be a boolean");
  ExpectInvalid(JsonString(j, "a", true).status(), "must be a string");
}

TEST(RequestTest, WorkInfo) {
  auto info = ParseWorkInfoPart(
      R"({"kind":"dataset","title":"T","creators":["a"],"ai_generated":true,
          "owners":[{"party":"p","basis_points":10000}],"attributes":{"provider":"x"}})");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->kind, "dataset");
  EXPECT_TRUE(info->ai_generated);
  ASSERT_EQ(info->owners.size(), 1u);
  EXPECT_EQ(info->owners[0].basis_points, 10000);
  EXPECT_EQ(info->attributes["provider"], "x");
  ExpectInvalid(ParseWorkInfoPart("{not json").status(), "malformed \"info\" part");
  ExpectInvalid(ParseWorkInfoPart("[]").status(), "info must be an object");
  ExpectInvalid(ParseWorkInfoPart(R"({"colour":"red"})").status(), "unknown field \"colour\"");
  ExpectInvalid(ParseWorkInfoPart(R"({"kind":"sculpture"})").status(), "unknown work kind");
  ExpectInvalid(ParseWorkInfoPart(R"({"creators":"a"})").status(), "must be an array");
  ExpectInvalid(ParseWorkInfoPart(R"({"creators":[1]})").status(), "must hold strings");
  ExpectInvalid(ParseWorkInfoPart(R"({"owners":[{"party":"p"}]})").status(),
                "missing field \"basis_points\"");
  ExpectInvalid(ParseWorkInfoPart(R"({"owners":[{"party":"p","basis_points":1,"x":1}]})")
                    .status(),
                "unknown field \"x\" in owner");
  ExpectInvalid(ParseWorkInfoPart(R"({"attributes":[1]})").status(), "must be an object");
}

TEST(RequestTest, Fingerprints) {
  const std::string pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  auto fp = ParseFingerprints({{"media", "image"}, {"pdq", pdq}, {"pdq_quality", 90},
                               {"size", 5}});
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  ASSERT_TRUE(fp->pdq.has_value());
  EXPECT_EQ(fp->pdq_dihedral.size(), 1u);
  EXPECT_EQ(fp->pdq_quality, 90);
  ExpectInvalid(ParseFingerprints({{"pdq", pdq}}).status(), "missing field \"media\"");
  ExpectInvalid(ParseFingerprints({{"media", "image"}, {"pdq", "zz"}}).status(), "64 hex");
  ExpectInvalid(ParseFingerprints({{"media", "image"}, {"pdq_quality", 101}}).status(), "0..100");
  ExpectInvalid(ParseFingerprints({{"media", "image"}, {"pdq_quality", 1LL << 40}}).status(),
                "0..100");
  ExpectInvalid(ParseFingerprints({{"media", "image"}, {"size", -1}}).status(), ">= 0");
  ExpectInvalid(ParseFingerprints({{"media", "image"}, {"text", "x"}}).status(),
                "unknown field \"text\" in fingerprints");
  ExpectInvalid(ParseFingerprints(json::array()).status(), "must be an object");
}

std::string B64(const std::vector<uint8_t>& b) {
  std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

TEST(RequestTest, FingerprintBlobs) {
  index::ImageFingerprint image;
  image.width = 640;
  image.height = 480;
  image.keypoints.push_back({10.5f, 20.25f});
  image.descriptors.push_back({});
  image.descriptors[0][0] = 0xabcdef;
  index::AudioFingerprint audio;
  audio.values = {1, 2, 3};
  const std::string image_b64 = B64(index::EncodeImageFingerprint(image));
  const std::string audio_b64 = B64(index::EncodeAudioFingerprint(audio));
  auto fp = ParseFingerprints(
      {{"media", "image"}, {"blobs", {{"image", image_b64}, {"audio", audio_b64}}}});
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  ASSERT_TRUE(fp->image.has_value());
  EXPECT_EQ(fp->image->width, 640);
  ASSERT_EQ(fp->image->descriptors.size(), 1u);
  EXPECT_EQ(fp->image->descriptors[0][0], 0xabcdefu);
  ASSERT_TRUE(fp->audio.has_value());
  EXPECT_EQ(fp->audio->values, audio.values);
  EXPECT_FALSE(fp->text.has_value());
  EXPECT_FALSE(fp->video.has_value());

  auto with_blobs = [](json blobs) {
    return ParseFingerprints({{"media", "image"}, {"blobs", std::move(blobs)}}).status();
  };
  // Each a clear refusal naming the blob: corrupt bytes, truncation, not base64, not a string,
  // an unknown kind, too large.
  std::string truncated = image_b64.substr(0, image_b64.size() / 2);
  truncated.resize(truncated.size() / 4 * 4);
  ExpectInvalid(with_blobs({{"image", "Q1FJRgAAAA=="}}), "fingerprints.blobs.image: ");
  ExpectInvalid(with_blobs({{"image", truncated}}), "fingerprints.blobs.image: ");
  ExpectInvalid(with_blobs({{"image", audio_b64}}), "fingerprints.blobs.image: ");
  ExpectInvalid(with_blobs({{"audio", "AAAA"}}), "fingerprints.blobs.audio: ");
  ExpectInvalid(with_blobs({{"video", "AAAA"}}), "fingerprints.blobs.video: ");
  ExpectInvalid(with_blobs({{"text", "AAAA"}}), "fingerprints.blobs.text: ");
  ExpectInvalid(with_blobs({{"image", "!!"}}), "fingerprints.blobs.image is not valid base64");
  ExpectInvalid(with_blobs({{"image", 5}}), "must be a base64 string");
  ExpectInvalid(with_blobs({{"pdq", "AAAA"}}), "unknown field \"pdq\" in fingerprints.blobs");
  ExpectInvalid(with_blobs(json::array()), "fingerprints.blobs must be an object");
  ExpectInvalid(with_blobs({{"image", std::string(kMaxFingerprintBlobBytes / 3 * 4 + 8, 'A')}}),
                "fingerprints.blobs.image is over 16 MiB");
}

TEST(RequestTest, SignedEntriesAndBlobs) {
  EXPECT_EQ(*SignedEntryParty(R"({"party":"abc","seq":1})"), "abc");
  ExpectInvalid(SignedEntryParty("nope").status(), "malformed \"entry\"");
  ExpectInvalid(SignedEntryParty("[]").status(), "not a JSON object");
  ExpectInvalid(SignedEntryParty(R"({"party":1})").status(), "must be a string");
  ExpectInvalid(SignedEntryParty(std::string(70000, ' ')).status(), "65,535");
  auto blobs = ParseBlobs(json::array({"aGVsbG8=", ""}));
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ((*blobs)[0], "hello");
  EXPECT_EQ((*blobs)[1], "");
  ExpectInvalid(ParseBlobs(json::array({"!!"})).status(), "not valid base64");
  ExpectInvalid(ParseBlobs(json::array({1})).status(), "base64 strings");
  ExpectInvalid(ParseBlobs(json::object()).status(), "must be an array");
}

TEST(RequestTest, PartyIdsExtensionsAndIdempotencyKeys) {
  EXPECT_TRUE(CheckPartyId(std::string(64, 'a')).ok());
  ExpectInvalid(CheckPartyId(std::string(64, 'A')), "64 lower-case hex");
  ExpectInvalid(CheckPartyId(std::string(63, 'a')), "64 lower-case hex");
  ExpectInvalid(CheckPartyId("../../etc/passwd"), "64 lower-case hex");
  EXPECT_EQ(SafeExtension("poem.TXT"), ".txt");
  EXPECT_EQ(SafeExtension("a.tar.gz"), ".gz");
  EXPECT_EQ(SafeExtension("noext"), "");
  EXPECT_EQ(SafeExtension("x./../../etc"), "");
  EXPECT_EQ(SafeExtension("x.toolongext"), "");
  EXPECT_EQ(SafeExtension("x."), "");
  EXPECT_TRUE(CheckIdempotencyKey("7f1c2d9e-retry 1").ok());
  EXPECT_TRUE(CheckIdempotencyKey(std::string(128, 'k')).ok());
  ExpectInvalid(CheckIdempotencyKey(""), "Idempotency-Key");
  ExpectInvalid(CheckIdempotencyKey(std::string(129, 'k')), "Idempotency-Key");
  ExpectInvalid(CheckIdempotencyKey("a\nb"), "Idempotency-Key");
  ExpectInvalid(CheckIdempotencyKey("caf\xc3\xa9"), "Idempotency-Key");
}

}  // namespace
}  // namespace chuqu::server
