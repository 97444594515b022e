// A temporary directory for a test: created (mkdtemp) on construction, removed with everything
// in it on destruction. Test support only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "chuqu/status.h"

namespace chuqu::testing {

class TempDir {
 public:
  // A new directory "<prefix>XXXXXX" under the system temporary directory.
  explicit TempDir(const std::string& prefix = "chuqu_test_") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    CHUQU_CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }
  // `name` inside the directory.
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace chuqu::testing
