#include "media/iscc_image.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "media/vips_util.h"

namespace chuqu::media {
namespace {

// Pillow Resample.c: 8-bit results with 2 guard bits for filter overshoot.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Pillow's bicubic kernel, a = -0.5, support 2.
double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per output sample: first input index, number of taps, fixed-point weights (ksize each).
struct Coefficients {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

// Pillow precompute_coeffs + normalize_coeffs_8bpc for box (0, in_size). The support is
// widened by the reduction factor (antialiasing); weights are normalised to sum 1 and
// rounded half away from zero to 22 fractional bits.
Coefficients Precompute(int in_size, int out_size) {
  const float in0 = 0.0F;
  const float in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = BicubicFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = k[x] * (1 << kPrecisionBits);
      c.weights[static_cast<size_t>(xx) * c.ksize + x] =
          k[x] < 0 ? static_cast<int32_t>(-0.5 + v) : static_cast<int32_t>(0.5 + v);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t Clip8(int32_t v) {
  const int32_t s = v >> kPrecisionBits;  // arithmetic shift (C++20)
  return static_cast<uint8_t>(s < 0 ? 0 : (s > 255 ? 255 : s));
}

// Pillow ImagingResampleInner for one 8-bit band, fed row by row so that only the
// horizontally resampled rows (out_width bytes each) are kept.
class StreamingResampler {
 public:
  StreamingResampler(int in_w, int in_h, int out_w, int out_h)
      : in_w_(in_w), out_w_(out_w), out_h_(out_h),
        need_horizontal_(out_w != in_w), need_vertical_(out_h != in_h),
        vert_(Precompute(in_h, out_h)) {
    first_row_ = vert_.first[0];
    last_row_ = vert_.first[out_h - 1] + vert_.count[out_h - 1];
    if (need_horizontal_) horiz_ = Precompute(in_w, out_w);
    temp_.reserve(static_cast<size_t>(last_row_ - first_row_) * out_w);
  }

  // Source rows [first_row, last_row) are needed, in order.
  int first_row() const { return first_row_; }
  int last_row() const { return last_row_; }

  void PushRow(const uint8_t* row) {
    if (!need_horizontal_) {
      temp_.insert(temp_.end(), row, row + in_w_);
      return;
    }
    for (int xx = 0; xx < out_w_; ++xx) {
      const int32_t* k = &horiz_.weights[static_cast<size_t>(xx) * horiz_.ksize];
      const uint8_t* src = row + horiz_.first[xx];
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int x = 0; x < horiz_.count[xx]; ++x) ss += src[x] * k[x];
      temp_.push_back(Clip8(ss));
    }
  }

  std::vector<uint8_t> Finish() {
    if (!need_vertical_) return std::move(temp_);
    std::vector<uint8_t> out(static_cast<size_t>(out_w_) * out_h_);
    for (int yy = 0; yy < out_h_; ++yy) {
      const int32_t* k = &vert_.weights[static_cast<size_t>(yy) * vert_.ksize];
      const int ymin = vert_.first[yy] - first_row_;
      for (int xx = 0; xx < out_w_; ++xx) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int y = 0; y < vert_.count[yy]; ++y) {
          ss += temp_[static_cast<size_t>(ymin + y) * out_w_ + xx] * k[y];
        }
        out[static_cast<size_t>(yy) * out_w_ + xx] = Clip8(ss);
      }
    }
    return out;
  }

 private:
  int in_w_, out_w_, out_h_;
  bool need_horizontal_, need_vertical_;
  Coefficients vert_, horiz_;
  int first_row_ = 0, last_row_ = 0;
  std::vector<uint8_t> temp_;
};

struct Box {
  int x0, y0, x1, y1;
};

// Composite of one pixel with `bands` (3 or 4) channels.
inline std::array<uint8_t, 3> Composite(const uint8_t* p, int bands) {
  if (bands == 3) return {p[0], p[1], p[2]};
  return PillowCompositeOnWhite(p[0], p[1], p[2], p[3]);
}

// Rows [y_begin, y_end) of an image given by a row accessor → 32x32 after trim bbox.
std::array<uint8_t, 1024> Normalize(int width, int height, int bands, bool trim,
                                    const std::function<void(int, int, const std::function<void(int, const uint8_t*)>&)>& rows) {
  Box box{0, 0, width, height};
  if (trim) {
    std::array<uint8_t, 3> ref{};
    bool have_ref = false;
    int x0 = width, y0 = height, x1 = -1, y1 = -1;
    rows(0, height, [&](int y, const uint8_t* row) {
      if (!have_ref) {
        ref = Composite(row, bands);
        have_ref = true;
      }
      for (int x = 0; x < width; ++x) {
        if (Composite(row + static_cast<size_t>(x) * bands, bands) != ref) {
          x0 = std::min(x0, x);
          x1 = std::max(x1, x);
          y0 = std::min(y0, y);
          y1 = std::max(y1, y);
        }
      }
    });
    // A uniform image has no bbox (Pillow: getbbox() None → crop(None) = whole image).
    if (x1 >= 0) box = {x0, y0, x1 + 1, y1 + 1};
  }
  const int bw = box.x1 - box.x0;
  const int bh = box.y1 - box.y0;
  StreamingResampler resampler(bw, bh, 32, 32);
  std::vector<uint8_t> luma(bw);
  rows(box.y0 + resampler.first_row(), box.y0 + resampler.last_row(),
       [&](int, const uint8_t* row) {
         const uint8_t* p = row + static_cast<size_t>(box.x0) * bands;
         for (int x = 0; x < bw; ++x, p += bands) {
           const auto c = Composite(p, bands);
           luma[x] = PillowLuma(c[0], c[1], c[2]);
         }
         resampler.PushRow(luma.data());
       });
  std::vector<uint8_t> out = resampler.Finish();
  CHUQU_CHECK(out.size() == 1024);
  std::array<uint8_t, 1024> result;
  std::copy(out.begin(), out.end(), result.begin());
  return result;
}

}  // namespace

std::array<uint8_t, 3> PillowCompositeOnWhite(uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
  // Pillow AlphaComposite.c with dst = (255,255,255,255), 7 extra bits of precision.
  if (a == 0) return {255, 255, 255};
  constexpr uint32_t kBits = 7;
  auto div255 = [](uint32_t v) { return ((v >> 8) + v) >> 8; };
  const uint32_t blend = 255u * (255u - a);
  const uint32_t outa255 = a * 255u + blend;
  const uint32_t coef1 = a * 255u * 255u * (1u << kBits) / outa255;
  const uint32_t coef2 = 255u * (1u << kBits) - coef1;
  auto channel = [&](uint32_t src) {
    const uint32_t tmp = src * coef1 + 255u * coef2;
    return static_cast<uint8_t>(div255(tmp + (0x80u << kBits)) >> kBits);
  };
  return {channel(r), channel(g), channel(b)};
}

std::vector<uint8_t> PillowResizeBicubic(std::span<const uint8_t> grey, int width, int height,
                                         int out_width, int out_height) {
  CHUQU_CHECK(width > 0 && height > 0 && out_width > 0 && out_height > 0);
  CHUQU_CHECK(grey.size() == static_cast<size_t>(width) * height);
  StreamingResampler resampler(width, height, out_width, out_height);
  for (int y = resampler.first_row(); y < resampler.last_row(); ++y) {
    resampler.PushRow(grey.data() + static_cast<size_t>(y) * width);
  }
  return resampler.Finish();
}

std::array<uint8_t, 1024> IsccImagePixelsFromRgba(std::span<const uint8_t> rgba, int width,
                                                  int height, bool trim_border) {
  CHUQU_CHECK(width > 0 && height > 0);
  CHUQU_CHECK(rgba.size() == static_cast<size_t>(width) * height * 4);
  return Normalize(width, height, 4, trim_border,
                   [&](int y0, int y1, const std::function<void(int, const uint8_t*)>& fn) {
                     for (int y = y0; y < y1; ++y) {
                       fn(y, rgba.data() + static_cast<size_t>(y) * width * 4);
                     }
                   });
}

namespace {

using RowFn = std::function<void(int, const uint8_t*)>;

// Rows [y0, y1) of an opened image, decoded on the calling thread a strip at a time.
class RowReader {
 public:
  explicit RowReader(VipsImage* image)
      : width_(vips_image_get_width(image)),
        region_(vips_region_new(image), [](VipsRegion* r) { g_object_unref(r); }) {}

  Status Read(int y0, int y1, const RowFn& fn) {
    if (!region_) return internal::VipsError("cannot read image");
    constexpr int kStripRows = 64;
    for (int y = y0; y < y1; y += kStripRows) {
      VipsRect rect{0, y, width_, std::min(kStripRows, y1 - y)};
      if (vips_region_prepare(region_.get(), &rect) != 0) {
        return internal::VipsError("cannot decode image");
      }
      for (int r = 0; r < rect.height; ++r) {
        fn(y + r, reinterpret_cast<const uint8_t*>(VIPS_REGION_ADDR(region_.get(), 0, y + r)));
      }
    }
    return Status::Ok();
  }

 private:
  int width_;
  std::unique_ptr<VipsRegion, void (*)(VipsRegion*)> region_;
};

// An image as ToSrgb8 with keep_alpha gives it: its bands (3 or 4).
Result<int> SrgbBands(VipsImage* image) {
  const int bands = vips_image_get_bands(image);
  if (bands != 3 && bands != 4) return Status::Unsupported("unexpected number of image bands");
  return bands;
}

// The ISCC pixels streamed from an image as ToSrgb8 with keep_alpha gives it.
Result<std::array<uint8_t, 1024>> StreamedPixels(VipsImage* image, bool trim_border) {
  CHUQU_ASSIGN_OR_RETURN(const int bands, SrgbBands(image));
  RowReader reader(image);
  Status failure;
  auto rows = [&](int y0, int y1, const RowFn& fn) {
    if (failure.ok()) failure = reader.Read(y0, y1, fn);
  };
  std::array<uint8_t, 1024> pixels = Normalize(vips_image_get_width(image),
                                               vips_image_get_height(image), bands, trim_border,
                                               rows);
  if (!failure.ok()) return failure;
  return pixels;
}

}  // namespace

Result<std::array<uint8_t, 1024>> IsccImagePixels(const std::string& path,
                                                  const IsccImageOptions& options) {
  using internal::VipsImagePtr;
  CHUQU_ASSIGN_OR_RETURN(VipsImagePtr image, internal::OpenImage(path, {}, options.max_pixels));
  CHUQU_ASSIGN_OR_RETURN(image, internal::ToSrgb8(std::move(image), true, true));
  return StreamedPixels(image.get(), options.trim_border);
}

Result<IsccImageDecode> DecodeIsccImage(const std::string& path, std::span<const uint8_t> bytes,
                                        const IsccImageOptions& options, int rgb_long_side) {
  using internal::VipsImagePtr;
  // Rows are read once, in order, unless a border trim reads them twice or EXIF orientation
  // makes libvips rotate (which reads out of order).
  CHUQU_ASSIGN_OR_RETURN(VipsImagePtr image, internal::OpenImage(path, bytes, options.max_pixels,
                                                                 !options.trim_border));
  if (!options.trim_border && vips_image_get_orientation(image.get()) != 1) {
    CHUQU_ASSIGN_OR_RETURN(image, internal::OpenImage(path, bytes, options.max_pixels));
  }
  IsccImageDecode out;
  out.title = internal::ImageTitleOf(image.get());
  CHUQU_ASSIGN_OR_RETURN(image, internal::ToSrgb8(std::move(image), true, true));
  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  if (rgb_long_side <= 0 || std::max(width, height) > rgb_long_side) {
    CHUQU_ASSIGN_OR_RETURN(out.pixels, StreamedPixels(image.get(), options.trim_border));
    return out;
  }
  // Small enough to hold: every row once, then the ISCC pixels and the RGB from that copy.
  CHUQU_ASSIGN_OR_RETURN(const int bands, SrgbBands(image.get()));
  const size_t row_bytes = static_cast<size_t>(width) * bands;
  std::vector<uint8_t> pixels(row_bytes * height);
  CHUQU_RETURN_IF_ERROR(RowReader(image.get()).Read(0, height, [&](int y, const uint8_t* row) {
    std::copy(row, row + row_bytes, pixels.begin() + static_cast<ptrdiff_t>(row_bytes * y));
  }));
  image.reset();
  out.pixels = Normalize(width, height, bands, options.trim_border,
                         [&](int y0, int y1, const RowFn& fn) {
                           for (int y = y0; y < y1; ++y) fn(y, &pixels[row_bytes * y]);
                         });
  out.rgb.width = width;
  out.rgb.height = height;
  if (bands == 3) {
    out.rgb.rgb = std::move(pixels);
    return out;
  }
  // Alpha: composited by libvips exactly as DecodeImageRgb composites it.
  VipsImagePtr rgba(vips_image_new_from_memory(pixels.data(), pixels.size(), width, height, 4,
                                               VIPS_FORMAT_UCHAR));
  if (!rgba) return internal::VipsError("cannot read image");
  CHUQU_ASSIGN_OR_RETURN(VipsImagePtr flat, internal::FlattenOnWhite(std::move(rgba)));
  const size_t rgb_row_bytes = static_cast<size_t>(width) * 3;
  out.rgb.rgb.resize(rgb_row_bytes * height);
  CHUQU_RETURN_IF_ERROR(RowReader(flat.get()).Read(0, height, [&](int y, const uint8_t* row) {
    std::copy(row, row + rgb_row_bytes,
              out.rgb.rgb.begin() + static_cast<ptrdiff_t>(rgb_row_bytes * y));
  }));
  return out;
}

}  // namespace chuqu::media
