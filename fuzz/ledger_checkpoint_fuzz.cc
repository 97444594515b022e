// Checkpoint bodies and tile paths: strict parsers, so whatever parses formats back to the
// same bytes; nothing crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ledger/checkpoint.h"
#include "ledger/tiles.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto cp = chuqu::ledger::ParseCheckpoint(in);
  if (cp.ok()) Check(chuqu::ledger::FormatCheckpoint(*cp) == in);
  auto tile = chuqu::ledger::ParseTilePath(in);
  if (tile.ok()) Check(chuqu::ledger::TilePath(*tile) == in);
  auto bundle = chuqu::ledger::ParseEntryBundle(in);
  if (bundle.ok()) Check(*chuqu::ledger::EncodeEntryBundle(*bundle) == in);
  return 0;
}
