#include "registry/entry.h"

#include <sodium.h>

#include <ctime>

#include "base/jcs.h"
#include "ledger/note.h"

namespace chuqu::registry {

std::string NowRfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd-length hex");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case refused: ids are canonical lower-case
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("not lower-case hex");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return ToHex(std::string_view(reinterpret_cast<const char*>(out), sizeof(out)));
}

namespace {

nlohmann::json Unsigned(const Entry& e) {
  return nlohmann::json{{"v", kEntryVersion}, {"kind", e.kind}, {"time", e.time},
                        {"party", e.party},   {"seq", e.seq},   {"body", e.body}};
}

}  // namespace

Result<std::string> SignEntry(Entry entry, std::string_view secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("secret key must be 64 bytes");
  }
  nlohmann::json j = Unsigned(entry);
  CHUQU_ASSIGN_OR_RETURN(std::string message, CanonicalJson(j));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_key.data()));
  j["signature"] = ledger::Base64Encode(std::string_view(reinterpret_cast<char*>(sig), sizeof(sig)));
  CHUQU_ASSIGN_OR_RETURN(std::string out, CanonicalJson(j));
  if (out.size() > kMaxEntrySize) {
    return Status::ResourceExhausted("entry of " + std::to_string(out.size()) +
                                     " bytes exceeds the 65535-byte limit");
  }
  return out;
}

Result<Entry> ParseAndVerifyEntry(std::string_view bytes) {
  if (bytes.size() > kMaxEntrySize) return Status::ResourceExhausted("entry too large");
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("entry is not JSON");
  auto str = [&](const char* key) -> const std::string* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const std::string* kind = str("kind");
  const std::string* time = str("time");
  const std::string* party = str("party");
  const std::string* sig = str("signature");
  auto v = j.find("v");
  auto seq = j.find("seq");
  auto body = j.find("body");
  if (!kind || !time || !party || !sig || v == j.end() || seq == j.end() || body == j.end() ||
      !seq->is_number_integer() || !body->is_object() || *v != kEntryVersion) {
    return Status::InvalidArgument("entry lacks v, kind, time, party, seq, body or signature");
  }
  if (j.size() != 7) return Status::InvalidArgument("entry has unknown fields");
  CHUQU_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(j));
  if (canonical != bytes) return Status::InvalidArgument("entry is not canonical JSON (RFC 8785)");
  Entry e;
  e.kind = *kind;
  e.time = *time;
  e.party = *party;
  e.seq = seq->get<int64_t>();
  e.body = *body;
  Result<std::string> pk = FromHex(e.party);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return Status::InvalidArgument("party must be a 64-digit lower-case hex Ed25519 key");
  }
  Result<std::string> s = ledger::Base64Decode(*sig);
  if (!s.ok() || s->size() != crypto_sign_BYTES) {
    return Status::InvalidArgument("signature must be base64 of 64 bytes");
  }
  e.signature = *s;
  CHUQU_ASSIGN_OR_RETURN(std::string message, CanonicalJson(Unsigned(e)));
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(s->data()),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size(),
                                  reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
    return Status::Unauthenticated("entry signature does not verify with the party's key");
  }
  return e;
}

}  // namespace chuqu::registry
