// c2sp.org/signed-note: signed text notes, Ed25519 keys (signature type 0x01), key IDs, and
// the verifier-key / signer-key text forms of golang.org/x/mod/sumdb/note.
//
//   note      = text "\n" signature-line+        text ends in "\n", has no blank-line split
//   signature = "— " name " " base64(key_id[4] || sig) "\n"     (U+2014 EM DASH, space)
//   key_id    = SHA-256(name || "\n" || type || public_key)[:4], big-endian uint32
//   vkey      = name "+" hex8(key_id) "+" base64(type || public_key)
//   skey      = "PRIVATE+KEY+" name "+" hex8(key_id) "+" base64(type || seed[32])
//
// Verification rules (signed-note "Verifying"): a signature whose (name, key ID) is not a known
// verifier is ignored; a known key whose signature fails rejects the whole note; at least one
// known key must verify. Limits: at most kMaxNoteSignatures signature lines, notes of at most
// kMaxNoteSize bytes.
//
// Thread-safety: signers and verifiers are immutable after construction; share freely.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::ledger {

inline constexpr size_t kMaxNoteSize = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;

// Signature (and key) types, the byte hashed into the key ID.
inline constexpr uint8_t kSigTypeEd25519 = 0x01;
inline constexpr uint8_t kSigTypeCosignatureV1 = 0x04;  // c2sp.org/tlog-cosignature

// True if `name` is a valid key name: non-empty, valid UTF-8, no space, no '+', no control.
bool IsValidKeyName(std::string_view name);
// First 4 bytes big-endian of SHA-256(name || "\n" || type || public_key).
uint32_t KeyId(std::string_view name, uint8_t type, std::span<const uint8_t> public_key);

// Checks a signature over a note's text. Implemented for Ed25519 (here) and cosignatures
// (cosignature.h).
class NoteVerifier {
 public:
  virtual ~NoteVerifier() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  // `sig` is the signature bytes after the 4-byte key ID. True only if it is valid for `text`.
  virtual bool Verify(std::string_view text, std::span<const uint8_t> sig) const = 0;
};

// Produces a signature line's bytes (after the key ID) for a note's text.
class NoteSigner {
 public:
  virtual ~NoteSigner() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  virtual Result<std::string> Sign(std::string_view text) const = 0;
};

class Ed25519Verifier final : public NoteVerifier {
 public:
  // From a vkey of type 0x01. InvalidArgument names what is wrong (name, hash, base64, type,
  // length, key ID mismatch).
  static Result<std::unique_ptr<Ed25519Verifier>> FromVerifierKey(std::string_view vkey);
  Ed25519Verifier(std::string name, const std::array<uint8_t, 32>& public_key);

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  bool Verify(std::string_view text, std::span<const uint8_t> sig) const override;
  const std::array<uint8_t, 32>& public_key() const { return public_key_; }
  // name+keyid+base64(0x01||pub).
  std::string VerifierKey() const;

 private:
  std::string name_;
  std::array<uint8_t, 32> public_key_;
  uint32_t key_id_;
};

class Ed25519Signer final : public NoteSigner {
 public:
  // From an skey (PRIVATE+KEY+...). The key ID in the text must match the derived key.
  static Result<std::unique_ptr<Ed25519Signer>> FromSignerKey(std::string_view skey);
  // A fresh random key (libsodium). InvalidArgument if the name is not a valid key name.
  static Result<std::unique_ptr<Ed25519Signer>> Generate(std::string_view name);
  Ed25519Signer(std::string name, const std::array<uint8_t, 32>& seed);
  ~Ed25519Signer() override;  // wipes the secret key

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  Result<std::string> Sign(std::string_view text) const override;  // 64 bytes
  std::string SignerKey() const;    // PRIVATE+KEY+name+keyid+base64(0x01||seed)
  std::string VerifierKey() const;  // the matching vkey
  std::unique_ptr<Ed25519Verifier> MakeVerifier() const;

 private:
  std::string name_;
  std::array<uint8_t, 64> secret_key_;  // libsodium form: seed || public key
  uint32_t key_id_;
};

// A vkey of any supported type: 0x01 → Ed25519Verifier, 0x04 → CosignatureVerifier.
Result<std::unique_ptr<NoteVerifier>> ParseVerifierKey(std::string_view vkey);

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // bytes after the key ID
  friend bool operator==(const NoteSignature&, const NoteSignature&) = default;
};

// A note split into text and signature lines, nothing verified.
struct Note {
  std::string text;  // includes its final "\n"
  std::vector<NoteSignature> signatures;
};

// Syntax only: UTF-8, no control characters but "\n", text ends in "\n", the last blank line
// separates, every signature line well-formed (name valid, base64 decodes to > 4 bytes).
Result<Note> ParseNote(std::string_view msg);
// text + "\n" + signature lines. REQUIRES: text ends in '\n'.
std::string FormatNote(const Note& note);

// Signs `text` with every signer, in order. InvalidArgument if the text is not valid note
// text (empty, missing final newline, a blank line, control characters, invalid UTF-8).
Result<std::string> SignNote(std::string_view text, std::span<const NoteSigner* const> signers);

struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;    // by a known verifier
  std::vector<NoteSignature> unverified;  // unknown (name, key ID): ignored
};

// Parses and verifies per the rules at the top. Errors: InvalidArgument (malformed),
// Unauthenticated (no known key signed; or a known key's signature failed — the message names
// the key).
Result<OpenedNote> OpenNote(std::string_view msg, std::span<const NoteVerifier* const> verifiers);

// Standard base64 (RFC 4648 §4) helpers shared by the ledger formats. Decode is strict:
// canonical padding, no whitespace, trailing bits zero.
std::string Base64Encode(std::span<const uint8_t> data);
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view b64);

}  // namespace chuqu::ledger
