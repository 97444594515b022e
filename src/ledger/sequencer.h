// The sequencer: the log's one writer. Callers hand it entries; it batches them, computes the
// stored hashes, tiles and the next checkpoint, signs the checkpoint only after checking that
// it is consistent with the previous one, commits everything (and the callers' extra writes)
// in ONE durable store transaction, and only THEN answers each caller with its index and a
// c2sp.org/tlog-proof receipt. Nothing acknowledged can be lost (DESIGN.md "The log is the
// truth"; notes/transparency-log.md §0 "zero merge delay").
//
// Threads: this is an adapter-level component and starts ONE thread, the writer, owned by the
// Sequencer object and joined by its destructor. Append is thread-safe. The store must be
// written by this sequencer only (the store's compare-and-swap refuses any other writer's
// batch, so a second sequencer fails rather than forks the log).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "ledger/tiles.h"
#include "store/store.h"

namespace chuqu::ledger {

struct SequencerOptions {
  // After the first entry of a batch arrives, wait this long for more before committing.
  // 5 ms keeps submit-to-receipt p50 well under 20 ms; 0 commits whatever is queued at once
  // (group commit: batches still form while the previous commit is on disk).
  std::chrono::microseconds batch_interval{5000};
  // A batch never holds more entries than this (bounds one transaction's size).
  size_t max_batch_entries = 4096;
  // Pushback: Append fails with Unavailable when this many entries are already waiting
  // (notes/transparency-log.md §7, Aviator: reject rather than build a backlog).
  size_t max_pending = 1 << 16;
};

// Writes derived rows for the entry at `index` inside the sequencing transaction. An error
// aborts the whole batch: every caller of that batch gets the error and nothing is stored.
using ExtraWrites = std::function<Status(store::WriteTransaction&, uint64_t index)>;

// What a caller receives once its entry is durable.
struct SequencedEntry {
  uint64_t index = 0;
  Receipt receipt;  // inclusion proof against the first checkpoint that includes the entry
};

// Counters since Start, for logs and benchmarks.
struct SequencerStats {
  uint64_t batches = 0;        // committed batches
  uint64_t entries = 0;        // committed entries
  uint64_t failed_batches = 0;
  uint64_t max_batch = 0;      // largest committed batch
  uint64_t commit_micros = 0;  // total time in store Append (the durable commit)
};

// Writes the size-0 checkpoint of a new log. FailedPrecondition if the store already has one.
[[nodiscard]] Status InitLog(store::Store& store, const NoteSigner& signer);

class Sequencer {
 public:
  // Loads the latest checkpoint (it must verify with `signer`'s key and match the stored
  // hashes) and starts the writer thread. `store` and `signer` are borrowed and must outlive
  // the Sequencer. FailedPrecondition for a store without InitLog; Corruption if the stored
  // tree does not match its checkpoint.
  static Result<std::unique_ptr<Sequencer>> Start(store::Store& store, const Ed25519Signer& signer,
                                                  const SequencerOptions& options = {});
  // Commits what is queued, then stops and joins the writer thread.
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Queues `entry`; the future resolves after the batch holding it is durable. Errors:
  // ResourceExhausted for entries over kMaxEntrySize (64 KiB - 1, the entry-bundle limit),
  // Unavailable when max_pending entries are queued or the sequencer is stopping, and any
  // store error of the batch (IOError, Corruption ...). Thread-safe.
  std::future<Result<SequencedEntry>> Append(std::string entry, ExtraWrites extra = nullptr);

  // The latest committed checkpoint (signed note). Thread-safe.
  std::string LatestCheckpoint() const;
  // Thread-safe.
  SequencerStats Stats() const;

 private:
  struct Pending {
    std::string entry;
    ExtraWrites extra;
    std::promise<Result<SequencedEntry>> promise;
  };
  class CachedHashReader;

  Sequencer(store::Store& store, const Ed25519Signer& signer, const SequencerOptions& options);
  [[nodiscard]] Status Load();
  void Run();
  void Commit(std::vector<Pending>& batch);
  Result<std::string> CommitBatch(std::vector<Pending>& batch, CachedHashReader& reader);

  store::Store& store_;
  const Ed25519Signer& signer_;
  const std::unique_ptr<Ed25519Verifier> verifier_;
  const SequencerOptions options_;

  // Writer-thread state.
  uint64_t size_ = 0;
  Hash root_{};
  std::unique_ptr<CachedHashReader> cache_;
  Status failed_;  // set when the state could not be re-established after a failed commit

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;   // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::string latest_note_;     // guarded by mu_
  SequencerStats stats_;        // guarded by mu_
  std::thread writer_;
};

}  // namespace chuqu::ledger
