// Shared by the 12-MP image match benchmarks (image_match_bench, registry_match_bench).
#pragma once

#include <time.h>

#include <cstdlib>
#include <string>

#include <vips/vips.h>

namespace chuqu::bench {

// Writes the benchmarks' query to `path`: Kodak kodim05 (768 x 512) resized to 4000 x 3000
// (12.0 MP), JPEG q90. Aborts on failure (a benchmark without its query measures nothing).
// REQUIRES: vips_init() called.
inline void WriteTwelveMpJpeg(const std::string& path) {
  const std::string png = std::string(CHUQU_SHARED_DATA) + "/media/images/kodak/kodim05.png";
  VipsImage* in = vips_image_new_from_file(png.c_str(), nullptr);
  VipsImage* big = nullptr;
  if (in == nullptr || vips_resize(in, &big, 4000.0 / 768, "vscale", 3000.0 / 512, nullptr) != 0 ||
      vips_jpegsave(big, path.c_str(), "Q", 90, nullptr) != 0) {
    std::abort();
  }
  g_object_unref(big);
  g_object_unref(in);
}

// CPU time of the whole process in ms (libvips decodes in its worker threads, a pool in its).
inline double ProcessCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

}  // namespace chuqu::bench
