#include "server/tokens.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chuqu::server {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

std::string TokenHash(std::string_view token) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return Hex(h, sizeof h);
}

}  // namespace

Result<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& dir) {
  if (sodium_init() < 0) return Status::Internal("libsodium init failed");
  std::unique_ptr<TokenStore> t(new TokenStore((std::filesystem::path(dir) / "tokens").string()));
  std::lock_guard<std::mutex> lock(t->mu_);
  CHUQU_RETURN_IF_ERROR(t->LoadLocked());
  return t;
}

Status TokenStore::LoadLocked() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    by_hash_.clear();
    loaded_mtime_ns_ = 0;
    loaded_size_ = 0;
    return Status::Ok();
  }
  const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime == loaded_mtime_ns_ && st.st_size == loaded_size_) return Status::Ok();
  std::ifstream in(path_);
  if (!in) return Status::IOError("cannot read " + path_);
  std::unordered_map<std::string, std::string> m;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp != 64 || line.size() == 65 || line.find(' ', 65) != std::string::npos) {
      return Status::InvalidArgument(path_ + ":" + std::to_string(n) + ": malformed token line");
    }
    m[line.substr(0, 64)] = line.substr(65);
  }
  by_hash_ = std::move(m);
  loaded_mtime_ns_ = mtime;
  loaded_size_ = st.st_size;
  return Status::Ok();
}

Result<std::string> TokenStore::Create(std::string_view party) {
  if (party.empty() || party.find_first_of(" \n\r\t") != std::string_view::npos) {
    return Status::InvalidArgument("party id must be non-empty without spaces");
  }
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  const std::string token = "cq_" + Hex(raw, sizeof raw);
  const std::string line = TokenHash(token) + " " + std::string(party) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot open " + path_);
  const bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  fsync(fd) == 0;
  close(fd);
  if (!ok) return Status::IOError("cannot write " + path_);
  by_hash_[TokenHash(token)] = std::string(party);
  loaded_mtime_ns_ = -1;  // reread on the next miss (others may have appended too)
  return token;
}

std::optional<std::string> TokenStore::Lookup(std::string_view token) {
  const std::string h = TokenHash(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) {
    if (!LoadLocked().ok()) return std::nullopt;
    it = by_hash_.find(h);
    if (it == by_hash_.end()) return std::nullopt;
  }
  return it->second;
}

}  // namespace chuqu::server
