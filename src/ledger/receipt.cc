#include "ledger/receipt.h"

#include <set>
#include <utility>

namespace chuqu::ledger {
namespace {
// A proof for a uint64 tree has at most 64 hashes.
constexpr size_t kMaxProofHashes = 64;
}  // namespace

Result<Receipt> ParseReceipt(std::string_view text) {
  if (text.size() > kMaxNoteSize) return Status::ResourceExhausted("receipt is larger than 1 MiB");
  size_t blank = text.find("\n\n");
  if (blank == std::string_view::npos) {
    return Status::InvalidArgument("receipt has no blank line before the checkpoint");
  }
  std::string_view head = text.substr(0, blank + 1);
  Receipt r;
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < head.size();) {
    size_t nl = head.find('\n', pos);
    lines.push_back(head.substr(pos, nl - pos));
    pos = nl + 1;
  }
  size_t i = 0;
  if (lines[i] != kReceiptHeader) {
    return Status::InvalidArgument("receipt does not start with c2sp.org/tlog-proof@v1");
  }
  ++i;
  if (i < lines.size() && lines[i].substr(0, 6) == "extra ") {
    Result<std::string> extra = Base64Decode(lines[i].substr(6));
    if (!extra.ok()) return extra.status().WithContext("receipt extra line");
    r.extra = std::move(*extra);
    ++i;
  }
  if (i >= lines.size() || lines[i].substr(0, 6) != "index ") {
    return Status::InvalidArgument("receipt has no index line");
  }
  Result<uint64_t> index = ParseDecimalUint64(lines[i].substr(6), "receipt index");
  if (!index.ok()) return index.status();
  r.index = *index;
  for (++i; i < lines.size(); ++i) {
    if (r.proof.size() >= kMaxProofHashes) {
      return Status::InvalidArgument("receipt has more than 64 proof hashes");
    }
    Result<Hash> h = HashFromBase64(lines[i]);
    if (!h.ok()) return h.status().WithContext("receipt proof line " + std::to_string(r.proof.size() + 1));
    r.proof.push_back(*h);
  }
  r.checkpoint = std::string(text.substr(blank + 2));
  Result<Note> note = ParseNote(r.checkpoint);
  if (!note.ok()) return note.status().WithContext("receipt checkpoint");
  Result<Checkpoint> cp = ParseCheckpoint(note->text);
  if (!cp.ok()) return cp.status().WithContext("receipt");
  return r;
}

std::string FormatReceipt(const Receipt& r) {
  std::string s(kReceiptHeader);
  s += "\n";
  if (r.extra) s += "extra " + Base64Encode(*r.extra) + "\n";
  s += "index " + std::to_string(r.index) + "\n";
  for (const Hash& h : r.proof) s += HashToBase64(h) + "\n";
  s += "\n";
  s += r.checkpoint;
  return s;
}

Result<Receipt> BuildReceipt(uint64_t index, std::string_view signed_checkpoint,
                             const HashReader& reader, std::optional<std::string> extra) {
  CHUQU_ASSIGN_OR_RETURN(Note note, ParseNote(signed_checkpoint));
  CHUQU_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(note.text));
  Receipt r;
  r.extra = std::move(extra);
  r.index = index;
  CHUQU_ASSIGN_OR_RETURN(r.proof, InclusionProof(index, cp.size, reader));
  r.checkpoint = std::string(signed_checkpoint);
  return r;
}

Result<VerifiedReceipt> VerifyReceipt(const Receipt& receipt, std::string_view entry,
                                      const ReceiptPolicy& policy) {
  if (policy.log_key == nullptr) return Status::InvalidArgument("no log key to verify the receipt with");
  std::vector<const NoteVerifier*> keys{policy.log_key};
  keys.insert(keys.end(), policy.witnesses.begin(), policy.witnesses.end());
  Result<OpenedNote> note = OpenNote(receipt.checkpoint, keys);
  if (!note.ok()) return note.status().WithContext("receipt checkpoint");
  bool log_signed = false;
  for (const NoteSignature& s : note->verified) {
    log_signed |= s.name == policy.log_key->name() && s.key_id == policy.log_key->key_id();
  }
  if (!log_signed) return Status::Unauthenticated("receipt checkpoint is not signed by the log key");
  CHUQU_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(note->text));
  const std::string& origin = policy.origin.empty() ? policy.log_key->name() : policy.origin;
  if (cp.origin != origin) {
    return Status::Unauthenticated("receipt checkpoint origin \"" + cp.origin +
                                   "\" is not the log's \"" + origin + "\"");
  }
  VerifiedReceipt out;
  out.cosignatures = CollectCosignatures(*note, policy.witnesses);
  std::set<std::string> distinct;
  for (const WitnessCosignature& c : out.cosignatures) distinct.insert(c.witness);
  if (distinct.size() < policy.witness_quorum) {
    return Status::Unauthenticated("receipt checkpoint has " + std::to_string(distinct.size()) +
                                   " witness cosignatures, policy requires " +
                                   std::to_string(policy.witness_quorum));
  }
  out.leaf_hash = LeafHash(entry);
  Status st = VerifyInclusion(receipt.index, cp.size, out.leaf_hash, receipt.proof, cp.root_hash);
  if (!st.ok()) return st.WithContext("receipt inclusion proof");
  out.checkpoint = std::move(cp);
  out.index = receipt.index;
  out.ignored_signatures = std::move(note->unverified);
  return out;
}

}  // namespace chuqu::ledger
