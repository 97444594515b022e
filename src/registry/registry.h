// The registry: works, parties, ownership shares, transfers, licences, price caps and claims,
// all as signed entries of the verifiable log (DESIGN.md "The log is the truth").
//
// Every write is an Entry (entry.h, docs/entry-format.md): canonical JSON signed by the acting
// party's Ed25519 key, carrying a per-party sequence number. A write is validated against the
// registry state (signature, sequence, shares, caps, ...), sequenced by ledger::Sequencer, and
// its derived rows (tables works, shares, parties, offers, grants, claims, price_caps, blobs)
// are written by the sequencer's extra-writes hook in the SAME store transaction. A refused
// write stores nothing. Replaying every entry of a log into an empty registry rebuilds the
// derived tables identically (DumpTables() compares them; registry_test proves it).
//
// Ids: a party is named by its Ed25519 public key (64 lower-case hex digits); a work, an offer,
// a grant and a claim are named by the log index of the entry that created them (decimal).
//
// Thread-safety: all methods are thread-safe. Writes are validated one at a time against the
// state including every write already queued, then share durable batches (group commit); a
// write returns after its entry is durable. If a queued write fails to commit, the registry
// refuses every later write (Unavailable "registry must be reopened"); reads keep working.
// Reads use store snapshots and the in-memory state of durable entries under a shared lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/task_runner.h"
#include "chuqu/status.h"
#include "ledger/bundle.h"
#include "registry/entry.h"
#include "registry/matcher.h"

namespace chuqu::registry {

// Work kinds (DESIGN.md; issue "Works"). Names as they appear in entries.
inline constexpr std::string_view kWorkKinds[] = {"text",   "image",   "audio",
                                                  "video",  "document", "patent",
                                                  "dataset", "other"};
bool IsWorkKind(std::string_view kind);

// Basis points: shares of a work always sum to this.
inline constexpr int64_t kFullShare = 10000;

struct Share {
  std::string party;  // public key hex
  int64_t basis_points = 0;
};

// What a registrant declares about a work (entry payload "work").
struct WorkInfo {
  std::string kind = "other";  // one of kWorkKinds
  std::string title;
  std::vector<std::string> creators;
  bool ai_generated = false;     // declared AI-generated content (标识)
  bool digital_human = false;    // declared digital-human content
  // Owners; empty means 100% to the registering party. Must sum to kFullShare.
  std::vector<Share> owners;
  // Kind-specific attributes, e.g. for "dataset": provider, fields, update_frequency,
  // security_level. Stored verbatim in the entry (an object; keys are free).
  nlohmann::json attributes = nlohmann::json::object();
};

struct RegisterResult {
  uint64_t work = 0;                  // work id (= index)
  uint64_t index = 0;
  std::string entry;                  // exact logged bytes
  std::string receipt;                // c2sp.org/tlog-proof text
  std::vector<Match> prior_art;       // earlier works the new one matches, ranked
  std::string media;                  // "text", "image", "audio", "video", "data"
};

struct WriteResult {
  uint64_t index = 0;     // log index of the entry (also the id of an offer/grant/claim)
  std::string entry;
  std::string receipt;
};

struct WorkRecord {
  uint64_t work = 0;
  std::string media;
  FirstRegistration registration;
  nlohmann::json entry;               // the registering entry (parsed)
  std::vector<Share> owners;          // current shares
  // Every later entry concerning this work (transfers, offers, grants, claims ...), in log
  // order, parsed.
  std::vector<nlohmann::json> history;
};

struct LicenceOffer {
  uint64_t work = 0;
  std::string type = "non-exclusive";  // "open", "non-exclusive", "exclusive"
  int64_t price = 0;                   // in minor units of `currency` (e.g. fen for CNY)
  std::string currency = "CNY";
  std::string unit = "use";            // what the price is per: "use", "month", "copy", "GB"...
  bool pay_after_use = false;          // 先使用后付费
  std::string territory = "CN";
  std::string term;                    // e.g. "P1Y" (ISO 8601 duration) or "" for perpetual
};

struct Options {
  // Sequencer batching: 0 commits at once (one writer, CLI use).
  int64_t batch_interval_micros = 0;
  MatcherOptions matcher;
  // Init only: log the operator's party entry. False leaves the log empty (for replaying
  // another log into it: the first party entry's signer is then the operator).
  bool register_operator = true;
  // Where the log and derived tables live: "" = DIR/log.db (SQLite); a PostgreSQL URL
  // "postgresql://user[:password]@host[:port]/db[?schema=NAME]" = that server's schema NAME
  // (default "chuqu"; store/postgres/pg_store.h). The log key and operator key stay in DIR;
  // Init records the URL without its password in DIR/store.url, which Open uses when this is "".
  std::string store_url;
  // Not owned. Open replays the log with it: entries are parsed and their signatures checked
  // on its threads a batch ahead of the replay (same registry; 62k entries opened in 4.8 s
  // instead of 8.0 s on two cores). Null: everything on the calling thread.
  TaskRunner* open_runner = nullptr;
  // Tests only: called in the commit transaction of the entry at each index; an error fails
  // that whole batch (simulates a failed store commit).
  std::function<Status(uint64_t index)> commit_fault_for_testing;
};

// Idempotent requests (docs/api.md "Idempotency-Key", docs/entry-format.md "request"). A write
// given an idempotency key (1..128 printable ASCII bytes) records RequestId(party, key) as
// "request" in its signed entry body. A later entry of the same party with the same request is
// refused, nothing written: AlreadyExists "request already applied as entry N" when its body
// (without "request") is the same, FailedPrecondition naming entry N when it differs. Being in
// the log, this holds across restarts.
bool IsValidIdempotencyKey(std::string_view key);
// Lower-case hex SHA-256 of "chuqu-request-v1\n" party "\n" key: keys of different parties
// never collide, and the log does not show the client's key.
std::string RequestId(std::string_view party, std::string_view idempotency_key);

// A signing party: public key hex and its Ed25519 secret key (libsodium, 64 bytes).
// Key files (see docs/registry.md): JSON {"party": hex, "secret_key": base64} with mode 0600.
struct PartyKey {
  std::string party;
  std::string secret_key;  // 64 raw bytes
  static PartyKey Generate();
  static Result<PartyKey> FromJson(std::string_view text);
  std::string ToJson() const;
};
[[nodiscard]] Status WritePartyKeyFile(const std::string& path, const PartyKey& key);
Result<PartyKey> ReadPartyKeyFile(const std::string& path);

// The body of the "work" entry registering `fp` with `info` for `party` (owners default to
// the whole work for `party`) and the bulky fingerprint blobs it commits to
// (docs/entry-format.md): what RegisterFingerprints signs, for clients that sign their own
// entries (POST /v1/entries; the server never sees their key). InvalidArgument: unknown kind.
struct WorkEntryBody {
  nlohmann::json body;
  std::vector<std::string> blobs;
};
Result<WorkEntryBody> MakeWorkEntryBody(std::string_view party, const Fingerprints& fp,
                                        const WorkInfo& info);

class Registry {
 public:
  // Creates DIR (if needed) with: log.db (SQLite store; or store.url with a PostgreSQL
  // store, Options::store_url), log.key (the log's note signer key, 0600), operator.key
  // (PartyKey, 0600), and logs the operator's party entry. AlreadyExists if DIR or the
  // PostgreSQL schema already holds a registry.
  static Result<std::unique_ptr<Registry>> Init(const std::string& dir, std::string_view name,
                                                const Options& options = {});
  // Opens an existing registry: loads every entry (replaying it into the in-memory state and
  // the match index). NotFound if DIR holds no registry.
  static Result<std::unique_ptr<Registry>> Open(const std::string& dir,
                                                const Options& options = {});
  ~Registry();

  // The operator's key (from DIR/operator.key); the CLI's default acting party.
  const PartyKey& operator_key() const;
  // The log's verifier key (vkey text) and latest signed checkpoint.
  std::string log_key() const;
  std::string LatestCheckpoint() const;
  uint64_t size() const;  // entries in the log

  // --- Writes. Each signs an entry with `actor`, validates it, and returns once durable.
  // Refusals (nothing written): InvalidArgument (bad input), PermissionDenied (wrong signer,
  // not an owner, not the operator), FailedPrecondition (rule broken: shares, cap, state),
  // NotFound (unknown work/party/offer/claim), AlreadyExists (party registered twice).

  // Registers `actor` as a party with a display name.
  Result<WriteResult> RegisterParty(const PartyKey& actor, std::string_view name);
  // Registers the content of `path` (extracted, fingerprinted, digested here).
  Result<RegisterResult> RegisterFile(const PartyKey& actor, const std::string& path,
                                      const WorkInfo& info, std::string_view idempotency_key = {});
  // Registers bytes the client declared to be plain text (HTTP Content-Type text/plain) from
  // memory, without content sniffing (media::ExtractPlainTextBytes): the same entry as
  // RegisterFile of a file named `file_name` holding these bytes, when that file is detected as
  // plain text. `file_name` gives the default title and Meta-Code; errors are prefixed with it.
  // Nothing is sniffed, so nothing tells binary from text in a legacy encoding: callers with
  // bytes that fail IsPlainText use RegisterFile, whose content detection refuses binary.
  Result<RegisterResult> RegisterPlainText(const PartyKey& actor, std::string_view bytes,
                                           std::string_view file_name, const WorkInfo& info,
                                           std::string_view idempotency_key = {});
  // Registers an uploaded image from memory (bytes that pass IsImage): the same entry as
  // RegisterFile of a file named `file_name` holding these bytes, with no file. `file_name`
  // gives the default title and Meta-Code and the extension checked against the content;
  // errors are prefixed with it.
  Result<RegisterResult> RegisterImage(const PartyKey& actor, std::string_view bytes,
                                       std::string_view file_name, const WorkInfo& info,
                                       std::string_view idempotency_key = {});
  // Registers from client-computed fingerprints (the content never leaves the owner).
  Result<RegisterResult> RegisterFingerprints(const PartyKey& actor, const Fingerprints& fp,
                                              const WorkInfo& info,
                                              std::string_view idempotency_key = {});
  // Moves `basis_points` of `actor`'s share of `work` to `to`. Only the giving party signs.
  Result<WriteResult> Transfer(const PartyKey& actor, uint64_t work, std::string_view to,
                               int64_t basis_points, std::string_view idempotency_key = {});
  // Operator only: price cap for a work kind (minor units per unit, currency). 0 removes.
  Result<WriteResult> SetPriceCap(const PartyKey& actor, std::string_view work_kind,
                                  int64_t max_price, std::string_view currency);
  // An owner of the work offers a licence. FailedPrecondition naming the cap if above it.
  Result<WriteResult> OfferLicence(const PartyKey& actor, const LicenceOffer& offer,
                                   std::string_view idempotency_key = {});
  // A party accepts an offer (the grant). Exclusive offers can be accepted once.
  Result<WriteResult> AcceptLicence(const PartyKey& actor, uint64_t offer,
                                    std::string_view idempotency_key = {});
  // A claim against a work, citing match evidence (free JSON, e.g. a Match's evidence).
  Result<WriteResult> Claim(const PartyKey& actor, uint64_t work, std::string_view reason,
                            const nlohmann::json& evidence, std::string_view idempotency_key = {});
  // An owner of the claimed work answers (once).
  Result<WriteResult> Answer(const PartyKey& actor, uint64_t claim, std::string_view text,
                             std::string_view idempotency_key = {});
  // The operator resolves: outcome "upheld" | "rejected" | "settled".
  Result<WriteResult> Resolve(const PartyKey& actor, uint64_t claim, std::string_view outcome,
                              std::string_view note, std::string_view idempotency_key = {});

  // Submits an already signed entry (e.g. from the HTTP server or a replay). Same checks.
  // `blobs`: the bulky fingerprints a work entry commits to by SHA-256 (e.g. the "CQTF"
  // text fingerprints); each must be given unless already stored.
  Result<WriteResult> Submit(std::string entry_json, std::vector<std::string> blobs = {});
  // The next sequence number `party` must use (1 for a party never seen), counting writes
  // that are queued but not yet durable.
  int64_t NextSeq(std::string_view party) const;
  // The log index of the entry that applied `party`'s request with `idempotency_key` (waiting
  // until it is durable if it is still queued), or nullopt if none did. InvalidArgument for a
  // malformed key or party; Unavailable if the registry failed before it was durable.
  Result<std::optional<uint64_t>> FindRequest(std::string_view party,
                                              std::string_view idempotency_key) const;

  // --- Reads.
  Result<WorkRecord> GetWork(uint64_t work) const;
  // Matches of a file / of fingerprints against every registered work, ranked.
  Result<std::vector<Match>> MatchFile(const std::string& path) const;
  Result<std::vector<Match>> MatchFingerprints(const Fingerprints& fp) const;
  // Matches of bytes declared plain text, from memory (as RegisterPlainText): the same matches as
  // MatchFile of a file named `file_name` holding them, when it is detected as plain text.
  Result<std::vector<Match>> MatchPlainText(std::string_view bytes,
                                            std::string_view file_name) const;
  // Matches of an uploaded image from memory (as RegisterImage): the same matches as MatchFile
  // of a file named `file_name` holding these bytes.
  Result<std::vector<Match>> MatchImage(std::string_view bytes, std::string_view file_name) const;
  // Evidence bundle of the entry that registered `work` (or any entry index).
  Result<ledger::EvidenceBundle> Evidence(uint64_t index) const;
  // All derived tables as canonical text (one line per row, tables in fixed order): two
  // registries holding the same log give equal dumps.
  Result<std::string> DumpTables() const;
  // All entries of the log, in order.
  Result<std::vector<std::string>> Entries() const;
  // A stored blob by its SHA-256 hex. NotFound if absent.
  Result<std::string> Blob(std::string_view sha256) const;

  // Builds a registry's fingerprints from a file without registering (for clients).
  static Result<Fingerprints> FingerprintFile(const std::string& path);
  // True if `bytes` may take the plain-text path (RegisterPlainText, MatchPlainText): non-empty,
  // well-formed UTF-8 with no control bytes but text ones (media::IsUtf8PlainText). Anything else
  // (another encoding, binary) needs content detection, from a file.
  static bool IsPlainText(std::string_view bytes);
  // The same for an image upload in memory (RegisterImage).
  static Result<Fingerprints> FingerprintImage(std::string_view bytes, std::string_view file_name);
  // True if `bytes`, uploaded as a file named `file_name`, may take the in-memory image path
  // (RegisterImage, MatchImage): detected as an image, named consistently, in a format libvips
  // reads from memory (media::IsImageBytes). Other uploads need a file (RegisterFile).
  static bool IsImage(std::string_view bytes, std::string_view file_name);
  // The same for bytes declared plain text (RegisterPlainText).
  static Result<Fingerprints> FingerprintPlainText(std::string_view bytes,
                                                   std::string_view file_name);

  class Impl;

 private:
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chuqu::registry
