// The whole content of a file as bytes ("" if it cannot be read; tests check what they expect
// of it). Test support only.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace chuqu::testing {

inline std::string ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace chuqu::testing
