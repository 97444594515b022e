// The shape checks every Store::Append makes before it touches storage (store.h AppendBatch):
// one place, so the SQLite and PostgreSQL stores refuse the same malformed batches alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chuqu/status.h"
#include "ledger/merkle.h"
#include "store/store.h"

namespace chuqu::store {

// `who` names the store in messages, e.g. "sqlite store".
inline Status CheckBatchShape(const AppendBatch& batch, std::string_view who) {
  const std::string prefix = std::string(who) + ": ";
  const uint64_t new_size = batch.old_size + batch.entries.size();
  if (new_size < batch.old_size || new_size > ledger::kMaxTreeSize) {
    return Status::OutOfRange(prefix + "tree size overflows");
  }
  if (batch.checkpoint.size != new_size) {
    return Status::InvalidArgument(prefix + "checkpoint size " +
                                   std::to_string(batch.checkpoint.size) + " is not " +
                                   std::to_string(new_size));
  }
  const int64_t first_hash = ledger::StoredHashCount(batch.old_size);
  if (static_cast<int64_t>(batch.hashes.size()) != ledger::StoredHashCount(new_size) - first_hash) {
    return Status::InvalidArgument(prefix + "wrong number of stored hashes in batch");
  }
  return Status::Ok();
}

}  // namespace chuqu::store
