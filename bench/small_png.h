// A unique small PNG per seed, made in memory with zlib: the load generator's image uploads and
// the registration benchmark's works (128 x 128 RGB: a gradient with a few random rectangles,
// so every seed has its own PDQ and local features).
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace chuqu::bench {

inline void PutU32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline void PngChunk(std::string& png, const char* type, const std::string& data) {
  PutU32(png, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  PutU32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                          static_cast<uInt>(body.size()))));
}

// A unique 128x128 RGB PNG: a few random coloured rectangles on a gradient (distinct PDQ).
inline std::string MakePng(uint64_t seed) {
  constexpr int kSize = 128;
  std::mt19937_64 rng(seed * 0xbf58476d1ce4e5b9ULL + 7);
  std::vector<uint8_t> rgb(kSize * kSize * 3);
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      uint8_t* p = &rgb[(y * kSize + x) * 3];
      p[0] = static_cast<uint8_t>(x * 2);
      p[1] = static_cast<uint8_t>(y * 2);
      p[2] = 128;
    }
  }
  for (int r = 0; r < 12; ++r) {
    const int x0 = static_cast<int>(rng() % kSize), y0 = static_cast<int>(rng() % kSize);
    const int w = 8 + static_cast<int>(rng() % 48), h = 8 + static_cast<int>(rng() % 48);
    const uint8_t c[3] = {static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()),
                          static_cast<uint8_t>(rng())};
    for (int y = y0; y < std::min(kSize, y0 + h); ++y) {
      for (int x = x0; x < std::min(kSize, x0 + w); ++x) {
        std::memcpy(&rgb[(y * kSize + x) * 3], c, 3);
      }
    }
  }
  std::string raw;
  for (int y = 0; y < kSize; ++y) {
    raw.push_back(0);  // filter: none
    raw.append(reinterpret_cast<const char*>(&rgb[y * kSize * 3]), kSize * 3);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 6);
  z.resize(zlen);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  PutU32(ihdr, kSize);
  PutU32(ihdr, kSize);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  PngChunk(png, "IHDR", ihdr);
  PngChunk(png, "IDAT", z);
  PngChunk(png, "IEND", "");
  return png;
}

}  // namespace chuqu::bench
