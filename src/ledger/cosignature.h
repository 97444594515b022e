// c2sp.org/tlog-cosignature (Ed25519 form, signature type 0x04): a witness's statement that, as
// of `time`, the cosigned checkpoint is the largest consistent tree it has seen for the origin.
//
//   key_id    = SHA-256(name || "\n" || 0x04 || public_key)[:4]
//   sig bytes = u64 big-endian timestamp (seconds since the Unix epoch) || Ed25519 signature
//   signed    = "cosignature/v1\ntime <timestamp decimal>\n" || <checkpoint note text>
//
// Thread-safety: immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "ledger/note.h"

namespace chuqu::ledger {

// The message a cosigner signs for `text` at `timestamp`.
std::string CosignedMessage(std::string_view text, uint64_t timestamp);

class CosignatureVerifier final : public NoteVerifier {
 public:
  // From a vkey of type 0x04 (base64 part starts with "B").
  static Result<std::unique_ptr<CosignatureVerifier>> FromVerifierKey(std::string_view vkey);
  CosignatureVerifier(std::string name, const std::array<uint8_t, 32>& public_key);

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  // `sig` must be exactly 72 bytes (timestamp + signature).
  bool Verify(std::string_view text, std::span<const uint8_t> sig) const override;
  std::string VerifierKey() const;

 private:
  std::string name_;
  std::array<uint8_t, 32> public_key_;
  uint32_t key_id_;
};

// Signs as a witness at a fixed timestamp (tests, and a future witness).
class CosignatureSigner final : public NoteSigner {
 public:
  CosignatureSigner(std::string name, const std::array<uint8_t, 32>& seed, uint64_t timestamp);
  ~CosignatureSigner() override;
  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  Result<std::string> Sign(std::string_view text) const override;  // 72 bytes
  std::string VerifierKey() const;

 private:
  std::string name_;
  std::array<uint8_t, 64> secret_key_;
  uint32_t key_id_;
  uint64_t timestamp_;
};

// The timestamp of a type-0x04 signature's bytes (after the key ID). InvalidArgument unless
// exactly 72 bytes.
Result<uint64_t> CosignatureTimestamp(std::span<const uint8_t> sig);

struct WitnessCosignature {
  std::string witness;  // key name
  uint32_t key_id = 0;
  uint64_t timestamp = 0;
};

// From a note opened with witness verifiers among its verifiers: the verified signatures made
// by any of `witnesses` (matched by name and key ID), with their timestamps.
std::vector<WitnessCosignature> CollectCosignatures(const OpenedNote& note,
                                                    std::span<const NoteVerifier* const> witnesses);

}  // namespace chuqu::ledger
