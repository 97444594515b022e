// Test helpers: sample media generated at test time in a private temporary directory.
#pragma once

#include <string>

namespace chuqu::media::test_util {

// A fresh directory under $TMPDIR, removed at process exit.
const std::string& TestDir();

// Runs a shell command (stdout/stderr discarded); true if it exited 0.
bool Shell(const std::string& command);

// Writes bytes to TestDir()/name and returns the path.
std::string WriteFile(const std::string& name, const std::string& bytes);

}  // namespace chuqu::media::test_util
