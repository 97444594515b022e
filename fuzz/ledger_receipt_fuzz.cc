// tlog-proof receipts: parsing never crashes, a parsed receipt formats back to the same
// bytes, and verification of any parsed receipt returns a Status (never crashes).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ledger/receipt.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = chuqu::ledger::ParseReceipt(in);
  if (!r.ok()) return 0;
  Check(chuqu::ledger::FormatReceipt(*r) == in);
  static const auto log = std::move(*chuqu::ledger::Ed25519Verifier::FromVerifierKey(
      "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"));
  chuqu::ledger::ReceiptPolicy policy;
  policy.log_key = log.get();
  auto v = chuqu::ledger::VerifyReceipt(*r, "seven", policy);
  (void)v;
  return 0;
}
