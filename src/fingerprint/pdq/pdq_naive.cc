#include "fingerprint/pdq/pdq_naive.h"

#include <cmath>
#include <cstdlib>
#include <vector>

namespace chuqu::pdq::naive {
namespace {

std::vector<float> Luma(const RgbView& image) {
  std::vector<float> luma(static_cast<size_t>(image.width) * image.height);
  for (int r = 0; r < image.height; ++r) {
    const uint8_t* p = image.data + static_cast<size_t>(r) * image.stride;
    for (int c = 0; c < image.width; ++c) {
      const float r_coeff = 0.299f;
      const float g_coeff = 0.587f;
      const float b_coeff = 0.114f;
      luma[static_cast<size_t>(r) * image.width + c] =
          r_coeff * p[3 * c] + g_coeff * p[3 * c + 1] + b_coeff * p[3 * c + 2];
    }
  }
  return luma;
}

// Box filter over n elements spaced `stride` apart; four phases as the reference.
void Box1D(const float* in, float* out, int n, size_t stride, int w) {
  const int half = (w + 2) / 2;
  size_t li = 0, ri = 0, oi = 0;
  float sum = 0.0f;
  int count = 0;
  for (int i = 0; i < half - 1; ++i) {
    sum += in[ri];
    ++count;
    ri += stride;
  }
  for (int i = 0; i < w - half + 1; ++i) {
    sum += in[ri];
    ++count;
    out[oi] = sum / count;
    ri += stride;
    oi += stride;
  }
  for (int i = 0; i < n - w; ++i) {
    sum += in[ri];
    sum -= in[li];
    out[oi] = sum / count;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (int i = 0; i < half - 1; ++i) {
    sum -= in[li];
    --count;
    out[oi] = sum / count;
    li += stride;
    oi += stride;
  }
}

void Downsample(std::vector<float>& buf1, int rows, int cols, bool skip_64, float* out64) {
  if (skip_64 && rows == 64 && cols == 64) {
    for (int i = 0; i < 64 * 64; ++i) out64[i] = buf1[i];
    return;
  }
  std::vector<float> buf2(buf1.size());
  const int wr = internal::JaroszWindow(cols);
  const int wc = internal::JaroszWindow(rows);
  for (int pass = 0; pass < 2; ++pass) {
    for (int r = 0; r < rows; ++r) {
      Box1D(&buf1[static_cast<size_t>(r) * cols], &buf2[static_cast<size_t>(r) * cols], cols, 1,
            wr);
    }
    for (int c = 0; c < cols; ++c) Box1D(&buf2[c], &buf1[c], rows, cols, wc);
  }
  for (int i = 0; i < 64; ++i) {
    const int ri = static_cast<int>(((i + 0.5) * rows) / 64);
    for (int j = 0; j < 64; ++j) {
      const int ci = static_cast<int>(((j + 0.5) * cols) / 64);
      out64[i * 64 + j] = buf1[static_cast<size_t>(ri) * cols + ci];
    }
  }
}

void Dct(const float* a, float* b) {
  float d[16][64];
  const float scale = static_cast<float>(std::sqrt(2.0 / 64.0));
  for (int i = 0; i < 16; ++i) {
    for (int k = 0; k < 64; ++k) {
      d[i][k] = static_cast<float>(scale * std::cos((M_PI / 2.0 / 64.0) * (i + 1) * (2 * k + 1)));
    }
  }
  float t[16][64];
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 64; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < 64; ++k) sum += d[i][k] * a[k * 64 + j];
      t[i][j] = sum;
    }
  }
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < 64; ++k) sum += t[i][k] * d[j][k];
      b[i * 16 + j] = sum;
    }
  }
}

Hash256 Bits(const float* dct) {
  const float median = TorbenMedian(dct, 256);
  Hash256 h;
  for (int k = 0; k < 256; ++k) {
    if (dct[k] > median) h.SetBit(k);
  }
  return h;
}

PdqDihedralResult Dihedral(std::vector<float> luma, int rows, int cols, bool all, bool skip) {
  PdqDihedralResult result;
  if (rows < kMinHashableDim || cols < kMinHashableDim) {
    result.too_small = true;
    return result;
  }
  float b64[64 * 64];
  Downsample(luma, rows, cols, skip, b64);
  int gradient_sum = 0;
  for (int i = 0; i < 63; ++i) {
    for (int j = 0; j < 64; ++j) {
      int d = ((b64[i * 64 + j] - b64[(i + 1) * 64 + j]) * 100) / 255;
      gradient_sum += std::abs(d);
    }
  }
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 63; ++j) {
      int d = ((b64[i * 64 + j] - b64[i * 64 + j + 1]) * 100) / 255;
      gradient_sum += std::abs(d);
    }
  }
  result.quality = gradient_sum / 90 > 100 ? 100 : gradient_sum / 90;
  float dct[256];
  Dct(b64, dct);
  for (int d = 0; d < (all ? kNumDihedral : 1); ++d) {
    float v[256];
    internal::DihedralDct(dct, static_cast<pdq::Dihedral>(d), v);
    result.hashes[d] = Bits(v);
  }
  return result;
}

}  // namespace

float TorbenMedian(const float* m, int n) {
  float min = m[0], max = m[0];
  for (int i = 1; i < n; ++i) {
    if (m[i] < min) min = m[i];
    if (m[i] > max) max = m[i];
  }
  int less = 0, greater = 0, equal = 0;
  float guess = 0, maxltguess = 0, mingtguess = 0;
  while (true) {
    guess = (min + max) / 2;
    less = greater = equal = 0;
    maxltguess = min;
    mingtguess = max;
    for (int i = 0; i < n; ++i) {
      if (m[i] < guess) {
        ++less;
        if (m[i] > maxltguess) maxltguess = m[i];
      } else if (m[i] > guess) {
        ++greater;
        if (m[i] < mingtguess) mingtguess = m[i];
      } else {
        ++equal;
      }
    }
    if (less <= (n + 1) / 2 && greater <= (n + 1) / 2) break;
    if (less > greater) {
      max = maxltguess;
    } else {
      min = mingtguess;
    }
  }
  if (less >= (n + 1) / 2) return maxltguess;
  if (less + equal >= (n + 1) / 2) return guess;
  return mingtguess;
}

PdqResult HashRgb(const RgbView& image) {
  PdqDihedralResult d = Dihedral(Luma(image), image.height, image.width, false, true);
  return {d.hashes[0], d.quality, d.too_small};
}
PdqDihedralResult HashRgbDihedral(const RgbView& image) {
  return Dihedral(Luma(image), image.height, image.width, true, false);
}
PdqResult HashLuma(const LumaView& luma) {
  std::vector<float> v(luma.data, luma.data + static_cast<size_t>(luma.width) * luma.height);
  PdqDihedralResult d = Dihedral(std::move(v), luma.height, luma.width, false, true);
  return {d.hashes[0], d.quality, d.too_small};
}
PdqDihedralResult HashLumaDihedral(const LumaView& luma) {
  std::vector<float> v(luma.data, luma.data + static_cast<size_t>(luma.width) * luma.height);
  return Dihedral(std::move(v), luma.height, luma.width, true, false);
}

}  // namespace chuqu::pdq::naive
