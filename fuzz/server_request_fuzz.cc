// Untrusted /v1 request content on arbitrary bytes (src/server/request.h), as the handlers run
// it: the JSON body of every route with its allowed fields, the fingerprints and work info
// objects, the multipart "info" part, client-signed entry submissions (party, blobs, and the
// registry's entry parser), path ids, party ids, tile paths, bearer and Idempotency-Key
// headers and upload file names. Nothing may crash; and whatever the parsers accept for a
// registration must become an entry the server can sign and that verifies (no request the
// parsers pass may break signing or canonicalisation later, e.g. by nesting or number range).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/jcs.h"
#include "ledger/tiles.h"
#include "registry/entry.h"
#include "registry/registry.h"
#include "server/http_util.h"
#include "server/request.h"

namespace {

using chuqu::Result;
using nlohmann::json;
namespace server = chuqu::server;
namespace registry = chuqu::registry;

const registry::PartyKey& Key() {
  static const registry::PartyKey key = registry::PartyKey::Generate();
  return key;
}

// Signs a work entry for info + fingerprints the way RegisterFingerprints does; a body that
// signs must verify and re-parse to the same bytes.
void SignWork(const registry::Fingerprints& fp, const registry::WorkInfo& info) {
  Result<registry::WorkEntryBody> body = registry::MakeWorkEntryBody(Key().party, fp, info);
  if (!body.ok()) return;
  registry::Entry e;
  e.kind = std::string(registry::kKindWork);
  e.time = "2026-11-22T00:00:00Z";
  e.party = Key().party;
  e.seq = 2;
  e.body = std::move(body->body);
  Result<std::string> bytes = registry::SignEntry(std::move(e), Key().secret_key);
  if (!bytes.ok()) return;
  Result<registry::Entry> back = registry::ParseAndVerifyEntry(*bytes);
  if (!back.ok()) __builtin_trap();
}

void Body(std::string_view bytes) {
  Result<json> j = server::ParseJsonBody(
      "application/json", bytes,
      {"fingerprints", "info", "entry", "blobs", "work", "to", "basis_points", "type", "price",
       "currency", "unit", "pay_after_use", "territory", "term", "reason", "evidence", "text",
       "outcome", "note"});
  if (!j.ok()) return;
  registry::WorkInfo info;
  if (auto it = j->find("info"); it != j->end()) {
    Result<registry::WorkInfo> parsed = server::ParseWorkInfo(*it);
    if (!parsed.ok()) return;
    info = std::move(*parsed);
  }
  if (auto it = j->find("fingerprints"); it != j->end()) {
    Result<registry::Fingerprints> fp = server::ParseFingerprints(*it);
    if (fp.ok()) SignWork(*fp, info);
  }
  if (Result<std::string> entry = server::JsonString(*j, "entry", false); entry.ok()) {
    (void)server::SignedEntryParty(*entry);
    (void)registry::ParseAndVerifyEntry(*entry);
  }
  if (auto it = j->find("blobs"); it != j->end()) (void)server::ParseBlobs(*it);
  // Claim evidence is free JSON: it must canonicalise (it is signed in the claim entry).
  if (auto it = j->find("evidence"); it != j->end()) (void)chuqu::CanonicalJson(*it);
  for (const char* key : {"work", "basis_points", "price"}) (void)server::JsonInt(*j, key, false);
  (void)server::JsonId(*j, "work");
  (void)server::JsonBool(*j, "pay_after_use", false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Body(bytes);
  if (Result<registry::WorkInfo> info = server::ParseWorkInfoPart(bytes); info.ok()) {
    registry::Fingerprints fp;
    fp.media = "text";
    SignWork(fp, *info);
  }
  (void)server::SignedEntryParty(bytes);
  (void)registry::ParseAndVerifyEntry(bytes);
  (void)server::IsJsonContentType(bytes);
  (void)server::CheckPartyId(bytes);
  (void)server::CheckIdempotencyKey(bytes);
  if (std::string ext = server::SafeExtension(bytes); ext.find('/') != std::string::npos) {
    __builtin_trap();
  }
  if (auto token = server::ParseBearer(bytes); token && token->size() > 256) __builtin_trap();
  (void)server::ParseId(bytes);
  if (Result<chuqu::ledger::Tile> tile = chuqu::ledger::ParseTilePath(bytes); tile.ok()) {
    if (chuqu::ledger::TilePath(*tile) != bytes) __builtin_trap();  // one path per tile
  }
  return 0;
}
