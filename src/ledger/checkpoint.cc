#include "ledger/checkpoint.h"

#include <utility>

namespace chuqu::ledger {

Result<uint64_t> ParseDecimalUint64(std::string_view s, std::string_view what) {
  if (s.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  if (s.size() > 1 && s[0] == '0') {
    return Status::InvalidArgument(std::string(what) + " has a leading zero");
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::InvalidArgument(std::string(what) + " is not a decimal number");
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Status::OutOfRange(std::string(what) + " overflows 64 bits");
    v = v * 10 + d;
  }
  return v;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("checkpoint must end with a newline");
  }
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() < 3) return Status::InvalidArgument("checkpoint has fewer than 3 lines");
  Checkpoint cp;
  if (lines[0].empty()) return Status::InvalidArgument("checkpoint origin (line 1) is empty");
  cp.origin = std::string(lines[0]);
  Result<uint64_t> size = ParseDecimalUint64(lines[1], "checkpoint tree size (line 2)");
  if (!size.ok()) return size.status();
  cp.size = *size;
  Result<Hash> root = HashFromBase64(lines[2]);
  if (!root.ok()) return root.status().WithContext("checkpoint root hash (line 3)");
  cp.root_hash = *root;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Status::InvalidArgument("checkpoint has an empty extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

std::string FormatCheckpoint(const Checkpoint& cp) {
  CHUQU_CHECK(!cp.origin.empty() && cp.origin.find('\n') == std::string::npos);
  std::string s = cp.origin + "\n" + std::to_string(cp.size) + "\n" + HashToBase64(cp.root_hash) + "\n";
  for (const std::string& e : cp.extensions) {
    CHUQU_CHECK(!e.empty() && e.find('\n') == std::string::npos);
    s += e + "\n";
  }
  return s;
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint,
                                   std::span<const NoteSigner* const> signers) {
  return SignNote(FormatCheckpoint(checkpoint), signers);
}

Result<VerifiedCheckpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& log_key,
                                          std::string_view origin) {
  const NoteVerifier* keys[] = {&log_key};
  Result<OpenedNote> note = OpenNote(signed_note, keys);
  if (!note.ok()) return note.status().WithContext("checkpoint");
  Result<Checkpoint> cp = ParseCheckpoint(note->text);
  if (!cp.ok()) return cp.status();
  if (cp->origin != origin) {
    return Status::Unauthenticated("checkpoint origin \"" + cp->origin + "\" is not the expected \"" +
                                   std::string(origin) + "\"");
  }
  return VerifiedCheckpoint{std::move(*cp), std::move(*note)};
}

}  // namespace chuqu::ledger
