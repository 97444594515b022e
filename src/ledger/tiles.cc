#include "ledger/tiles.h"

#include <algorithm>
#include <map>

#include "ledger/checkpoint.h"

namespace chuqu::ledger {
namespace {

// The highest tile level whose hashes exist in trees up to kMaxTreeSize (2^62): level 7 holds
// stored level 56.
constexpr int kMaxUsableTileLevel = 7;

uint64_t LevelCount(uint64_t size, int tile_level) {
  int shift = kTileHeight * tile_level;
  return shift >= 64 ? 0 : size >> shift;
}

Hash SubtreeRoot(std::span<const Hash> hashes) {
  // REQUIRES: size a power of two.
  if (hashes.size() == 1) return hashes[0];
  size_t half = hashes.size() / 2;
  return NodeHash(SubtreeRoot(hashes.subspan(0, half)), SubtreeRoot(hashes.subspan(half)));
}

}  // namespace

std::string TilePath(const Tile& tile) {
  CHUQU_CHECK(tile.width >= 1 && tile.width <= kTileWidth);
  CHUQU_CHECK(tile.entries || (tile.level >= 0 && tile.level <= kMaxTileLevel));
  std::string path = tile.entries ? "tile/entries/" : "tile/" + std::to_string(tile.level) + "/";
  std::string digits = std::to_string(tile.index);
  digits.insert(0, (3 - digits.size() % 3) % 3, '0');
  for (size_t i = 0; i < digits.size(); i += 3) {
    if (i + 3 < digits.size()) path += "x";
    path += digits.substr(i, 3);
    if (i + 3 < digits.size()) path += "/";
  }
  if (!tile.full()) path += ".p/" + std::to_string(tile.width);
  return path;
}

Result<Tile> ParseTilePath(std::string_view path) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("tile path \"" + std::string(path.substr(0, 200)) + "\": " + why);
  };
  std::string_view p = path;
  if (p.substr(0, 5) != "tile/") return bad("does not start with tile/");
  p.remove_prefix(5);
  Tile tile;
  size_t slash = p.find('/');
  if (slash == std::string_view::npos) return bad("missing level");
  std::string_view level = p.substr(0, slash);
  p.remove_prefix(slash + 1);
  if (level == "entries") {
    tile.entries = true;
  } else {
    Result<uint64_t> l = ParseDecimalUint64(level, "tile level");
    if (!l.ok() || *l > static_cast<uint64_t>(kMaxTileLevel)) return bad("level must be 0..63");
    tile.level = static_cast<int>(*l);
  }
  uint64_t n = 0;
  bool first = true;
  while (true) {
    bool x = !p.empty() && p[0] == 'x';
    if (x) p.remove_prefix(1);
    if (p.size() < 3 || !std::all_of(p.begin(), p.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("index groups must be 3 digits");
    }
    uint64_t g = static_cast<uint64_t>((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    if (first && x && g == 0) return bad("leading zero group");
    if (n > (UINT64_MAX - g) / 1000) return bad("index overflows 64 bits");
    n = n * 1000 + g;
    p.remove_prefix(3);
    first = false;
    if (!x) break;
    if (p.empty() || p[0] != '/') return bad("an x group must be followed by /");
    p.remove_prefix(1);
  }
  tile.index = n;
  if (!p.empty()) {
    if (p.substr(0, 3) != ".p/") return bad("unexpected text after the index");
    p.remove_prefix(3);
    Result<uint64_t> w = ParseDecimalUint64(p, "tile width");
    if (!w.ok() || *w < 1 || *w >= static_cast<uint64_t>(kTileWidth)) {
      return bad("partial width must be 1..255");
    }
    tile.width = static_cast<int>(*w);
  }
  return tile;
}

std::vector<Tile> TilesForSize(uint64_t size) {
  CHUQU_CHECK(size <= kMaxTreeSize);
  std::vector<Tile> tiles;
  for (int l = 0; LevelCount(size, l) > 0; ++l) {
    uint64_t count = LevelCount(size, l);
    for (uint64_t n = 0; n < count / kTileWidth; ++n) tiles.push_back({l, n, kTileWidth, false});
    if (int w = static_cast<int>(count % kTileWidth); w > 0) {
      tiles.push_back({l, count / kTileWidth, w, false});
    }
  }
  return tiles;
}

std::vector<Tile> NewTiles(uint64_t old_size, uint64_t new_size) {
  CHUQU_CHECK(old_size <= new_size && new_size <= kMaxTreeSize);
  std::vector<Tile> tiles;
  for (int l = 0; LevelCount(new_size, l) > 0; ++l) {
    uint64_t old_n = LevelCount(old_size, l);
    uint64_t new_n = LevelCount(new_size, l);
    if (old_n == new_n) continue;
    for (uint64_t n = old_n / kTileWidth; n < new_n / kTileWidth; ++n) {
      tiles.push_back({l, n, kTileWidth, false});
    }
    if (int w = static_cast<int>(new_n % kTileWidth); w > 0) {
      tiles.push_back({l, new_n / kTileWidth, w, false});
    }
  }
  return tiles;
}

std::vector<Tile> NewEntryBundles(uint64_t old_size, uint64_t new_size) {
  std::vector<Tile> out;
  for (Tile t : NewTiles(old_size, new_size)) {
    if (t.level != 0) continue;
    t.entries = true;
    out.push_back(t);
  }
  return out;
}

Result<std::string> ReadTileData(const Tile& tile, const HashReader& reader) {
  if (tile.entries) return Status::InvalidArgument("ReadTileData reads hash tiles, not entry bundles");
  if (tile.level < 0 || tile.level > kMaxUsableTileLevel || tile.width < 1 || tile.width > kTileWidth) {
    return Status::OutOfRange("tile " + TilePath(tile) + " is beyond the maximum tree size");
  }
  int level = kTileHeight * tile.level;
  uint64_t limit = kMaxTreeSize >> level;
  if (tile.index > limit / kTileWidth) {
    return Status::OutOfRange("tile " + TilePath(tile) + " is beyond the maximum tree size");
  }
  std::vector<int64_t> indexes;
  for (int i = 0; i < tile.width; ++i) {
    indexes.push_back(StoredHashIndex(level, static_cast<int64_t>(tile.index * kTileWidth + i)));
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<Hash> hashes, reader.ReadHashes(indexes));
  if (hashes.size() != indexes.size()) return Status::Internal("hash reader returned too few");
  std::string data;
  data.reserve(32 * hashes.size());
  for (const Hash& h : hashes) data.append(reinterpret_cast<const char*>(h.data()), h.size());
  return data;
}

Result<std::vector<Hash>> TileHashReader::ReadHashes(std::span<const int64_t> indexes) const {
  struct Need {
    size_t tile;     // position in `tiles`
    uint64_t start;  // first hash within the tile
    uint64_t count;  // 2^r hashes to combine
  };
  std::vector<Tile> tiles;
  std::map<std::pair<int, uint64_t>, size_t> tile_pos;
  std::vector<Need> needs;
  for (int64_t index : indexes) {
    if (index < 0) return Status::InvalidArgument("negative stored hash index");
    auto [level, n] = SplitStoredHashIndex(index);
    int tl = level / kTileHeight;
    int r = level % kTileHeight;
    uint64_t first = static_cast<uint64_t>(n) << r;  // at level 8*tl
    uint64_t tile_n = first / kTileWidth;
    uint64_t available = LevelCount(tree_size_, tl);
    uint64_t width = std::min<uint64_t>(kTileWidth, available > tile_n * kTileWidth
                                                        ? available - tile_n * kTileWidth
                                                        : 0);
    uint64_t start = first - tile_n * kTileWidth;
    uint64_t count = uint64_t{1} << r;
    if (start + count > width) {
      return Status::NotFound("stored hash " + std::to_string(index) +
                              " is not in the tree of size " + std::to_string(tree_size_));
    }
    auto [it, inserted] = tile_pos.try_emplace({tl, tile_n}, tiles.size());
    if (inserted) tiles.push_back({tl, tile_n, static_cast<int>(width), false});
    needs.push_back({it->second, start, count});
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<std::string> data, reader_.ReadTiles(tiles));
  if (data.size() != tiles.size()) return Status::Internal("tile reader returned too few tiles");
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (data[i].size() < 32 * static_cast<size_t>(tiles[i].width)) {
      return Status::Corruption("tile " + TilePath(tiles[i]) + " is " +
                                std::to_string(data[i].size()) + " bytes, want " +
                                std::to_string(32 * tiles[i].width));
    }
  }
  std::vector<Hash> out;
  out.reserve(needs.size());
  std::vector<Hash> buf;
  for (const Need& need : needs) {
    const std::string& d = data[need.tile];
    buf.resize(need.count);
    for (uint64_t i = 0; i < need.count; ++i) {
      std::copy_n(d.data() + 32 * (need.start + i), 32, reinterpret_cast<char*>(buf[i].data()));
    }
    out.push_back(SubtreeRoot(buf));
  }
  return out;
}

Status AppendBundleEntry(std::string& bundle, std::string_view entry) {
  if (entry.size() > kMaxEntrySize) {
    return Status::ResourceExhausted("entry of " + std::to_string(entry.size()) +
                                     " bytes exceeds the 65535-byte limit of entry bundles");
  }
  bundle.push_back(static_cast<char>(entry.size() >> 8));
  bundle.push_back(static_cast<char>(entry.size() & 0xFF));
  bundle.append(entry);
  return Status::Ok();
}

Result<std::string> EncodeEntryBundle(std::span<const std::string> entries) {
  std::string out;
  for (const std::string& e : entries) CHUQU_RETURN_IF_ERROR(AppendBundleEntry(out, e));
  return out;
}

Result<std::vector<std::string>> ParseEntryBundle(std::string_view data) {
  std::vector<std::string> entries;
  while (!data.empty()) {
    if (data.size() < 2) return Status::InvalidArgument("entry bundle: truncated length prefix");
    size_t len = (static_cast<size_t>(static_cast<uint8_t>(data[0])) << 8) |
                 static_cast<uint8_t>(data[1]);
    data.remove_prefix(2);
    if (data.size() < len) return Status::InvalidArgument("entry bundle: truncated entry");
    entries.emplace_back(data.substr(0, len));
    data.remove_prefix(len);
    if (entries.size() > static_cast<size_t>(kTileWidth)) {
      return Status::InvalidArgument("entry bundle: more than 256 entries");
    }
  }
  return entries;
}

}  // namespace chuqu::ledger
