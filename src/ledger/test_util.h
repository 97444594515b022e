// Helpers shared by the ledger tests: reading vector files in place.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace chuqu::ledger::testing {

inline std::string TlogData(const std::string& rel) {
  return std::string(CHUQU_SHARED_DATA) + "/tlog/" + rel;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string ReadTlog(const std::string& rel) { return ReadFileOrDie(TlogData(rel)); }

inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace chuqu::ledger::testing
