#include "ledger/cosignature.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace chuqu::ledger {
namespace {
constexpr size_t kCosigSize = 8 + crypto_sign_BYTES;
}  // namespace

std::string CosignedMessage(std::string_view text, uint64_t timestamp) {
  std::string m = "cosignature/v1\ntime " + std::to_string(timestamp) + "\n";
  m.append(text);
  return m;
}

CosignatureVerifier::CosignatureVerifier(std::string name, const std::array<uint8_t, 32>& public_key)
    : name_(std::move(name)),
      public_key_(public_key),
      key_id_(KeyId(name_, kSigTypeCosignatureV1, public_key_)) {}

Result<std::unique_ptr<CosignatureVerifier>> CosignatureVerifier::FromVerifierKey(
    std::string_view vkey) {
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<NoteVerifier> v, ParseVerifierKey(vkey));
  auto* c = dynamic_cast<CosignatureVerifier*>(v.get());
  if (c == nullptr) return Status::InvalidArgument("verifier key is not a cosignature (type 0x04) key");
  v.release();
  return std::unique_ptr<CosignatureVerifier>(c);
}

bool CosignatureVerifier::Verify(std::string_view text, std::span<const uint8_t> sig) const {
  Result<uint64_t> ts = CosignatureTimestamp(sig);
  if (!ts.ok()) return false;
  std::string msg = CosignedMessage(text, *ts);
  return crypto_sign_verify_detached(sig.data() + 8, reinterpret_cast<const uint8_t*>(msg.data()),
                                     msg.size(), public_key_.data()) == 0;
}

std::string CosignatureVerifier::VerifierKey() const {
  std::string raw(1, static_cast<char>(kSigTypeCosignatureV1));
  raw.append(reinterpret_cast<const char*>(public_key_.data()), 32);
  char id[9];
  std::snprintf(id, sizeof id, "%08x", key_id_);
  return name_ + "+" + id + "+" + Base64Encode(raw);
}

CosignatureSigner::CosignatureSigner(std::string name, const std::array<uint8_t, 32>& seed,
                                     uint64_t timestamp)
    : name_(std::move(name)), timestamp_(timestamp) {
  CHUQU_CHECK(sodium_init() >= 0);
  std::array<uint8_t, 32> pub;
  crypto_sign_seed_keypair(pub.data(), secret_key_.data(), seed.data());
  key_id_ = KeyId(name_, kSigTypeCosignatureV1, pub);
}

CosignatureSigner::~CosignatureSigner() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

Result<std::string> CosignatureSigner::Sign(std::string_view text) const {
  std::string msg = CosignedMessage(text, timestamp_);
  std::string out(kCosigSize, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(timestamp_ >> (56 - 8 * i));
  crypto_sign_detached(reinterpret_cast<uint8_t*>(out.data()) + 8, nullptr,
                       reinterpret_cast<const uint8_t*>(msg.data()), msg.size(),
                       secret_key_.data());
  return out;
}

std::string CosignatureSigner::VerifierKey() const {
  std::array<uint8_t, 32> pub;
  std::memcpy(pub.data(), secret_key_.data() + 32, 32);
  return CosignatureVerifier(name_, pub).VerifierKey();
}

Result<uint64_t> CosignatureTimestamp(std::span<const uint8_t> sig) {
  if (sig.size() != kCosigSize) {
    return Status::InvalidArgument("cosignature must be 72 bytes (timestamp and signature)");
  }
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | sig[i];
  return t;
}

std::vector<WitnessCosignature> CollectCosignatures(const OpenedNote& note,
                                                    std::span<const NoteVerifier* const> witnesses) {
  std::vector<WitnessCosignature> out;
  for (const NoteSignature& s : note.verified) {
    for (const NoteVerifier* w : witnesses) {
      if (w == nullptr || w->name() != s.name || w->key_id() != s.key_id) continue;
      Result<uint64_t> ts = CosignatureTimestamp(
          {reinterpret_cast<const uint8_t*>(s.signature.data()), s.signature.size()});
      out.push_back({s.name, s.key_id, ts.ok() ? *ts : 0});
      break;
    }
  }
  return out;
}

}  // namespace chuqu::ledger
