// The Store: where the log (entries, stored hashes, tiles, checkpoints) and, later, the tables
// derived from it live. DESIGN.md "The log is the truth": one batch of sequenced entries, its
// stored hashes, its tiles, its signed checkpoint and any derived rows the caller adds are
// committed in ONE durable transaction, or not at all.
//
// Implementations: sqlite/ (embedded default), postgres/ (PgStore; open either by location
// with open_store.h). Every value an implementation returns has been
// checked where that is cheap (entries against their leaf hashes, tiles against the stored
// hashes), so damaged storage surfaces as Status::Corruption, never as wrong data.
//
// Thread-safety: a Store is shared by one writer (the sequencer, calling Append) and any
// number of readers, each using its own Snapshot. A Snapshot is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chuqu/status.h"
#include "ledger/merkle.h"

namespace chuqu::store {

using ledger::Hash;

// One positional SQL parameter (?1, ?2, ...) for extra writes: NULL, integer, real, text, blob.
struct Blob {
  std::string bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};
using SqlValue = std::variant<std::monostate, int64_t, double, std::string, Blob>;
using SqlRow = std::vector<SqlValue>;

// The open sequencing transaction, handed to the caller's extra-writes hook so that derived
// tables (works, owners, licences) commit atomically with the entries they derive from.
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;
  // Runs one statement with positional parameters. An error aborts the whole batch.
  [[nodiscard]] virtual Status Execute(std::string_view sql,
                                       std::span<const SqlValue> params = {}) = 0;
};

// A c2sp.org/tlog-tiles hash tile as stored: `data` is width*32 bytes, width 1..256. The right
// edge tile of each level grows batch by batch; a stored tile of width W answers every request
// for width <= W (a narrower tile is a prefix of a wider one).
struct TileRecord {
  int level = 0;
  uint64_t index = 0;
  std::string data;
};

// A signed checkpoint as kept in the history, with its size and root split out for queries.
struct CheckpointRecord {
  uint64_t size = 0;
  Hash root{};
  std::string note;  // the signed note text (c2sp.org/tlog-checkpoint)
};

// Everything one sequencing step commits.
struct AppendBatch {
  // Size of the tree before this batch; the commit fails with FailedPrecondition unless it equals
  // the latest stored checkpoint's size (compare-and-swap: no fork from a second writer).
  uint64_t old_size = 0;
  // Entries appended at old_size, old_size+1, ...
  std::vector<std::string> entries;
  // Stored hashes (merkle.h numbering) starting at StoredHashIndex(0, old_size), contiguous.
  std::vector<Hash> hashes;
  // Tiles that are new or wider after this batch.
  std::vector<TileRecord> tiles;
  // The signed checkpoint for size old_size + entries.size().
  CheckpointRecord checkpoint;
  // Optional: further writes in the same transaction (DESIGN.md "the log is the truth").
  std::function<Status(WriteTransaction&)> extra_writes;
};

// A consistent read-only view of the store as of its creation; the writer may commit meanwhile.
class Snapshot {
 public:
  virtual ~Snapshot() = default;

  // The latest checkpoint in this snapshot, or nullopt for a store never initialized.
  virtual Result<std::optional<CheckpointRecord>> LatestCheckpoint() = 0;
  // The checkpoint of exactly `size`, NotFound if none was signed at that size.
  virtual Result<CheckpointRecord> CheckpointAt(uint64_t size) = 0;
  // Checkpoints with size > after_size, ascending, at most `limit`.
  virtual Result<std::vector<CheckpointRecord>> Checkpoints(uint64_t after_size,
                                                            size_t limit) = 0;
  // Entries [first, first+count), each verified against its stored leaf hash.
  // OutOfRange if the range goes beyond the latest checkpoint.
  virtual Result<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) = 0;
  // Stored hashes by index (merkle.h numbering); NotFound if one is not stored.
  virtual Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) = 0;
  // Hash tile (level, index) of `width` hashes (1..256), checked against the stored hashes.
  // NotFound if the stored tile is narrower than `width`.
  virtual Result<std::string> ReadTile(int level, uint64_t index, int width) = 0;
  // A read-only query over derived tables (the registry's), in this snapshot. Writes are
  // refused. Values are not verified by the store: derived rows are checked by re-deriving
  // them from the log.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            std::span<const SqlValue> params = {}) = 0;
};

// A HashReader over a Snapshot, for merkle.h's proof functions. Not thread-safe: it borrows the
// snapshot, which must outlive it and be used by one thread at a time.
class SnapshotHashReader final : public ledger::HashReader {
 public:
  explicit SnapshotHashReader(Snapshot& snapshot) : snapshot_(snapshot) {}
  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) const override {
    return snapshot_.ReadHashes(indexes);
  }

 private:
  Snapshot& snapshot_;
};

class Store {
 public:
  virtual ~Store() = default;

  // Commits the batch durably in one transaction (see AppendBatch). On error nothing of the
  // batch is visible. Only one thread may call Append at a time (the sequencer).
  [[nodiscard]] virtual Status Append(const AppendBatch& batch) = 0;
  // Runs the caller's schema statements for its derived tables (CREATE TABLE/INDEX IF NOT
  // EXISTS, in WriteTransaction::Execute's dialect) in one durable transaction that adds
  // nothing to the log: the registry creates its tables once at open, so that each batch's
  // extra_writes only add rows. Same rule as Append: never concurrently with it.
  [[nodiscard]] virtual Status CreateTables(std::span<const std::string_view> statements) = 0;
  // Thread-safe.
  virtual Result<std::unique_ptr<Snapshot>> NewSnapshot() = 0;
};

}  // namespace chuqu::store
