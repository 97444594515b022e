// An image upload on the server's in-memory path (docs/api.md "Image uploads"):
// media::IsImageBytes, then media::ExtractImageBytes with the registration's one decode, on
// arbitrary bytes (scripts/fuzz seeds it with tiny PNG, GIF, JPEG, WebP and TIFF files). No
// crash; the extractor succeeds only on what the predicate accepts, and then gives an image
// whose RGB pixels, when returned, fill exactly width x height x 3 bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const bool image = chuqu::media::IsImageBytes(bytes, "upload.png");
  chuqu::media::ExtractOptions options;
  options.image.max_pixels = 4'000'000;  // keep each input fast; bombs are refused early
  options.image_rgb_long_side = 8192;
  chuqu::Result<chuqu::media::Content> c =
      chuqu::media::ExtractImageBytes(bytes, "upload.png", options);
  if (!c.ok()) {
    if (c.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (!image || c->type != chuqu::media::ContentType::kImage) __builtin_trap();
  const auto& rgb = c->rgb;
  if (!rgb.rgb.empty() &&
      rgb.rgb.size() != 3 * static_cast<size_t>(rgb.width) * static_cast<size_t>(rgb.height)) {
    __builtin_trap();
  }
  return 0;
}
