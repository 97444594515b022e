// c2sp.org/tlog-tiles: tile coordinates and paths, tile contents from stored hashes, reading
// stored hashes back out of tiles, and entry bundles.
//
// Tiles have height 8 (256 hashes). Tile (L, N) holds the level-8L hashes
// [N*256, N*256 + W) — a level-L tile hash is the root of a full level-(L-1) tile. A full tile
// has W = 256; a partial tile (W = 1..255) is published for the right edge of a checkpointed
// tree and is never hashed into the level above.
//
// Paths (relative to the log prefix):
//   tile/<L>/<N>[.p/<W>]        hash tiles, L = 0..63
//   tile/entries/<N>[.p/<W>]    entry bundles (the W entries of level-0 tile N)
// N is written in 3-digit groups, all but the last prefixed 'x': 1234067 -> x001/x234/067.
//
// Thread-safety: values and pure functions; TileHashReader is as thread-safe as its TileReader.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "ledger/merkle.h"

namespace chuqu::ledger {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileWidth = 256;
inline constexpr int kMaxTileLevel = 63;
inline constexpr size_t kMaxEntrySize = 65535;  // uint16 length prefix in entry bundles

struct Tile {
  int level = 0;         // tile level L (0..63); ignored for entry bundles
  uint64_t index = 0;    // N
  int width = kTileWidth;  // W, 1..256; 256 = full
  bool entries = false;  // an entry bundle rather than a hash tile
  bool full() const { return width == kTileWidth; }
  friend bool operator==(const Tile&, const Tile&) = default;
};

// "tile/0/x001/x234/067.p/112", "tile/entries/005". REQUIRES: a valid tile.
std::string TilePath(const Tile& tile);
// Inverse of TilePath. InvalidArgument for anything TilePath would not produce (leading zeros
// in groups other than the fixed 3-digit ones, "x" on the last group, W = 0 or 256 in ".p/W",
// L > 63, overflow of N, trailing text).
Result<Tile> ParseTilePath(std::string_view path);

// The hash tiles (levels as needed) that a checkpoint of `size` leaves must have published:
// full tiles and the partial right-edge tiles, bottom level first, left to right. Never empty
// tiles. REQUIRES: size <= kMaxTreeSize.
std::vector<Tile> TilesForSize(uint64_t size);
// The hash tiles whose contents change from `old_size` to `new_size` (the ones to write when
// publishing a checkpoint of new_size after old_size): for each level, the tiles from the one
// that held the old right edge (if it grew) through the new right edge. Like Go tlog.NewTiles
// with height 8. REQUIRES: old_size <= new_size <= kMaxTreeSize.
std::vector<Tile> NewTiles(uint64_t old_size, uint64_t new_size);
// The entry bundles to write for the same step: the level-0 tiles of NewTiles as bundles.
std::vector<Tile> NewEntryBundles(uint64_t old_size, uint64_t new_size);

// The bytes of hash tile `tile` (32 * width) read from stored hashes. The tree must have at
// least the hashes the tile covers. OutOfRange for entry tiles or tiles beyond kMaxTreeSize.
Result<std::string> ReadTileData(const Tile& tile, const HashReader& reader);

// Reads tile data, e.g. from files or a database. Returns each tile's bytes, in order.
// An implementation may return a longer (wider) tile than asked; TileHashReader uses a prefix.
class TileReader {
 public:
  virtual ~TileReader() = default;
  virtual Result<std::vector<std::string>> ReadTiles(std::span<const Tile> tiles) const = 0;
};

// A HashReader over the tiles of a tree of `tree_size` leaves: each stored hash is taken from
// (or, for levels inside a tile, recomputed from) the smallest tile containing it. Does NOT
// check tiles against a root: a server proving to others need not, since every proof is checked
// by its verifier. To audit tiles, compare TreeHash(size, reader) with the checkpoint root and
// re-derive level-0 tiles from the entry bundles. `reader` must outlive this object.
class TileHashReader final : public HashReader {
 public:
  TileHashReader(uint64_t tree_size, const TileReader& reader)
      : tree_size_(tree_size), reader_(reader) {}
  Result<std::vector<Hash>> ReadHashes(std::span<const int64_t> indexes) const override;

 private:
  uint64_t tree_size_;
  const TileReader& reader_;
};

// Entry bundle: each entry as a big-endian uint16 length then its bytes.
// AppendBundleEntry fails with ResourceExhausted for entries over kMaxEntrySize (64 KiB - 1).
[[nodiscard]] Status AppendBundleEntry(std::string& bundle, std::string_view entry);
Result<std::string> EncodeEntryBundle(std::span<const std::string> entries);
// InvalidArgument for a truncated length or entry.
Result<std::vector<std::string>> ParseEntryBundle(std::string_view data);

}  // namespace chuqu::ledger
