#include "media/image.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <mutex>

#include "media/file.h"
#include "media/vips_util.h"

namespace chuqu::media {
namespace internal {

Status EnsureVips() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    if (vips_init("chuqu") != 0) return;
    // Core code never logs: libvips' warnings (e.g. "error in tile") become Status values.
    g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
                                                          G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG),
                      [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    // Loaders libvips marks untrusted (e.g. ImageMagick, Matlab, FITS) are not exposed to
    // uploaded content; the few common formats among them are re-enabled.
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoadSvg", FALSE);
    vips_operation_block_set("VipsForeignLoadJp2k", FALSE);
    vips_operation_block_set("VipsForeignLoadPpm", FALSE);
    ok = true;
  });
  if (!ok) return Status::Internal("libvips failed to initialise");
  return Status::Ok();
}

Status VipsError(std::string_view what, StatusCode code) {
  std::string detail = vips_error_buffer();
  vips_error_clear();
  // libvips prefixes lines with the operation name ("jpegload: ..."); keep the first line.
  if (auto nl = detail.find('\n'); nl != std::string::npos) detail.resize(nl);
  std::string msg(what);
  if (!detail.empty()) msg += ": " + detail;
  return Status(code, std::move(msg));
}

Result<VipsImagePtr> OpenImage(const std::string& path, std::span<const uint8_t> bytes,
                               uint64_t max_pixels, bool sequential) {
  const VipsAccess access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM;
  CHUQU_RETURN_IF_ERROR(EnsureVips());
  VipsImage* raw = nullptr;
  if (bytes.empty()) {
    CHUQU_RETURN_IF_ERROR(CheckRegularFile(path).status());
    if (vips_foreign_find_load(path.c_str()) == nullptr) {
      vips_error_clear();
      return Status::Unsupported("not an image format this build can decode");
    }
    raw = vips_image_new_from_file(path.c_str(), "fail_on", VIPS_FAIL_ON_TRUNCATED, "access",
                                   access, nullptr);
  } else {
    if (vips_foreign_find_load_buffer(bytes.data(), bytes.size()) == nullptr) {
      vips_error_clear();
      return Status::Unsupported("not an image format this build can decode");
    }
    raw = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "fail_on",
                                     VIPS_FAIL_ON_TRUNCATED, "access", access, nullptr);
  }
  if (raw == nullptr) return VipsError("cannot read image header");
  VipsImagePtr image(raw);
  const uint64_t w = static_cast<uint64_t>(vips_image_get_width(raw));
  const uint64_t h = static_cast<uint64_t>(vips_image_get_height(raw));
  if (w == 0 || h == 0) return Status::InvalidArgument("image has no pixels");
  if (w * h > max_pixels) {
    return Status::ResourceExhausted("image is " + std::to_string(w) + "x" + std::to_string(h) +
                                     " = " + std::to_string(w * h / 1'000'000) +
                                     " megapixels, above the limit of " +
                                     std::to_string(max_pixels / 1'000'000) + " megapixels");
  }
  return image;
}

Result<VipsImagePtr> ToSrgb8(VipsImagePtr image, bool autorotate, bool keep_alpha) {
  VipsImage* out = nullptr;
  // Orientation 1 needs no rotation (vips_autorot would only copy; one libvips operation less).
  if (autorotate && vips_image_get_orientation(image.get()) != 1) {
    if (vips_autorot(image.get(), &out, nullptr) != 0) return VipsError("cannot rotate image");
    image.reset(out);
  }
  VipsInterpretation interp = vips_image_guess_interpretation(image.get());
  if (interp != VIPS_INTERPRETATION_sRGB || vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    if (vips_colourspace(image.get(), &out, VIPS_INTERPRETATION_sRGB, "source_space", interp,
                         nullptr) == 0) {
      image.reset(out);
    } else {
      vips_error_clear();  // no colour route (e.g. multiband): fall back to band handling
    }
  }
  int bands = vips_image_get_bands(image.get());
  if (vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    if (vips_cast_uchar(image.get(), &out, nullptr) != 0) return VipsError("cannot convert image");
    image.reset(out);
  }
  if (bands == 1 || bands == 2) {  // grey (+alpha) without a colour route
    VipsImage* grey = nullptr;
    if (vips_extract_band(image.get(), &grey, 0, nullptr) != 0) return VipsError("bad image");
    VipsImagePtr g(grey);
    VipsImage* parts[3] = {g.get(), g.get(), g.get()};
    VipsImage* rgb = nullptr;
    if (vips_bandjoin(parts, &rgb, 3, nullptr) != 0) return VipsError("bad image");
    VipsImagePtr rgbp(rgb);
    if (bands == 2) {
      VipsImage* alpha = nullptr;
      if (vips_extract_band(image.get(), &alpha, 1, nullptr) != 0) return VipsError("bad image");
      VipsImagePtr a(alpha);
      if (vips_bandjoin2(rgbp.get(), a.get(), &out, nullptr) != 0) return VipsError("bad image");
      rgbp.reset(out);
    }
    image = std::move(rgbp);
  } else if (bands > 4) {
    if (vips_extract_band(image.get(), &out, 0, "n", 4, nullptr) != 0) return VipsError("bad image");
    image.reset(out);
  }
  bands = vips_image_get_bands(image.get());
  if (bands == 4 && !keep_alpha) return FlattenOnWhite(std::move(image));
  return image;
}

Result<VipsImagePtr> FlattenOnWhite(VipsImagePtr image) {
  VipsImage* out = nullptr;
  VipsArrayDouble* white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
  int r = vips_flatten(image.get(), &out, "background", white, "max_alpha", 255.0, nullptr);
  vips_area_unref(VIPS_AREA(white));
  if (r != 0) return VipsError("cannot flatten alpha");
  image.reset(out);
  if (vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    if (vips_cast_uchar(image.get(), &out, nullptr) != 0) return VipsError("bad image");
    image.reset(out);
  }
  return image;
}

}  // namespace internal

namespace {

Result<RgbImage> Decode(const std::string& path, std::span<const uint8_t> bytes,
                        const ImageDecodeOptions& options) {
  using internal::VipsImagePtr;
  CHUQU_ASSIGN_OR_RETURN(VipsImagePtr image, internal::OpenImage(path, bytes, options.max_pixels));
  bool rotated = false;
  int long_side = std::max(vips_image_get_width(image.get()), vips_image_get_height(image.get()));
  const char* loader = nullptr;
  if (options.jpeg_shrink_long_side > 0 &&
      vips_image_get_string(image.get(), VIPS_META_LOADER, &loader) == 0 && loader != nullptr &&
      std::string_view(loader).starts_with("jpegload")) {
    int shrink = 1;
    while (shrink < 8 && long_side / (2 * shrink) >= options.jpeg_shrink_long_side) shrink *= 2;
    if (shrink > 1) {
      VipsImage* small = nullptr;
      // Sequential access: the loader streams scanlines into the one output buffer.
      int r = bytes.empty()
                  ? vips_jpegload(path.c_str(), &small, "shrink", shrink, "access",
                                  VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                  nullptr)
                  : vips_jpegload_buffer(const_cast<uint8_t*>(bytes.data()), bytes.size(),
                                         &small, "shrink", shrink, "access",
                                         VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                         VIPS_FAIL_ON_TRUNCATED, nullptr);
      if (r != 0) return internal::VipsError("cannot decode image");
      image.reset(small);
      long_side = std::max(vips_image_get_width(small), vips_image_get_height(small));
      if (options.max_long_side > 0 && long_side > options.max_long_side) {
        VipsImage* resized = nullptr;
        if (vips_resize(small, &resized,
                        static_cast<double>(options.max_long_side) / long_side, nullptr) != 0) {
          return internal::VipsError("cannot resize image");
        }
        image.reset(resized);
      }
      long_side = 0;  // done: orientation is applied by ToSrgb8 below
    }
  }
  if (options.max_long_side > 0 && long_side > options.max_long_side) {
    // vips_thumbnail uses shrink-on-load (JPEG DCT scaling etc.) and applies orientation.
    VipsImage* thumb = nullptr;
    const int n = options.max_long_side;
    int r = bytes.empty()
                ? vips_thumbnail(path.c_str(), &thumb, n, "height", n, "size", VIPS_SIZE_DOWN,
                                 "fail_on", VIPS_FAIL_ON_TRUNCATED, nullptr)
                // libvips 8.14 does not pass thumbnail's fail_on to a buffer's loader (a
                // truncated JPEG decoded grey), so the loader is also given it as an option.
                : vips_thumbnail_buffer(const_cast<uint8_t*>(bytes.data()), bytes.size(), &thumb,
                                        n, "height", n, "size", VIPS_SIZE_DOWN, "fail_on",
                                        VIPS_FAIL_ON_TRUNCATED, "option_string",
                                        "fail_on=truncated", nullptr);
    if (r != 0) return internal::VipsError("cannot decode image");
    image.reset(thumb);
    rotated = true;
  }
  CHUQU_ASSIGN_OR_RETURN(image, internal::ToSrgb8(std::move(image), !rotated, false));
  size_t size = 0;
  void* mem = vips_image_write_to_memory(image.get(), &size);
  if (mem == nullptr) return internal::VipsError("cannot decode image");
  RgbImage out;
  out.width = vips_image_get_width(image.get());
  out.height = vips_image_get_height(image.get());
  const size_t expected = static_cast<size_t>(out.width) * out.height * 3;
  if (size != expected) {
    g_free(mem);
    return Status::Internal("unexpected decoded image size");
  }
  const auto* p = static_cast<const uint8_t*>(mem);
  out.rgb.assign(p, p + size);
  g_free(mem);
  return out;
}

}  // namespace

Result<RgbImage> DecodeImageRgb(const std::string& path, const ImageDecodeOptions& options) {
  return Decode(path, {}, options);
}

Result<RgbImage> DecodeImageRgbFromBuffer(std::span<const uint8_t> bytes,
                                          const ImageDecodeOptions& options) {
  if (bytes.empty()) return Status::InvalidArgument("empty image data");
  return Decode("", bytes, options);
}

}  // namespace chuqu::media
