#include "media/test_media.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace chuqu::media::test_util {

namespace {
struct Dir {
  std::string path;
  Dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/chuqu_media_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    path = buf.data();
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
}  // namespace

const std::string& TestDir() {
  static Dir dir;
  return dir.path;
}

bool Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::string WriteFile(const std::string& name, const std::string& bytes) {
  std::string path = TestDir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace chuqu::media::test_util
