// Title of an image from its embedded metadata, in iscc-sdk's IMAGE_META_MAP order
// reduced to what libvips exposes: XMP iscc:name, dc:title, xmp:Nickname,
// photoshop:Headline, then IPTC Headline (2:105), By-line Title (2:85), Object Name (2:05).
#pragma once

#include <string>
#include <string_view>

namespace chuqu::media {

// "" if the image has no title or cannot be read (the image decoder reports errors).
std::string ImageTitle(const std::string& path);

// Exposed for tests: the first title property in an XMP packet, "" if none.
std::string XmpTitle(std::string_view xmp);
// Exposed for tests: the first title dataset in IPTC-IIM data (raw or inside an APP13
// Photoshop resource block), "" if none.
std::string IptcTitle(std::string_view iptc);

}  // namespace chuqu::media
