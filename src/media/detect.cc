#include "media/detect.h"

#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <vector>

#include "media/file.h"

namespace chuqu::media {
namespace {

// libmagic looks at most this far; more only slows detection of large files.
constexpr size_t kSniffBytes = 256 * 1024;

struct MagicCloser {
  void operator()(magic_set* m) const { magic_close(m); }
};

// One cookie per thread: libmagic cookies are not thread-safe.
magic_t Cookie() {
  thread_local std::unique_ptr<magic_set, MagicCloser> cookie = [] {
    std::unique_ptr<magic_set, MagicCloser> m(magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS));
    if (m && magic_load(m.get(), nullptr) != 0) m.reset();
    return m;
  }();
  return cookie.get();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

MediaKind KindOfMime(std::string_view mime) {
  if (mime == "text/html" || mime == "application/xhtml+xml") return MediaKind::kHtml;
  if (mime == "application/pdf") return MediaKind::kPdf;
  if (mime == "image/svg+xml") return MediaKind::kImage;
  if (StartsWith(mime, "image/")) return MediaKind::kImage;
  if (StartsWith(mime, "audio/") || StartsWith(mime, "video/") || mime == "application/ogg") {
    return MediaKind::kAv;
  }
  if (StartsWith(mime, "text/") || mime == "application/json" || mime == "application/xml" ||
      mime == "application/javascript" || mime == "application/x-ndjson" || mime == "application/csv") {
    return MediaKind::kText;
  }
  return MediaKind::kOther;
}

struct ExtensionRule {
  std::string_view ext;
  std::string_view what;                    // what the name claims, for the message
  std::array<std::string_view, 4> accepts;  // MIME types or prefixes ending in '/'
};

// Extensions we know well enough to call a contradiction; others are not checked.
constexpr ExtensionRule kExtensions[] = {
    {"png", "PNG image", {"image/png"}},
    {"jpg", "JPEG image", {"image/jpeg"}},
    {"jpeg", "JPEG image", {"image/jpeg"}},
    {"gif", "GIF image", {"image/gif"}},
    {"webp", "WebP image", {"image/webp"}},
    {"tif", "TIFF image", {"image/tiff"}},
    {"tiff", "TIFF image", {"image/tiff"}},
    {"bmp", "BMP image", {"image/bmp", "image/x-ms-bmp"}},
    {"svg", "SVG image", {"image/svg+xml", "text/"}},
    {"pdf", "PDF document", {"application/pdf"}},
    {"txt", "text", {"text/", "application/json", "application/csv", "application/xml"}},
    {"md", "text", {"text/", "application/json"}},
    {"csv", "text", {"text/", "application/csv"}},
    {"json", "JSON text", {"application/json", "text/"}},
    {"xml", "XML text", {"text/", "application/xml"}},
    {"html", "HTML document", {"text/", "application/xhtml+xml"}},
    {"htm", "HTML document", {"text/", "application/xhtml+xml"}},
    {"mp3", "MP3 audio", {"audio/mpeg"}},
    {"wav", "WAV audio", {"audio/x-wav", "audio/wav", "audio/vnd.wave"}},
    {"flac", "FLAC audio", {"audio/flac", "audio/x-flac"}},
    {"ogg", "Ogg media", {"audio/ogg", "video/ogg", "application/ogg"}},
    {"opus", "Opus audio", {"audio/ogg", "application/ogg"}},
    {"m4a", "MPEG-4 audio", {"audio/", "video/mp4"}},
    {"mp4", "MP4 video", {"video/", "audio/mp4", "audio/x-m4a"}},
    {"m4v", "MP4 video", {"video/"}},
    {"mov", "QuickTime video", {"video/"}},
    {"mkv", "Matroska video", {"video/x-matroska", "video/webm", "audio/x-matroska"}},
    {"webm", "WebM video", {"video/webm", "video/x-matroska", "audio/webm"}},
    {"avi", "AVI video", {"video/x-msvideo", "video/avi"}},
};

bool Accepts(const ExtensionRule& rule, std::string_view mime) {
  for (std::string_view a : rule.accepts) {
    if (a.empty()) continue;
    if (a.back() == '/' ? StartsWith(mime, a) : mime == a) return true;
  }
  return false;
}

std::string LowerExtension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

std::string DescribeMime(std::string_view mime) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"application/pdf", "a PDF document"},
      {"image/png", "a PNG image"},
      {"image/jpeg", "a JPEG image"},
      {"image/gif", "a GIF image"},
      {"image/webp", "a WebP image"},
      {"image/tiff", "a TIFF image"},
      {"image/bmp", "a BMP image"},
      {"image/x-ms-bmp", "a BMP image"},
      {"image/svg+xml", "an SVG image"},
      {"text/html", "an HTML document"},
      {"text/plain", "plain text"},
      {"application/json", "JSON text"},
      {"audio/mpeg", "MP3 audio"},
      {"audio/x-wav", "WAV audio"},
      {"audio/flac", "FLAC audio"},
      {"audio/ogg", "Ogg audio"},
      {"video/mp4", "an MP4 video"},
      {"video/quicktime", "a QuickTime video"},
      {"video/x-matroska", "a Matroska video"},
      {"video/webm", "a WebM video"},
      {"application/zip", "a ZIP archive"},
      {"application/gzip", "a gzip archive"},
      {"application/octet-stream", "binary data"},
      {"application/x-empty", "empty"},
  };
  for (const auto& [m, name] : kNames) {
    if (m == mime) return std::string(name);
  }
  return "content of type " + std::string(mime);
}

Detected DetectBytes(std::string_view head) {
  Detected d;
  magic_t cookie = Cookie();
  const char* mime = cookie ? magic_buffer(cookie, head.data(), head.size()) : nullptr;
  d.mime = mime ? mime : "application/octet-stream";
  d.kind = KindOfMime(d.mime);
  d.description = DescribeMime(d.mime);
  return d;
}

namespace {

// DetectMedia's tail: the sniffed prefix of the content and the name it came under.
Result<Detected> DetectHead(std::string_view head, std::string_view name) {
  if (Cookie() == nullptr) {
    return Status::Internal("libmagic could not load its database (is libmagic-mgc installed?)");
  }
  head = head.substr(0, kSniffBytes);
  if (head.size() == kSniffBytes) {
    // Do not let a UTF-8 sequence cut by the sniff window make text look binary.
    size_t i = head.size();
    size_t back = 0;
    while (i > 0 && back < 4 && (static_cast<uint8_t>(head[i - 1]) & 0xC0) == 0x80) {
      --i;
      ++back;
    }
    if (i > 0 && static_cast<uint8_t>(head[i - 1]) >= 0xC0) head = head.substr(0, i - 1);
  }
  Detected d = DetectBytes(head);
  const std::string ext = LowerExtension(std::string(name));
  for (const ExtensionRule& rule : kExtensions) {
    if (rule.ext == ext && !Accepts(rule, d.mime)) {
      return Status::InvalidArgument("named ." + ext + " but the content is " + d.description);
    }
  }
  return d;
}

}  // namespace

Result<Detected> DetectMedia(const std::string& path) {
  CHUQU_ASSIGN_OR_RETURN(uint64_t size, CheckRegularFile(path));
  if (size == 0) return Status::InvalidArgument("file is empty (0 bytes)");
  CHUQU_ASSIGN_OR_RETURN(std::string head, ReadPrefix(path, kSniffBytes));
  return DetectHead(head, path);
}

Result<Detected> DetectMediaBytes(std::string_view bytes, std::string_view file_name) {
  if (bytes.empty()) return Status::InvalidArgument("file is empty (0 bytes)");
  return DetectHead(bytes, file_name);
}

}  // namespace chuqu::media
