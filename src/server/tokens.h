// API tokens: one or more per party, kept only as SHA-256 hashes in DIR/tokens (mode 0600),
// one line "<sha256 hex of token> <party>" each. A token is "cq_" + 64 hex digits (32 random
// bytes from libsodium), shown once at creation and never stored or logged in clear.
//
// Thread-safety: thread-safe. A token created by another process (the CLI) while the server
// runs is seen on its first use: a miss reloads the file if it changed.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chuqu/status.h"

namespace chuqu::server {

class TokenStore {
 public:
  // Loads DIR/tokens (absent = no tokens yet). InvalidArgument for a malformed line.
  static Result<std::unique_ptr<TokenStore>> Open(const std::string& dir);
  // Issues a new token for `party` (any non-empty id without spaces), appends its hash durably
  // and returns the token.
  Result<std::string> Create(std::string_view party);
  // The party a token belongs to, or nullopt.
  std::optional<std::string> Lookup(std::string_view token);

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}
  Status LoadLocked();
  std::string path_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> by_hash_;  // sha256 hex -> party
  int64_t loaded_mtime_ns_ = -1;
  int64_t loaded_size_ = -1;
};

}  // namespace chuqu::server
