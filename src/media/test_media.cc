#include "media/test_media.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <cstdio>
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

namespace chuqu::media::test_util {

std::string MakePdf(const std::string& text, const std::string& title, bool encrypted) {
  const std::string stream = "BT /F1 24 Tf 72 700 Td (" + text + ") Tj ET";
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R "
      ">> >> /Contents 5 0 R >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream",
      "<< /Title (" + title + ") >>",
  };
  if (encrypted) {
    const std::string h32(64, 'A');  // 32 bytes of 0xAA, hex
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /O <" + h32 + "> /U <" + h32 +
                      "> /P -4 >>");
  }
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R";
  if (!title.empty()) pdf += " /Info 6 0 R";
  if (encrypted) {
    pdf += " /Encrypt 7 0 R /ID [<00112233445566778899AABBCCDDEEFF> "
           "<00112233445566778899AABBCCDDEEFF>]";
  }
  pdf += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

std::string Capture(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) return "";
  return out;
}

}  // namespace chuqu::media::test_util
