// ISCC Image-Code input: the 32x32 grey pixels iscc-sdk's image_normalize gives
// (iscc_sdk/image.py; notes/iscc.md §5 "Content-Code Image"), computed with Pillow's
// integer arithmetic so codes agree with iscc-sdk: EXIF transpose, alpha composited on
// white (Pillow ImagingAlphaComposite), optional border trim, convert("L") (ITU-R 601 luma
// L24), resize((32, 32), BICUBIC) (Pillow ImagingResample, 8-bit fixed point).
// Rows are streamed: memory is 32 bytes per source row plus libvips' decode buffers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chuqu/status.h"
#include "media/image.h"

namespace chuqu::media {

struct IsccImageOptions {
  uint64_t max_pixels = 1'000'000'000;  // decompression-bomb guard, as ImageDecodeOptions
  // iscc-sdk calls image_trim_border, but Pillow's getbbox() on its RGBA difference image
  // looks at the alpha band only (Pillow 9.4 checked; alpha_only=True by default since
  // Pillow 10), which is zero after the white fill, so nothing is ever trimmed. false
  // reproduces what iscc-sdk computes; true trims the border whose colour is pixel (0,0),
  // the documented intent. docs/media.md.
  bool trim_border = false;
};

// The 1024 grey pixels (row-major) for GenImageCode. Errors as DecodeImageRgb.
Result<std::array<uint8_t, 1024>> IsccImagePixels(const std::string& path,
                                                  const IsccImageOptions& options = {});

// An image decoded once for all of a registration's codes (Extract with
// ExtractOptions::image_rgb_long_side): its ISCC pixels, the title in its metadata and, when
// its long side is at most `rgb_long_side`, its sRGB pixels for PDQ and local features.
struct IsccImageDecode {
  std::array<uint8_t, 1024> pixels{};  // exactly IsccImagePixels
  // Exactly DecodeImageRgb with max_long_side = rgb_long_side. Empty if rgb_long_side is 0 or
  // the image is larger (DecodeImageRgb then shrinks on load, which the ISCC pixels must not,
  // so the caller decodes it again).
  RgbImage rgb;
  std::string title;  // exactly ImageTitle
};

// From the file at `path`, or from `bytes` when not empty (borrowed for the call). Errors as
// DecodeImageRgb. Memory: with rgb, the whole image (4 bytes a pixel) once.
Result<IsccImageDecode> DecodeIsccImage(const std::string& path, std::span<const uint8_t> bytes,
                                        const IsccImageOptions& options, int rgb_long_side);

// The same from RGBA pixels in memory (R,G,B,A interleaved, row-major).
// REQUIRES: rgba.size() == 4 * width * height, width > 0, height > 0.
std::array<uint8_t, 1024> IsccImagePixelsFromRgba(std::span<const uint8_t> rgba, int width,
                                                  int height, bool trim_border = false);

// Building blocks, exposed for tests.
// Pillow convert("L") of one RGB pixel.
inline uint8_t PillowLuma(uint32_t r, uint32_t g, uint32_t b) {
  return static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}
// Pillow Image.alpha_composite(white opaque, pixel): the resulting R,G,B.
std::array<uint8_t, 3> PillowCompositeOnWhite(uint8_t r, uint8_t g, uint8_t b, uint8_t a);
// Pillow resize(BICUBIC) of an 8-bit single-band image. REQUIRES grey.size() == w * h.
std::vector<uint8_t> PillowResizeBicubic(std::span<const uint8_t> grey, int width, int height,
                                         int out_width, int out_height);

}  // namespace chuqu::media
