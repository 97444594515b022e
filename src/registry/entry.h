// Registry entries: canonical JSON (RFC 8785) signed with the acting party's Ed25519 key.
// Format in docs/entry-format.md:
//   {"v":1,"kind":K,"time":"2026-11-22T02:52:00Z","party":"<64 hex>","seq":N,
//    "body":{...},"signature":"<base64 of Ed25519 over JCS(entry without signature)>"}
// `seq` is the party's sequence number (1 for its first entry, then +1): a replayed or
// reordered entry is refused. At most kMaxEntrySize bytes.
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chuqu/status.h"

namespace chuqu::registry {

inline constexpr size_t kMaxEntrySize = 65535;  // the ledger's entry limit
inline constexpr int kEntryVersion = 1;

// Entry kinds.
inline constexpr std::string_view kKindParty = "party";          // body: {name}
inline constexpr std::string_view kKindWork = "work";            // body: work + fingerprints
inline constexpr std::string_view kKindTransfer = "transfer";    // {work, to, basis_points}
inline constexpr std::string_view kKindPriceCap = "price_cap";   // {work_kind, max_price, currency}
inline constexpr std::string_view kKindOffer = "offer";          // {work, type, price, ...}
inline constexpr std::string_view kKindAccept = "accept";        // {offer}
inline constexpr std::string_view kKindClaim = "claim";          // {work, reason, evidence}
inline constexpr std::string_view kKindAnswer = "answer";        // {claim, text}
inline constexpr std::string_view kKindResolve = "resolve";      // {claim, outcome, note}

struct Entry {
  std::string kind;
  std::string time;   // RFC 3339 UTC, seconds
  std::string party;  // public key hex
  int64_t seq = 0;
  nlohmann::json body = nlohmann::json::object();
  std::string signature;  // 64 raw bytes
};

// Current UTC time, RFC 3339 with seconds ("2026-11-22T02:52:00Z").
std::string NowRfc3339();
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);
std::string Sha256Hex(std::string_view bytes);

// Signs `entry` (party must be the public key of secret_key) and returns its canonical bytes.
// InvalidArgument if the body cannot be canonicalised; ResourceExhausted above kMaxEntrySize.
Result<std::string> SignEntry(Entry entry, std::string_view secret_key);
// Parses canonical bytes and checks the signature. InvalidArgument for malformed JSON,
// non-canonical bytes or missing fields; Unauthenticated for a bad signature.
Result<Entry> ParseAndVerifyEntry(std::string_view bytes);

}  // namespace chuqu::registry
