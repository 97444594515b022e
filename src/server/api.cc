#include "server/api.h"

#include <httplib.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "ledger/bundle.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using httplib::Request;
using httplib::Response;

bool IsJson(const Request& req) {
  const std::string ct = req.get_header_value("Content-Type");
  return ct == "application/json" || ct.rfind("application/json;", 0) == 0;
}

// A JSON object body with only `allowed` keys.
Result<json> JsonBody(const Request& req, std::initializer_list<std::string_view> allowed) {
  if (!IsJson(req)) return Status::InvalidArgument("Content-Type must be application/json");
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("malformed JSON body");
  if (!j.is_object()) return Status::InvalidArgument("JSON body must be an object");
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || k == a;
    if (!ok) return Status::InvalidArgument("unknown field \"" + k + "\"");
  }
  return j;
}

Result<const json*> Field(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Status::InvalidArgument(std::string("missing field \"") + key + "\"");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

Result<std::string> Str(const json& j, const char* key, bool required, std::string def = "") {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, required));
  if (v == nullptr) return def;
  if (!v->is_string()) return Status::InvalidArgument(std::string("\"") + key + "\" must be a string");
  return v->get<std::string>();
}

Result<int64_t> Int(const json& j, const char* key, bool required, int64_t def = 0) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, required));
  if (v == nullptr) return def;
  if (!v->is_number_integer()) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be an integer");
  }
  return v->get<int64_t>();
}

Result<uint64_t> Id(const json& j, const char* key) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, true));
  if (!v->is_number_unsigned()) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be a non-negative integer");
  }
  return v->get<uint64_t>();
}

Result<bool> Bool(const json& j, const char* key, bool def) {
  CHUQU_ASSIGN_OR_RETURN(const json* v, Field(j, key, false));
  if (v == nullptr) return def;
  if (!v->is_boolean()) return Status::InvalidArgument(std::string("\"") + key + "\" must be a boolean");
  return v->get<bool>();
}

Status CheckKeys(const json& j, std::string_view what,
                 std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + " must be an object");
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || k == a;
    if (!ok) return Status::InvalidArgument("unknown field \"" + k + "\" in " + std::string(what));
  }
  return Status::Ok();
}

Result<registry::WorkInfo> ParseWorkInfo(const json& j) {
  CHUQU_RETURN_IF_ERROR(CheckKeys(j, "info", {"kind", "title", "creators", "ai_generated",
                                              "digital_human", "owners", "attributes"}));
  registry::WorkInfo info;
  CHUQU_ASSIGN_OR_RETURN(info.kind, Str(j, "kind", false, "other"));
  if (!registry::IsWorkKind(info.kind)) return Status::InvalidArgument("unknown work kind");
  CHUQU_ASSIGN_OR_RETURN(info.title, Str(j, "title", false));
  CHUQU_ASSIGN_OR_RETURN(info.ai_generated, Bool(j, "ai_generated", false));
  CHUQU_ASSIGN_OR_RETURN(info.digital_human, Bool(j, "digital_human", false));
  if (auto it = j.find("creators"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("\"creators\" must be an array");
    for (const auto& c : *it) {
      if (!c.is_string()) return Status::InvalidArgument("\"creators\" must hold strings");
      info.creators.push_back(c.get<std::string>());
    }
  }
  if (auto it = j.find("owners"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("\"owners\" must be an array");
    for (const auto& o : *it) {
      CHUQU_RETURN_IF_ERROR(CheckKeys(o, "owner", {"party", "basis_points"}));
      registry::Share s;
      CHUQU_ASSIGN_OR_RETURN(s.party, Str(o, "party", true));
      CHUQU_ASSIGN_OR_RETURN(s.basis_points, Int(o, "basis_points", true));
      info.owners.push_back(std::move(s));
    }
  }
  if (auto it = j.find("attributes"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument("\"attributes\" must be an object");
    info.attributes = *it;
  }
  return info;
}

Result<registry::Fingerprints> ParseFingerprints(const json& j) {
  CHUQU_RETURN_IF_ERROR(CheckKeys(j, "fingerprints",
                                  {"media", "mime", "sha256", "size", "iscc", "meta_code",
                                   "content_code", "data_code", "instance_code", "pdq",
                                   "pdq_quality"}));
  registry::Fingerprints fp;
  CHUQU_ASSIGN_OR_RETURN(fp.media, Str(j, "media", true));
  CHUQU_ASSIGN_OR_RETURN(fp.mime, Str(j, "mime", false));
  CHUQU_ASSIGN_OR_RETURN(fp.sha256, Str(j, "sha256", false));
  CHUQU_ASSIGN_OR_RETURN(int64_t size, Int(j, "size", false));
  if (size < 0) return Status::InvalidArgument("\"size\" must be >= 0");
  fp.size = static_cast<uint64_t>(size);
  CHUQU_ASSIGN_OR_RETURN(fp.iscc, Str(j, "iscc", false));
  CHUQU_ASSIGN_OR_RETURN(fp.meta_code, Str(j, "meta_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.content_code, Str(j, "content_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.data_code, Str(j, "data_code", false));
  CHUQU_ASSIGN_OR_RETURN(fp.instance_code, Str(j, "instance_code", false));
  CHUQU_ASSIGN_OR_RETURN(std::string pdq, Str(j, "pdq", false));
  if (!pdq.empty()) {
    CHUQU_ASSIGN_OR_RETURN(Hash256 h, Hash256::ParseHex(pdq));
    fp.pdq = h;
    fp.pdq_dihedral = {h};
  }
  CHUQU_ASSIGN_OR_RETURN(int64_t q, Int(j, "pdq_quality", false));
  fp.pdq_quality = static_cast<int>(q);
  return fp;
}

json MatchJson(const registry::Match& m) {
  return {{"work", m.work},
          {"media", m.media},
          {"score", m.score},
          {"evidence", m.evidence},
          {"first_registration",
           {{"index", m.first.index}, {"time", m.first.time}, {"party", m.first.party}}}};
}

json MatchesJson(const std::vector<registry::Match>& ms) {
  json a = json::array();
  for (const auto& m : ms) a.push_back(MatchJson(m));
  return a;
}

json ParsedEntry(const std::string& bytes) {
  json j = json::parse(bytes, nullptr, false);
  return j.is_discarded() ? json(bytes) : j;
}

void Reply(Response& res, int status, const json& body) {
  SetJson(res, status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

void ReplyWrite(Response& res, const registry::WriteResult& w) {
  Reply(res, 201, {{"index", w.index}, {"entry", ParsedEntry(w.entry)}, {"receipt", w.receipt}});
}

// A spooled upload, removed when it goes out of scope.
class TempFile {
 public:
  ~TempFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  Status Write(const std::string& dir, std::string_view ext, std::string_view data) {
    std::string tmpl = dir + "/upload-XXXXXX" + std::string(ext);
    const int fd = mkstemps(tmpl.data(), static_cast<int>(ext.size()));
    if (fd < 0) return Status::IOError("cannot create an upload file in " + dir);
    path_ = tmpl;
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n <= 0) {
        close(fd);
        return Status::IOError("cannot write an upload file");
      }
      off += static_cast<size_t>(n);
    }
    close(fd);
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ".txt" from "poem.TXT"; only 1..8 ASCII letters/digits, else "" (media sniffing decides).
std::string SafeExtension(const std::string& filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string::npos) return "";
  std::string ext = filename.substr(dot + 1);
  if (ext.empty() || ext.size() > 8) return "";
  for (char& c : ext) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "";
  }
  return "." + ext;
}

// The content of an upload: multipart part "file" (other parts only from `allowed_parts`),
// or a raw application/octet-stream body. Spooled to a file for the media extractors.
Status SpoolUpload(const Request& req, const std::string& dir, TempFile& out,
                   std::initializer_list<std::string_view> allowed_parts) {
  if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      bool ok = name == "file";
      for (std::string_view a : allowed_parts) ok = ok || name == a;
      if (!ok) return Status::InvalidArgument("unknown form part \"" + name + "\"");
    }
    if (req.files.count("file") != 1) {
      return Status::InvalidArgument("exactly one form part \"file\" is required");
    }
    const auto& f = req.get_file_value("file");
    return out.Write(dir, SafeExtension(f.filename), f.content);
  }
  const std::string ct = req.get_header_value("Content-Type");
  if (ct == "application/octet-stream" || ct.rfind("text/plain", 0) == 0) {
    if (req.body.empty()) return Status::InvalidArgument("empty upload");
    return out.Write(dir, ct.rfind("text/plain", 0) == 0 ? ".txt" : "", req.body);
  }
  return Status::InvalidArgument(
      "Content-Type must be multipart/form-data, application/octet-stream or text/plain");
}

}  // namespace

Api::Api(registry::Registry& registry, std::string data_dir)
    : registry_(registry), data_dir_(std::move(data_dir)) {
  tmp_dir_ = (fs::path(data_dir_) / "tmp").string();
  std::error_code ec;
  fs::create_directories(tmp_dir_, ec);
  chmod(tmp_dir_.c_str(), 0700);
}

std::string Api::CustodialKeyPath(const std::string& data_dir, const std::string& party) {
  return (fs::path(data_dir) / "parties" / (party + ".key")).string();
}

Result<registry::PartyKey> Api::SigningKey(const std::string& party) {
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    if (auto it = keys_.find(party); it != keys_.end()) return it->second;
  }
  registry::PartyKey key;
  if (party == registry_.operator_key().party) {
    key = registry_.operator_key();
  } else {
    // party comes from our own token file, but check it is a key id before using it in a path.
    if (party.size() != 64 || party.find_first_not_of("0123456789abcdef") != std::string::npos ||
        !fs::exists(CustodialKeyPath(data_dir_, party))) {
      return Status::PermissionDenied(
          "the server holds no key for this party: submit signed entries to /v1/entries");
    }
    CHUQU_ASSIGN_OR_RETURN(key, registry::ReadPartyKeyFile(CustodialKeyPath(data_dir_, party)));
    if (key.party != party) return Status::Internal("custodial key file names another party");
  }
  if (registry_.NextSeq(party) == 1) {
    auto r = registry_.RegisterParty(key, "party " + party.substr(0, 8));
    // A concurrent first write may have registered it meanwhile: fine if it now exists.
    if (!r.ok() && registry_.NextSeq(party) == 1) return r.status();
  }
  std::lock_guard<std::mutex> lock(keys_mu_);
  keys_[party] = key;
  return key;
}

void Api::AddRoutes(Server& server) {
  server.Route("POST", "/v1/works", "/v1/works", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 Result<registry::RegisterResult> r = Status::Internal("unset");
                 if (IsJson(req)) {
                   CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"fingerprints", "info"}));
                   if (!j.contains("fingerprints")) {
                     return Status::InvalidArgument("missing field \"fingerprints\"");
                   }
                   CHUQU_ASSIGN_OR_RETURN(auto fp, ParseFingerprints(j["fingerprints"]));
                   registry::WorkInfo info;
                   if (j.contains("info")) {
                     CHUQU_ASSIGN_OR_RETURN(info, ParseWorkInfo(j["info"]));
                   }
                   CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                   r = registry_.RegisterFingerprints(key, fp, info);
                 } else {
                   TempFile file;
                   CHUQU_RETURN_IF_ERROR(SpoolUpload(req, tmp_dir_, file, {"info"}));
                   registry::WorkInfo info;
                   if (req.has_file("info")) {
                     json j = json::parse(req.get_file_value("info").content, nullptr, false);
                     if (j.is_discarded()) return Status::InvalidArgument("\"info\" is not JSON");
                     CHUQU_ASSIGN_OR_RETURN(info, ParseWorkInfo(j));
                   }
                   CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                   r = registry_.RegisterFile(key, file.path(), info);
                 }
                 if (!r.ok()) return r.status();
                 Reply(res, 201,
                       {{"work", r->work},
                        {"index", r->index},
                        {"media", r->media},
                        {"entry", ParsedEntry(r->entry)},
                        {"receipt", r->receipt},
                        {"prior_art", MatchesJson(r->prior_art)}});
                 return Status::Ok();
               });
  server.Route("POST", "/v1/match", "/v1/match", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller&) -> Status {
                 Result<std::vector<registry::Match>> m = Status::Internal("unset");
                 if (IsJson(req)) {
                   CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"fingerprints"}));
                   if (!j.contains("fingerprints")) {
                     return Status::InvalidArgument("missing field \"fingerprints\"");
                   }
                   CHUQU_ASSIGN_OR_RETURN(auto fp, ParseFingerprints(j["fingerprints"]));
                   m = registry_.MatchFingerprints(fp);
                 } else {
                   TempFile file;
                   CHUQU_RETURN_IF_ERROR(SpoolUpload(req, tmp_dir_, file, {}));
                   m = registry_.MatchFile(file.path());
                 }
                 if (!m.ok()) return m.status();
                 Reply(res, 200, {{"matches", MatchesJson(*m)}});
                 return Status::Ok();
               });
  server.Route("GET", R"(/v1/works/([^/]+))", "/v1/works/{id}", Auth::kNone,
               [this](const Request& req, Response& res, const Caller&) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t id, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(registry::WorkRecord w, registry_.GetWork(id));
                 json owners = json::array();
                 for (const auto& s : w.owners) {
                   owners.push_back({{"party", s.party}, {"basis_points", s.basis_points}});
                 }
                 Reply(res, 200,
                       {{"work", w.work},
                        {"media", w.media},
                        {"registration",
                         {{"index", w.registration.index},
                          {"time", w.registration.time},
                          {"party", w.registration.party}}},
                        {"entry", w.entry},
                        {"owners", owners},
                        {"history", w.history}});
                 return Status::Ok();
               });
  server.Route("GET", R"(/v1/evidence/([^/]+))", "/v1/evidence/{index}", Auth::kNone,
               [this](const Request& req, Response& res, const Caller&) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t index, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(ledger::EvidenceBundle b, registry_.Evidence(index));
                 res.set_header("Content-Disposition", "attachment; filename=\"evidence-" +
                                                           std::to_string(index) + ".json\"");
                 SetJson(res, 200, ledger::FormatBundle(b));
                 return Status::Ok();
               });
  server.Route("GET", R"(/v1/parties/([^/]+)/next-seq)", "/v1/parties/{party}/next-seq",
               Auth::kNone, [this](const Request& req, Response& res, const Caller&) -> Status {
                 const std::string p = req.matches[1].str();
                 if (p.size() != 64 || p.find_first_not_of("0123456789abcdef") != std::string::npos) {
                   return Status::InvalidArgument("party must be 64 lower-case hex digits");
                 }
                 Reply(res, 200, {{"party", p}, {"next_seq", registry_.NextSeq(p)}});
                 return Status::Ok();
               });
  server.Route("GET", "/v1/log-key", "/v1/log-key", Auth::kNone,
               [this](const Request&, Response& res, const Caller&) -> Status {
                 res.set_content(registry_.log_key() + "\n", "text/plain; charset=utf-8");
                 return Status::Ok();
               });
  server.Route("POST", "/v1/entries", "/v1/entries", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"entry", "blobs"}));
                 CHUQU_ASSIGN_OR_RETURN(std::string entry, Str(j, "entry", true));
                 json e = json::parse(entry, nullptr, false);
                 if (e.is_discarded() || !e.is_object()) {
                   return Status::InvalidArgument("\"entry\" is not a JSON object");
                 }
                 CHUQU_ASSIGN_OR_RETURN(std::string party, Str(e, "party", true));
                 if (party != *caller.party) {
                   return Status::PermissionDenied("the entry's party is not the token's party");
                 }
                 std::vector<std::string> blobs;
                 if (auto it = j.find("blobs"); it != j.end()) {
                   if (!it->is_array()) return Status::InvalidArgument("\"blobs\" must be an array");
                   for (const auto& b : *it) {
                     if (!b.is_string()) return Status::InvalidArgument("blobs are base64 strings");
                     const std::string& s = b.get_ref<const std::string&>();
                     std::string raw(s.size(), '\0');
                     size_t len = 0;
                     if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(),
                                           s.data(), s.size(), nullptr, &len, nullptr,
                                           sodium_base64_VARIANT_ORIGINAL) != 0) {
                       return Status::InvalidArgument("a blob is not valid base64");
                     }
                     raw.resize(len);
                     blobs.push_back(std::move(raw));
                   }
                 }
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.Submit(std::move(entry), std::move(blobs)));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", "/v1/transfers", "/v1/transfers", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"work", "to", "basis_points"}));
                 CHUQU_ASSIGN_OR_RETURN(uint64_t work, Id(j, "work"));
                 CHUQU_ASSIGN_OR_RETURN(std::string to, Str(j, "to", true));
                 CHUQU_ASSIGN_OR_RETURN(int64_t bp, Int(j, "basis_points", true));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.Transfer(key, work, to, bp));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", "/v1/offers", "/v1/offers", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"work", "type", "price", "currency",
                                                               "unit", "pay_after_use",
                                                               "territory", "term"}));
                 registry::LicenceOffer o;
                 CHUQU_ASSIGN_OR_RETURN(o.work, Id(j, "work"));
                 CHUQU_ASSIGN_OR_RETURN(o.type, Str(j, "type", false, o.type));
                 CHUQU_ASSIGN_OR_RETURN(o.price, Int(j, "price", true));
                 CHUQU_ASSIGN_OR_RETURN(o.currency, Str(j, "currency", false, o.currency));
                 CHUQU_ASSIGN_OR_RETURN(o.unit, Str(j, "unit", false, o.unit));
                 CHUQU_ASSIGN_OR_RETURN(o.pay_after_use, Bool(j, "pay_after_use", false));
                 CHUQU_ASSIGN_OR_RETURN(o.territory, Str(j, "territory", false, o.territory));
                 CHUQU_ASSIGN_OR_RETURN(o.term, Str(j, "term", false));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.OfferLicence(key, o));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/offers/([^/]+)/accept)", "/v1/offers/{id}/accept", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t offer, ParseId(req.matches[1].str()));
                 if (!req.body.empty()) {
                   CHUQU_RETURN_IF_ERROR(JsonBody(req, {}).status());
                 }
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.AcceptLicence(key, offer));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", "/v1/claims", "/v1/claims", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"work", "reason", "evidence"}));
                 CHUQU_ASSIGN_OR_RETURN(uint64_t work, Id(j, "work"));
                 CHUQU_ASSIGN_OR_RETURN(std::string reason, Str(j, "reason", true));
                 json evidence = j.contains("evidence") ? j["evidence"] : json::object();
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.Claim(key, work, reason, evidence));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/claims/([^/]+)/answer)", "/v1/claims/{id}/answer", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t claim, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"text"}));
                 CHUQU_ASSIGN_OR_RETURN(std::string text, Str(j, "text", true));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.Answer(key, claim, text));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/claims/([^/]+)/resolve)", "/v1/claims/{id}/resolve",
               Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t claim, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"outcome", "note"}));
                 CHUQU_ASSIGN_OR_RETURN(std::string outcome, Str(j, "outcome", true));
                 CHUQU_ASSIGN_OR_RETURN(std::string note, Str(j, "note", false));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 CHUQU_ASSIGN_OR_RETURN(auto w, registry_.Resolve(key, claim, outcome, note));
                 ReplyWrite(res, w);
                 return Status::Ok();
               });
}

}  // namespace chuqu::server
