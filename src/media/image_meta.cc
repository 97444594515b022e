#include "media/image_meta.h"

#include <cstdint>
#include <cstdlib>

#include "media/text.h"
#include "media/vips_util.h"

namespace chuqu::media {
namespace {

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    uint32_t cp = 0;
    if (ent == "amp") cp = '&';
    else if (ent == "lt") cp = '<';
    else if (ent == "gt") cp = '>';
    else if (ent == "quot") cp = '"';
    else if (ent == "apos") cp = '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      cp = static_cast<uint32_t>(std::strtoul(std::string(ent.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10));
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out += s[i];
      continue;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    i = semi;
  }
  return out;
}

std::string Trimmed(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Value of XMP property `name` as an attribute (name="v") or element (<name>v</name>,
// or the first rdf:li inside it).
std::string XmpProperty(std::string_view xmp, std::string_view name) {
  std::string attr(name);
  attr.append("=\"");
  if (size_t p = xmp.find(attr); p != std::string_view::npos) {
    const size_t start = p + attr.size();
    const size_t end = xmp.find('"', start);
    if (end != std::string_view::npos) return Trimmed(XmlUnescape(xmp.substr(start, end - start)));
  }
  std::string open("<");
  open.append(name);
  size_t p = xmp.find(open);
  while (p != std::string_view::npos) {
    const char next = p + open.size() < xmp.size() ? xmp[p + open.size()] : '\0';
    if (next == '>' || next == ' ' || next == '\t' || next == '\n' || next == '\r') break;
    p = xmp.find(open, p + 1);
  }
  if (p == std::string_view::npos) return "";
  const size_t gt = xmp.find('>', p);
  std::string close("</");
  close.append(name);
  close.push_back('>');
  const size_t end = xmp.find(close, p);
  if (gt == std::string_view::npos || end == std::string_view::npos || end < gt) return "";
  std::string_view body = xmp.substr(gt + 1, end - gt - 1);
  if (size_t li = body.find("<rdf:li"); li != std::string_view::npos) {
    const size_t li_gt = body.find('>', li);
    const size_t li_end = body.find("</rdf:li>", li);
    if (li_gt == std::string_view::npos || li_end == std::string_view::npos || li_end < li_gt) return "";
    body = body.substr(li_gt + 1, li_end - li_gt - 1);
  }
  if (body.find('<') != std::string_view::npos) return "";
  return Trimmed(XmlUnescape(body));
}

}  // namespace

std::string XmpTitle(std::string_view xmp) {
  for (std::string_view name : {"iscc:name", "dc:title", "xmp:Nickname", "photoshop:Headline"}) {
    std::string v = XmpProperty(xmp, name);
    if (!v.empty() && IsValidUtf8(v)) return v;
  }
  return "";
}

std::string IptcTitle(std::string_view iptc) {
  // IPTC-IIM: 0x1C, record, dataset, 2-byte big-endian length, value.
  for (uint8_t dataset : {uint8_t{105}, uint8_t{85}, uint8_t{5}}) {
    for (size_t i = 0; i + 5 <= iptc.size(); ++i) {
      if (static_cast<uint8_t>(iptc[i]) != 0x1C || iptc[i + 1] != 2 ||
          static_cast<uint8_t>(iptc[i + 2]) != dataset) {
        continue;
      }
      const size_t len = (static_cast<uint8_t>(iptc[i + 3]) << 8) | static_cast<uint8_t>(iptc[i + 4]);
      if (len & 0x8000 || i + 5 + len > iptc.size()) continue;
      std::string v = Trimmed(std::string(iptc.substr(i + 5, len)));
      if (!v.empty() && IsValidUtf8(v)) return v;
    }
  }
  return "";
}

namespace internal {

std::string ImageTitleOf(VipsImage* image) {
  const void* data = nullptr;
  size_t len = 0;
  if (vips_image_get_typeof(image, "xmp-data") != 0 &&
      vips_image_get_blob(image, "xmp-data", &data, &len) == 0) {
    std::string t = XmpTitle(std::string_view(static_cast<const char*>(data), len));
    if (!t.empty()) return t;
  }
  if (vips_image_get_typeof(image, "iptc-data") != 0 &&
      vips_image_get_blob(image, "iptc-data", &data, &len) == 0) {
    std::string t = IptcTitle(std::string_view(static_cast<const char*>(data), len));
    if (!t.empty()) return t;
  }
  vips_error_clear();
  return "";
}

}  // namespace internal

std::string ImageTitle(const std::string& path) {
  if (!internal::EnsureVips().ok()) return "";
  internal::VipsImagePtr image(vips_image_new_from_file(path.c_str(), nullptr));
  if (!image) {
    vips_error_clear();
    return "";
  }
  return internal::ImageTitleOf(image.get());
}

}  // namespace chuqu::media
