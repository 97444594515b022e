// The ISCC Content-Code of extracted media, as iscc-sdk derives it (text is text_clean'ed first).
// Shared by registration and `chuqu code` so both always give the same code for a file.
#pragma once

#include <string>

#include "chuqu/status.h"
#include "media/extract.h"

namespace chuqu::registry {

// 64-bit Content-Code unit for text, image, audio or video content; Internal for kNone.
Result<std::string> IsccContentCode(const media::Content& content);

}  // namespace chuqu::registry
