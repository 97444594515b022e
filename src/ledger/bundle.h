// Evidence bundle: one file a registrant keeps, holding everything needed to check offline that
// an entry is in the log — the entry bytes, its c2sp.org/tlog-proof receipt (inclusion proof +
// signed checkpoint + cosignatures) and the log's public key (plus any witness keys).
// The file format is specified in docs/evidence-bundle.md (JSON, "chuqu.evidence-bundle/v1").
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "ledger/merkle.h"
#include "ledger/receipt.h"

namespace chuqu::ledger {

inline constexpr std::string_view kBundleFormat = "chuqu.evidence-bundle/v1";
inline constexpr size_t kMaxBundleSize = 4 << 20;

struct EvidenceBundle {
  std::string entry;                      // the exact logged bytes (at most kMaxEntrySize)
  std::string receipt;                    // tlog-proof text
  std::string log_key;                    // vkey of the log (type 0x01)
  std::vector<std::string> witness_keys;  // vkeys (type 0x04) the log asked to cosign
  friend bool operator==(const EvidenceBundle&, const EvidenceBundle&) = default;
};

// Builds the receipt for `index` against `signed_checkpoint` and checks the result verifies.
Result<EvidenceBundle> BuildBundle(std::string_view entry, uint64_t index,
                                   std::string_view signed_checkpoint, const HashReader& reader,
                                   std::string_view log_key,
                                   std::vector<std::string> witness_keys = {});

// JSON per docs/evidence-bundle.md. Parse: InvalidArgument naming the missing/bad field;
// ResourceExhausted over kMaxBundleSize.
std::string FormatBundle(const EvidenceBundle& bundle);
Result<EvidenceBundle> ParseBundle(std::string_view text);

struct BundleVerifyOptions {
  // The log key the verifier trusts (vkey text). If unset, the bundle's own key is used and the
  // report says the key came from the bundle and must be compared with the log's published key.
  std::optional<std::string> trusted_log_key;
  // The original content bytes; if set, its SHA-256 must appear in the entry (see the doc).
  std::optional<std::string> content;
  // Witness keys to require in addition to the bundle's, and how many must have cosigned.
  std::vector<std::string> trusted_witness_keys;
  size_t witness_quorum = 0;
};

struct BundleCheck {
  std::string name;    // short id: "log-key", "checkpoint-signature", "inclusion", "content", ...
  bool passed = false;
  std::string detail;  // one plain-words sentence
};

struct BundleReport {
  bool ok = false;                   // every check passed
  std::vector<BundleCheck> checks;   // in the order performed
  std::vector<std::string> proves;   // plain-words statements of what the evidence shows
  std::vector<std::string> does_not_prove;  // honest limits (time, authorship, key trust)
  std::string ToText() const;        // human-readable report, one line per item
};

// Never fails as a call: every problem is a failed check in the report.
BundleReport VerifyBundle(const EvidenceBundle& bundle, const BundleVerifyOptions& options);

}  // namespace chuqu::ledger
