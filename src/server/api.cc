#include "server/api.h"

#include <fcntl.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "ledger/bundle.h"
#include "server/request.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using httplib::Request;
using httplib::Response;

bool IsJson(const Request& req) {
  return IsJsonContentType(req.get_header_value("Content-Type"));
}

// The parsers live in request.h (fuzzed without a socket); these adapt them to a Request.
Result<json> JsonBody(const Request& req, std::initializer_list<std::string_view> allowed) {
  return ParseJsonBody(req.get_header_value("Content-Type"), req.body, allowed);
}
Result<std::string> Str(const json& j, const char* key, bool required, std::string def = "") {
  return JsonString(j, key, required, std::move(def));
}
Result<int64_t> Int(const json& j, const char* key, bool required, int64_t def = 0) {
  return JsonInt(j, key, required, def);
}
Result<uint64_t> Id(const json& j, const char* key) { return JsonId(j, key); }
Result<bool> Bool(const json& j, const char* key, bool def) { return JsonBool(j, key, def); }

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

// The client's file name without directories and extension, for an upload's name: ASCII
// letters, digits, space, '-', '_' and non-ASCII bytes kept, at most 100 bytes; else "upload".
std::string UploadStem(std::string_view filename) {
  if (size_t slash = filename.find_last_of("/\\"); slash != std::string_view::npos) {
    filename.remove_prefix(slash + 1);
  }
  if (size_t dot = filename.rfind('.'); dot != std::string_view::npos) {
    filename = filename.substr(0, dot);
  }
  std::string stem;
  for (char c : filename.substr(0, 100)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
        c == '-' || c == '_' || u >= 0x80) {
      stem.push_back(c);
    }
  }
  return stem.empty() ? "upload" : stem;
}

// An upload: multipart part "file" or a raw body, and the file name it is fingerprinted under,
// the client's (UploadStem + SafeExtension). The registry takes a work's default title and ISCC
// Meta-Code from that name, so it is never random: a retried upload gives the same entry body,
// as an Idempotency-Key retry needs (docs/api.md).
struct Upload {
  std::string_view bytes;  // borrowed from the request
  std::string name;
};

// The upload in `req`: multipart part "file" (other parts only from `allowed_parts`), or a raw
// application/octet-stream or text/plain body.
Result<Upload> UploadOf(const Request& req, std::initializer_list<std::string_view> allowed_parts) {
  if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      bool ok = name == "file";
      for (std::string_view a : allowed_parts) ok = ok || name == a;
      if (!ok) return Status::InvalidArgument("unknown form part \"" + name + "\"");
    }
    if (req.files.count("file") != 1) {
      return Status::InvalidArgument("exactly one form part \"file\" is required");
    }
    // The part itself, not get_file_value's copy: Upload borrows its bytes.
    const auto& f = req.files.find("file")->second;
    return Upload{f.content, UploadStem(f.filename) + SafeExtension(f.filename)};
  }
  const std::string ct = req.get_header_value("Content-Type");
  if (ct == "application/octet-stream" || ct.rfind("text/plain", 0) == 0) {
    if (req.body.empty()) return Status::InvalidArgument("empty upload");
    return Upload{req.body, UploadStem("") + (ct.rfind("text/plain", 0) == 0 ? ".txt" : "")};
  }
  return Status::InvalidArgument(
      "Content-Type must be multipart/form-data, application/octet-stream or text/plain");
}

// An upload spooled to a file for the media extractors that read files (documents, audio,
// video, images libvips reads only from files): DIR/upload-XXXXXX/<Upload::name>, removed when
// it goes out of scope.
class TempFile {
 public:
  ~TempFile() {
    if (!path_.empty()) unlink(path_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  Status Write(const std::string& dir, const Upload& upload) {
    std::string tmpl = dir + "/upload-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Status::IOError("cannot create an upload directory in " + dir);
    }
    dir_ = tmpl;
    path_ = dir_ + "/" + upload.name;
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      path_.clear();
      return Status::IOError("cannot create an upload file in " + dir);
    }
    std::string_view data = upload.bytes;
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
  std::string dir_;
  std::string path_;
};

// The name a raw text upload is fingerprinted under (UploadOf): its default title and Meta-Code.
std::string RawTextName() { return UploadStem("") + ".txt"; }

// A raw body declared text/plain (any parameters) that reads as UTF-8 text: fingerprinted from
// memory (Registry::MatchPlainText, RegisterPlainText), with no spool file and no libmagic. Other
// text/plain bodies (other encodings, binary) keep the spooled path, content detection included,
// so their answers (and refusals) are unchanged.
bool IsPlainTextBody(const Request& req) {
  constexpr std::string_view kTextPlain = "text/plain";
  const std::string ct = req.get_header_value("Content-Type");
  if (ct.compare(0, kTextPlain.size(), kTextPlain) != 0) return false;
  if (ct.size() > kTextPlain.size() && ct[kTextPlain.size()] != ';' &&
      ct[kTextPlain.size()] != ' ') {
    return false;
  }
  return registry::Registry::IsPlainText(req.body);
}

// The Idempotency-Key header of a custodial write (docs/api.md): "" when absent.
Result<std::string> IdempotencyKey(const Request& req) {
  if (!req.has_header("Idempotency-Key")) return std::string();
  std::string key = req.get_header_value("Idempotency-Key");
  CHUQU_RETURN_IF_ERROR(CheckIdempotencyKey(key));
  return key;
}

// A write the registry refused. When the refusal is about `key` (already applied, or used for
// another request), the 409 body also names the applied entry: "index", and "work" for a
// registration replayed with the same content.
Status WriteRefused(registry::Registry& registry, const Status& s, const std::string& party,
                    const std::string& key, bool work, Response& res) {
  if (key.empty() || (s.code() != StatusCode::kAlreadyExists &&
                      s.code() != StatusCode::kFailedPrecondition)) {
    return s;
  }
  Result<std::optional<uint64_t>> applied = registry.FindRequest(party, key);
  if (!applied.ok() || !applied->has_value()) return s;
  json body = json::parse(ErrorBody(s));
  body["index"] = **applied;
  if (work && s.code() == StatusCode::kAlreadyExists) body["work"] = **applied;
  Reply(res, 409, body);
  return Status::Ok();
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
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
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
                   r = registry_.RegisterFingerprints(key, fp, info, idem);
                 } else if (IsPlainTextBody(req)) {
                   CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                   r = registry_.RegisterPlainText(key, req.body, RawTextName(), {}, idem);
                 } else {
                   CHUQU_ASSIGN_OR_RETURN(Upload upload, UploadOf(req, {"info"}));
                   registry::WorkInfo info;
                   if (req.has_file("info")) {
                     CHUQU_ASSIGN_OR_RETURN(info,
                                            ParseWorkInfoPart(req.get_file_value("info").content));
                   }
                   CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                   if (registry::Registry::IsImage(upload.bytes, upload.name)) {
                     r = registry_.RegisterImage(key, upload.bytes, upload.name, info, idem);
                   } else {
                     TempFile file;
                     CHUQU_RETURN_IF_ERROR(file.Write(tmp_dir_, upload));
                     r = registry_.RegisterFile(key, file.path(), info, idem);
                   }
                 }
                 if (!r.ok()) {
                   return WriteRefused(registry_, r.status(), *caller.party, idem, true, res);
                 }
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
                 } else if (IsPlainTextBody(req)) {
                   m = registry_.MatchPlainText(req.body, RawTextName());
                 } else {
                   CHUQU_ASSIGN_OR_RETURN(Upload upload, UploadOf(req, {}));
                   if (registry::Registry::IsImage(upload.bytes, upload.name)) {
                     m = registry_.MatchImage(upload.bytes, upload.name);
                   } else {
                     TempFile file;
                     CHUQU_RETURN_IF_ERROR(file.Write(tmp_dir_, upload));
                     m = registry_.MatchFile(file.path());
                   }
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
                 CHUQU_RETURN_IF_ERROR(CheckPartyId(p));
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
                 CHUQU_ASSIGN_OR_RETURN(std::string party, SignedEntryParty(entry));
                 if (party != *caller.party) {
                   return Status::PermissionDenied("the entry's party is not the token's party");
                 }
                 std::vector<std::string> blobs;
                 if (auto it = j.find("blobs"); it != j.end()) {
                   CHUQU_ASSIGN_OR_RETURN(blobs, ParseBlobs(*it));
                 }
                 auto w = registry_.Submit(std::move(entry), std::move(blobs));
                 // A bad entry signature is the request's fault, not the token's: 400, not 401
                 // (which tells a client to fix its credentials).
                 if (!w.ok() && w.status().code() == StatusCode::kUnauthenticated) {
                   return Status::InvalidArgument(w.status().message());
                 }
                 if (!w.ok()) return w.status();
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
  server.Route("POST", "/v1/transfers", "/v1/transfers", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"work", "to", "basis_points"}));
                 CHUQU_ASSIGN_OR_RETURN(uint64_t work, Id(j, "work"));
                 CHUQU_ASSIGN_OR_RETURN(std::string to, Str(j, "to", true));
                 CHUQU_ASSIGN_OR_RETURN(int64_t bp, Int(j, "basis_points", true));
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.Transfer(key, work, to, bp, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
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
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.OfferLicence(key, o, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/offers/([^/]+)/accept)", "/v1/offers/{id}/accept", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t offer, ParseId(req.matches[1].str()));
                 if (!req.body.empty()) {
                   CHUQU_RETURN_IF_ERROR(JsonBody(req, {}).status());
                 }
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.AcceptLicence(key, offer, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
  server.Route("POST", "/v1/claims", "/v1/claims", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"work", "reason", "evidence"}));
                 CHUQU_ASSIGN_OR_RETURN(uint64_t work, Id(j, "work"));
                 CHUQU_ASSIGN_OR_RETURN(std::string reason, Str(j, "reason", true));
                 json evidence = j.contains("evidence") ? j["evidence"] : json::object();
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.Claim(key, work, reason, evidence, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/claims/([^/]+)/answer)", "/v1/claims/{id}/answer", Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t claim, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"text"}));
                 CHUQU_ASSIGN_OR_RETURN(std::string text, Str(j, "text", true));
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.Answer(key, claim, text, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
  server.Route("POST", R"(/v1/claims/([^/]+)/resolve)", "/v1/claims/{id}/resolve",
               Auth::kRequired,
               [this](const Request& req, Response& res, const Caller& caller) -> Status {
                 CHUQU_ASSIGN_OR_RETURN(uint64_t claim, ParseId(req.matches[1].str()));
                 CHUQU_ASSIGN_OR_RETURN(json j, JsonBody(req, {"outcome", "note"}));
                 CHUQU_ASSIGN_OR_RETURN(std::string outcome, Str(j, "outcome", true));
                 CHUQU_ASSIGN_OR_RETURN(std::string note, Str(j, "note", false));
                 CHUQU_ASSIGN_OR_RETURN(std::string idem, IdempotencyKey(req));
                 CHUQU_ASSIGN_OR_RETURN(auto key, SigningKey(*caller.party));
                 auto w = registry_.Resolve(key, claim, outcome, note, idem);
                 if (!w.ok()) {
                   return WriteRefused(registry_, w.status(), *caller.party, idem, false, res);
                 }
                 ReplyWrite(res, *w);
                 return Status::Ok();
               });
}

}  // namespace chuqu::server
