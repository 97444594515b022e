// The checks every Snapshot makes on what it reads back (store.h: entries against their leaf
// hashes, tiles against the stored hashes): one place, so the SQLite and PostgreSQL stores
// detect the same damage alike and say so in the same words. Each store supplies only its
// queries, through the callbacks; `who` names the store in messages, e.g. "sqlite store".
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chuqu/status.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"
#include "store/store.h"

namespace chuqu::store {

// Reads stored hashes by index (Snapshot::ReadHashes): NotFound if one is not stored.
using StoredHashReader = std::function<Result<std::vector<Hash>>(std::span<const int64_t>)>;

// Hashes a snapshot's checkpoint covers must exist: a missing one is damage (Corruption).
inline Result<std::vector<Hash>> ReadCoveredHashes(const StoredHashReader& read_hashes,
                                                   std::span<const int64_t> ids) {
  Result<std::vector<Hash>> r = read_hashes(ids);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
    return Status::Corruption(r.status().message());
  }
  return r;
}

// Snapshot::ReadEntries over a log of `size` entries. `read_rows(first, count, row)` runs the
// store's query for entries [first, first + count) in index order and passes each (idx, data)
// row to `row`, stopping at the first error it returns.
using EntryRowSink = std::function<Status(int64_t idx, std::string_view data)>;
inline Result<std::vector<std::string>> ReadVerifiedEntries(
    std::string_view who, uint64_t first, uint64_t count, uint64_t size,
    const StoredHashReader& read_hashes,
    const std::function<Status(uint64_t, uint64_t, const EntryRowSink&)>& read_rows) {
  if (first > size || count > size - first) {
    return Status::OutOfRange("entries [" + std::to_string(first) + ", +" +
                              std::to_string(count) + ") beyond the log of size " +
                              std::to_string(size));
  }
  const std::string prefix = std::string(who) + ": entry ";
  std::vector<int64_t> leaf_indexes;
  leaf_indexes.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    leaf_indexes.push_back(ledger::StoredHashIndex(0, static_cast<int64_t>(first + i)));
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> leaf_hashes,
                         ReadCoveredHashes(read_hashes, leaf_indexes));
  std::vector<std::string> out;
  out.reserve(count);
  CHUQU_RETURN_IF_ERROR(read_rows(first, count, [&](int64_t idx, std::string_view data) {
    const uint64_t expect = first + out.size();
    if (out.size() >= count || idx != static_cast<int64_t>(expect)) {
      return Status::Corruption(prefix + std::to_string(expect) + " is missing");
    }
    if (ledger::LeafHash(data) != leaf_hashes[out.size()]) {
      return Status::Corruption(prefix + std::to_string(expect) + " does not match its leaf hash");
    }
    out.emplace_back(data);
    return Status::Ok();
  }));
  if (out.size() != count) {
    return Status::Corruption(prefix + std::to_string(first + out.size()) + " is missing");
  }
  return out;
}

// Snapshot::ReadTile. `read_stored()` returns the stored tile (level, index) of any width, or
// NotFound if there is none.
inline Result<std::string> ReadVerifiedTile(std::string_view who, int level, uint64_t index,
                                            int width,
                                            const std::function<Result<std::string>()>& read_stored,
                                            const StoredHashReader& read_hashes) {
  constexpr int kWidth = ledger::kTileWidth;
  if (level < 0 || level > 7 || width < 1 || width > kWidth || index > (uint64_t{1} << 54)) {
    return Status::OutOfRange("tile " + std::to_string(level) + "/" + std::to_string(index) +
                              " width " + std::to_string(width) + " is out of range");
  }
  const std::string name = std::to_string(level) + "/" + std::to_string(index);
  CHUQU_ASSIGN_OR_RETURN(std::string data, read_stored());
  if (data.size() % 32 != 0 || data.size() > 32 * kWidth) {
    return Status::Corruption(std::string(who) + ": tile " + name + " has " +
                              std::to_string(data.size()) + " bytes");
  }
  if (data.size() < static_cast<size_t>(width) * 32) {
    return Status::NotFound("tile " + name + " is narrower than " + std::to_string(width));
  }
  data.resize(static_cast<size_t>(width) * 32);
  // The tile's hashes are the stored hashes at Merkle level 8*level (c2sp.org/tlog-tiles), so
  // a damaged copy of either is detected.
  std::vector<int64_t> ids;
  ids.reserve(width);
  for (int i = 0; i < width; ++i) {
    ids.push_back(ledger::StoredHashIndex(8 * level, static_cast<int64_t>(index) * kWidth + i));
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> hashes, ReadCoveredHashes(read_hashes, ids));
  for (int i = 0; i < width; ++i) {
    if (std::memcmp(data.data() + 32 * i, hashes[i].data(), 32) != 0) {
      return Status::Corruption(std::string(who) + ": tile " + name + " hash " +
                                std::to_string(i) + " differs from the stored hash");
    }
  }
  return data;
}

}  // namespace chuqu::store
