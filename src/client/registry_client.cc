#include "client/registry_client.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "media/extract.h"
#include "registry/entry.h"

namespace chuqu::client {
namespace {

using nlohmann::json;

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ss.str();
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The server answers {index, entry, receipt} for every write; check the shape once.
Result<json> WriteReply(Result<json> r) {
  if (!r.ok()) return r;
  if (!r->is_object() || !(*r)["index"].is_number_unsigned()) {
    return Status::Corruption("the server's answer to a write has no \"index\"");
  }
  return r;
}

}  // namespace

json WorkInfoJson(const registry::WorkInfo& info) {
  json j = {{"kind", info.kind},
            {"title", info.title},
            {"creators", info.creators},
            {"ai_generated", info.ai_generated},
            {"digital_human", info.digital_human}};
  if (!info.owners.empty()) {
    json owners = json::array();
    for (const auto& s : info.owners) {
      owners.push_back({{"party", s.party}, {"basis_points", s.basis_points}});
    }
    j["owners"] = owners;
  }
  if (info.attributes.is_object() && !info.attributes.empty()) j["attributes"] = info.attributes;
  return j;
}

Result<json> FingerprintsJson(const registry::Fingerprints& fp) {
  json j = {{"media", fp.media}};
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("mime", fp.mime);
  put("sha256", fp.sha256);
  if (fp.size) j["size"] = fp.size;
  put("iscc", fp.iscc);
  put("meta_code", fp.meta_code);
  put("content_code", fp.content_code);
  put("data_code", fp.data_code);
  put("instance_code", fp.instance_code);
  if (fp.pdq) {
    j["pdq"] = fp.pdq->Hex();
    j["pdq_quality"] = fp.pdq_quality;
  }
  // Bulky fingerprints in their stored formats, as the signed form's blobs.
  json blobs = json::object();
  auto bytes = [](const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); };
  if (fp.text) blobs["text"] = Base64(text::EncodeFingerprints(*fp.text));
  if (fp.image && !fp.image->descriptors.empty()) {
    blobs["image"] = Base64(bytes(index::EncodeImageFingerprint(*fp.image)));
  }
  if (fp.video) blobs["video"] = Base64(bytes(index::EncodeVideoFingerprint(*fp.video)));
  if (fp.audio) blobs["audio"] = Base64(bytes(index::EncodeAudioFingerprint(*fp.audio)));
  if (!blobs.empty()) j["blobs"] = std::move(blobs);
  return j;
}

registry::WorkInfo DefaultWorkInfo(registry::WorkInfo info, const registry::Fingerprints& fp,
                                   const std::string& path) {
  if (info.kind.empty() || info.kind == "other") {
    const bool media_kind =
        fp.media == "text" || fp.media == "image" || fp.media == "audio" || fp.media == "video";
    info.kind = media_kind ? fp.media : "other";
  }
  if (info.title.empty()) info.title = media::NameFromPath(path);
  return info;
}

Result<json> RegistryClient::GetWork(uint64_t work) {
  return client_.GetJson("/v1/works/" + std::to_string(work));
}

Result<std::string> RegistryClient::Evidence(uint64_t index) {
  CHUQU_ASSIGN_OR_RETURN(Reply r, client_.Get("/v1/evidence/" + std::to_string(index)));
  return std::move(r.body);
}

Result<std::string> RegistryClient::LogKey() {
  CHUQU_ASSIGN_OR_RETURN(Reply r, client_.Get("/v1/log-key"));
  while (!r.body.empty() && (r.body.back() == '\n' || r.body.back() == '\r')) r.body.pop_back();
  if (r.body.empty() || r.body.find('\n') != std::string::npos) {
    return Status::Corruption("the server's /v1/log-key is not one verifier key line");
  }
  return std::move(r.body);
}

Result<int64_t> RegistryClient::NextSeq(std::string_view party) {
  CHUQU_ASSIGN_OR_RETURN(json j, client_.GetJson("/v1/parties/" + std::string(party) + "/next-seq"));
  if (!j.is_object() || !j["next_seq"].is_number_integer() || j["next_seq"].get<int64_t>() < 1) {
    return Status::Corruption("the server's next-seq answer has no positive \"next_seq\"");
  }
  return j["next_seq"].get<int64_t>();
}

Result<json> RegistryClient::MatchFile(const std::string& path) {
  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return client_.PostFormForJson(
      "/v1/match", {{"file", std::move(bytes), BaseName(path), "application/octet-stream"}});
}

Result<json> RegistryClient::MatchFingerprints(const registry::Fingerprints& fp) {
  CHUQU_ASSIGN_OR_RETURN(json f, FingerprintsJson(fp));
  return client_.PostJsonForJson("/v1/match", {{"fingerprints", f}});
}

Result<json> RegistryClient::RegisterFile(const std::string& path, const registry::WorkInfo& info) {
  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return client_.PostFormForJson(
      "/v1/works", {{"file", std::move(bytes), BaseName(path), "application/octet-stream"},
                    {"info", WorkInfoJson(info).dump(), "", "application/json"}});
}

Result<json> RegistryClient::RegisterFingerprints(const registry::Fingerprints& fp,
                                                  const registry::WorkInfo& info,
                                                  const registry::PartyKey* key,
                                                  const std::string& prior_art_file) {
  if (key == nullptr) {
    CHUQU_ASSIGN_OR_RETURN(json f, FingerprintsJson(fp));
    return client_.PostJsonForJson("/v1/works", {{"fingerprints", f}, {"info", WorkInfoJson(info)}});
  }
  CHUQU_ASSIGN_OR_RETURN(registry::WorkEntryBody wb,
                         registry::MakeWorkEntryBody(key->party, fp, info));
  // Prior art is searched before the work is logged (as Registry::RegisterFingerprints does).
  json prior = json::array();
  CHUQU_ASSIGN_OR_RETURN(
      json m, prior_art_file.empty() ? MatchFingerprints(fp) : MatchFile(prior_art_file));
  if (m.is_object() && m["matches"].is_array()) prior = m["matches"];
  CHUQU_ASSIGN_OR_RETURN(json w, SubmitSigned(*key, registry::kKindWork, std::move(wb.body),
                                              wb.blobs));
  const uint64_t index = w["index"].get<uint64_t>();
  json kept = json::array();
  for (const json& m : prior) {
    if (m.is_object() && m["work"].is_number_unsigned() && m["work"].get<uint64_t>() < index) {
      kept.push_back(m);
    }
  }
  return json{{"work", index},       {"index", index},         {"media", fp.media},
              {"entry", w["entry"]}, {"receipt", w["receipt"]}, {"prior_art", kept}};
}

Result<json> RegistryClient::SubmitSigned(const registry::PartyKey& key, std::string_view kind,
                                          json body, const std::vector<std::string>& blobs) {
  CHUQU_ASSIGN_OR_RETURN(int64_t seq, NextSeq(key.party));
  auto submit = [&](std::string_view k, json b, const std::vector<std::string>& bl,
                    int64_t s) -> Result<json> {
    registry::Entry e;
    e.kind = std::string(k);
    e.time = registry::NowRfc3339();
    e.party = key.party;
    e.seq = s;
    e.body = std::move(b);
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, registry::SignEntry(std::move(e), key.secret_key));
    json req = {{"entry", bytes}};
    if (!bl.empty()) {
      json arr = json::array();
      for (const std::string& blob : bl) arr.push_back(Base64(blob));
      req["blobs"] = arr;
    }
    return WriteReply(client_.PostJsonForJson("/v1/entries", req));
  };
  if (seq == 1 && kind != registry::kKindParty) {
    // A party the log has not seen: its "party" entry first (as the server does for custodial
    // parties), named like the server names them.
    CHUQU_ASSIGN_OR_RETURN(json p, submit(registry::kKindParty,
                                          {{"name", "party " + key.party.substr(0, 8)}}, {}, 1));
    (void)p;
    seq = 2;
  }
  return submit(kind, std::move(body), blobs, seq);
}

Result<json> RegistryClient::Transfer(const registry::PartyKey* key, uint64_t work,
                                      std::string_view to, int64_t basis_points) {
  json body = {{"work", work}, {"to", to}, {"basis_points", basis_points}};
  if (key) return SubmitSigned(*key, registry::kKindTransfer, std::move(body), {});
  return WriteReply(client_.PostJsonForJson("/v1/transfers", body));
}

Result<json> RegistryClient::OfferLicence(const registry::PartyKey* key,
                                          const registry::LicenceOffer& o) {
  json body = {{"work", o.work},         {"type", o.type},
               {"price", o.price},       {"currency", o.currency},
               {"unit", o.unit},         {"pay_after_use", o.pay_after_use},
               {"territory", o.territory}, {"term", o.term}};
  if (key) return SubmitSigned(*key, registry::kKindOffer, std::move(body), {});
  return WriteReply(client_.PostJsonForJson("/v1/offers", body));
}

Result<json> RegistryClient::AcceptLicence(const registry::PartyKey* key, uint64_t offer) {
  if (key) return SubmitSigned(*key, registry::kKindAccept, {{"offer", offer}}, {});
  return WriteReply(client_.PostJsonForJson("/v1/offers/" + std::to_string(offer) + "/accept",
                                            json::object()));
}

Result<json> RegistryClient::Claim(const registry::PartyKey* key, uint64_t work,
                                   std::string_view reason, const json& evidence) {
  json body = {{"work", work}, {"reason", reason}, {"evidence", evidence}};
  if (key) return SubmitSigned(*key, registry::kKindClaim, std::move(body), {});
  return WriteReply(client_.PostJsonForJson("/v1/claims", body));
}

Result<json> RegistryClient::Answer(const registry::PartyKey* key, uint64_t claim,
                                    std::string_view text) {
  if (key) return SubmitSigned(*key, registry::kKindAnswer, {{"claim", claim}, {"text", text}}, {});
  return WriteReply(client_.PostJsonForJson("/v1/claims/" + std::to_string(claim) + "/answer",
                                            {{"text", text}}));
}

Result<json> RegistryClient::Resolve(const registry::PartyKey* key, uint64_t claim,
                                     std::string_view outcome, std::string_view note) {
  if (key) {
    return SubmitSigned(*key, registry::kKindResolve,
                        {{"claim", claim}, {"outcome", outcome}, {"note", note}}, {});
  }
  return WriteReply(client_.PostJsonForJson("/v1/claims/" + std::to_string(claim) + "/resolve",
                                            {{"outcome", outcome}, {"note", note}}));
}

Result<json> RegistryClient::SetPriceCap(const registry::PartyKey& key, std::string_view work_kind,
                                         int64_t max_price, std::string_view currency) {
  return SubmitSigned(key, registry::kKindPriceCap,
                      {{"work_kind", work_kind}, {"max_price", max_price}, {"currency", currency}},
                      {});
}

}  // namespace chuqu::client
