// c2sp.org/tlog-proof@v1 receipts: offline proof that an entry is in a log.
//
//   c2sp.org/tlog-proof@v1\n
//   [extra <base64>\n]
//   index <decimal, no leading zeros>\n
//   <base64 hash>\n*                      inclusion proof, leaf sibling first
//   \n
//   <signed checkpoint note, verbatim, with any cosignatures>
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace chuqu::ledger {

inline constexpr std::string_view kReceiptHeader = "c2sp.org/tlog-proof@v1";

struct Receipt {
  std::optional<std::string> extra;  // decoded bytes; not authenticated
  uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed note, verbatim
  friend bool operator==(const Receipt&, const Receipt&) = default;
};

// Syntax only (the checkpoint is checked to be a well-formed note with a checkpoint body).
Result<Receipt> ParseReceipt(std::string_view text);
std::string FormatReceipt(const Receipt& receipt);

// A receipt for leaf `index` against `signed_checkpoint` (its size decides the proof); the
// proof is read from `reader`, which must hold the tree of that size. OutOfRange if index is
// beyond the checkpoint.
Result<Receipt> BuildReceipt(uint64_t index, std::string_view signed_checkpoint,
                             const HashReader& reader, std::optional<std::string> extra = {});

// Who must have signed. `log_key` is required; a checkpoint's origin must equal `origin`
// (empty: log_key->name()). At least `witness_quorum` distinct `witnesses` must have cosigned.
struct ReceiptPolicy {
  const NoteVerifier* log_key = nullptr;
  std::string origin;
  std::vector<const NoteVerifier*> witnesses;
  size_t witness_quorum = 0;
};

struct VerifiedReceipt {
  Checkpoint checkpoint;
  uint64_t index = 0;
  Hash leaf_hash{};
  std::vector<WitnessCosignature> cosignatures;
  std::vector<NoteSignature> ignored_signatures;  // unknown keys
};

// Checks, in order: log signature (Unauthenticated), origin, witness quorum (Unauthenticated),
// index < size (OutOfRange), inclusion of LeafHash(entry) (Corruption).
Result<VerifiedReceipt> VerifyReceipt(const Receipt& receipt, std::string_view entry,
                                      const ReceiptPolicy& policy);

}  // namespace chuqu::ledger
