// The read side of a log kept in a Store: checkpoints, receipts and consistency proofs served
// from a store snapshot, each checked before it is returned (signature, root against the stored
// hashes, proof against the root), so damaged storage is reported as Corruption, never served.
// CheckLog re-derives the whole log from its entries (the `chuqu log check` audit; Tessera's
// fsck; notes/transparency-log.md §7 on the Yeti 2022 bit flip).
//
// Thread-safety: free functions; each call uses the given snapshot from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chuqu/status.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "store/store.h"

namespace chuqu::ledger {

struct LogCheckpoint {
  Checkpoint checkpoint;
  std::string note;  // signed note, verbatim
};

// The snapshot's latest checkpoint, verified: `log_key` signed it, origin = key name, and the
// stored hashes produce its root. FailedPrecondition for a log never initialized.
Result<LogCheckpoint> LatestCheckpoint(store::Snapshot& snapshot, const NoteVerifier& log_key);

// A receipt for entry `index` against the latest checkpoint; the proof is verified against
// the checkpoint root with the stored entry's leaf hash before it is returned.
// OutOfRange if index >= the tree size.
Result<Receipt> ProveEntry(store::Snapshot& snapshot, const NoteVerifier& log_key, uint64_t index);

// The consistency proof from `old_size` to the latest checkpoint, verified: against the signed
// checkpoint of old_size when one was signed, else against the root the stored hashes give.
// OutOfRange if old_size > the tree size.
Result<std::vector<Hash>> ProveConsistency(store::Snapshot& snapshot, const NoteVerifier& log_key,
                                           uint64_t old_size, LogCheckpoint* latest = nullptr);

struct LogCheckReport {
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  uint64_t tiles = 0;
};

// Re-derives every stored hash from the entries, every tile of the latest checkpoint from the
// hashes, and every checkpoint in the history (signature, origin, root, consistency with the
// previous one). `progress`, if set, is called with the number of entries checked so far.
// Corruption naming the first mismatch.
Result<LogCheckReport> CheckLog(store::Snapshot& snapshot, const NoteVerifier& log_key,
                                const std::function<void(uint64_t)>& progress = nullptr);

}  // namespace chuqu::ledger
