// libvips plumbing private to src/media: one-time initialisation, owned image handles,
// error capture, conversion to 8-bit sRGB. Never include from outside src/media.
#pragma once

#include <vips/vips.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "chuqu/status.h"

namespace chuqu::media::internal {

// Starts libvips once per process: one worker thread, no operation cache (bounded memory),
// untrusted loaders blocked except SVG, JPEG 2000 and PPM. Returns an error if vips_init
// failed. Thread-safe.
Status EnsureVips();

struct GObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;

// Takes and clears libvips' error buffer into a Status "<what>: <first vips line>".
Status VipsError(std::string_view what, StatusCode code = StatusCode::kInvalidArgument);

// Opens an image lazily (header only), first page/frame, failing on truncated data when
// pixels are read. Checks width*height against max_pixels. `bytes` (if not empty) is used
// instead of `path` and must outlive the returned image. `sequential`: the pixels will be read
// top to bottom once, so the loader decodes them on the reading thread as they are asked for
// (no whole-image decode on a libvips worker first); the same pixels.
Result<VipsImagePtr> OpenImage(const std::string& path, std::span<const uint8_t> bytes,
                               uint64_t max_pixels, bool sequential = false);

// EXIF orientation applied (autorot), converted to 8-bit sRGB. The result has 3 bands, or
// 4 (R,G,B,alpha) if keep_alpha and the source has alpha; without keep_alpha any alpha is
// flattened onto white.
Result<VipsImagePtr> ToSrgb8(VipsImagePtr image, bool autorotate, bool keep_alpha);

// An 8-bit sRGB image with alpha (4 bands) composited onto white, as ToSrgb8 without
// keep_alpha does it.
Result<VipsImagePtr> FlattenOnWhite(VipsImagePtr image);

// ImageTitle (image_meta.h) of an opened image: its header's XMP / IPTC, "" if none.
std::string ImageTitleOf(VipsImage* image);

}  // namespace chuqu::media::internal
