// Signed notes and verifier keys: parsing never crashes; a parsed note formats back to the
// same bytes; opening with a known key agrees with parsing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ledger/note.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto note = chuqu::ledger::ParseNote(in);
  if (note.ok()) Check(chuqu::ledger::FormatNote(*note) == in);
  static const auto verifier = std::move(*chuqu::ledger::Ed25519Verifier::FromVerifierKey(
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
  const chuqu::ledger::NoteVerifier* vs[] = {verifier.get()};
  auto opened = chuqu::ledger::OpenNote(in, vs);
  if (opened.ok()) Check(note.ok() && opened->text == note->text);
  auto key = chuqu::ledger::ParseVerifierKey(in);
  if (key.ok()) Check(chuqu::ledger::IsValidKeyName((*key)->name()));
  auto signer = chuqu::ledger::Ed25519Signer::FromSignerKey(in);
  if (signer.ok()) Check((*signer)->SignerKey().size() == in.size());
  return 0;
}
