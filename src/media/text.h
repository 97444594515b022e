// Text extraction: plain text (UTF-8, or another encoding identified by uchardet and
// converted with ICU), HTML (visible text via gumbo) and PDF (poppler-cpp).
#pragma once

#include <string>
#include <string_view>

#include "base/utf8.h"
#include "chuqu/status.h"

namespace chuqu::media {

struct TextContent {
  std::string text;   // UTF-8
  std::string title;  // UTF-8; empty if the document has none (HTML <title>, PDF Title)
};

struct TextOptions {
  uint64_t max_file_bytes = 64ull << 20;  // larger text/HTML files are refused
  uint64_t max_text_bytes = 64ull << 20;   // extracted text beyond this is an error
};

// Bytes in any encoding → UTF-8 without BOM. Valid UTF-8 is returned as is (BOM
// stripped); otherwise uchardet names the encoding and ICU converts it, stopping at the
// first byte that is invalid in that encoding. Unidentifiable bytes → kInvalidArgument.
Result<std::string> DecodeTextBytes(std::string_view bytes);

// True if `bytes` are at least 2 bytes (libmagic calls 1 byte binary), non-empty after an
// optional UTF-8 BOM, well-formed UTF-8, and every ASCII byte is one libmagic counts as text
// (encoding.c text_chars: printable, BEL, BS, HT, LF, VT, FF, CR, ESC; no NUL, DEL or other
// control): bytes that read as text with no sniffing.
// Callers route anything else through content detection (DetectMedia).
bool IsUtf8PlainText(std::string_view bytes);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF).
using ::chuqu::IsValidUtf8;  // src/base/utf8.h

// Plain text already in memory, decoded with DecodeTextBytes: the one implementation behind
// ExtractPlainText (a file's bytes) and ExtractPlainTextBytes (extract.h; an HTTP body).
// kResourceExhausted above options.max_file_bytes; the title is always empty.
Result<TextContent> PlainTextFromBytes(std::string_view bytes, const TextOptions& options = {});
// The file's bytes through PlainTextFromBytes.
Result<TextContent> ExtractPlainText(const std::string& path, const TextOptions& options = {});
// Visible text of <body> (script, style, template, noscript skipped); block elements end
// lines. Title from <title>.
Result<TextContent> ExtractHtml(const std::string& path, const TextOptions& options = {});
// Text of every page in order (poppler's reading order), pages separated by "\n".
// Encrypted and unreadable PDFs are kInvalidArgument with a message saying which.
Result<TextContent> ExtractPdf(const std::string& path, const TextOptions& options = {});

}  // namespace chuqu::media
