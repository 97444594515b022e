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

namespace chuqu::media::test_util {

// A minimal one-page PDF showing `text` (ASCII, no parentheses or backslashes) with
// Helvetica; `title` goes into the document information dictionary if not empty. With
// `encrypted`, the trailer names a Standard security handler whose user password is not
// empty, so readers report the document as locked.
std::string MakePdf(const std::string& text, const std::string& title = "",
                    bool encrypted = false);

// Output of a shell command (stdout), "" on failure.
std::string Capture(const std::string& command);

}  // namespace chuqu::media::test_util
