#include "media/text.h"

#include <gumbo.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <uchardet.h>
#include <unicode/ucnv.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "media/file.h"

namespace chuqu::media {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string DetectCharset(std::string_view bytes) {
  uchardet_t ud = uchardet_new();
  if (ud == nullptr) return "";
  // uchardet needs no more than a few hundred KiB to decide.
  const size_t n = std::min<size_t>(bytes.size(), 1 << 20);
  std::string charset;
  if (uchardet_handle_data(ud, bytes.data(), n) == 0) {
    uchardet_data_end(ud);
    const char* cs = uchardet_get_charset(ud);
    if (cs != nullptr) charset = cs;
  }
  uchardet_delete(ud);
  return charset;
}

}  // namespace


Result<std::string> DecodeTextBytes(std::string_view bytes) {
  if (bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom) bytes.remove_prefix(kUtf8Bom.size());
  const size_t bad = FirstInvalidUtf8(bytes);
  // UTF-16/32 text may be valid UTF-8 byte-wise only if it is all NULs and ASCII; a NUL
  // byte means it is not plain UTF-8 text.
  if (bad == std::string_view::npos && bytes.find('\0') == std::string_view::npos) {
    return std::string(bytes);
  }
  const std::string charset = DetectCharset(bytes);
  if (charset.empty() || charset == "ASCII" || charset == "UTF-8") {
    return Status::InvalidArgument(
        "text is not valid UTF-8 (first bad byte at offset " +
        std::to_string(bad == std::string_view::npos ? bytes.find('\0') : bad) +
        ") and its encoding could not be identified; convert it to UTF-8");
  }
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UConverter, void (*)(UConverter*)> conv(ucnv_open(charset.c_str(), &err),
                                                          ucnv_close);
  if (U_FAILURE(err) || !conv) {
    return Status::Unsupported("text encoding " + charset + " (detected) is not supported");
  }
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), conv.get(), err);
  if (U_FAILURE(err)) {
    return Status::InvalidArgument("text is not valid UTF-8 and not valid " + charset +
                                   " either; convert it to UTF-8");
  }
  std::string out;
  u.toUTF8String(out);
  if (out.substr(0, kUtf8Bom.size()) == kUtf8Bom) out.erase(0, kUtf8Bom.size());
  return out;
}

bool IsUtf8PlainText(std::string_view bytes) {
  // libmagic calls any 1-byte file binary ("very short file (no magic)").
  if (bytes.size() < 2) return false;
  if (bytes.substr(0, kUtf8Bom.size()) == kUtf8Bom) bytes.remove_prefix(kUtf8Bom.size());
  if (bytes.empty()) return false;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 ? !((u >= 0x07 && u <= 0x0D) || u == 0x1B) : u == 0x7F) return false;
  }
  return IsValidUtf8(bytes);
}

Result<TextContent> PlainTextFromBytes(std::string_view bytes, const TextOptions& options) {
  if (bytes.size() > options.max_file_bytes) {
    return Status::ResourceExhausted(
        "text is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
        std::to_string(options.max_file_bytes) + " for this media type");
  }
  TextContent out;
  CHUQU_ASSIGN_OR_RETURN(out.text, DecodeTextBytes(bytes));
  return out;
}

Result<TextContent> ExtractPlainText(const std::string& path, const TextOptions& options) {
  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, options.max_file_bytes));
  return PlainTextFromBytes(bytes, options);
}

namespace {

bool IsSkipped(GumboTag tag) {
  return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_TEMPLATE ||
         tag == GUMBO_TAG_NOSCRIPT || tag == GUMBO_TAG_HEAD;
}

bool IsBlock(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_BR: case GUMBO_TAG_LI:
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
    case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_TR: case GUMBO_TAG_TABLE:
    case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_HR: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_NAV: case GUMBO_TAG_ASIDE: case GUMBO_TAG_MAIN:
      return true;
    default:
      return false;
  }
}

// Concatenated text below `root` with an explicit stack (documents may nest deeply).
void CollectText(const GumboNode* root, bool skip_hidden, std::string& out) {
  // (node, closing) pairs: closing entries add the newline after a block element.
  std::vector<std::pair<const GumboNode*, bool>> stack{{root, false}};
  while (!stack.empty()) {
    auto [node, closing] = stack.back();
    stack.pop_back();
    if (closing) {
      out += '\n';
      continue;
    }
    switch (node->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA:
        out += node->v.text.text;
        break;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: {
        const GumboElement& el = node->v.element;
        if (skip_hidden && IsSkipped(el.tag)) break;
        if (IsBlock(el.tag)) stack.emplace_back(node, true);
        for (unsigned i = el.children.length; i > 0; --i) {
          stack.emplace_back(static_cast<const GumboNode*>(el.children.data[i - 1]), false);
        }
        break;
      }
      case GUMBO_NODE_DOCUMENT:
        for (unsigned i = node->v.document.children.length; i > 0; --i) {
          stack.emplace_back(static_cast<const GumboNode*>(node->v.document.children.data[i - 1]),
                             false);
        }
        break;
      default:
        break;
    }
  }
}

const GumboNode* FindFirst(const GumboNode* root, GumboTag tag) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    const GumboVector* children = nullptr;
    if (node->type == GUMBO_NODE_ELEMENT) {
      if (node->v.element.tag == tag) return node;
      children = &node->v.element.children;
    } else if (node->type == GUMBO_NODE_DOCUMENT) {
      children = &node->v.document.children;
    }
    if (children == nullptr) continue;
    for (unsigned i = children->length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(children->data[i - 1]));
    }
  }
  return nullptr;
}

// Collapses runs of whitespace to one space and trims (titles are one line).
std::string OneLine(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

// gumbo 0.10 has no depth limit and its tree construction is quadratic in the depth of
// open elements, so deeply nested input is refused before parsing. The estimate counts
// start tags minus end tags, ignoring void elements and tags whose end tag is optional
// (they are closed implicitly), so ordinary pages stay far below the limit.
constexpr int kMaxHtmlDepth = 2000;

int EstimateHtmlDepth(std::string_view html) {
  static constexpr std::string_view kIgnored[] = {
      "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
      "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
      "tbody", "tfoot", "colgroup", "html", "head", "body", "rb", "rt", "rp", "param", "!"};
  int depth = 0, max_depth = 0;
  for (size_t i = html.find('<'); i != std::string_view::npos; i = html.find('<', i + 1)) {
    const bool end = i + 1 < html.size() && html[i + 1] == '/';
    size_t b = i + (end ? 2 : 1);
    size_t e = b;
    while (e < html.size() && (std::isalnum(static_cast<unsigned char>(html[e])) || html[e] == '!')) ++e;
    if (e == b) continue;
    std::string name(html.substr(b, e - b));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name[0] == '!') continue;
    bool ignored = false;
    for (std::string_view t : kIgnored) ignored |= name == t;
    if (ignored) continue;
    const size_t gt = html.find('>', e);
    if (!end && gt != std::string_view::npos && gt > 0 && html[gt - 1] == '/') continue;
    depth += end ? -1 : 1;
    if (depth < 0) depth = 0;
    max_depth = std::max(max_depth, depth);
  }
  return max_depth;
}

}  // namespace

Result<TextContent> ExtractHtml(const std::string& path, const TextOptions& options) {
  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, options.max_file_bytes));
  CHUQU_ASSIGN_OR_RETURN(std::string utf8, DecodeTextBytes(bytes));
  if (EstimateHtmlDepth(utf8) > kMaxHtmlDepth) {
    return Status::ResourceExhausted("HTML nests elements more than " +
                                     std::to_string(kMaxHtmlDepth) + " deep");
  }
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, utf8.data(), utf8.size());
  if (output == nullptr) return Status::InvalidArgument("HTML could not be parsed");
  TextContent out;
  CollectText(output->root, true, out.text);
  if (const GumboNode* title = FindFirst(output->root, GUMBO_TAG_TITLE)) {
    std::string t;
    CollectText(title, false, t);
    out.title = OneLine(t);
  }
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  return out;
}

Result<TextContent> ExtractPdf(const std::string& path, const TextOptions& options) {
  CHUQU_RETURN_IF_ERROR(CheckRegularFile(path).status());
  static std::once_flag quiet;
  // Core code never logs: poppler's diagnostics would go to stderr.
  std::call_once(quiet, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
  try {
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(path));
    if (!doc) return Status::InvalidArgument("PDF could not be opened (corrupt or truncated?)");
    if (doc->is_locked()) {
      return Status::InvalidArgument("PDF is encrypted (password protected); its text cannot be read");
    }
    TextContent out;
    const poppler::ustring title = doc->get_title();
    if (!title.empty()) {
      const poppler::byte_array b = title.to_utf8();
      out.title = OneLine(std::string_view(b.data(), b.size()));
    }
    const int pages = doc->pages();
    for (int i = 0; i < pages; ++i) {
      std::unique_ptr<poppler::page> page(doc->create_page(i));
      if (!page) continue;
      const poppler::byte_array b = page->text().to_utf8();
      out.text.append(b.data(), b.size());
      out.text += '\n';
      if (out.text.size() > options.max_text_bytes) {
        return Status::ResourceExhausted("PDF has more than " +
                                         std::to_string(options.max_text_bytes >> 20) +
                                         " MiB of text");
      }
    }
    if (!IsValidUtf8(out.text)) return Status::InvalidArgument("PDF text is not valid Unicode");
    return out;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("PDF could not be read: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("PDF could not be read");
  }
}

}  // namespace chuqu::media
