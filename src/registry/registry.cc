#include "registry/registry.h"
#include "registry/content_code.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <sstream>

#include "base/jcs.h"
#include "chuqu/iscc.h"
#include "fingerprint/pdq/pdq_hasher.h"
#include "ledger/log_view.h"
#include "ledger/note.h"
#include "ledger/sequencer.h"
#include "media/av_fingerprint.h"
#include "media/extract.h"
#include "media/image.h"
#include "media/image_features.h"
#include "registry/registry_store.h"

namespace chuqu::registry {

namespace fs = std::filesystem;
using store::Blob;
using store::SqlValue;

bool IsWorkKind(std::string_view kind) {
  return std::find(std::begin(kWorkKinds), std::end(kWorkKinds), kind) != std::end(kWorkKinds);
}

bool IsValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string RequestId(std::string_view party, std::string_view idempotency_key) {
  std::string message = "chuqu-request-v1\n";
  message.append(party);
  message += '\n';
  message.append(idempotency_key);
  return Sha256Hex(message);
}

namespace {

Status CheckIdempotencyKey(std::string_view key) {
  if (IsValidIdempotencyKey(key)) return Status::Ok();
  return Status::InvalidArgument("Idempotency-Key must be 1 to 128 printable ASCII characters");
}

// Where a work's content comes from: the file at `name`, or, when `bytes` is not empty, an
// upload held in memory under the file name `name` (an image: media::IsImageBytes).
struct Source {
  std::string name;
  std::string_view bytes;
};

// Fingerprints of a source (defined with the other fingerprint code at the end of this file).
// `query`: for a match, `runner`: MatcherOptions::runner.
Result<Fingerprints> FingerprintSource(const Source& source, bool query,
                                       TaskRunner* runner = nullptr);
Result<Fingerprints> FingerprintPlainTextBytes(std::string_view bytes, std::string_view file_name);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keys and files.

PartyKey PartyKey::Generate() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  PartyKey k;
  k.party = ToHex(std::string_view(reinterpret_cast<char*>(pk), sizeof(pk)));
  k.secret_key.assign(reinterpret_cast<char*>(sk), sizeof(sk));
  sodium_memzero(sk, sizeof(sk));
  return k;
}

Result<PartyKey> PartyKey::FromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("party") || !j.contains("secret_key") ||
      !j["party"].is_string() || !j["secret_key"].is_string()) {
    return Status::InvalidArgument("key file must be JSON with \"party\" and \"secret_key\"");
  }
  PartyKey k;
  k.party = j["party"].get<std::string>();
  CHUQU_ASSIGN_OR_RETURN(k.secret_key, ledger::Base64Decode(j["secret_key"].get<std::string>()));
  if (k.secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("secret_key must be 64 bytes (libsodium Ed25519)");
  }
  // libsodium's secret key is seed || public key: the party id must be that public key.
  if (ToHex(std::string_view(k.secret_key).substr(32)) != k.party) {
    return Status::InvalidArgument("party does not match the secret key");
  }
  return k;
}

std::string PartyKey::ToJson() const {
  return nlohmann::json{{"party", party}, {"secret_key", ledger::Base64Encode(secret_key)}}
             .dump() +
         "\n";
}

namespace {

Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::AlreadyExists(path + " exists or cannot be created");
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      return Status::IOError("cannot write " + path);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status::IOError("cannot sync " + path);
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > 65536) return Status::InvalidArgument(path + " is too large for a key file");
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Status WritePartyKeyFile(const std::string& path, const PartyKey& key) {
  return WriteNewFile(path, key.ToJson(), 0600);
}

Result<PartyKey> ReadPartyKeyFile(const std::string& path) {
  CHUQU_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  Result<PartyKey> k = PartyKey::FromJson(text);
  if (!k.ok()) return Status::InvalidArgument(path + ": " + k.status().message());
  return k;
}

// ---------------------------------------------------------------------------------------------
// State: what validation needs, derived from the log by Plan + Effect::mutate.

namespace {

struct Stmt {
  std::string sql;
  std::vector<SqlValue> params;
};

struct WorkState {
  std::string kind;
  std::string media;
  FirstRegistration first;
  std::map<std::string, int64_t> shares;  // party -> basis points (> 0)
};

struct OfferState {
  uint64_t work = 0;
  std::string type;
  bool taken = false;
};

struct ClaimState {
  uint64_t work = 0;
  std::string status = "open";  // open, answered, resolved
};

struct State {
  std::string operator_party;  // the signer of the log's first entry
  std::map<std::string, int64_t> seq;   // party -> last seq
  std::map<std::string, std::string> parties;  // party -> name
  std::map<uint64_t, WorkState> works;
  std::map<std::string, std::pair<int64_t, std::string>> caps;  // kind -> (price, currency)
  std::map<uint64_t, OfferState> offers;
  std::map<uint64_t, ClaimState> claims;
  // Idempotent requests: raw party key (32 bytes) + raw request id (32) -> the entry that
  // applied it and the SHA-256 of its body without "request" (to tell a retry from a conflict).
  // Kept in the Registry's planned state only (Impl::planned).
  struct Request {
    uint64_t entry = 0;
    std::string digest;
  };
  std::map<std::string, Request> requests;
};

// The effect of one valid entry: derived rows, the state change and (works) fingerprints.
struct Effect {
  std::vector<Stmt> rows;
  std::function<void(State&)> mutate;
  std::optional<Fingerprints> fingerprints;  // for the matcher (works only)
  std::optional<uint64_t> work;              // work the entry concerns (history)
  std::optional<std::pair<std::string, State::Request>> request;  // State::requests entry
};

// The derived tables (docs/registry.md), created once when the registry opens; each batch's
// extra writes only add rows.
constexpr std::string_view kSchema[] = {
    "CREATE TABLE IF NOT EXISTS parties(party TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " entry INTEGER NOT NULL, seq INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS works(work INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    " media TEXT NOT NULL, title TEXT, party TEXT NOT NULL, time TEXT NOT NULL, sha256 TEXT,"
    " iscc TEXT, content_code TEXT, pdq TEXT, ai_generated INTEGER, digital_human INTEGER)",
    "CREATE INDEX IF NOT EXISTS works_sha256 ON works(sha256)",
    "CREATE TABLE IF NOT EXISTS shares(work INTEGER NOT NULL, party TEXT NOT NULL,"
    " basis_points INTEGER NOT NULL, PRIMARY KEY(work, party))",
    "CREATE TABLE IF NOT EXISTS share_history(entry INTEGER NOT NULL, work INTEGER NOT NULL,"
    " from_party TEXT, to_party TEXT NOT NULL, basis_points INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS work_entries(work INTEGER NOT NULL, entry INTEGER NOT NULL,"
    " kind TEXT NOT NULL, PRIMARY KEY(work, entry))",
    "CREATE TABLE IF NOT EXISTS price_caps(work_kind TEXT PRIMARY KEY, max_price INTEGER NOT NULL,"
    " currency TEXT NOT NULL, entry INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS offers(offer INTEGER PRIMARY KEY, work INTEGER NOT NULL,"
    " party TEXT NOT NULL, type TEXT NOT NULL, price INTEGER NOT NULL, currency TEXT NOT NULL,"
    " unit TEXT NOT NULL, pay_after_use INTEGER NOT NULL, territory TEXT NOT NULL, term TEXT,"
    " status TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS grants(grant_entry INTEGER PRIMARY KEY, offer INTEGER NOT NULL,"
    " party TEXT NOT NULL, time TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS claims(claim INTEGER PRIMARY KEY, work INTEGER NOT NULL,"
    " claimant TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, answer_entry INTEGER,"
    " outcome TEXT, resolve_entry INTEGER)",
    "CREATE TABLE IF NOT EXISTS blobs(sha256 TEXT PRIMARY KEY, algorithm TEXT NOT NULL,"
    " data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS requests(party TEXT NOT NULL, request TEXT NOT NULL,"
    " entry INTEGER NOT NULL, PRIMARY KEY(party, request))",
};

// Tables and their full ordering, for DumpTables.
constexpr std::pair<const char*, const char*> kDumpTables[] = {
    {"parties", "party"},
    {"works", "work"},
    {"shares", "work, party"},
    {"share_history", "entry, work, to_party"},
    {"work_entries", "work, entry"},
    {"price_caps", "work_kind"},
    {"offers", "offer"},
    {"grants", "grant_entry"},
    {"claims", "claim"},
    {"blobs", "sha256"},
    {"requests", "party, request"},
};

int64_t I(uint64_t v) { return static_cast<int64_t>(v); }

// Typed body accessors: InvalidArgument naming the field.
Result<std::string> Str(const nlohmann::json& o, const char* key, bool required = true) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string("missing field \"") + key + "\"");
    return std::string();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

Result<int64_t> Int(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be an integer");
  }
  const int64_t v = it->get<int64_t>();
  if (v < 0 || v > (int64_t{1} << 53)) {
    return Status::InvalidArgument(std::string("\"") + key + "\" out of range");
  }
  return v;
}

bool Bool(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

Status WorkExists(const State& s, uint64_t work) {
  if (!s.works.count(work)) return Status::NotFound("no work " + std::to_string(work));
  return Status::Ok();
}

// Fingerprints committed by a work entry's "content" (blob bytes looked up by `blob`).
Result<Fingerprints> FingerprintsFromContent(
    const nlohmann::json& c, const std::function<Result<std::string>(const std::string&)>& blob) {
  if (!c.is_object()) return Status::InvalidArgument("\"content\" must be an object");
  Fingerprints fp;
  CHUQU_ASSIGN_OR_RETURN(fp.media, Str(c, "media"));
  static const std::set<std::string> kMedia = {"text", "image", "audio", "video", "data"};
  if (!kMedia.count(fp.media)) return Status::InvalidArgument("unknown media " + fp.media);
  CHUQU_ASSIGN_OR_RETURN(fp.mime, Str(c, "mime", false));
  CHUQU_ASSIGN_OR_RETURN(fp.sha256, Str(c, "sha256", false));
  if (!fp.sha256.empty()) {
    Result<std::string> raw = FromHex(fp.sha256);
    if (!raw.ok() || raw->size() != 32) return Status::InvalidArgument("sha256 must be 64 hex");
  }
  if (c.contains("size")) {
    CHUQU_ASSIGN_OR_RETURN(int64_t size, Int(c, "size"));
    fp.size = static_cast<uint64_t>(size);
  }
  CHUQU_ASSIGN_OR_RETURN(fp.iscc, Str(c, "iscc", false));
  CHUQU_ASSIGN_OR_RETURN(fp.meta_code, Str(c, "meta", false));
  CHUQU_ASSIGN_OR_RETURN(fp.content_code, Str(c, "content", false));
  CHUQU_ASSIGN_OR_RETURN(fp.data_code, Str(c, "data", false));
  CHUQU_ASSIGN_OR_RETURN(fp.instance_code, Str(c, "instance", false));
  for (const std::string* code : {&fp.iscc, &fp.meta_code, &fp.content_code, &fp.data_code,
                                  &fp.instance_code}) {
    if (!code->empty() && !DecomposeIscc(*code).ok()) {
      return Status::InvalidArgument("malformed ISCC " + *code);
    }
  }
  if (auto it = c.find("pdq"); it != c.end()) {
    CHUQU_ASSIGN_OR_RETURN(std::string hex, Str(*it, "hash"));
    CHUQU_ASSIGN_OR_RETURN(Hash256 h, Hash256::ParseHex(hex));
    fp.pdq = h;
    CHUQU_ASSIGN_OR_RETURN(int64_t q, Int(*it, "quality"));
    fp.pdq_quality = static_cast<int>(std::min<int64_t>(q, 100));
  }
  if (auto it = c.find("text"); it != c.end()) {
    CHUQU_ASSIGN_OR_RETURN(std::string sha, Str(*it, "sha256"));
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, blob(sha));
    if (Sha256Hex(bytes) != sha) return Status::InvalidArgument("text fingerprint blob digest");
    Result<text::TextFingerprints> t = text::DecodeFingerprints(bytes);
    if (!t.ok()) return Status::InvalidArgument("text fingerprints: " + t.status().message());
    fp.text = std::move(*t);
  }
  auto bytes_of = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  if (auto it = c.find("video"); it != c.end()) {
    CHUQU_ASSIGN_OR_RETURN(std::string sha, Str(*it, "sha256"));
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, blob(sha));
    if (Sha256Hex(bytes) != sha) return Status::InvalidArgument("video fingerprint blob digest");
    Result<index::VideoFingerprint> v = index::DecodeVideoFingerprint(bytes_of(bytes));
    if (!v.ok()) return Status::InvalidArgument("video fingerprint: " + v.status().message());
    fp.video = std::move(*v);
  }
  if (auto it = c.find("audio"); it != c.end()) {
    CHUQU_ASSIGN_OR_RETURN(std::string sha, Str(*it, "sha256"));
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, blob(sha));
    if (Sha256Hex(bytes) != sha) return Status::InvalidArgument("audio fingerprint blob digest");
    Result<index::AudioFingerprint> a = index::DecodeAudioFingerprint(bytes_of(bytes));
    if (!a.ok()) return Status::InvalidArgument("audio fingerprint: " + a.status().message());
    fp.audio = std::move(*a);
  }
  if (auto it = c.find("image"); it != c.end()) {
    CHUQU_ASSIGN_OR_RETURN(std::string sha, Str(*it, "sha256"));
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, blob(sha));
    if (Sha256Hex(bytes) != sha) return Status::InvalidArgument("image fingerprint blob digest");
    Result<index::ImageFingerprint> im = index::DecodeImageFingerprint(bytes_of(bytes));
    if (!im.ok()) return Status::InvalidArgument("image fingerprint: " + im.status().message());
    fp.image = std::move(*im);
  }
  return fp;
}

// Bulky fingerprints of `fp` as blobs, by content field: "text", "video", "audio", "image".
std::map<std::string, std::string> BulkyBlobs(const Fingerprints& fp) {
  std::map<std::string, std::string> out;
  if (fp.text) out["text"] = text::EncodeFingerprints(*fp.text);
  if (fp.video) {
    index::VideoFingerprint stored = *fp.video;
    stored.dihedrals = 1;  // the registered original; queries carry the variants
    const std::vector<uint8_t> b = index::EncodeVideoFingerprint(stored);
    out["video"].assign(b.begin(), b.end());
  }
  if (fp.audio) {
    const std::vector<uint8_t> b = index::EncodeAudioFingerprint(*fp.audio);
    out["audio"].assign(b.begin(), b.end());
  }
  if (fp.image && !fp.image->descriptors.empty()) {
    const std::vector<uint8_t> b = index::EncodeImageFingerprint(*fp.image);
    out["image"].assign(b.begin(), b.end());
  }
  return out;
}

nlohmann::json ContentJson(const Fingerprints& fp,
                           const std::map<std::string, std::string>& blobs) {
  const std::string text_blob_sha = blobs.count("text") ? Sha256Hex(blobs.at("text")) : "";
  nlohmann::json c = {{"media", fp.media}};
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) c[k] = v;
  };
  put("mime", fp.mime);
  put("sha256", fp.sha256);
  if (fp.size) c["size"] = fp.size;
  put("iscc", fp.iscc);
  put("meta", fp.meta_code);
  put("content", fp.content_code);
  put("data", fp.data_code);
  put("instance", fp.instance_code);
  if (fp.pdq) {
    c["pdq"] = {{"algorithm", kPdqAlgorithm}, {"hash", fp.pdq->Hex()}, {"quality", fp.pdq_quality}};
  }
  if (fp.text) {
    c["text"] = {{"algorithm", kTextAlgorithm},
                 {"sha256", text_blob_sha},
                 {"k", fp.text->options.k},
                 {"w", fp.text->options.w},
                 {"count", fp.text->fingerprints.size()}};
  }
  if (blobs.count("video")) {
    c["video"] = {{"algorithm", kVideoAlgorithm},
                  {"sha256", Sha256Hex(blobs.at("video"))},
                  {"frames", fp.video->frames.size()}};
  }
  if (blobs.count("audio")) {
    c["audio"] = {{"algorithm", kAudioAlgorithm},
                  {"sha256", Sha256Hex(blobs.at("audio"))},
                  {"count", fp.audio->values.size()}};
  }
  if (blobs.count("image")) {
    c["image"] = {{"algorithm", kImageAlgorithm},
                  {"sha256", Sha256Hex(blobs.at("image"))},
                  {"count", fp.image->descriptors.size()}};
  }
  return c;
}

// Validates `e` (signature already checked) against `s` as entry number `index`, and returns
// its effect. `blob` resolves committed bulky fingerprints. Refusals change nothing.
Result<Effect> Plan(const State& s, const Entry& e, uint64_t index,
                    const std::function<Result<std::string>(const std::string&)>& blob) {
  auto seq_it = s.seq.find(e.party);
  const int64_t last = seq_it == s.seq.end() ? 0 : seq_it->second;
  if (e.seq != last + 1) {
    return Status::FailedPrecondition("sequence " + std::to_string(e.seq) + " of party " +
                                      e.party.substr(0, 12) + "... is not the next (" +
                                      std::to_string(last + 1) + "): replayed or reordered entry");
  }
  const bool registered = s.parties.count(e.party) > 0;
  if (e.kind != kKindParty && !registered) {
    return Status::PermissionDenied("party " + e.party.substr(0, 12) +
                                    "... is not registered (create it first)");
  }
  Effect fx;
  const std::string party = e.party;
  const int64_t seq = e.seq;
  const int64_t idx = I(index);
  auto bump_seq = [party, seq](State& st) { st.seq[party] = seq; };
  const nlohmann::json& b = e.body;

  // Idempotent requests (docs/entry-format.md "request"): checked before the kind's rules, so
  // a retry of an applied request is named as such even when the state has moved on.
  if (auto rit = b.find("request"); rit != b.end()) {
    const std::string* request = rit->get_ptr<const std::string*>();
    Result<std::string> raw =
        request ? FromHex(*request) : Result<std::string>(Status::InvalidArgument("not a string"));
    if (!raw.ok() || raw->size() != 32) {
      return Status::InvalidArgument("\"request\" must be 64 lower-case hex digits (a request id)");
    }
    nlohmann::json rest = b;
    rest.erase("request");
    CHUQU_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(rest));
    CHUQU_ASSIGN_OR_RETURN(std::string key, FromHex(party));
    key += *raw;
    State::Request record{index, Sha256Hex(canonical)};
    if (auto it = s.requests.find(key); it != s.requests.end()) {
      const std::string n = std::to_string(it->second.entry);
      if (it->second.digest == record.digest) {
        return Status::AlreadyExists("request already applied as entry " + n +
                                     " (same Idempotency-Key, same content): nothing written");
      }
      return Status::FailedPrecondition(
          "Idempotency-Key already used by this party for a different request (entry " + n +
          "): nothing written; use a new key for a new request");
    }
    fx.rows.push_back({"INSERT INTO requests(party, request, entry) VALUES(?1, ?2, ?3)",
                       {party, *request, idx}});
    fx.request.emplace(std::move(key), std::move(record));
  }

  if (e.kind == kKindParty) {
    if (registered) return Status::AlreadyExists("party already registered");
    CHUQU_ASSIGN_OR_RETURN(std::string name, Str(b, "name"));
    if (name.empty() || name.size() > 200) return Status::InvalidArgument("name: 1..200 bytes");
    fx.rows.push_back({"INSERT INTO parties(party, name, entry, seq) VALUES(?1, ?2, ?3, ?4)",
                       {party, name, idx, seq}});
    const bool first = s.parties.empty();
    fx.mutate = [=](State& st) {
      bump_seq(st);
      st.parties[party] = name;
      if (first) st.operator_party = party;
    };
    return fx;
  }
  fx.rows.push_back({"UPDATE parties SET seq = ?1 WHERE party = ?2", {seq, party}});

  if (e.kind == kKindWork) {
    auto wit = b.find("work");
    auto cit = b.find("content");
    if (wit == b.end() || !wit->is_object() || cit == b.end()) {
      return Status::InvalidArgument("work entry needs \"work\" and \"content\" objects");
    }
    const nlohmann::json& w = *wit;
    CHUQU_ASSIGN_OR_RETURN(std::string kind, Str(w, "kind"));
    if (!IsWorkKind(kind)) return Status::InvalidArgument("unknown work kind \"" + kind + "\"");
    CHUQU_ASSIGN_OR_RETURN(std::string title, Str(w, "title", false));
    CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintsFromContent(*cit, blob));
    std::map<std::string, int64_t> shares;
    int64_t total = 0;
    auto oit = w.find("owners");
    if (oit == w.end() || !oit->is_array() || oit->empty()) {
      return Status::InvalidArgument("\"owners\" must list at least one owner");
    }
    for (const nlohmann::json& o : *oit) {
      CHUQU_ASSIGN_OR_RETURN(std::string p, Str(o, "party"));
      CHUQU_ASSIGN_OR_RETURN(int64_t bp, Int(o, "basis_points"));
      if (!s.parties.count(p)) return Status::NotFound("owner " + p.substr(0, 12) + "... is not a registered party");
      if (bp <= 0 || shares.count(p)) {
        return Status::InvalidArgument("each owner appears once with a positive share");
      }
      shares[p] = bp;
      total += bp;
    }
    if (total != kFullShare) {
      return Status::FailedPrecondition("ownership shares sum to " + std::to_string(total) +
                                        " basis points, not 10000");
    }
    std::vector<std::pair<std::string, std::string>> blob_refs;  // (sha256, algorithm)
    for (const char* field : {"text", "video", "audio", "image"}) {
      if (auto t = cit->find(field); t != cit->end()) {
        CHUQU_ASSIGN_OR_RETURN(std::string sha, Str(*t, "sha256"));
        CHUQU_ASSIGN_OR_RETURN(std::string algorithm, Str(*t, "algorithm", false));
        blob_refs.emplace_back(sha, algorithm);
      }
    }
    fx.rows.push_back(
        {"INSERT INTO works(work, kind, media, title, party, time, sha256, iscc, content_code, pdq,"
         " ai_generated, digital_human) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
         {idx, kind, fp.media, title, party, e.time, fp.sha256, fp.iscc, fp.content_code,
          fp.pdq ? SqlValue(fp.pdq->Hex()) : SqlValue(), int64_t{Bool(w, "ai_generated")},
          int64_t{Bool(w, "digital_human")}}});
    for (const auto& [p, bp] : shares) {
      fx.rows.push_back({"INSERT INTO shares(work, party, basis_points) VALUES(?1, ?2, ?3)",
                         {idx, p, bp}});
      fx.rows.push_back({"INSERT INTO share_history(entry, work, from_party, to_party,"
                         " basis_points) VALUES(?1, ?1, NULL, ?2, ?3)",
                         {idx, p, bp}});
    }
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?1, 'work')", {idx}});
    for (const auto& [sha, algorithm] : blob_refs) {
      CHUQU_ASSIGN_OR_RETURN(std::string bytes, blob(sha));
      fx.rows.push_back({"INSERT INTO blobs(sha256, algorithm, data) VALUES(?1, ?2, ?3)"
                         " ON CONFLICT DO NOTHING",
                         {sha, algorithm, Blob{bytes}}});
    }
    FirstRegistration first{index, e.time, party};
    fx.fingerprints = fp;
    fx.work = index;
    fx.mutate = [=](State& st) {
      bump_seq(st);
      st.works[index] = WorkState{kind, fp.media, first, shares};
    };
    return fx;
  }

  if (e.kind == kKindTransfer) {
    CHUQU_ASSIGN_OR_RETURN(int64_t work_i, Int(b, "work"));
    const uint64_t work = static_cast<uint64_t>(work_i);
    CHUQU_RETURN_IF_ERROR(WorkExists(s, work));
    CHUQU_ASSIGN_OR_RETURN(std::string to, Str(b, "to"));
    CHUQU_ASSIGN_OR_RETURN(int64_t bp, Int(b, "basis_points"));
    if (!s.parties.count(to)) return Status::NotFound("recipient is not a registered party");
    if (to == party) return Status::InvalidArgument("a transfer to oneself");
    const auto& shares = s.works.at(work).shares;
    auto have = shares.find(party);
    if (have == shares.end()) {
      return Status::PermissionDenied("the signer holds no share of work " + std::to_string(work) +
                                      " (only the giving party can transfer its share)");
    }
    if (bp <= 0 || bp > have->second) {
      return Status::FailedPrecondition("cannot transfer " + std::to_string(bp) +
                                        " basis points: the signer holds " +
                                        std::to_string(have->second));
    }
    const int64_t remaining = have->second - bp;
    if (remaining == 0) {
      fx.rows.push_back({"DELETE FROM shares WHERE work = ?1 AND party = ?2", {work_i, party}});
    } else {
      fx.rows.push_back({"UPDATE shares SET basis_points = ?3 WHERE work = ?1 AND party = ?2",
                         {work_i, party, remaining}});
    }
    fx.rows.push_back({"INSERT INTO shares(work, party, basis_points) VALUES(?1, ?2, ?3)"
                       " ON CONFLICT(work, party) DO UPDATE SET"
                       " basis_points = shares.basis_points + ?3",
                       {work_i, to, bp}});
    fx.rows.push_back({"INSERT INTO share_history(entry, work, from_party, to_party,"
                       " basis_points) VALUES(?1, ?2, ?3, ?4, ?5)",
                       {idx, work_i, party, to, bp}});
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?2, 'transfer')",
                       {work_i, idx}});
    fx.work = work;
    fx.mutate = [=](State& st) {
      bump_seq(st);
      auto& sh = st.works.at(work).shares;
      if (remaining == 0) {
        sh.erase(party);
      } else {
        sh[party] = remaining;
      }
      sh[to] += bp;
    };
    return fx;
  }

  if (e.kind == kKindPriceCap) {
    if (party != s.operator_party) {
      return Status::PermissionDenied("only the operator sets price caps");
    }
    CHUQU_ASSIGN_OR_RETURN(std::string kind, Str(b, "work_kind"));
    if (!IsWorkKind(kind)) return Status::InvalidArgument("unknown work kind \"" + kind + "\"");
    CHUQU_ASSIGN_OR_RETURN(int64_t max_price, Int(b, "max_price"));
    CHUQU_ASSIGN_OR_RETURN(std::string currency, Str(b, "currency"));
    if (max_price == 0) {
      fx.rows.push_back({"DELETE FROM price_caps WHERE work_kind = ?1", {kind}});
    } else {
      fx.rows.push_back({"INSERT INTO price_caps(work_kind, max_price, currency, entry)"
                         " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(work_kind) DO UPDATE SET"
                         " max_price = ?2, currency = ?3, entry = ?4",
                         {kind, max_price, currency, idx}});
    }
    fx.mutate = [=](State& st) {
      bump_seq(st);
      if (max_price == 0) {
        st.caps.erase(kind);
      } else {
        st.caps[kind] = {max_price, currency};
      }
    };
    return fx;
  }

  if (e.kind == kKindOffer) {
    CHUQU_ASSIGN_OR_RETURN(int64_t work_i, Int(b, "work"));
    const uint64_t work = static_cast<uint64_t>(work_i);
    CHUQU_RETURN_IF_ERROR(WorkExists(s, work));
    const WorkState& ws = s.works.at(work);
    if (!ws.shares.count(party)) {
      return Status::PermissionDenied("only an owner of work " + std::to_string(work) +
                                      " can offer a licence");
    }
    CHUQU_ASSIGN_OR_RETURN(std::string type, Str(b, "type"));
    if (type != "open" && type != "non-exclusive" && type != "exclusive") {
      return Status::InvalidArgument("licence type must be open, non-exclusive or exclusive");
    }
    if (type == "exclusive" && ws.shares.size() != 1) {
      return Status::FailedPrecondition("an exclusive licence needs the sole owner's offer");
    }
    CHUQU_ASSIGN_OR_RETURN(int64_t price, Int(b, "price"));
    CHUQU_ASSIGN_OR_RETURN(std::string currency, Str(b, "currency"));
    CHUQU_ASSIGN_OR_RETURN(std::string unit, Str(b, "unit"));
    CHUQU_ASSIGN_OR_RETURN(std::string territory, Str(b, "territory", false));
    CHUQU_ASSIGN_OR_RETURN(std::string term, Str(b, "term", false));
    if (auto cap = s.caps.find(ws.kind); cap != s.caps.end()) {
      if (cap->second.second != currency) {
        return Status::FailedPrecondition("price cap for " + ws.kind + " works is in " +
                                          cap->second.second + ", the offer is in " + currency);
      }
      if (price > cap->second.first) {
        return Status::FailedPrecondition(
            "price " + std::to_string(price) + " exceeds the operator's price cap for " + ws.kind +
            " works: " + std::to_string(cap->second.first) + " " + currency + " per unit");
      }
    }
    fx.rows.push_back({"INSERT INTO offers(offer, work, party, type, price, currency, unit,"
                       " pay_after_use, territory, term, status) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
                       " ?7, ?8, ?9, ?10, 'open')",
                       {idx, work_i, party, type, price, currency, unit,
                        int64_t{Bool(b, "pay_after_use")}, territory, term}});
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?2, 'offer')",
                       {work_i, idx}});
    fx.work = work;
    fx.mutate = [=](State& st) {
      bump_seq(st);
      st.offers[index] = OfferState{work, type, false};
    };
    return fx;
  }

  if (e.kind == kKindAccept) {
    CHUQU_ASSIGN_OR_RETURN(int64_t offer_i, Int(b, "offer"));
    const uint64_t offer = static_cast<uint64_t>(offer_i);
    auto it = s.offers.find(offer);
    if (it == s.offers.end()) return Status::NotFound("no offer " + std::to_string(offer));
    if (it->second.taken) {
      return Status::FailedPrecondition("exclusive offer " + std::to_string(offer) +
                                        " was already accepted");
    }
    const bool exclusive = it->second.type == "exclusive";
    const uint64_t work = it->second.work;
    fx.rows.push_back({"INSERT INTO grants(grant_entry, offer, party, time) VALUES(?1, ?2, ?3, ?4)",
                       {idx, offer_i, party, e.time}});
    if (exclusive) {
      fx.rows.push_back({"UPDATE offers SET status = 'taken' WHERE offer = ?1", {offer_i}});
    }
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?2, 'accept')",
                       {I(work), idx}});
    fx.work = work;
    fx.mutate = [=](State& st) {
      bump_seq(st);
      if (exclusive) st.offers[offer].taken = true;
    };
    return fx;
  }

  if (e.kind == kKindClaim) {
    CHUQU_ASSIGN_OR_RETURN(int64_t work_i, Int(b, "work"));
    const uint64_t work = static_cast<uint64_t>(work_i);
    CHUQU_RETURN_IF_ERROR(WorkExists(s, work));
    CHUQU_ASSIGN_OR_RETURN(std::string reason, Str(b, "reason"));
    if (reason.empty()) return Status::InvalidArgument("a claim needs a reason");
    fx.rows.push_back({"INSERT INTO claims(claim, work, claimant, reason, status)"
                       " VALUES(?1, ?2, ?3, ?4, 'open')",
                       {idx, work_i, party, reason}});
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?2, 'claim')",
                       {work_i, idx}});
    fx.work = work;
    fx.mutate = [=](State& st) {
      bump_seq(st);
      st.claims[index] = ClaimState{work, "open"};
    };
    return fx;
  }

  if (e.kind == kKindAnswer || e.kind == kKindResolve) {
    CHUQU_ASSIGN_OR_RETURN(int64_t claim_i, Int(b, "claim"));
    const uint64_t claim = static_cast<uint64_t>(claim_i);
    auto it = s.claims.find(claim);
    if (it == s.claims.end()) return Status::NotFound("no claim " + std::to_string(claim));
    if (it->second.status == "resolved") {
      return Status::FailedPrecondition("claim " + std::to_string(claim) + " is resolved");
    }
    const uint64_t work = it->second.work;
    fx.work = work;
    fx.rows.push_back({"INSERT INTO work_entries(work, entry, kind) VALUES(?1, ?2, ?3)",
                       {I(work), idx, e.kind}});
    if (e.kind == kKindAnswer) {
      if (!s.works.at(work).shares.count(party)) {
        return Status::PermissionDenied("only an owner of the claimed work answers");
      }
      if (it->second.status != "open") {
        return Status::FailedPrecondition("claim " + std::to_string(claim) + " was answered");
      }
      CHUQU_ASSIGN_OR_RETURN(std::string text, Str(b, "text"));
      fx.rows.push_back({"UPDATE claims SET status = 'answered', answer_entry = ?2 WHERE claim = ?1",
                         {claim_i, idx}});
      fx.mutate = [=](State& st) {
        bump_seq(st);
        st.claims[claim].status = "answered";
      };
      return fx;
    }
    if (party != s.operator_party) return Status::PermissionDenied("only the operator resolves");
    CHUQU_ASSIGN_OR_RETURN(std::string outcome, Str(b, "outcome"));
    if (outcome != "upheld" && outcome != "rejected" && outcome != "settled") {
      return Status::InvalidArgument("outcome must be upheld, rejected or settled");
    }
    fx.rows.push_back({"UPDATE claims SET status = 'resolved', outcome = ?2, resolve_entry = ?3"
                       " WHERE claim = ?1",
                       {claim_i, outcome, idx}});
    fx.mutate = [=](State& st) {
      bump_seq(st);
      st.claims[claim].status = "resolved";
    };
    return fx;
  }
  return Status::InvalidArgument("unknown entry kind \"" + e.kind + "\"");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl.

class Registry::Impl {
 public:
  std::string dir;
  Options options;
  std::unique_ptr<store::Store> store;  // SQLite or PostgreSQL (registry_store.h)
  std::unique_ptr<ledger::Ed25519Signer> log_signer;
  std::unique_ptr<ledger::Ed25519Verifier> log_verifier;
  std::unique_ptr<ledger::Sequencer> sequencer;
  PartyKey operator_key;

  // Group commit (docs/registry.md "Writes"). A write is planned under write_mu against
  // `planned` (the state after every entry already handed to the sequencer, durable or not),
  // which it then updates, and is queued to the sequencer in index order; the lock is released
  // before waiting, so concurrent writes share one durable batch. Once a batch is durable its
  // effects are applied, in index order, to `state` and the matcher, which readers see.
  mutable std::shared_mutex mu;  // state, matcher, size, unapplied, failed
  State state;                   // entries [0, size): durable and applied
  std::unique_ptr<Matcher> matcher;
  uint64_t size = 0;
  struct Unapplied {
    std::function<void(State&)> mutate;
    std::optional<Fingerprints> fingerprints;
  };
  std::map<uint64_t, Unapplied> unapplied;  // sequenced (index >= size), not applied yet
  // Set when a sequenced write failed: `planned` is then ahead of the store, so every later
  // write is refused (Unavailable) until the registry is reopened; reads keep working.
  Status failed;
  mutable std::condition_variable_any applied_cv;  // signalled when size grows or failed is set

  mutable std::mutex write_mu;  // planned, planned_size; Append order
  State planned;
  uint64_t planned_size = 0;

  static Result<std::string> BlobIn(store::Snapshot& snap, const std::string& sha) {
    Result<std::vector<store::SqlRow>> rows =
        snap.Query("SELECT data FROM blobs WHERE sha256 = ?1", std::vector<SqlValue>{sha});
    if (!rows.ok() || rows->empty()) return Status::NotFound("blob " + sha + " not stored");
    const auto* b = std::get_if<store::Blob>(&(*rows)[0][0]);
    if (!b) return Status::Corruption("blob row is not a blob");
    return b->bytes;
  }
  Result<std::string> StoredBlob(const std::string& sha) const {
    CHUQU_ASSIGN_OR_RETURN(auto snap, store->NewSnapshot());
    return BlobIn(*snap, sha);
  }

  // A batch of stored entries on its way through Load.
  struct LoadBatch {
    uint64_t first = 0;
    std::vector<std::string> bytes;
    std::vector<Result<Entry>> parsed;  // ParseAndVerifyEntry(bytes[i])
  };
  static constexpr uint64_t kLoadBatch = 1024;
  // Verifies in this many parts, so a runner's threads share a batch.
  static constexpr size_t kVerifyParts = 4;

  // Replays every stored entry into state, planned and matcher (Open), in log order.
  // Parsing and verifying an entry (JSON, canonical form, Ed25519 signature: about half of
  // the replay) does not depend on the state, so with a runner the next batch is verified
  // while this one is replayed. Same result with or without one; the store is only used on
  // the calling thread (RunAll runs its first task there).
  Status Load(TaskRunner* runner) {
    CHUQU_ASSIGN_OR_RETURN(auto snap, store->NewSnapshot());
    CHUQU_ASSIGN_OR_RETURN(ledger::LogCheckpoint cp, ledger::LatestCheckpoint(*snap, *log_verifier));
    const uint64_t n = cp.checkpoint.size;
    // One snapshot for every blob of the replay (a snapshot per blob cost ~20 us each).
    auto blob = [&snap](const std::string& sha) { return BlobIn(*snap, sha); };
    auto read = [&](uint64_t first, LoadBatch* b) -> Status {
      b->first = first;
      b->parsed.clear();
      if (first >= n) {
        b->bytes.clear();
        return Status::Ok();
      }
      CHUQU_ASSIGN_OR_RETURN(b->bytes,
                             snap->ReadEntries(first, std::min<uint64_t>(kLoadBatch, n - first)));
      b->parsed.assign(b->bytes.size(), Status::Internal("entry not verified"));
      return Status::Ok();
    };
    auto verify_tasks = [](LoadBatch* b, std::vector<std::function<void()>>* tasks) {
      const size_t count = b->bytes.size();
      const size_t part = (count + kVerifyParts - 1) / kVerifyParts;
      for (size_t from = 0; from < count; from += part) {
        tasks->push_back([b, from, to = std::min(count, from + part)] {
          for (size_t i = from; i < to; ++i) b->parsed[i] = ParseAndVerifyEntry(b->bytes[i]);
        });
      }
    };
    LoadBatch current, next;
    CHUQU_RETURN_IF_ERROR(read(0, &current));
    {
      std::vector<std::function<void()>> tasks;
      verify_tasks(&current, &tasks);
      RunAll(runner, tasks);
    }
    while (!current.bytes.empty()) {
      CHUQU_RETURN_IF_ERROR(read(current.first + current.bytes.size(), &next));
      Status replayed;
      std::vector<std::function<void()>> tasks = {
          [&] { replayed = Replay(current, blob); }};
      verify_tasks(&next, &tasks);
      RunAll(runner, tasks);
      CHUQU_RETURN_IF_ERROR(replayed);
      std::swap(current, next);
    }
    size = n;
    planned_size = n;
    return Status::Ok();
  }

  // Applies a verified batch to planned, state and matcher (Load).
  Status Replay(const LoadBatch& batch,
                const std::function<Result<std::string>(const std::string&)>& blob) {
    for (size_t i = 0; i < batch.bytes.size(); ++i) {
      const uint64_t index = batch.first + i;
      const Result<Entry>& e = batch.parsed[i];
      if (!e.ok()) {
        return Status::Corruption("entry " + std::to_string(index) + ": " + e.status().message());
      }
      Result<Effect> fx = Plan(planned, *e, index, blob);
      if (!fx.ok()) {
        return Status::Corruption("entry " + std::to_string(index) + " does not replay: " +
                                  fx.status().message());
      }
      fx->mutate(planned);
      fx->mutate(state);
      if (fx->request) planned.requests.insert(std::move(*fx->request));
      if (fx->fingerprints) {
        CHUQU_RETURN_IF_ERROR(matcher->Add(index, *fx->fingerprints,
                                           state.works.at(index).first));
      }
    }
    return Status::Ok();
  }

  // A write planned and handed to the sequencer; durable once `done` resolves.
  struct Queued {
    uint64_t index = 0;
    std::string entry;
    std::future<Result<ledger::SequencedEntry>> done;
  };

  // Validates `bytes` against `planned`, queues it to the sequencer and applies it to
  // `planned`. Refusals change nothing. REQUIRES: write_mu held (queue order = index order).
  Result<Queued> EnqueueLocked(std::string bytes, const std::vector<std::string>& blobs) {
    {
      std::shared_lock lock(mu);
      if (!failed.ok()) {
        return Status::Unavailable("registry must be reopened: a commit failed (" +
                                   failed.ToString() + "); no write is accepted until then");
      }
    }
    CHUQU_ASSIGN_OR_RETURN(Entry e, ParseAndVerifyEntry(bytes));
    std::map<std::string, std::string> given;
    for (const std::string& b : blobs) given[Sha256Hex(b)] = b;
    auto blob = [&](const std::string& sha) -> Result<std::string> {
      if (auto it = given.find(sha); it != given.end()) return it->second;
      return StoredBlob(sha);
    };
    const uint64_t index = planned_size;
    CHUQU_ASSIGN_OR_RETURN(Effect fx, Plan(planned, e, index, blob));
    auto rows = std::make_shared<std::vector<Stmt>>(std::move(fx.rows));
    ledger::ExtraWrites extra = [rows, index, fault = options.commit_fault_for_testing](
                                    store::WriteTransaction& tx, uint64_t at) -> Status {
      // An entry planned at `index` must land there: after a failed batch the sequencer may
      // re-sequence later entries lower, and they must fail rather than apply a wrong plan.
      if (at != index) return Status::Internal("entry sequenced at an unexpected index");
      if (fault) CHUQU_RETURN_IF_ERROR(fault(index));
      for (const Stmt& s : *rows) CHUQU_RETURN_IF_ERROR(tx.Execute(s.sql, s.params));
      return Status::Ok();
    };
    Queued q;
    q.index = index;
    q.done = sequencer->Append(bytes, std::move(extra));
    q.entry = std::move(bytes);
    // From here the entry may become durable: it is part of the plan whatever happens next.
    fx.mutate(planned);
    if (fx.request) planned.requests.insert(std::move(*fx.request));
    planned_size = index + 1;
    std::unique_lock lock(mu);
    unapplied.emplace(index, Unapplied{std::move(fx.mutate), std::move(fx.fingerprints)});
    return q;
  }

  // Waits until `q` is durable and applied. Any failure of a queued write fail-stops the
  // registry (see `failed`). Called without write_mu.
  Result<WriteResult> Await(Queued q) {
    Result<ledger::SequencedEntry> done = q.done.get();
    std::unique_lock lock(mu);
    if (!done.ok()) {
      if (failed.ok()) failed = done.status();
      applied_cv.notify_all();
      return done.status();
    }
    CHUQU_CHECK(done->index == q.index);  // checked by the extra-writes hook
    // The log is durable in prefix order: everything up to this entry is durable too.
    while (!unapplied.empty() && unapplied.begin()->first <= done->index) {
      auto node = unapplied.extract(unapplied.begin());
      CHUQU_CHECK(node.key() == size);
      Unapplied& u = node.mapped();
      u.mutate(state);
      if (u.fingerprints) {
        Status s = matcher->Add(node.key(), *u.fingerprints, state.works.at(node.key()).first);
        CHUQU_CHECK(s.ok());  // work ids are fresh log indexes
      }
      size = node.key() + 1;
    }
    applied_cv.notify_all();
    lock.unlock();
    WriteResult r;
    r.index = done->index;
    r.entry = std::move(q.entry);
    r.receipt = ledger::FormatReceipt(done->receipt);
    return r;
  }

  Result<WriteResult> Submit(std::string bytes, const std::vector<std::string>& blobs) {
    std::unique_lock wl(write_mu);
    CHUQU_ASSIGN_OR_RETURN(Queued q, EnqueueLocked(std::move(bytes), blobs));
    wl.unlock();
    return Await(std::move(q));
  }

  Result<WriteResult> Write(const PartyKey& actor, std::string_view kind, nlohmann::json body,
                            std::vector<std::string> blobs = {},
                            std::string_view idempotency_key = {}) {
    if (!idempotency_key.empty()) {
      CHUQU_RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key));
      body["request"] = RequestId(actor.party, idempotency_key);
    }
    std::unique_lock wl(write_mu);
    Entry e;
    e.kind = std::string(kind);
    e.time = NowRfc3339();
    e.party = actor.party;
    auto it = planned.seq.find(actor.party);
    e.seq = (it == planned.seq.end() ? 0 : it->second) + 1;
    e.body = std::move(body);
    CHUQU_ASSIGN_OR_RETURN(std::string bytes, SignEntry(std::move(e), actor.secret_key));
    CHUQU_ASSIGN_OR_RETURN(Queued q, EnqueueLocked(std::move(bytes), blobs));
    wl.unlock();
    return Await(std::move(q));
  }

  // The durable entry that applied (party, idempotency_key), waiting for it if it is queued.
  Result<std::optional<uint64_t>> FindRequest(std::string_view party,
                                              std::string_view idempotency_key) const {
    CHUQU_RETURN_IF_ERROR(CheckIdempotencyKey(idempotency_key));
    Result<std::string> key = FromHex(party);
    if (!key.ok() || key->size() != 32) {
      return Status::InvalidArgument("party must be 64 lower-case hex digits");
    }
    CHUQU_ASSIGN_OR_RETURN(std::string request, FromHex(RequestId(party, idempotency_key)));
    *key += request;
    uint64_t index = 0;
    {
      std::lock_guard wl(write_mu);
      auto it = planned.requests.find(*key);
      if (it == planned.requests.end()) return std::optional<uint64_t>();
      index = it->second.entry;
    }
    std::shared_lock lock(mu);
    applied_cv.wait(lock, [&] { return size > index || !failed.ok(); });
    if (size <= index) {
      return Status::Unavailable("registry must be reopened: a commit failed (" +
                                 failed.ToString() + ")");
    }
    return std::optional<uint64_t>(index);
  }

  Result<RegisterResult> Register(const PartyKey& actor, const Fingerprints& fp,
                                  const WorkInfo& info, std::string_view idempotency_key) {
    CHUQU_ASSIGN_OR_RETURN(WorkEntryBody wb, MakeWorkEntryBody(actor.party, fp, info));
    nlohmann::json body = std::move(wb.body);
    std::vector<std::string> blobs = std::move(wb.blobs);
    RegisterResult out;
    {
      // Prior art: searched before the new work is indexed, so it lists only earlier works.
      std::shared_lock lock(mu);
      out.prior_art = matcher->Search(fp);
    }
    CHUQU_ASSIGN_OR_RETURN(WriteResult w,
                           Write(actor, kKindWork, std::move(body), blobs, idempotency_key));
    out.work = w.index;
    out.index = w.index;
    out.entry = std::move(w.entry);
    out.receipt = std::move(w.receipt);
    out.media = fp.media;
    // Registrations racing with this one may have been indexed meanwhile: keep earlier only.
    std::erase_if(out.prior_art, [&](const Match& m) { return m.work >= out.work; });
    return out;
  }
};

Result<WorkEntryBody> MakeWorkEntryBody(std::string_view party, const Fingerprints& fp,
                                        const WorkInfo& info) {
  if (!IsWorkKind(info.kind)) {
    return Status::InvalidArgument("unknown work kind \"" + info.kind + "\" (text, image, audio,"
                                   " video, document, patent, dataset, other)");
  }
  nlohmann::json owners = nlohmann::json::array();
  if (info.owners.empty()) {
    owners.push_back({{"party", party}, {"basis_points", kFullShare}});
  } else {
    for (const Share& s : info.owners) {
      owners.push_back({{"party", s.party}, {"basis_points", s.basis_points}});
    }
  }
  nlohmann::json work = {{"kind", info.kind},
                         {"title", info.title},
                         {"creators", info.creators},
                         {"ai_generated", info.ai_generated},
                         {"digital_human", info.digital_human},
                         {"owners", owners}};
  if (info.attributes.is_object() && !info.attributes.empty()) {
    work["attributes"] = info.attributes;
  }
  const std::map<std::string, std::string> bulky = BulkyBlobs(fp);
  WorkEntryBody out;
  for (const auto& [field, bytes] : bulky) out.blobs.push_back(bytes);
  out.body = {{"work", work}, {"content", ContentJson(fp, bulky)}};
  return out;
}

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

namespace {

Result<std::unique_ptr<Registry::Impl>> OpenImpl(const std::string& dir, const Options& options,
                                                 bool create, std::string_view name) {
  auto impl = std::make_unique<Registry::Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->matcher = std::make_unique<Matcher>(options.matcher);
  const fs::path d(dir);
  const std::string db = (d / "log.db").string();
  const std::string key = (d / "log.key").string();
  const std::string op = (d / "operator.key").string();
  std::error_code ec;
  if (create) {
    fs::create_directories(d, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
    if (fs::exists(db) || fs::exists(key)) {
      return Status::AlreadyExists(dir + " already holds a log (log.db / log.key)");
    }
    CHUQU_ASSIGN_OR_RETURN(impl->store, OpenRegistryStore(dir, options.store_url, true));
    CHUQU_ASSIGN_OR_RETURN(impl->log_signer, ledger::Ed25519Signer::Generate(name));
    CHUQU_RETURN_IF_ERROR(WriteNewFile(key, impl->log_signer->SignerKey() + "\n", 0600));
    CHUQU_RETURN_IF_ERROR(
        WriteNewFile((d / "log.vkey").string(), impl->log_signer->VerifierKey() + "\n", 0644));
    impl->operator_key = PartyKey::Generate();
    CHUQU_RETURN_IF_ERROR(WritePartyKeyFile(op, impl->operator_key));
  } else {
    if (!fs::exists(key) || !fs::exists(op)) {
      return Status::NotFound("no registry in " + dir + " (run `chuqu init --data " + dir + "`)");
    }
    CHUQU_ASSIGN_OR_RETURN(impl->store, OpenRegistryStore(dir, options.store_url, false));
    CHUQU_ASSIGN_OR_RETURN(std::string skey, ReadSmallFile(key));
    CHUQU_ASSIGN_OR_RETURN(impl->log_signer, ledger::Ed25519Signer::FromSignerKey(Trim(skey)));
    CHUQU_ASSIGN_OR_RETURN(impl->operator_key, ReadPartyKeyFile(op));
  }
  impl->log_verifier = impl->log_signer->MakeVerifier();
  if (create) CHUQU_RETURN_IF_ERROR(ledger::InitLog(*impl->store, *impl->log_signer));
  CHUQU_RETURN_IF_ERROR(impl->store->CreateTables(kSchema));
  ledger::SequencerOptions seq;
  seq.batch_interval = std::chrono::microseconds(options.batch_interval_micros);
  CHUQU_ASSIGN_OR_RETURN(impl->sequencer,
                         ledger::Sequencer::Start(*impl->store, *impl->log_signer, seq));
  CHUQU_RETURN_IF_ERROR(impl->Load(options.open_runner));
  impl->options.open_runner = nullptr;  // not owned: only the open may use it
  return impl;
}

}  // namespace

Result<std::unique_ptr<Registry>> Registry::Init(const std::string& dir, std::string_view name,
                                                 const Options& options) {
  CHUQU_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, options, true, name));
  std::unique_ptr<Registry> r(new Registry(std::move(impl)));
  if (options.register_operator) {
    CHUQU_ASSIGN_OR_RETURN(WriteResult w, r->RegisterParty(r->operator_key(), "operator"));
    (void)w;
  }
  return r;
}

Result<std::unique_ptr<Registry>> Registry::Open(const std::string& dir, const Options& options) {
  CHUQU_ASSIGN_OR_RETURN(auto impl, OpenImpl(dir, options, false, ""));
  return std::unique_ptr<Registry>(new Registry(std::move(impl)));
}

const PartyKey& Registry::operator_key() const { return impl_->operator_key; }
std::string Registry::log_key() const { return impl_->log_signer->VerifierKey(); }
std::string Registry::LatestCheckpoint() const { return impl_->sequencer->LatestCheckpoint(); }
uint64_t Registry::size() const {
  std::shared_lock lock(impl_->mu);
  return impl_->size;
}

int64_t Registry::NextSeq(std::string_view party) const {
  std::lock_guard lock(impl_->write_mu);
  auto it = impl_->planned.seq.find(std::string(party));
  return (it == impl_->planned.seq.end() ? 0 : it->second) + 1;
}

Result<std::optional<uint64_t>> Registry::FindRequest(std::string_view party,
                                                      std::string_view idempotency_key) const {
  return impl_->FindRequest(party, idempotency_key);
}

Result<WriteResult> Registry::RegisterParty(const PartyKey& actor, std::string_view name) {
  return impl_->Write(actor, kKindParty, {{"name", name}});
}

namespace {

// A registration of fingerprints computed here: the kind defaults to the detected media, the
// title to the file name (as iscc-sdk's Meta-Code name).
WorkInfo DefaultedInfo(const WorkInfo& info, const Fingerprints& fp, std::string_view file_name) {
  WorkInfo i = info;
  if (i.kind.empty() || i.kind == "other") {
    if (fp.media == "text" || fp.media == "image" || fp.media == "audio" || fp.media == "video") {
      i.kind = fp.media;
    } else {
      i.kind = "other";
    }
  }
  if (i.title.empty()) i.title = media::NameFromPath(file_name);
  return i;
}

}  // namespace

Result<RegisterResult> Registry::RegisterFile(const PartyKey& actor, const std::string& path,
                                              const WorkInfo& info,
                                              std::string_view idempotency_key) {
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintFile(path));
  return impl_->Register(actor, fp, DefaultedInfo(info, fp, path), idempotency_key);
}

Result<RegisterResult> Registry::RegisterPlainText(const PartyKey& actor, std::string_view bytes,
                                                   std::string_view file_name, const WorkInfo& info,
                                                   std::string_view idempotency_key) {
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintPlainText(bytes, file_name));
  return impl_->Register(actor, fp, DefaultedInfo(info, fp, file_name), idempotency_key);
}

Result<RegisterResult> Registry::RegisterImage(const PartyKey& actor, std::string_view bytes,
                                               std::string_view file_name, const WorkInfo& info,
                                               std::string_view idempotency_key) {
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintImage(bytes, file_name));
  return impl_->Register(actor, fp, DefaultedInfo(info, fp, file_name), idempotency_key);
}

Result<RegisterResult> Registry::RegisterFingerprints(const PartyKey& actor,
                                                      const Fingerprints& fp,
                                                      const WorkInfo& info,
                                                      std::string_view idempotency_key) {
  return impl_->Register(actor, fp, info, idempotency_key);
}

Result<WriteResult> Registry::Transfer(const PartyKey& actor, uint64_t work, std::string_view to,
                                       int64_t basis_points, std::string_view idempotency_key) {
  return impl_->Write(actor, kKindTransfer,
                      {{"work", work}, {"to", to}, {"basis_points", basis_points}}, {},
                      idempotency_key);
}

Result<WriteResult> Registry::SetPriceCap(const PartyKey& actor, std::string_view work_kind,
                                          int64_t max_price, std::string_view currency) {
  return impl_->Write(actor, kKindPriceCap,
                      {{"work_kind", work_kind}, {"max_price", max_price}, {"currency", currency}});
}

Result<WriteResult> Registry::OfferLicence(const PartyKey& actor, const LicenceOffer& o,
                                           std::string_view idempotency_key) {
  return impl_->Write(actor, kKindOffer,
                      {{"work", o.work},
                       {"type", o.type},
                       {"price", o.price},
                       {"currency", o.currency},
                       {"unit", o.unit},
                       {"pay_after_use", o.pay_after_use},
                       {"territory", o.territory},
                       {"term", o.term}},
                      {}, idempotency_key);
}

Result<WriteResult> Registry::AcceptLicence(const PartyKey& actor, uint64_t offer,
                                            std::string_view idempotency_key) {
  return impl_->Write(actor, kKindAccept, {{"offer", offer}}, {}, idempotency_key);
}

Result<WriteResult> Registry::Claim(const PartyKey& actor, uint64_t work, std::string_view reason,
                                    const nlohmann::json& evidence,
                                    std::string_view idempotency_key) {
  return impl_->Write(actor, kKindClaim,
                      {{"work", work}, {"reason", reason}, {"evidence", evidence}}, {},
                      idempotency_key);
}

Result<WriteResult> Registry::Answer(const PartyKey& actor, uint64_t claim, std::string_view text,
                                     std::string_view idempotency_key) {
  return impl_->Write(actor, kKindAnswer, {{"claim", claim}, {"text", text}}, {}, idempotency_key);
}

Result<WriteResult> Registry::Resolve(const PartyKey& actor, uint64_t claim,
                                      std::string_view outcome, std::string_view note,
                                      std::string_view idempotency_key) {
  return impl_->Write(actor, kKindResolve,
                      {{"claim", claim}, {"outcome", outcome}, {"note", note}}, {},
                      idempotency_key);
}

Result<WriteResult> Registry::Submit(std::string entry_json, std::vector<std::string> blobs) {
  return impl_->Submit(std::move(entry_json), blobs);
}

Result<WorkRecord> Registry::GetWork(uint64_t work) const {
  WorkRecord r;
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->state.works.find(work);
    if (it == impl_->state.works.end()) return Status::NotFound("no work " + std::to_string(work));
    r.work = work;
    r.media = it->second.media;
    r.registration = it->second.first;
    for (const auto& [p, bp] : it->second.shares) r.owners.push_back({p, bp});
  }
  CHUQU_ASSIGN_OR_RETURN(auto snap, impl_->store->NewSnapshot());
  CHUQU_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> rows,
      snap->Query("SELECT entry FROM work_entries WHERE work = ?1 ORDER BY entry",
                  std::vector<SqlValue>{static_cast<int64_t>(work)}));
  for (const store::SqlRow& row : rows) {
    const auto* idx = std::get_if<int64_t>(&row[0]);
    if (!idx) return Status::Corruption("work_entries.entry is not an integer");
    CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> e,
                           snap->ReadEntries(static_cast<uint64_t>(*idx), 1));
    nlohmann::json j = nlohmann::json::parse(e[0], nullptr, false);
    j["index"] = *idx;
    if (static_cast<uint64_t>(*idx) == work) {
      r.entry = std::move(j);
    } else {
      r.history.push_back(std::move(j));
    }
  }
  return r;
}

Result<std::vector<Match>> Registry::MatchFile(const std::string& path) const {
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintSource({path, {}}, /*query=*/true,
                                                            impl_->options.matcher.runner));
  return MatchFingerprints(fp);
}

Result<std::vector<Match>> Registry::MatchImage(std::string_view bytes,
                                                std::string_view file_name) const {
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp,
                         FingerprintSource({std::string(file_name), bytes}, /*query=*/true,
                                           impl_->options.matcher.runner));
  return MatchFingerprints(fp);
}

Result<std::vector<Match>> Registry::MatchPlainText(std::string_view bytes,
                                                    std::string_view file_name) const {
  // A text query and a text registration fingerprint alike (only images differ).
  CHUQU_ASSIGN_OR_RETURN(Fingerprints fp, FingerprintPlainTextBytes(bytes, file_name));
  return MatchFingerprints(fp);
}

Result<std::vector<Match>> Registry::MatchFingerprints(const Fingerprints& fp) const {
  std::shared_lock lock(impl_->mu);
  return impl_->matcher->Search(fp);
}

Result<ledger::EvidenceBundle> Registry::Evidence(uint64_t index) const {
  CHUQU_ASSIGN_OR_RETURN(auto snap, impl_->store->NewSnapshot());
  CHUQU_ASSIGN_OR_RETURN(ledger::LogCheckpoint cp,
                         ledger::LatestCheckpoint(*snap, *impl_->log_verifier));
  if (index >= cp.checkpoint.size) {
    return Status::NotFound("no entry " + std::to_string(index) + " in the log");
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> e, snap->ReadEntries(index, 1));
  store::SnapshotHashReader reader(*snap);
  return ledger::BuildBundle(e[0], index, cp.note, reader, log_key());
}

Result<std::string> Registry::DumpTables() const {
  CHUQU_ASSIGN_OR_RETURN(auto snap, impl_->store->NewSnapshot());
  std::string out;
  for (const auto& [table, order] : kDumpTables) {
    out += "# ";
    out += table;
    out += "\n";
    CHUQU_ASSIGN_OR_RETURN(
        std::vector<store::SqlRow> rows,
        snap->Query(std::string("SELECT * FROM ") + table + " ORDER BY " + order));
    for (const store::SqlRow& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) out += '|';
        const SqlValue& v = row[i];
        if (std::holds_alternative<std::monostate>(v)) {
          out += "NULL";
        } else if (const auto* n = std::get_if<int64_t>(&v)) {
          out += std::to_string(*n);
        } else if (const auto* d = std::get_if<double>(&v)) {
          out += std::to_string(*d);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
          out += nlohmann::json(*s).dump();
        } else {
          out += "x'" + ToHex(std::get<store::Blob>(v).bytes) + "'";
        }
      }
      out += '\n';
    }
  }
  return out;
}

Result<std::vector<std::string>> Registry::Entries() const {
  CHUQU_ASSIGN_OR_RETURN(auto snap, impl_->store->NewSnapshot());
  CHUQU_ASSIGN_OR_RETURN(ledger::LogCheckpoint cp,
                         ledger::LatestCheckpoint(*snap, *impl_->log_verifier));
  return snap->ReadEntries(0, cp.checkpoint.size);
}

Result<std::string> Registry::Blob(std::string_view sha256) const {
  return impl_->StoredBlob(std::string(sha256));
}

// ---------------------------------------------------------------------------------------------
// Fingerprints of a file.

namespace {

// ISCC Data-Code, Instance-Code, SHA-256 and size of content bytes fed in any chunks: a file
// streamed, or a body in memory in one piece, give the same codes.
class ByteCodes {
 public:
  ByteCodes() { crypto_hash_sha256_init(&sha_); }
  void Update(std::span<const uint8_t> chunk) {
    data_.Update(chunk);
    instance_.Update(chunk);
    crypto_hash_sha256_update(&sha_, chunk.data(), chunk.size());
    size_ += chunk.size();
  }
  [[nodiscard]] Status Finish(Fingerprints& fp) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&sha_, digest);
    fp.sha256 = ToHex(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
    fp.size = size_;
    CHUQU_ASSIGN_OR_RETURN(fp.data_code, data_.Code(64));
    CHUQU_ASSIGN_OR_RETURN(InstanceCode ic, instance_.Finish(64));
    fp.instance_code = ic.iscc;
    return Status::Ok();
  }

 private:
  DataHasher data_;
  InstanceHasher instance_;
  crypto_hash_sha256_state sha_;
  uint64_t size_ = 0;
};

// What every source of content shares once the byte codes are in `fp`: media and MIME type,
// Content- and Meta-Code (the title, else `file_name` as iscc-sdk names a file), ISCC-CODE and
// the text fingerprints. Moves the text out of `content`.
Status AddContentCodes(media::Content& content, std::string_view file_name, Fingerprints& fp) {
  fp.media = std::string(media::ContentTypeName(content.type));
  fp.mime = content.mime;
  std::vector<std::string> units;
  if (content.type != media::ContentType::kNone) {
    CHUQU_ASSIGN_OR_RETURN(fp.content_code, IsccContentCode(content));
    const std::string name = content.title.empty() ? media::NameFromPath(file_name) : content.title;
    if (Result<MetaCode> m = GenMetaCode(name, "", std::nullopt, 64); m.ok()) {
      fp.meta_code = m->iscc;
      units.push_back(fp.meta_code);
    }
    units.push_back(fp.content_code);
  }
  units.push_back(fp.data_code);
  units.push_back(fp.instance_code);
  CHUQU_ASSIGN_OR_RETURN(fp.iscc, GenIsccCode(units));
  if (content.type == media::ContentType::kText) {
    Result<text::TextFingerprints> t = text::FingerprintText(content.text, text::WinnowOptions{});
    if (t.ok()) fp.text = std::move(*t);
    fp.query_text = std::move(content.text);
  }
  return Status::Ok();
}

// Bytes declared plain text (media::ExtractPlainTextBytes), from memory. `file_name` as for
// AddContentCodes. Errors carry `file_name` where a file's carry its path.
Result<Fingerprints> FingerprintPlainTextBytes(std::string_view bytes, std::string_view file_name) {
  Result<media::Content> content = media::ExtractPlainTextBytes(bytes);
  if (!content.ok()) {
    return Status(content.status().code(),
                  std::string(file_name) + ": " + content.status().message());
  }
  Fingerprints fp;
  ByteCodes codes;
  codes.Update({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  CHUQU_RETURN_IF_ERROR(codes.Finish(fp));
  CHUQU_RETURN_IF_ERROR(AddContentCodes(*content, file_name, fp));
  return fp;
}

// `query`: for a match — more local image features than a registration stores, and an image
// decoded once, shrunk on load (a 12-MP JPEG at 1/4), for all its codes: they only have to be
// near the registered ones, which come from the full decode. A registration decodes its image
// once too, at full size (up to 8192 pixels a side), for its ISCC, PDQ and local features.
Result<Fingerprints> FingerprintSource(const Source& source, bool query, TaskRunner* runner) {
  const std::string& path = source.name;
  const bool in_memory = !source.bytes.empty();
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(source.bytes.data()),
                                       source.bytes.size());
  media::ExtractOptions extract_options;
  extract_options.image_pixels = !query;
  // PDQ of the registered work from (nearly) all pixels, from the same decode as its ISCC.
  constexpr int kRegisteredLongSide = 8192;
  if (!query) extract_options.image_rgb_long_side = kRegisteredLongSide;
  Result<media::Content> content =
      in_memory ? media::ExtractImageBytes(source.bytes, path, extract_options)
                : media::Extract(path, extract_options);
  if (!content.ok()) {
    return Status(content.status().code(), path + ": " + content.status().message());
  }
  Fingerprints fp;
  // Data, Instance and SHA-256 over the bytes, streamed from a file.
  auto hash_bytes = [&]() -> Status {
    ByteCodes codes;
    if (in_memory) {
      codes.Update(bytes);
      return codes.Finish(fp);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IOError(path + ": cannot open for reading");
    std::vector<uint8_t> buf(1 << 20);
    while (in) {
      in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
      const size_t n = static_cast<size_t>(in.gcount());
      if (n == 0) break;
      codes.Update({buf.data(), n});
    }
    if (in.bad()) return Status::IOError(path + ": read failed");
    return codes.Finish(fp);
  };
  const media::ContentType type = content->type;
  if (type != media::ContentType::kImage) CHUQU_RETURN_IF_ERROR(hash_bytes());

  // An image: its PDQ dihedrals beside its local features (image-local matcher, in a frame of
  // decode_long_side pixels as the matcher's operating point was calibrated:
  // docs/benchmarks.md "Image copy detection"), and with a runner all that beside hash_bytes.
  Result<pdq::PdqDihedralResult> pdq = Status::Unsupported("not an image");
  Result<index::ImageFingerprint> local = Status::Unsupported("not an image");
  if (type == media::ContentType::kImage) {
    Status bytes_status, image_status;
    auto image_work = [&]() -> Status {
      media::ImageFeatureOptions fo =
          query ? media::QueryFeatureOptions() : media::ImageFeatureOptions{};
      fo.runner = runner;
      media::ImageDecodeOptions io = media::DecodeOptionsFor(fo);
      if (!query) io.max_long_side = kRegisteredLongSide;
      Result<media::RgbImage> img = Status::Unsupported("not decoded");
      if (!content->rgb.rgb.empty()) {
        img = std::move(content->rgb);  // decoded with the ISCC pixels
      } else {
        img = in_memory ? media::DecodeImageRgbFromBuffer(bytes, io)
                        : media::DecodeImageRgb(path, io);
      }
      if (!img.ok()) {
        // A query has no other source for its ISCC pixels; a registration keeps its codes.
        if (query) return Status(img.status().code(), path + ": " + img.status().message());
        return Status::Ok();
      }
      fo.pdq = false;  // computed beside, from the same pixels
      fo.iscc = false;
      fo.frame_long_side = fo.decode_long_side;
      Result<std::array<uint8_t, 1024>> grey = Status::Unsupported("not a query");
      const std::function<void()> tasks[] = {
          [&] { local = media::ImageFingerprintFromRgb(*img, fo); },
          [&] {
            pdq::PdqHasher hasher;
            pdq = hasher.HashRgbDihedral(
                {img->rgb.data(), img->width, img->height, 3 * static_cast<size_t>(img->width)});
            if (query) grey = media::IsccPixelsForMatching(*img);
          }};
      RunAll(runner, tasks);
      if (query) {
        CHUQU_ASSIGN_OR_RETURN(content->grey32, std::move(grey));
      }
      return Status::Ok();
    };
    const std::function<void()> tasks[] = {[&] { image_status = image_work(); },
                                           [&] { bytes_status = hash_bytes(); }};
    RunAll(runner, tasks);
    CHUQU_RETURN_IF_ERROR(bytes_status);
    CHUQU_RETURN_IF_ERROR(image_status);
  }
  CHUQU_RETURN_IF_ERROR(AddContentCodes(*content, path, fp));
  if (pdq.ok()) {
    fp.pdq = pdq->hashes[0];
    fp.pdq_quality = pdq->quality;
    fp.pdq_dihedral.assign(pdq->hashes.begin(), pdq->hashes.end());
  }
  if (local.ok() && !local->descriptors.empty()) {
    if (pdq.ok()) {
      local->pdq = pdq->hashes;
      local->pdq_quality = pdq->too_small ? 0 : pdq->quality;
    }
    fp.image = std::move(*local);
  }
  if (type == media::ContentType::kVideo) {
    // 8 dihedral variants for queries; registration stores the original only (BulkyBlobs).
    Result<index::VideoFingerprint> v = media::ExtractVideoFingerprint(path, 0.5, 8);
    if (!v.ok()) return Status(v.status().code(), path + ": " + v.status().message());
    fp.video = std::move(*v);
  }
  if (type == media::ContentType::kAudio) {
    Result<index::AudioFingerprint> a = media::ExtractAudioFingerprint(path);
    if (!a.ok()) return Status(a.status().code(), path + ": " + a.status().message());
    fp.audio = std::move(*a);
  }
  return fp;
}

}  // namespace

Result<Fingerprints> Registry::FingerprintFile(const std::string& path) {
  return FingerprintSource({path, {}}, /*query=*/false);
}

bool Registry::IsPlainText(std::string_view bytes) { return media::IsUtf8PlainText(bytes); }

Result<Fingerprints> Registry::FingerprintImage(std::string_view bytes,
                                                std::string_view file_name) {
  return FingerprintSource({std::string(file_name), bytes}, /*query=*/false);
}

bool Registry::IsImage(std::string_view bytes, std::string_view file_name) {
  return media::IsImageBytes(bytes, file_name);
}

Result<Fingerprints> Registry::FingerprintPlainText(std::string_view bytes,
                                                    std::string_view file_name) {
  return FingerprintPlainTextBytes(bytes, file_name);
}

}  // namespace chuqu::registry
