// Image decoding shared by every image consumer (ISCC Image-Code, PDQ, vPDQ stills).
// libvips is linked only here (src/media). Thread-safety: the functions may be called from
// several threads; libvips is initialised once (threads and cache kept small).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::media {

// An 8-bit sRGB image, interleaved R,G,B, row-major, no padding:
// rgb.size() == 3 * width * height.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

struct ImageDecodeOptions {
  // Decompression-bomb guard: images whose header declares more pixels than this are
  // refused with kResourceExhausted before any pixel is decoded.
  uint64_t max_pixels = 1'000'000'000;  // 1,000 megapixels
  // 0 = full size. Otherwise the image is shrunk (aspect kept) so its long side is at most
  // this many pixels, using shrink-on-load where the format has it (JPEG DCT scaling, WebP,
  // PDF/SVG render size), so a 20,000 x 20,000 JPEG decodes in bounded memory. Images
  // already within the bound are not resized. Max_pixels is checked against the stored size.
  int max_long_side = 0;
  // 0 = off. Match path only: a JPEG whose long side is at least twice this is decoded with
  // libjpeg's DCT scaling (1/2, 1/4 or 1/8: the largest keeping the long side >= this) and not
  // resampled further unless max_long_side requires it. Much faster than a full decode (the
  // inverse DCT and colour conversion run on 1/4..1/64 of the pixels) but not pixel-equal to
  // a full decode followed by a resize: never use it for the registered codes.
  int jpeg_shrink_long_side = 0;
};

// Decodes the file at `path` into 8-bit sRGB: EXIF orientation applied, alpha composited
// on white, grey / palette / 16-bit / CMYK (with its ICC profile if any) converted, first
// frame of an animation or first page of a multi-page file. Errors: kNotFound / kIOError
// for unreadable paths, kInvalidArgument for truncated or corrupt data, kUnsupported for
// formats libvips cannot load, kResourceExhausted above max_pixels.
Result<RgbImage> DecodeImageRgb(const std::string& path, const ImageDecodeOptions& options = {});

// The same for an encoded image held in memory (e.g. an upload). `bytes` is borrowed for
// the duration of the call only.
Result<RgbImage> DecodeImageRgbFromBuffer(std::span<const uint8_t> bytes,
                                          const ImageDecodeOptions& options = {});

}  // namespace chuqu::media
