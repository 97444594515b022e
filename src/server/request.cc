#include "server/request.h"

#include <sodium.h>

#include <span>

namespace chuqu::server {
namespace {

using nlohmann::json;

// Deepest bracket nesting of JSON text, strings skipped. A pre-scan, so a hostile body of
// millions of '[' is refused in one linear pass without building anything.
int MaxDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > kMaxJsonDepth) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

bool OneOf(std::string_view key, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (key == a) return true;
  }
  return false;
}

Result<const json*> Field(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Status::InvalidArgument(std::string("missing field \"") + key + "\"");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

std::string Quoted(const char* key) { return std::string("\"") + key + "\""; }

// Standard base64 (RFC 4648 §4) -> bytes; `what` names the value in the error.
Result<std::string> FromBase64(const std::string& s, const std::string& what) {
  std::string raw(s.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), s.data(),
                        s.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::InvalidArgument(what + " is not valid base64");
  }
  raw.resize(len);
  return raw;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The "blobs" object of the fingerprints form: the bulky fingerprints, each in the format the
// registry commits to in a work entry (docs/entry-format.md), checked with the same decoders.
Status ParseFingerprintBlobs(const json& j, registry::Fingerprints& fp) {
  CHUQU_RETURN_IF_ERROR(CheckKeys(j, "fingerprints.blobs", {"text", "image", "video", "audio"}));
  for (const auto& [k, v] : j.items()) {
    const std::string what = "fingerprints.blobs." + k;
    if (!v.is_string()) return Status::InvalidArgument(what + " must be a base64 string");
    const std::string& b64 = v.get_ref<const std::string&>();
    if (b64.size() / 4 * 3 > kMaxFingerprintBlobBytes) {
      return Status::InvalidArgument(what + " is over " +
                                     std::to_string(kMaxFingerprintBlobBytes >> 20) + " MiB");
    }
    CHUQU_ASSIGN_OR_RETURN(std::string raw, FromBase64(b64, what));
    auto invalid = [&](const Status& s) {
      return Status::InvalidArgument(what + ": " + s.message());
    };
    if (k == "text") {
      Result<text::TextFingerprints> t = text::DecodeFingerprints(raw);
      if (!t.ok()) return invalid(t.status());
      fp.text = std::move(*t);
    } else if (k == "image") {
      Result<index::ImageFingerprint> im = index::DecodeImageFingerprint(Bytes(raw));
      if (!im.ok()) return invalid(im.status());
      fp.image = std::move(*im);
    } else if (k == "video") {
      Result<index::VideoFingerprint> vf = index::DecodeVideoFingerprint(Bytes(raw));
      if (!vf.ok()) return invalid(vf.status());
      fp.video = std::move(*vf);
    } else {
      Result<index::AudioFingerprint> a = index::DecodeAudioFingerprint(Bytes(raw));
      if (!a.ok()) return invalid(a.status());
      fp.audio = std::move(*a);
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsJsonContentType(std::string_view ct) {
  constexpr std::string_view kJson = "application/json";
  return ct == kJson || (ct.substr(0, kJson.size()) == kJson && ct.size() > kJson.size() &&
                         ct[kJson.size()] == ';');
}

Result<json> ParseJson(std::string_view text, std::string_view what) {
  if (MaxDepth(text) > kMaxJsonDepth) {
    return Status::InvalidArgument(std::string(what) + " is nested deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("malformed " + std::string(what));
  return j;
}

Result<json> ParseJsonBody(std::string_view content_type, std::string_view body,
                           std::initializer_list<std::string_view> allowed) {
  if (!IsJsonContentType(content_type)) {
    return Status::InvalidArgument("Content-Type must be application/json");
  }
  CHUQU_ASSIGN_OR_RETURN(json j, ParseJson(body, "JSON body"));
  if (!j.is_object()) return Status::InvalidArgument("JSON body must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!OneOf(k, allowed)) return Status::InvalidArgument("unknown field \"" + k + "\"");
  }
  return j;
}

Status CheckKeys(const json& j, std::string_view what,
                 std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + " must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!OneOf(k, allowed)) {
      return Status::InvalidArgument("unknown field \"" + k + "\" in " + std::string(what));
    }
  }
  return Status::Ok();
}

Result<std::string> JsonString(const json& j, const char* key, bool required, std::string def) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, required));
  if (v == nullptr) return def;
  if (!v->is_string()) return Status::InvalidArgument(Quoted(key) + " must be a string");
  return v->get<std::string>();
}

Result<int64_t> JsonInt(const json& j, const char* key, bool required, int64_t def) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, required));
  if (v == nullptr) return def;
  const std::string range = " must be an integer within +-(2^53 - 1)";
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(kMaxJsonInteger)) {
      return Status::InvalidArgument(Quoted(key) + range);
    }
    return static_cast<int64_t>(u);
  }
  if (!v->is_number_integer()) return Status::InvalidArgument(Quoted(key) + range);
  const int64_t i = v->get<int64_t>();
  if (i < -kMaxJsonInteger || i > kMaxJsonInteger) {
    return Status::InvalidArgument(Quoted(key) + range);
  }
  return i;
}

Result<uint64_t> JsonId(const json& j, const char* key) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, true));
  if (!v->is_number_unsigned() || v->get<uint64_t>() > static_cast<uint64_t>(kMaxJsonInteger)) {
    return Status::InvalidArgument(Quoted(key) +
                                   " must be a non-negative integer below 2^53");
  }
  return v->get<uint64_t>();
}

Result<bool> JsonBool(const json& j, const char* key, bool def) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, false));
  if (v == nullptr) return def;
  if (!v->is_boolean()) return Status::InvalidArgument(Quoted(key) + " must be a boolean");
  return v->get<bool>();
}

Result<registry::WorkInfo> ParseWorkInfo(const json& j) {
  CHUQU_RETURN_IF_ERROR(CheckKeys(j, "info", {"kind", "title", "creators", "ai_generated",
                                              "digital_human", "owners", "attributes"}));
  registry::WorkInfo info;
  CHUQU_ASSIGN_OR_RETURN(info.kind, JsonString(j, "kind", false, "other"));
  if (!registry::IsWorkKind(info.kind)) return Status::InvalidArgument("unknown work kind");
  CHUQU_ASSIGN_OR_RETURN(info.title, JsonString(j, "title", false));
  CHUQU_ASSIGN_OR_RETURN(info.ai_generated, JsonBool(j, "ai_generated", false));
  CHUQU_ASSIGN_OR_RETURN(info.digital_human, JsonBool(j, "digital_human", false));
  if (auto it = j.find("creators"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("\"creators\" must be an array");
    for (const auto& c : *it) {
      if (!c.is_string()) return Status::InvalidArgument("\"creators\" must hold strings");
      info.creators.push_back(c.get<std::string>());
    }
  }
  if (auto it = j.find("owners"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("\"owners\" must be an array");
    for (const auto& o : *it) {
      CHUQU_RETURN_IF_ERROR(CheckKeys(o, "owner", {"party", "basis_points"}));
      registry::Share s;
      CHUQU_ASSIGN_OR_RETURN(s.party, JsonString(o, "party", true));
      CHUQU_ASSIGN_OR_RETURN(s.basis_points, JsonInt(o, "basis_points", true));
      info.owners.push_back(std::move(s));
    }
  }
  if (auto it = j.find("attributes"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("\"attributes\" must be an object");
    info.attributes = *it;
  }
  return info;
}

Result<registry::WorkInfo> ParseWorkInfoPart(std::string_view text) {
  auto j = ParseJson(text, "\"info\" part");
  if (!j.ok()) return j.status();
  return ParseWorkInfo(*j);
}

Result<registry::Fingerprints> ParseFingerprints(const json& j) {
  CHUQU_RETURN_IF_ERROR(CheckKeys(j, "fingerprints",
                                  {"media", "mime", "sha256", "size", "iscc", "meta_code",
                                   "content_code", "data_code", "instance_code", "pdq",
                                   "pdq_quality", "blobs"}));
  registry::Fingerprints fp;
  CHUQU_ASSIGN_OR_RETURN(fp.media, JsonString(j, "media", true));
  CHUQU_ASSIGN_OR_RETURN(fp.mime, JsonString(j, "mime", false));
  CHUQU_ASSIGN_OR_RETURN(fp.sha256, JsonString(j, "sha256", false));
  CHUQU_ASSIGN_OR_RETURN(int64_t size, JsonInt(j, "size", false));
  if (size < 0) return Status::InvalidArgument("\"size\" must be >= 0");
  fp.size = static_cast<uint64_t>(size);
  CHUQU_ASSIGN_OR_RETURN(fp.iscc, JsonString(j, "iscc", false));
  CHUQU_ASSIGN_OR_RETURN(fp.meta_code, JsonString(j, "meta_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.content_code, JsonString(j, "content_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.data_code, JsonString(j, "data_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.instance_code, JsonString(j, "instance_code", false));
  CHUQU_ASSIGN_OR_RETURN(std::string pdq, JsonString(j, "pdq", false));
  if (!pdq.empty()) {
    auto h = Hash256::ParseHex(pdq);
    if (!h.ok()) return Status::InvalidArgument("\"pdq\" must be 64 hex digits");
    fp.pdq = *h;
    fp.pdq_dihedral = {*h};
  }
  CHUQU_ASSIGN_OR_RETURN(int64_t q, JsonInt(j, "pdq_quality", false));
  if (q < 0 || q > 100) return Status::InvalidArgument("\"pdq_quality\" must be 0..100");
  fp.pdq_quality = static_cast<int>(q);
  if (auto it = j.find("blobs"); it != j.end()) {
    CHUQU_RETURN_IF_ERROR(ParseFingerprintBlobs(*it, fp));
  }
  return fp;
}

Result<std::string> SignedEntryParty(std::string_view entry) {
  // The ledger's entry limit (docs/entry-format.md); the registry checks it again.
  if (entry.size() > 65535) return Status::InvalidArgument("\"entry\" is over 65,535 bytes");
  auto e = ParseJson(entry, "\"entry\"");
  if (!e.ok()) return e.status();
  if (!e->is_object()) return Status::InvalidArgument("\"entry\" is not a JSON object");
  return JsonString(*e, "party", true);
}

Result<std::vector<std::string>> ParseBlobs(const json& blobs) {
  if (!blobs.is_array()) return Status::InvalidArgument("\"blobs\" must be an array");
  std::vector<std::string> out;
  for (const auto& b : blobs) {
    if (!b.is_string()) return Status::InvalidArgument("blobs are base64 strings");
    CHUQU_ASSIGN_OR_RETURN(std::string raw, FromBase64(b.get_ref<const std::string&>(), "a blob"));
    out.push_back(std::move(raw));
  }
  return out;
}

Status CheckPartyId(std::string_view p) {
  if (p.size() != 64 || p.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Status::InvalidArgument("party must be 64 lower-case hex digits");
  }
  return Status::Ok();
}

std::string SafeExtension(std::string_view filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos) return "";
  std::string ext(filename.substr(dot + 1));
  if (ext.empty() || ext.size() > 8) return "";
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "";
  }
  return "." + ext;
}

Status CheckIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes) {
    return Status::InvalidArgument("Idempotency-Key must be 1..128 printable ASCII characters");
  }
  for (char c : key) {
    if (c < 0x20 || c > 0x7e) {
      return Status::InvalidArgument("Idempotency-Key must be 1..128 printable ASCII characters");
    }
  }
  return Status::Ok();
}

}  // namespace chuqu::server
