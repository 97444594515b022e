// Media type detection from content (libmagic over the first bytes), never from the file
// name. The extension is only checked for consistency: a known extension that claims a
// different type than the content is an error naming both.
#pragma once

#include <string>
#include <string_view>

#include "chuqu/status.h"

namespace chuqu::media {

// How a file is coded (iscc-sdk "mode"), refined for text formats.
enum class MediaKind {
  kText,   // plain text in some encoding
  kHtml,   // HTML / XHTML
  kPdf,    // PDF
  kImage,  // anything libvips can decode
  kAv,     // audio or video container; the streams decide (see extract.h)
  kOther,  // no content extractor: ISCC-SUM (Data + Instance) only
};

struct Detected {
  MediaKind kind = MediaKind::kOther;
  std::string mime;         // libmagic MIME type, e.g. "image/png"
  std::string description;  // for messages, e.g. "a PNG image"
};

// Detects the media kind of the file's content. Errors: unreadable path (kNotFound,
// kPermissionDenied, ...), zero-byte file (kInvalidArgument), extension contradicting
// the content (kInvalidArgument, "named .png but the content is a PDF document").
Result<Detected> DetectMedia(const std::string& path);

// DetectMedia of a file named `file_name` holding `bytes` (an upload), from memory: the same
// result and the same errors, with file_name for the extension check.
Result<Detected> DetectMediaBytes(std::string_view bytes, std::string_view file_name);

// Content detection only (no extension check), for bytes already in memory.
Detected DetectBytes(std::string_view head);

// A readable name for a MIME type: "a PDF document", "a PNG image", "binary data", ...
std::string DescribeMime(std::string_view mime);

}  // namespace chuqu::media
