// Parsing of untrusted /v1 request content (docs/api.md, docs/openapi.yaml), kept free of any
// HTTP library so it is unit-tested and fuzzed (fuzz/server_request_fuzz.cc) without a socket:
// JSON bodies with an allowed set of fields, the work info and fingerprints objects, the
// multipart "info" part, signed-entry submissions (party, base64 blobs), party ids, upload
// file extensions and the Idempotency-Key header. (Bearer headers and path ids: http_util.h;
// tile paths: ledger/tiles.h.)
//
// Every refusal is InvalidArgument with a message a client can act on; nothing throws.
// JSON is limited to kMaxJsonDepth levels of nesting: free JSON (work attributes, claim
// evidence) is signed and canonicalised recursively later, so depth must be bounded here.
// Integers must lie within ±(2^53 - 1): entries are canonicalised with JCS, which writes
// numbers as doubles (docs/entry-format.md), so a larger integer would be logged rounded.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chuqu/status.h"
#include "registry/matcher.h"
#include "registry/registry.h"

namespace chuqu::server {

inline constexpr int kMaxJsonDepth = 32;
inline constexpr int64_t kMaxJsonInteger = (int64_t{1} << 53) - 1;
inline constexpr size_t kMaxIdempotencyKeyBytes = 128;
// A bulky fingerprint in the JSON fingerprints form ("blobs"), decoded bytes. A CQIF image blob
// is ~40 kB, an hour of audio ~0.1 MB; the request body limit still applies.
inline constexpr size_t kMaxFingerprintBlobBytes = size_t{16} << 20;

// "application/json", optionally with parameters ("application/json; charset=utf-8").
bool IsJsonContentType(std::string_view content_type);

// JSON text -> value. `what` names the text in messages ("JSON body", "\"info\" part").
// InvalidArgument for malformed JSON (incl. invalid UTF-8) or nesting deeper than
// kMaxJsonDepth.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

// A request body that must be a JSON object with only `allowed` keys (strict: an unknown
// field is refused, so a misspelt optional field never passes silently).
Result<nlohmann::json> ParseJsonBody(std::string_view content_type, std::string_view body,
                                     std::initializer_list<std::string_view> allowed);

// InvalidArgument unless `j` is an object whose keys are all in `allowed`; `what` names it.
[[nodiscard]] Status CheckKeys(const nlohmann::json& j, std::string_view what,
                               std::initializer_list<std::string_view> allowed);

// Typed fields of a JSON object. A missing optional field gives `def`; a present field of the
// wrong type (or, for integers, outside ±kMaxJsonInteger) is InvalidArgument naming the key.
// REQUIRES: j.is_object().
Result<std::string> JsonString(const nlohmann::json& j, const char* key, bool required,
                               std::string def = "");
Result<int64_t> JsonInt(const nlohmann::json& j, const char* key, bool required,
                        int64_t def = 0);
// A required non-negative integer id (work, offer, claim: a log index).
Result<uint64_t> JsonId(const nlohmann::json& j, const char* key);
Result<bool> JsonBool(const nlohmann::json& j, const char* key, bool def);

// The "info" object of a registration (docs/api.md): kind, title, creators, ai_generated,
// digital_human, owners [{party, basis_points}], attributes (an object).
Result<registry::WorkInfo> ParseWorkInfo(const nlohmann::json& j);
// The multipart "info" part: JSON text of the same object.
Result<registry::WorkInfo> ParseWorkInfoPart(std::string_view text);

// The "fingerprints" object of a registration or match by client-computed fingerprints:
// media (required), mime, sha256, size, iscc, meta_code, content_code, data_code,
// instance_code, pdq (64 hex), pdq_quality (0..100), and blobs {text, image, video, audio}:
// standard base64 of the bulky fingerprints in their stored formats (CQTF, CQIF, CQVF, CQAF;
// docs/entry-format.md), each at most kMaxFingerprintBlobBytes and decoded here, so a corrupt
// blob is InvalidArgument naming it. The signed form (/v1/entries "blobs") carries the same.
Result<registry::Fingerprints> ParseFingerprints(const nlohmann::json& j);

// The acting party named by a client-signed entry (its "party" string), read before the
// registry verifies the signature so the server can refuse an entry not of the token's party.
Result<std::string> SignedEntryParty(std::string_view entry);
// The "blobs" array of POST /v1/entries: standard base64 strings -> raw bytes.
Result<std::vector<std::string>> ParseBlobs(const nlohmann::json& blobs);

// A party id: exactly 64 lower-case hex digits (an Ed25519 public key).
[[nodiscard]] Status CheckPartyId(std::string_view party);

// ".txt" from "poem.TXT": 1..8 ASCII letters/digits after the last dot, lower-cased, else ""
// (media sniffing decides). Never a path separator, so safe in a spool file name.
std::string SafeExtension(std::string_view filename);

// The Idempotency-Key header: 1..kMaxIdempotencyKeyBytes printable ASCII (0x20..0x7e).
// InvalidArgument otherwise.
[[nodiscard]] Status CheckIdempotencyKey(std::string_view key);

}  // namespace chuqu::server
