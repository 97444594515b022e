#include "ledger/note.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "ledger/cosignature.h"

namespace chuqu::ledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kSignerPrefix = "PRIVATE+KEY+";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  CHUQU_CHECK(ok);
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 if invalid (overlong,
// surrogate, > U+10FFFF, truncated).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  uint8_t c = b(0);
  size_t len;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool IsUnicodeSpace(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 and no control characters except '\n'.
bool IsValidNoteBytes(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) return false;
    if ((cp < 0x20 && cp != '\n') || cp == 0x7F) return false;
    i += n;
  }
  return true;
}

std::string Hex8(uint32_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) s[i] = kHex[v & 15];
  return s;
}

Result<uint32_t> ParseHex8(std::string_view s) {
  if (s.size() != 8) return Status::InvalidArgument("key ID must be 8 hex digits");
  uint32_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return Status::InvalidArgument("key ID must be 8 hex digits");
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  return v;
}

struct KeyText {
  std::string name;
  uint32_t key_id;
  std::string key;  // type byte || key material
};

// name+hex8+base64(type||key), with the key ID checked against name and key.
Result<KeyText> ParseKeyText(std::string_view text, const char* what) {
  size_t p1 = text.find('+');
  if (p1 == std::string_view::npos) return Status::InvalidArgument(std::string(what) + ": missing '+'");
  size_t p2 = text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return Status::InvalidArgument(std::string(what) + ": missing second '+'");
  KeyText k;
  k.name = std::string(text.substr(0, p1));
  if (!IsValidKeyName(k.name)) return Status::InvalidArgument(std::string(what) + ": invalid key name");
  Result<uint32_t> id = ParseHex8(text.substr(p1 + 1, p2 - p1 - 1));
  if (!id.ok()) return id.status().WithContext(what);
  k.key_id = *id;
  Result<std::string> key = Base64Decode(text.substr(p2 + 1));
  if (!key.ok()) return key.status().WithContext(std::string(what) + ": key");
  if (key->empty()) return Status::InvalidArgument(std::string(what) + ": empty key");
  k.key = std::move(*key);
  uint32_t want = KeyId(k.name, static_cast<uint8_t>(k.key[0]), Bytes(k.key).subspan(1));
  if (want != k.key_id) {
    return Status::InvalidArgument(std::string(what) + ": key ID " + Hex8(k.key_id) +
                                   " does not match the key (want " + Hex8(want) + ")");
  }
  return k;
}

Result<std::array<uint8_t, 32>> Key32(const KeyText& k, uint8_t type, const char* what) {
  if (static_cast<uint8_t>(k.key[0]) != type) {
    return Status::Unsupported(std::string(what) + ": key type " +
                               std::to_string(static_cast<uint8_t>(k.key[0])) + ", want " +
                               std::to_string(type));
  }
  if (k.key.size() != 33) return Status::InvalidArgument(std::string(what) + ": key is not 32 bytes");
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), k.key.data() + 1, 32);
  return out;
}

std::string TypedKeyBase64(uint8_t type, const std::array<uint8_t, 32>& key) {
  std::string raw(1, static_cast<char>(type));
  raw.append(reinterpret_cast<const char*>(key.data()), key.size());
  return Base64Encode(raw);
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(name, i, &cp);
    if (n == 0 || cp < 0x20 || cp == 0x7F || cp == '+' || IsUnicodeSpace(cp)) return false;
    i += n;
  }
  return true;
}

uint32_t KeyId(std::string_view name, uint8_t type, std::span<const uint8_t> public_key) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const uint8_t*>(name.data()), name.size());
  const uint8_t sep[2] = {'\n', type};
  crypto_hash_sha256_update(&st, sep, 2);
  crypto_hash_sha256_update(&st, public_key.data(), public_key.size());
  uint8_t h[32];
  crypto_hash_sha256_final(&st, h);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

// --- base64 ---

std::string Base64Encode(std::span<const uint8_t> d) {
  std::string out;
  out.reserve((d.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= d.size(); i += 3) {
    uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8) | d[i + 2];
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
  }
  if (d.size() - i == 1) {
    uint32_t v = uint32_t{d[i]} << 16;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
  } else if (d.size() - i == 2) {
    uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8);
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Base64Encode(std::string_view data) { return Base64Encode(Bytes(data)); }

Result<std::string> Base64Decode(std::string_view s) {
  if (s.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    bool last = i + 4 == s.size();
    int pad = 0;
    if (last && s[i + 3] == '=') pad = s[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int d = k >= 4 - pad ? 0 : val(s[i + k]);
      if (d < 0) return Status::InvalidArgument("invalid base64 character");
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    if ((pad == 2 && (v & 0xFFFF)) || (pad == 1 && (v & 0xFF))) {
      return Status::InvalidArgument("non-canonical base64 (padding bits set)");
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

// --- Ed25519 keys ---

Ed25519Verifier::Ed25519Verifier(std::string name, const std::array<uint8_t, 32>& public_key)
    : name_(std::move(name)),
      public_key_(public_key),
      key_id_(KeyId(name_, kSigTypeEd25519, public_key_)) {}

Result<std::unique_ptr<Ed25519Verifier>> Ed25519Verifier::FromVerifierKey(std::string_view vkey) {
  CHUQU_ASSIGN_OR_RETURN(KeyText k, ParseKeyText(vkey, "verifier key"));
  CHUQU_ASSIGN_OR_RETURN(auto pub, Key32(k, kSigTypeEd25519, "verifier key"));
  return std::make_unique<Ed25519Verifier>(k.name, pub);
}

bool Ed25519Verifier::Verify(std::string_view text, std::span<const uint8_t> sig) const {
  if (sig.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const uint8_t*>(text.data()),
                                     text.size(), public_key_.data()) == 0;
}

std::string Ed25519Verifier::VerifierKey() const {
  return name_ + "+" + Hex8(key_id_) + "+" + TypedKeyBase64(kSigTypeEd25519, public_key_);
}

Ed25519Signer::Ed25519Signer(std::string name, const std::array<uint8_t, 32>& seed)
    : name_(std::move(name)) {
  EnsureSodium();
  std::array<uint8_t, 32> pub;
  crypto_sign_seed_keypair(pub.data(), secret_key_.data(), seed.data());
  key_id_ = KeyId(name_, kSigTypeEd25519, pub);
}

Ed25519Signer::~Ed25519Signer() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromSignerKey(std::string_view skey) {
  if (skey.substr(0, kSignerPrefix.size()) != kSignerPrefix) {
    return Status::InvalidArgument("signer key must start with PRIVATE+KEY+");
  }
  std::string_view rest = skey.substr(kSignerPrefix.size());
  size_t p1 = rest.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : rest.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return Status::InvalidArgument("signer key: missing '+'");
  std::string name(rest.substr(0, p1));
  if (!IsValidKeyName(name)) return Status::InvalidArgument("signer key: invalid key name");
  CHUQU_ASSIGN_OR_RETURN(uint32_t id, ParseHex8(rest.substr(p1 + 1, p2 - p1 - 1)));
  CHUQU_ASSIGN_OR_RETURN(std::string key, Base64Decode(rest.substr(p2 + 1)));
  if (key.size() != 33 || static_cast<uint8_t>(key[0]) != kSigTypeEd25519) {
    sodium_memzero(key.data(), key.size());
    return Status::InvalidArgument("signer key: want type 0x01 and a 32-byte seed");
  }
  std::array<uint8_t, 32> seed;
  std::memcpy(seed.data(), key.data() + 1, 32);
  sodium_memzero(key.data(), key.size());
  auto signer = std::make_unique<Ed25519Signer>(name, seed);
  sodium_memzero(seed.data(), seed.size());
  if (signer->key_id() != id) {
    return Status::InvalidArgument("signer key: key ID does not match the key");
  }
  return signer;
}

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::Generate(std::string_view name) {
  if (!IsValidKeyName(name)) return Status::InvalidArgument("invalid key name");
  EnsureSodium();
  std::array<uint8_t, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  auto signer = std::make_unique<Ed25519Signer>(std::string(name), seed);
  sodium_memzero(seed.data(), seed.size());
  return signer;
}

Result<std::string> Ed25519Signer::Sign(std::string_view text) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<uint8_t*>(sig.data()), nullptr,
                       reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                       secret_key_.data());
  return sig;
}

std::string Ed25519Signer::SignerKey() const {
  std::array<uint8_t, 32> seed;
  std::memcpy(seed.data(), secret_key_.data(), 32);
  std::string s = std::string(kSignerPrefix) + name_ + "+" + Hex8(key_id_) + "+" +
                  TypedKeyBase64(kSigTypeEd25519, seed);
  sodium_memzero(seed.data(), seed.size());
  return s;
}

std::unique_ptr<Ed25519Verifier> Ed25519Signer::MakeVerifier() const {
  std::array<uint8_t, 32> pub;
  std::memcpy(pub.data(), secret_key_.data() + 32, 32);
  return std::make_unique<Ed25519Verifier>(name_, pub);
}

std::string Ed25519Signer::VerifierKey() const { return MakeVerifier()->VerifierKey(); }

Result<std::unique_ptr<NoteVerifier>> ParseVerifierKey(std::string_view vkey) {
  CHUQU_ASSIGN_OR_RETURN(KeyText k, ParseKeyText(vkey, "verifier key"));
  uint8_t type = static_cast<uint8_t>(k.key[0]);
  if (type == kSigTypeEd25519) {
    CHUQU_ASSIGN_OR_RETURN(auto pub, Key32(k, type, "verifier key"));
    return std::unique_ptr<NoteVerifier>(std::make_unique<Ed25519Verifier>(k.name, pub));
  }
  if (type == kSigTypeCosignatureV1) {
    CHUQU_ASSIGN_OR_RETURN(auto pub, Key32(k, type, "verifier key"));
    return std::unique_ptr<NoteVerifier>(std::make_unique<CosignatureVerifier>(k.name, pub));
  }
  return Status::Unsupported("verifier key: unsupported key type " + std::to_string(type));
}

// --- notes ---

Result<Note> ParseNote(std::string_view msg) {
  if (msg.size() > kMaxNoteSize) return Status::ResourceExhausted("note is larger than 1 MiB");
  if (!IsValidNoteBytes(msg)) {
    return Status::InvalidArgument("note is not valid UTF-8 or contains control characters");
  }
  size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidArgument("note has no blank line before its signatures");
  }
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return Status::InvalidArgument("note signatures must end with a newline");
  }
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Status::InvalidArgument("note signature line does not start with an em dash and space");
    }
    line.remove_prefix(kSigPrefix.size());
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return Status::InvalidArgument("note signature line has no signature");
    NoteSignature sig;
    sig.name = std::string(line.substr(0, sp));
    if (!IsValidKeyName(sig.name)) return Status::InvalidArgument("note signature has an invalid key name");
    Result<std::string> raw = Base64Decode(line.substr(sp + 1));
    if (!raw.ok()) return raw.status().WithContext("note signature");
    if (raw->size() < 5) return Status::InvalidArgument("note signature is too short");
    if (note.signatures.size() >= kMaxNoteSignatures) {
      return Status::ResourceExhausted("note has more than 100 signatures");
    }
    const auto* b = reinterpret_cast<const uint8_t*>(raw->data());
    sig.key_id = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    sig.signature = raw->substr(4);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

std::string FormatNote(const Note& note) {
  CHUQU_CHECK(!note.text.empty() && note.text.back() == '\n');
  std::string out = note.text + "\n";
  for (const NoteSignature& s : note.signatures) {
    std::string raw(4, '\0');
    raw[0] = static_cast<char>(s.key_id >> 24);
    raw[1] = static_cast<char>(s.key_id >> 16);
    raw[2] = static_cast<char>(s.key_id >> 8);
    raw[3] = static_cast<char>(s.key_id);
    raw += s.signature;
    out.append(kSigPrefix).append(s.name).append(" ").append(Base64Encode(raw)).append("\n");
  }
  return out;
}

Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner* const> signers) {
  if (text.empty() || text.back() != '\n') return Status::InvalidArgument("note text must end with a newline");
  if (text.size() > kMaxNoteSize) return Status::ResourceExhausted("note text is larger than 1 MiB");
  if (!IsValidNoteBytes(text)) {
    return Status::InvalidArgument("note text is not valid UTF-8 or contains control characters");
  }
  if (text.find("\n\n") != std::string_view::npos || text.front() == '\n') {
    return Status::InvalidArgument("note text must not contain blank lines");
  }
  if (signers.empty()) return Status::InvalidArgument("no signers");
  Note note;
  note.text = std::string(text);
  for (const NoteSigner* s : signers) {
    CHUQU_CHECK(s != nullptr);
    CHUQU_ASSIGN_OR_RETURN(std::string sig, s->Sign(text));
    note.signatures.push_back({s->name(), s->key_id(), std::move(sig)});
  }
  return FormatNote(note);
}

Result<OpenedNote> OpenNote(std::string_view msg, std::span<const NoteVerifier* const> verifiers) {
  CHUQU_ASSIGN_OR_RETURN(Note note, ParseNote(msg));
  OpenedNote out;
  out.text = std::move(note.text);
  std::set<std::pair<std::string, uint32_t>> seen_verified;
  for (NoteSignature& sig : note.signatures) {
    const NoteVerifier* v = nullptr;
    for (const NoteVerifier* cand : verifiers) {
      if (cand != nullptr && cand->name() == sig.name && cand->key_id() == sig.key_id) {
        v = cand;
        break;
      }
    }
    if (v == nullptr) {
      if (std::find(out.unverified.begin(), out.unverified.end(), sig) == out.unverified.end()) {
        out.unverified.push_back(std::move(sig));
      }
      continue;
    }
    if (!v->Verify(out.text, Bytes(sig.signature))) {
      return Status::Unauthenticated("signature by known key " + sig.name + "+" +
                                     Hex8(sig.key_id) + " does not verify");
    }
    if (seen_verified.insert({sig.name, sig.key_id}).second) out.verified.push_back(std::move(sig));
  }
  if (out.verified.empty()) {
    return Status::Unauthenticated("note has no signature by a known key");
  }
  return out;
}

}  // namespace chuqu::ledger
