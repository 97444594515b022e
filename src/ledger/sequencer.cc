#include "ledger/sequencer.h"

#include <algorithm>
#include <utility>

#include "ledger/tiles.h"

namespace chuqu::ledger {

// Reads stored hashes for the writer: hashes staged by the batch being built, then a cache of
// recently written or read hashes (the right edge and the upper proof nodes, which every batch
// reads again), then a store snapshot. Used by the writer thread only.
class Sequencer::CachedHashReader final : public HashReader {
 public:
  explicit CachedHashReader(store::Store& store) : store_(store) {}

  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) const override {
    std::vector<Hash> out(indexes.size());
    std::vector<int64_t> missing;
    std::vector<size_t> missing_at;
    for (size_t i = 0; i < indexes.size(); ++i) {
      if (auto it = staged_.find(indexes[i]); it != staged_.end()) {
        out[i] = it->second;
      } else if (auto jt = cache_.find(indexes[i]); jt != cache_.end()) {
        out[i] = jt->second;
      } else {
        missing.push_back(indexes[i]);
        missing_at.push_back(i);
      }
    }
    if (!missing.empty()) {
      if (!snapshot_) {
        CHUQU_ASSIGN_OR_RETURN(snapshot_, store_.NewSnapshot());
      }
      CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> read, snapshot_->ReadHashes(missing));
      for (size_t k = 0; k < missing.size(); ++k) {
        out[missing_at[k]] = read[k];
        cache_.emplace(missing[k], read[k]);
      }
    }
    return out;
  }

  void Stage(int64_t first_id, std::span<const Hash> hashes) {
    for (size_t i = 0; i < hashes.size(); ++i) staged_[first_id + static_cast<int64_t>(i)] = hashes[i];
  }
  // The batch is durable: staged hashes become ordinary cached hashes.
  void Committed() {
    if (cache_.size() + staged_.size() > kMaxCached) cache_.clear();
    cache_.merge(staged_);
    staged_.clear();
  }
  // The batch failed: forget it and anything read, in case the store changed under us.
  void Discard() {
    staged_.clear();
    cache_.clear();
    snapshot_.reset();
  }
  // Ends the batch's read transaction so the WAL can be checkpointed.
  void EndBatch() { snapshot_.reset(); }

 private:
  static constexpr size_t kMaxCached = 1 << 18;  // ~10 MB; the hot set is O(log n) per batch
  store::Store& store_;
  std::unordered_map<int64_t, Hash> staged_;
  mutable std::unordered_map<int64_t, Hash> cache_;
  mutable std::unique_ptr<store::Snapshot> snapshot_;
};

Status InitLog(store::Store& store, const NoteSigner& signer) {
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Snapshot> snapshot, store.NewSnapshot());
  CHUQU_ASSIGN_OR_RETURN(std::optional<store::CheckpointRecord> latest,
                         snapshot->LatestCheckpoint());
  snapshot.reset();
  if (latest) return Status::FailedPrecondition("the log is already initialized");
  Checkpoint checkpoint;
  checkpoint.origin = signer.name();
  checkpoint.root_hash = EmptyRoot();
  const NoteSigner* signers[] = {&signer};
  store::AppendBatch batch;
  CHUQU_ASSIGN_OR_RETURN(batch.checkpoint.note, SignCheckpoint(checkpoint, signers));
  batch.checkpoint.size = 0;
  batch.checkpoint.root = checkpoint.root_hash;
  return store.Append(batch);
}

Sequencer::Sequencer(store::Store& store, const Ed25519Signer& signer,
                     const SequencerOptions& options)
    : store_(store),
      signer_(signer),
      verifier_(signer.MakeVerifier()),
      options_(options),
      cache_(std::make_unique<CachedHashReader>(store)) {}

Result<std::unique_ptr<Sequencer>> Sequencer::Start(store::Store& store,
                                                    const Ed25519Signer& signer,
                                                    const SequencerOptions& options) {
  std::unique_ptr<Sequencer> s(new Sequencer(store, signer, options));
  CHUQU_RETURN_IF_ERROR(s->Load());
  s->writer_ = std::thread([p = s.get()] { p->Run(); });
  return s;
}

Sequencer::~Sequencer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

// (Re)establishes size_ and root_ from the latest stored checkpoint, trusting nothing: the
// note must verify with our key and the stored hashes must produce its root.
Status Sequencer::Load() {
  cache_->Discard();
  CHUQU_ASSIGN_OR_RETURN(std::unique_ptr<store::Snapshot> snapshot, store_.NewSnapshot());
  CHUQU_ASSIGN_OR_RETURN(std::optional<store::CheckpointRecord> latest,
                         snapshot->LatestCheckpoint());
  if (!latest) {
    return Status::FailedPrecondition("the log has no checkpoint (run `chuqu log init`)");
  }
  CHUQU_ASSIGN_OR_RETURN(VerifiedCheckpoint verified,
                         OpenCheckpoint(latest->note, *verifier_, signer_.name()));
  if (verified.checkpoint.size != latest->size || verified.checkpoint.root_hash != latest->root) {
    return Status::Corruption("stored checkpoint columns differ from its signed note");
  }
  store::SnapshotHashReader reader(*snapshot);
  CHUQU_ASSIGN_OR_RETURN(Hash root, TreeHash(latest->size, reader));
  if (root != latest->root) {
    return Status::Corruption("stored hashes do not produce the root of checkpoint " +
                              std::to_string(latest->size));
  }
  size_ = latest->size;
  root_ = root;
  std::lock_guard<std::mutex> lock(mu_);
  latest_note_ = latest->note;
  return Status::Ok();
}

std::future<Result<SequencedEntry>> Sequencer::Append(std::string entry, ExtraWrites extra) {
  std::promise<Result<SequencedEntry>> promise;
  std::future<Result<SequencedEntry>> future = promise.get_future();
  if (entry.size() > kMaxEntrySize) {
    promise.set_value(Status::ResourceExhausted("entry of " + std::to_string(entry.size()) +
                                                " bytes is over the limit of " +
                                                std::to_string(kMaxEntrySize)));
    return future;
  }
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      promise.set_value(Status::Unavailable("the sequencer is stopping"));
      return future;
    }
    if (queue_.size() >= options_.max_pending) {
      promise.set_value(Status::Unavailable("the sequencer has " +
                                            std::to_string(queue_.size()) +
                                            " entries waiting; try again later"));
      return future;
    }
    queue_.push_back({std::move(entry), std::move(extra), std::move(promise)});
    wake = queue_.size() == 1 || queue_.size() == options_.max_batch_entries;
  }
  if (wake) cv_.notify_one();
  return future;
}

std::string Sequencer::LatestCheckpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_note_;
}

SequencerStats Sequencer::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Sequencer::Run() {
  const size_t max_batch = std::max<size_t>(1, options_.max_batch_entries);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and nothing left to commit
    if (options_.batch_interval.count() > 0 && !stopping_) {
      cv_.wait_for(lock, options_.batch_interval,
                   [&] { return stopping_ || queue_.size() >= max_batch; });
    }
    std::vector<Pending> batch;
    size_t n = std::min(queue_.size(), max_batch);
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    Commit(batch);
    lock.lock();
  }
}

void Sequencer::Commit(std::vector<Pending>& batch) {
  auto fail_all = [&](const Status& status) {
    for (Pending& p : batch) p.promise.set_value(status);
  };
  if (!failed_.ok()) {
    fail_all(failed_);
    return;
  }
  const uint64_t first = size_;
  Result<std::string> note = CommitBatch(batch, *cache_);
  if (!note.ok()) {
    // The commit may or may not have reached the disk (e.g. an fsync error after the write):
    // re-read the truth before the next batch. If even that fails, stop accepting entries.
    Status reload = Load();
    if (!reload.ok()) failed_ = reload.WithContext("sequencer stopped after a failed commit");
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failed_batches;
    }
    fail_all(note.status());
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Result<Receipt> receipt = BuildReceipt(first + i, *note, *cache_);
    if (receipt.ok()) {
      batch[i].promise.set_value(SequencedEntry{first + i, std::move(*receipt)});
    } else {
      batch[i].promise.set_value(receipt.status().WithContext(
          "entry " + std::to_string(first + i) + " is durable but its receipt failed"));
    }
  }
  cache_->EndBatch();
}

Result<std::string> Sequencer::CommitBatch(std::vector<Pending>& batch, CachedHashReader& reader) {
  const uint64_t old_size = size_;
  const uint64_t new_size = old_size + batch.size();
  if (new_size > kMaxTreeSize) return Status::OutOfRange("the log is full");
  store::AppendBatch append;
  append.old_size = old_size;
  append.entries.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const uint64_t index = old_size + i;
    CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                           StoredHashes(index, LeafHash(batch[i].entry), reader));
    reader.Stage(StoredHashIndex(0, static_cast<int64_t>(index)), hashes);
    append.hashes.insert(append.hashes.end(), hashes.begin(), hashes.end());
  }
  CHUQU_ASSIGN_OR_RETURN(Hash new_root, TreeHash(new_size, reader));
  // c2sp.org/tlog-checkpoint: never sign a checkpoint inconsistent with the last one signed.
  if (old_size > 0) {
    CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                           ConsistencyProof(old_size, new_size, reader));
    Status consistent = VerifyConsistency(old_size, new_size, proof, root_, new_root);
    if (!consistent.ok()) {
      return Status::Corruption("refusing to sign checkpoint " + std::to_string(new_size) +
                                ": not consistent with checkpoint " + std::to_string(old_size) +
                                ": " + consistent.message());
    }
  }
  for (const Tile& tile : NewTiles(old_size, new_size)) {
    CHUQU_ASSIGN_OR_RETURN(std::string data, ReadTileData(tile, reader));
    append.tiles.push_back({tile.level, tile.index, std::move(data)});
  }
  Checkpoint checkpoint;
  checkpoint.origin = signer_.name();
  checkpoint.size = new_size;
  checkpoint.root_hash = new_root;
  const NoteSigner* signers[] = {&signer_};
  CHUQU_ASSIGN_OR_RETURN(std::string note, SignCheckpoint(checkpoint, signers));
  append.checkpoint = {new_size, new_root, note};
  bool any_extra = false;
  for (Pending& p : batch) {
    append.entries.push_back(std::move(p.entry));
    any_extra = any_extra || static_cast<bool>(p.extra);
  }
  if (any_extra) {
    append.extra_writes = [&batch, old_size](store::WriteTransaction& txn) -> Status {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].extra) CHUQU_RETURN_IF_ERROR(batch[i].extra(txn, old_size + i));
      }
      return Status::Ok();
    };
  }
  const auto commit_start = std::chrono::steady_clock::now();
  CHUQU_RETURN_IF_ERROR(store_.Append(append));
  const auto commit_micros = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - commit_start);
  reader.Committed();
  size_ = new_size;
  root_ = new_root;
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_note_ = note;
    ++stats_.batches;
    stats_.entries += batch.size();
    stats_.max_batch = std::max<uint64_t>(stats_.max_batch, batch.size());
    stats_.commit_micros += static_cast<uint64_t>(commit_micros.count());
  }
  return note;
}

}  // namespace chuqu::ledger
