#include "ledger/log_view.h"

#include <algorithm>

#include "ledger/tiles.h"

namespace chuqu::ledger {
namespace {

// Opens a stored checkpoint record: signature, origin, and the columns agree with the note.
Result<LogCheckpoint> OpenRecord(const store::CheckpointRecord& record,
                                 const NoteVerifier& log_key) {
  Result<VerifiedCheckpoint> opened = OpenCheckpoint(record.note, log_key, log_key.name());
  if (!opened.ok()) {
    return Status::Corruption("stored checkpoint " + std::to_string(record.size) +
                              " does not verify: " + opened.status().ToString());
  }
  if (opened->checkpoint.size != record.size || opened->checkpoint.root_hash != record.root) {
    return Status::Corruption("stored checkpoint " + std::to_string(record.size) +
                              " differs from its signed note");
  }
  return LogCheckpoint{std::move(opened->checkpoint), record.note};
}

}  // namespace

Result<LogCheckpoint> LatestCheckpoint(store::Snapshot& snapshot, const NoteVerifier& log_key) {
  CHUQU_ASSIGN_OR_RETURN(std::optional<store::CheckpointRecord> latest,
                         snapshot.LatestCheckpoint());
  if (!latest) return Status::FailedPrecondition("the log has no checkpoint (run `chuqu log init`)");
  CHUQU_ASSIGN_OR_RETURN(LogCheckpoint checkpoint, OpenRecord(*latest, log_key));
  store::SnapshotHashReader reader(snapshot);
  CHUQU_ASSIGN_OR_RETURN(Hash root, TreeHash(checkpoint.checkpoint.size, reader));
  if (root != checkpoint.checkpoint.root_hash) {
    return Status::Corruption("stored hashes do not produce the root of checkpoint " +
                              std::to_string(checkpoint.checkpoint.size));
  }
  return checkpoint;
}

Result<Receipt> ProveEntry(store::Snapshot& snapshot, const NoteVerifier& log_key,
                           uint64_t index) {
  CHUQU_ASSIGN_OR_RETURN(LogCheckpoint latest, LatestCheckpoint(snapshot, log_key));
  const uint64_t size = latest.checkpoint.size;
  if (index >= size) {
    return Status::OutOfRange("entry " + std::to_string(index) + " is beyond the log of size " +
                              std::to_string(size));
  }
  store::SnapshotHashReader reader(snapshot);
  CHUQU_ASSIGN_OR_RETURN(Receipt receipt, BuildReceipt(index, latest.note, reader));
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> entry, snapshot.ReadEntries(index, 1));
  Status ok = VerifyInclusion(index, size, LeafHash(entry[0]), receipt.proof,
                              latest.checkpoint.root_hash);
  if (!ok.ok()) {
    return Status::Corruption("stored hashes give a bad proof for entry " +
                              std::to_string(index) + ": " + ok.message());
  }
  return receipt;
}

Result<std::vector<Hash>> ProveConsistency(store::Snapshot& snapshot, const NoteVerifier& log_key,
                                           uint64_t old_size, LogCheckpoint* latest_out) {
  CHUQU_ASSIGN_OR_RETURN(LogCheckpoint latest, LatestCheckpoint(snapshot, log_key));
  const uint64_t size = latest.checkpoint.size;
  if (old_size > size) {
    return Status::OutOfRange("old size " + std::to_string(old_size) +
                              " is beyond the log of size " + std::to_string(size));
  }
  store::SnapshotHashReader reader(snapshot);
  Hash old_root;
  Result<store::CheckpointRecord> signed_old = snapshot.CheckpointAt(old_size);
  if (signed_old.ok()) {
    CHUQU_ASSIGN_OR_RETURN(LogCheckpoint old, OpenRecord(*signed_old, log_key));
    old_root = old.checkpoint.root_hash;
  } else if (signed_old.status().code() == StatusCode::kNotFound) {
    CHUQU_ASSIGN_OR_RETURN(old_root, TreeHash(old_size, reader));
  } else {
    return signed_old.status();
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> proof, ConsistencyProof(old_size, size, reader));
  Status ok = VerifyConsistency(old_size, size, proof, old_root, latest.checkpoint.root_hash);
  if (!ok.ok()) {
    return Status::Corruption("stored hashes give a bad consistency proof from " +
                              std::to_string(old_size) + ": " + ok.message());
  }
  if (latest_out != nullptr) *latest_out = std::move(latest);
  return proof;
}

Result<LogCheckReport> CheckLog(store::Snapshot& snapshot, const NoteVerifier& log_key,
                                const std::function<void(uint64_t)>& progress) {
  LogCheckReport report;
  CHUQU_ASSIGN_OR_RETURN(std::optional<store::CheckpointRecord> latest,
                         snapshot.LatestCheckpoint());
  if (!latest) return Status::FailedPrecondition("the log has no checkpoint (run `chuqu log init`)");
  const uint64_t size = latest->size;
  store::SnapshotHashReader reader(snapshot);

  // 1. Stored hashes from entries. By induction every hash below the current leaf's has been
  // re-derived already, so StoredHashes over the stored ones recomputes the next ones exactly.
  constexpr uint64_t kChunk = 1024;
  for (uint64_t first = 0; first < size; first += kChunk) {
    const uint64_t n = std::min(kChunk, size - first);
    CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> entries, snapshot.ReadEntries(first, n));
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t index = first + i;
      CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> derived,
                             StoredHashes(index, LeafHash(entries[i]), reader));
      std::vector<int64_t> ids(derived.size());
      for (size_t k = 0; k < ids.size(); ++k) {
        ids[k] = StoredHashIndex(0, static_cast<int64_t>(index)) + static_cast<int64_t>(k);
      }
      Result<std::vector<Hash>> stored = snapshot.ReadHashes(ids);
      if (!stored.ok()) {
        return Status::Corruption("stored hashes of entry " + std::to_string(index) + ": " +
                                  stored.status().ToString());
      }
      for (size_t k = 0; k < ids.size(); ++k) {
        if ((*stored)[k] != derived[k]) {
          return Status::Corruption("stored hash " + std::to_string(ids[k]) + " (entry " +
                                    std::to_string(index) + ") differs from the re-derived one");
        }
      }
    }
    report.entries += n;
    if (progress) progress(report.entries);
  }

  // 2. Every checkpoint: signed by the log, root of the re-derived tree, consistent with the
  // one before it.
  std::optional<LogCheckpoint> previous;
  auto check_one = [&](const store::CheckpointRecord& record) -> Status {
    CHUQU_ASSIGN_OR_RETURN(LogCheckpoint cp, OpenRecord(record, log_key));
    if (cp.checkpoint.size > size) {
      return Status::Corruption("checkpoint " + std::to_string(cp.checkpoint.size) +
                                " is beyond the latest");
    }
    CHUQU_ASSIGN_OR_RETURN(Hash root, TreeHash(cp.checkpoint.size, reader));
    if (root != cp.checkpoint.root_hash) {
      return Status::Corruption("checkpoint " + std::to_string(cp.checkpoint.size) +
                                " is not the root of the stored entries");
    }
    if (previous) {
      CHUQU_ASSIGN_OR_RETURN(
          std::vector<Hash> proof,
          ConsistencyProof(previous->checkpoint.size, cp.checkpoint.size, reader));
      Status ok = VerifyConsistency(previous->checkpoint.size, cp.checkpoint.size, proof,
                                    previous->checkpoint.root_hash, cp.checkpoint.root_hash);
      if (!ok.ok()) {
        return Status::Corruption("checkpoint " + std::to_string(cp.checkpoint.size) +
                                  " is not consistent with checkpoint " +
                                  std::to_string(previous->checkpoint.size));
      }
    }
    previous = std::move(cp);
    ++report.checkpoints;
    return Status::Ok();
  };
  Result<store::CheckpointRecord> zero = snapshot.CheckpointAt(0);
  if (zero.ok()) {
    CHUQU_RETURN_IF_ERROR(check_one(*zero));
  } else if (zero.status().code() != StatusCode::kNotFound) {
    return zero.status();
  }
  for (uint64_t after = 0;;) {
    CHUQU_ASSIGN_OR_RETURN(std::vector<store::CheckpointRecord> page,
                           snapshot.Checkpoints(after, 1000));
    if (page.empty()) break;
    for (const store::CheckpointRecord& record : page) CHUQU_RETURN_IF_ERROR(check_one(record));
    after = page.back().size;
  }
  if (!previous || previous->checkpoint.size != size) {
    return Status::Corruption("the checkpoint history does not end at the latest checkpoint");
  }

  // 3. Every tile the latest checkpoint publishes, from the re-derived hashes.
  for (const Tile& tile : TilesForSize(size)) {
    Result<std::string> stored = snapshot.ReadTile(tile.level, tile.index, tile.width);
    if (!stored.ok()) {
      return Status::Corruption("tile " + TilePath(tile) + ": " + stored.status().ToString());
    }
    CHUQU_ASSIGN_OR_RETURN(std::string derived, ReadTileData(tile, reader));
    if (*stored != derived) {
      return Status::Corruption("tile " + TilePath(tile) + " differs from the re-derived one");
    }
    ++report.tiles;
  }
  return report;
}

}  // namespace chuqu::ledger
