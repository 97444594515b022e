// File access shared by the extractors: checks that give a person an actionable message,
// bounded reads, and a safely created temporary file.
#pragma once

#include <cstdint>
#include <string>

#include "chuqu/status.h"

namespace chuqu::media {

// OK and the size in bytes if `path` is a readable regular file. kNotFound if it does not
// exist, kPermissionDenied if it cannot be opened, kInvalidArgument for a directory or
// other non-regular file.
Result<uint64_t> CheckRegularFile(const std::string& path);

// The first min(size, max_bytes) bytes of the file.
Result<std::string> ReadPrefix(const std::string& path, size_t max_bytes);

// The whole file; kResourceExhausted if it is larger than max_bytes.
Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

// A temporary file created with mkstemp (mode 0600) in $TMPDIR or /tmp, removed when the
// object is destroyed. Not copyable.
class TempFile {
 public:
  static Result<TempFile> Create(const std::string& prefix);
  TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile();
  const std::string& path() const { return path_; }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace chuqu::media
