// Typed calls of the /v1 registry API (docs/api.md) over a Client, answering the server's JSON.
//
// Writes go one of two ways:
//  - custodial (key == nullptr): the route of the write (POST /v1/transfers, ...); the server
//    signs for the token's party with the key it holds;
//  - client-signed (a PartyKey the caller holds): the entry is built and signed here (entry.h,
//    docs/entry-format.md) with the party's next sequence number (GET
//    /v1/parties/{p}/next-seq) and sent to POST /v1/entries; the secret key never leaves this
//    process. A party the log has not seen is registered first (its "party" entry). The token
//    must name the same party (else the server answers 403).
//
// Thread-safety: as Client (one per thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chuqu/status.h"
#include "client/client.h"
#include "registry/registry.h"

namespace chuqu::client {

// The API's "info" object for a registration.
nlohmann::json WorkInfoJson(const registry::WorkInfo& info);

// The API's "fingerprints" object (POST /v1/works, /v1/match as JSON): the ISCC units,
// SHA-256, size, MIME and PDQ, and the bulky text / image / video / audio fingerprints as
// base64 "blobs" in their stored formats (the server decodes and checks them).
Result<nlohmann::json> FingerprintsJson(const registry::Fingerprints& fp);

// What RegisterFile does before registering, done on the client so both modes log the same
// work: an empty or "other" kind becomes the detected media (text, image, audio, video), an
// empty title the file's name.
registry::WorkInfo DefaultWorkInfo(registry::WorkInfo info, const registry::Fingerprints& fp,
                                   const std::string& path);

class RegistryClient {
 public:
  // `client` must outlive this.
  explicit RegistryClient(Client& client) : client_(client) {}

  // --- Reads.
  Result<nlohmann::json> GetWork(uint64_t work);                  // GET /v1/works/{id}
  Result<std::string> Evidence(uint64_t index);                   // bundle text
  Result<std::string> LogKey();                                   // vkey, no newline
  Result<int64_t> NextSeq(std::string_view party);
  // POST /v1/match: the file's bytes (multipart), or fingerprints computed here.
  Result<nlohmann::json> MatchFile(const std::string& path);
  Result<nlohmann::json> MatchFingerprints(const registry::Fingerprints& fp);

  // --- Registration. Each answers {work,index,media,entry,receipt,prior_art} as POST
  // /v1/works does. `info` is sent as given (see DefaultWorkInfo).
  // Upload: multipart "file" (named as the local file, so the server sniffs the same media)
  // plus "info". Custodial only.
  Result<nlohmann::json> RegisterFile(const std::string& path, const registry::WorkInfo& info);
  // Fingerprints only (the content never leaves this machine). Custodial (key == nullptr):
  // POST /v1/works as JSON (FingerprintsJson). Client-signed: the work entry with its
  // fingerprint blobs to /v1/entries; prior art from /v1/match with `prior_art_file` uploaded
  // when not empty, else with FingerprintsJson.
  Result<nlohmann::json> RegisterFingerprints(const registry::Fingerprints& fp,
                                              const registry::WorkInfo& info,
                                              const registry::PartyKey* key,
                                              const std::string& prior_art_file = "");

  // --- Writes: each answers {index, entry, receipt}.
  Result<nlohmann::json> Transfer(const registry::PartyKey* key, uint64_t work,
                                  std::string_view to, int64_t basis_points);
  Result<nlohmann::json> OfferLicence(const registry::PartyKey* key,
                                      const registry::LicenceOffer& offer);
  Result<nlohmann::json> AcceptLicence(const registry::PartyKey* key, uint64_t offer);
  Result<nlohmann::json> Claim(const registry::PartyKey* key, uint64_t work,
                               std::string_view reason, const nlohmann::json& evidence);
  Result<nlohmann::json> Answer(const registry::PartyKey* key, uint64_t claim,
                                std::string_view text);
  Result<nlohmann::json> Resolve(const registry::PartyKey* key, uint64_t claim,
                                 std::string_view outcome, std::string_view note);
  // Client-signed only: the API has no custodial route for price caps (operator's key).
  Result<nlohmann::json> SetPriceCap(const registry::PartyKey& key, std::string_view work_kind,
                                     int64_t max_price, std::string_view currency);

  // Signs an entry of `kind` with `key` and sends it (registering the party first if new).
  Result<nlohmann::json> SubmitSigned(const registry::PartyKey& key, std::string_view kind,
                                      nlohmann::json body, const std::vector<std::string>& blobs);

 private:
  Client& client_;
};

}  // namespace chuqu::client
