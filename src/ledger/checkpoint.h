// c2sp.org/tlog-checkpoint: the body of a log's signed note.
//
//   <origin>\n<size decimal, no leading zeros>\n<base64 root hash>\n[<extension line>\n]*
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace chuqu::ledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root_hash{};
  std::vector<std::string> extensions;  // non-empty lines, without "\n"
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Decimal uint64, no sign, no leading zeros (except "0"). InvalidArgument / OutOfRange
// (overflow) naming `what`. Shared by the ledger's text formats.
Result<uint64_t> ParseDecimalUint64(std::string_view s, std::string_view what);

// Parses a note's text. InvalidArgument naming the line for: missing lines, empty origin,
// size with leading zeros / sign / non-digits / overflow of uint64, root not base64 of 32
// bytes, empty extension line, missing final newline.
Result<Checkpoint> ParseCheckpoint(std::string_view text);
// The note text. REQUIRES: origin and extensions non-empty without '\n'.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Formats and signs (signers in order: the log key first, then e.g. cosigners).
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                   std::span<const NoteSigner* const> signers);

struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  OpenedNote note;
};
// Opens a signed checkpoint with the log's verifier: OpenNote with {log_key}, then the body is
// parsed and its origin must equal `origin` (pass log_key.name() for our logs, whose origin is
// the key name). Errors as OpenNote / ParseCheckpoint, or Unauthenticated for wrong origin.
Result<VerifiedCheckpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& log_key,
                                          std::string_view origin);

}  // namespace chuqu::ledger
