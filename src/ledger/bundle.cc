#include "ledger/bundle.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>
#include <utility>

#include "ledger/tiles.h"

namespace chuqu::ledger {
namespace {

using nlohmann::json;

std::string UtcTime(uint64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (t > 253402300799ULL || gmtime_r(&tt, &tm) == nullptr) return std::to_string(t) + " (Unix time)";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// True if `v` (recursively) holds a string naming the SHA-256 `hex`: the hex digest itself,
// "sha256:<hex>" or "sha-256:<hex>" (any case), or the standard base64 of the digest.
bool JsonNamesDigest(const json& v, const std::string& hex, const std::string& b64) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == b64) return true;
    std::string l = ToLower(s);
    return l == hex || l == "sha256:" + hex || l == "sha-256:" + hex;
  }
  if (v.is_array() || v.is_object()) {
    for (const auto& item : v) {
      if (JsonNamesDigest(item, hex, b64)) return true;
    }
  }
  return false;
}

void AddCheck(BundleReport& r, std::string name, bool passed, std::string detail) {
  r.checks.push_back({std::move(name), passed, std::move(detail)});
}

}  // namespace

Result<EvidenceBundle> BuildBundle(std::string_view entry, uint64_t index,
                                   std::string_view signed_checkpoint, const HashReader& reader,
                                   std::string_view log_key, std::vector<std::string> witness_keys) {
  if (entry.size() > kMaxEntrySize) return Status::ResourceExhausted("entry is larger than 65535 bytes");
  CHUQU_ASSIGN_OR_RETURN(Receipt receipt, BuildReceipt(index, signed_checkpoint, reader));
  EvidenceBundle b{std::string(entry), FormatReceipt(receipt), std::string(log_key),
                   std::move(witness_keys)};
  BundleReport report = VerifyBundle(b, {});
  if (!report.ok) {
    for (const BundleCheck& c : report.checks) {
      if (!c.passed) return Status::FailedPrecondition("built bundle does not verify: " + c.detail);
    }
  }
  return b;
}

std::string FormatBundle(const EvidenceBundle& b) {
  json j;
  j["format"] = std::string(kBundleFormat);
  j["log_key"] = b.log_key;
  j["witness_keys"] = b.witness_keys;
  j["entry_base64"] = Base64Encode(b.entry);
  j["receipt"] = b.receipt;
  return j.dump(2) + "\n";
}

Result<EvidenceBundle> ParseBundle(std::string_view text) {
  if (text.size() > kMaxBundleSize) return Status::ResourceExhausted("bundle is larger than 4 MiB");
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("bundle is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("bundle is not a JSON object");
  auto field = [&](const char* name) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      return Status::InvalidArgument(std::string("bundle field \"") + name + "\" is missing or not a string");
    }
    return it->get<std::string>();
  };
  CHUQU_ASSIGN_OR_RETURN(std::string format, field("format"));
  if (format != kBundleFormat) {
    return Status::Unsupported("bundle format \"" + format.substr(0, 100) + "\" is not " +
                               std::string(kBundleFormat));
  }
  EvidenceBundle b;
  CHUQU_ASSIGN_OR_RETURN(b.log_key, field("log_key"));
  CHUQU_ASSIGN_OR_RETURN(std::string entry64, field("entry_base64"));
  Result<std::string> entry = Base64Decode(entry64);
  if (!entry.ok()) return entry.status().WithContext("bundle field \"entry_base64\"");
  b.entry = std::move(*entry);
  CHUQU_ASSIGN_OR_RETURN(b.receipt, field("receipt"));
  if (auto it = j.find("witness_keys"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("bundle field \"witness_keys\" is not an array");
    for (const auto& k : *it) {
      if (!k.is_string()) return Status::InvalidArgument("bundle field \"witness_keys\" holds a non-string");
      b.witness_keys.push_back(k.get<std::string>());
    }
  }
  return b;
}

BundleReport VerifyBundle(const EvidenceBundle& b, const BundleVerifyOptions& options) {
  BundleReport r;
  // 1. The log key.
  std::string key_text = options.trusted_log_key.value_or(b.log_key);
  Result<std::unique_ptr<Ed25519Verifier>> log_key = Ed25519Verifier::FromVerifierKey(key_text);
  if (!log_key.ok()) {
    AddCheck(r, "log-key", false, "The log key is not usable: " + log_key.status().message() + ".");
    return r;
  }
  if (options.trusted_log_key) {
    bool same = b.log_key == *options.trusted_log_key;
    AddCheck(r, "log-key", same,
             same ? "The bundle names the log key you supplied (" + (*log_key)->name() + ")."
                  : "The bundle's log key differs from the log key you supplied; the evidence "
                    "is checked against yours.");
  } else {
    AddCheck(r, "log-key", true,
             "Using the log key stored in the bundle (" + (*log_key)->name() +
                 "); compare it with the key the log publishes, or pass --log-key.");
    r.does_not_prove.push_back(
        "That the log key belongs to the log you have in mind: it was taken from the bundle "
        "itself. Compare it with the key the log publishes.");
  }
  // 2. The entry.
  bool entry_ok = b.entry.size() <= kMaxEntrySize;
  AddCheck(r, "entry", entry_ok,
           entry_ok ? "The entry is " + std::to_string(b.entry.size()) + " bytes."
                    : "The entry is larger than the log's 65535-byte limit.");
  // Content (independent of the proof, so it is reported even if the proof fails).
  if (options.content) {
    Hash digest = Sha256(*options.content);
    std::string hex = HashToHex(digest);
    json entry_json = json::parse(b.entry.begin(), b.entry.end(), nullptr, false);
    bool found = entry_json.is_discarded()
                     ? ToLower(b.entry).find(hex) != std::string::npos
                     : JsonNamesDigest(entry_json, hex, HashToBase64(digest));
    AddCheck(r, "content", found,
             found ? "The file's SHA-256 (" + hex + ") is the digest registered in the entry."
                   : "The file's SHA-256 (" + hex + ") does not appear in the entry: this is "
                     "not the registered content.");
    if (found) {
      r.proves.push_back("The file you supplied (" + std::to_string(options.content->size()) +
                         " bytes, SHA-256 " + hex + ") is the content this entry registers.");
    }
  }
  // 3. Receipt syntax.
  Result<Receipt> receipt = ParseReceipt(b.receipt);
  if (!receipt.ok()) {
    AddCheck(r, "receipt", false, "The receipt is malformed: " + receipt.status().message() + ".");
    return r;
  }
  AddCheck(r, "receipt", true, "The receipt is a well-formed c2sp.org/tlog-proof@v1 proof.");
  // 4. Witness keys.
  std::vector<std::unique_ptr<NoteVerifier>> witness_owned;
  std::vector<const NoteVerifier*> witnesses;
  std::set<std::string> witness_texts;
  std::vector<std::string> all_witness_keys = b.witness_keys;
  all_witness_keys.insert(all_witness_keys.end(), options.trusted_witness_keys.begin(),
                          options.trusted_witness_keys.end());
  size_t bundle_witnesses_parsed = 0;
  for (size_t i = 0; i < all_witness_keys.size(); ++i) {
    const std::string& wk = all_witness_keys[i];
    if (!witness_texts.insert(wk).second) continue;
    Result<std::unique_ptr<NoteVerifier>> v = ParseVerifierKey(wk);
    if (!v.ok()) {
      AddCheck(r, "witness-key", false, "A witness key is not usable: " + v.status().message() + ".");
      continue;
    }
    witnesses.push_back(v->get());
    witness_owned.push_back(std::move(*v));
    if (i < b.witness_keys.size()) bundle_witnesses_parsed = witness_owned.size();
  }
  // 5. Signatures, origin, quorum, inclusion.
  ReceiptPolicy policy;
  policy.log_key = log_key->get();
  policy.witnesses = witnesses;
  policy.witness_quorum = options.witness_quorum;
  Result<VerifiedReceipt> v = VerifyReceipt(*receipt, b.entry, policy);
  if (!v.ok()) {
    const std::string& m = v.status().message();
    std::string name = m.find("inclusion") != std::string::npos ? "inclusion"
                       : m.find("witness") != std::string::npos ? "witnesses"
                       : m.find("origin") != std::string::npos  ? "checkpoint-origin"
                                                                 : "checkpoint-signature";
    AddCheck(r, name, false, "Verification failed: " + m + ".");
    return r;
  }
  const Checkpoint& cp = v->checkpoint;
  AddCheck(r, "checkpoint-signature", true,
           "The checkpoint (tree size " + std::to_string(cp.size) + ") is signed by the log key " +
               (*log_key)->name() + ".");
  AddCheck(r, "inclusion", true,
           "The inclusion proof leads from the entry at index " + std::to_string(v->index) +
               " to the checkpoint's root hash.");
  // Every witness the bundle names must have cosigned: a bundle that claims a cosignature it
  // does not carry (or carries altered) fails rather than silently losing the claim.
  for (size_t i = 0; i < bundle_witnesses_parsed; ++i) {
    const NoteVerifier& w = *witness_owned[i];
    bool found = false;
    for (const WitnessCosignature& c : v->cosignatures) {
      found |= c.witness == w.name() && c.key_id == w.key_id();
    }
    if (!found) {
      AddCheck(r, "witnesses", false,
               "The bundle names witness " + w.name() + " but carries no valid cosignature by it.");
    }
  }
  if (!v->cosignatures.empty() || options.witness_quorum > 0) {
    AddCheck(r, "witnesses", true,
             std::to_string(v->cosignatures.size()) + " witness cosignature(s) verified" +
                 (options.witness_quorum > 0
                      ? " (at least " + std::to_string(options.witness_quorum) + " required)."
                      : "."));
  }
  r.ok = std::all_of(r.checks.begin(), r.checks.end(), [](const BundleCheck& c) { return c.passed; });
  // What it proves.
  r.proves.insert(r.proves.begin(),
                  "The entry (" + std::to_string(b.entry.size()) + " bytes, leaf hash " +
                      HashToHex(v->leaf_hash) + ") is entry number " + std::to_string(v->index) +
                      " of the log " + cp.origin + ", included in its tree of " +
                      std::to_string(cp.size) + " entries with root hash " +
                      HashToBase64(cp.root_hash) + ", which the log signed.");
  r.proves.insert(r.proves.begin() + 1,
                  "The log cannot remove or alter this entry later without publishing a tree "
                  "inconsistent with this signed checkpoint, which this file would expose.");
  for (const WitnessCosignature& c : v->cosignatures) {
    r.proves.push_back("Witness " + c.witness + " cosigned this checkpoint at " +
                       UtcTime(c.timestamp) + ": the entry was in the log no later than then.");
  }
  if (v->cosignatures.empty()) {
    r.does_not_prove.push_back(
        "When the entry was logged: no witness cosigned this checkpoint, so any time rests on "
        "the log operator's word.");
  }
  r.does_not_prove.push_back(
      "Who made the work: only what the entry states, and any registrant signature inside it.");
  if (!options.content) {
    r.does_not_prove.push_back(
        "Which file the entry describes: pass --content FILE to check a file against it.");
  }
  return r;
}

std::string BundleReport::ToText() const {
  std::string s;
  for (const BundleCheck& c : checks) {
    s += (c.passed ? "  ok    " : "  FAIL  ") + c.name + ": " + c.detail + "\n";
  }
  if (ok) {
    s += "VERIFIED. This evidence proves:\n";
    for (const std::string& p : proves) s += "  - " + p + "\n";
    if (!does_not_prove.empty()) {
      s += "It does not prove:\n";
      for (const std::string& p : does_not_prove) s += "  - " + p + "\n";
    }
  } else {
    size_t failed = 0;
    for (const BundleCheck& c : checks) failed += c.passed ? 0 : 1;
    s += "NOT VERIFIED: " + std::to_string(failed) + " check(s) failed; this evidence proves nothing.\n";
  }
  return s;
}

}  // namespace chuqu::ledger
