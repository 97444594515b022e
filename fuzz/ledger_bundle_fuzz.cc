// Evidence bundles: parsing and verification of arbitrary files never crash; a parsed bundle
// formats to a file that parses to the same bundle; a report is "ok" only with all checks
// passed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ledger/bundle.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto b = chuqu::ledger::ParseBundle(in);
  if (!b.ok()) return 0;
  auto again = chuqu::ledger::ParseBundle(chuqu::ledger::FormatBundle(*b));
  Check(again.ok() && *again == *b);
  chuqu::ledger::BundleVerifyOptions options;
  options.content = std::string(in.substr(0, 16));
  auto report = chuqu::ledger::VerifyBundle(*b, options);
  for (const auto& c : report.checks) Check(c.passed || !report.ok);
  (void)report.ToText();
  return 0;
}
