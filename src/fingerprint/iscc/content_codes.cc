// Content-Codes (ISO 24138 §5.3-5.7): Text, Image, Audio, Video, Mixed.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <vector>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/iscc_internal.h"
#include "fingerprint/iscc/iscc_tables.h"

namespace chuqu {
namespace {

using iscc_internal::CheckUnitBits;
using iscc_internal::EncodeUnit;

constexpr size_t kTextNgram = 13;  // options.py text_ngram_size

// dct.py alg_dct: Nayuki's recursive fast DCT-II, same operation order (bit-exact).
void Dct(const double* v, size_t n, double* out) {
  if (n == 1) {
    out[0] = v[0];
    return;
  }
  const size_t half = n / 2;
  double alpha[32], beta[32], a_out[32], b_out[32];
  for (size_t i = 0; i < half; ++i) {
    alpha[i] = v[i] + v[n - 1 - i];
    beta[i] = (v[i] - v[n - 1 - i]) /
              (std::cos((static_cast<double>(i) + 0.5) * std::numbers::pi / static_cast<double>(n)) * 2.0);
  }
  Dct(alpha, half, a_out);
  Dct(beta, half, b_out);
  for (size_t i = 0; i + 1 < half; ++i) {
    out[2 * i] = a_out[i];
    out[2 * i + 1] = b_out[i] + b_out[i + 1];
  }
  out[n - 2] = a_out[half - 1];
  out[n - 1] = b_out[half - 1];
}

}  // namespace

Result<TextCode> GenTextCode(std::string_view utf8, int bits) {
  CHUQU_RETURN_IF_ERROR(CheckUnitBits(bits));
  CHUQU_ASSIGN_OR_RETURN(std::string text, iscc_internal::TextCollapse(utf8));
  // Code point start offsets into the collapsed UTF-8.
  std::vector<uint32_t> starts;
  starts.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(static_cast<uint32_t>(i));
  }
  const size_t n = starts.size();
  starts.push_back(static_cast<uint32_t>(text.size()));
  // utils.py sliding_window: max(n - w + 1, 1) windows; a short text is one window.
  const size_t windows = n >= kTextNgram ? n - kTextNgram + 1 : 1;
  iscc_internal::MinHasher minhash;
  uint32_t batch[1024];
  size_t fill = 0;
  for (size_t i = 0; i < windows; ++i) {
    const size_t end = std::min(i + kTextNgram, n);
    batch[fill++] = XXH32(text.data() + starts[i], starts[end] - starts[i], 0);
    if (fill == std::size(batch)) {
      minhash.Add(std::span<const uint32_t>(batch, fill));
      fill = 0;
    }
  }
  if (fill) minhash.Add(std::span<const uint32_t>(batch, fill));
  TextCode out;
  out.iscc = EncodeUnit(MainType::kContent, kSubTypeText, minhash.Digest(), bits);
  out.characters = static_cast<int64_t>(n);
  return out;
}

Result<std::string> GenImageCode(std::span<const uint8_t> grey32x32, int bits) {
  CHUQU_RETURN_IF_ERROR(CheckUnitBits(bits));
  if (grey32x32.size() != 1024) {
    return Status::InvalidArgument("Image-Code needs 1024 grey pixels (32x32), got " +
                                   std::to_string(grey32x32.size()));
  }
  // code_content_image.py: DCT of each row, then of each column of the result.
  double rows[32][32];
  for (int r = 0; r < 32; ++r) {
    double in[32];
    for (int c = 0; c < 32; ++c) in[c] = grey32x32[static_cast<size_t>(r * 32 + c)];
    Dct(in, 32, rows[r]);
  }
  double m[32][32];  // m[row][col]
  for (int c = 0; c < 32; ++c) {
    double in[32], out[32];
    for (int r = 0; r < 32; ++r) in[r] = rows[r][c];
    Dct(in, 32, out);
    for (int r = 0; r < 32; ++r) m[r][c] = out[r];
  }
  // 8x8 blocks at one-pixel offsets (x, y) = (0,0), (1,0), (0,1), (1,1); bit = value > median.
  std::array<uint8_t, 32> digest{};
  static constexpr int kOffsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  int pos = 0;
  for (const auto& xy : kOffsets) {
    double flat[64], sorted[64];
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) flat[y * 8 + x] = m[xy[1] + y][xy[0] + x];
    }
    std::copy(std::begin(flat), std::end(flat), std::begin(sorted));
    std::sort(std::begin(sorted), std::end(sorted));
    const double median = (sorted[31] + sorted[32]) / 2;  // statistics.median
    for (int i = 0; i < 64; ++i, ++pos) {
      if (flat[i] > median) digest[static_cast<size_t>(pos / 8)] |= static_cast<uint8_t>(0x80 >> (pos % 8));
    }
  }
  return EncodeUnit(MainType::kContent, kSubTypeImage, digest, bits);
}

Result<std::string> GenAudioCode(std::span<const int32_t> chromaprint, int bits) {
  CHUQU_RETURN_IF_ERROR(CheckUnitBits(bits));
  std::array<uint8_t, 32> digest{};
  if (!chromaprint.empty()) {
    auto to_be = [](std::span<const int32_t> values) {
      std::vector<uint8_t> out;
      out.reserve(values.size() * 4);
      for (const int32_t v : values) {
        const auto u = static_cast<uint32_t>(v);  // two's complement
        for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(u >> s));
      }
      return out;
    };
    size_t part = 0;
    auto put = [&](const std::vector<uint8_t>& be, size_t first, size_t count) {
      if (count > 0) {
        const auto h = iscc_internal::SimHash(be.data() + first * 4, count, 4);
        std::copy(h.begin(), h.end(), digest.begin() + static_cast<ptrdiff_t>(part * 4));
      }
      ++part;  // an empty part stays 00000000
    };
    // more_itertools.divide(k, seq): the first len % k parts get one extra element.
    auto divide = [&](const std::vector<uint8_t>& be, size_t k) {
      const size_t n = be.size() / 4, q = n / k, r = n % k;
      size_t first = 0;
      for (size_t i = 0; i < k; ++i) {
        const size_t count = q + (i < r ? 1 : 0);
        put(be, first, count);
        first += count;
      }
    };
    const std::vector<uint8_t> be = to_be(chromaprint);
    put(be, 0, chromaprint.size());
    divide(be, 4);
    std::vector<int32_t> sorted(chromaprint.begin(), chromaprint.end());
    std::sort(sorted.begin(), sorted.end());
    divide(to_be(sorted), 3);
  }
  return EncodeUnit(MainType::kContent, kSubTypeAudio, digest, bits);
}

Result<std::string> GenVideoCode(std::span<const FrameSignature> frames, int bits) {
  CHUQU_RETURN_IF_ERROR(CheckUnitBits(bits));
  if (frames.empty()) return Status::InvalidArgument("Video-Code needs at least one frame signature");
  // code_content_video.py: identical frames count once (set), then column sums.
  std::set<FrameSignature> unique(frames.begin(), frames.end());
  std::array<int64_t, 380> sum{};
  for (const auto& f : unique) {
    for (size_t i = 0; i < f.size(); ++i) sum[i] += f[i];
  }
  // wtahash.py: bit = 1 iff vec[b] > vec[a] (index of max; ties -> 0), MSB-first.
  std::array<uint8_t, 32> digest{};
  for (int i = 0; i < 256; ++i) {
    const auto& perm = iscc_internal::kWtaVideoIdPermutations[i];
    if (sum[perm[1]] > sum[perm[0]]) digest[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
  }
  return EncodeUnit(MainType::kContent, kSubTypeVideo, digest, bits);
}

Result<std::string> GenMixedCode(std::span<const std::string> codes, int bits) {
  CHUQU_RETURN_IF_ERROR(CheckUnitBits(bits));
  if (codes.size() < 2) return Status::InvalidArgument("Mixed-Code needs at least 2 Content-Codes");
  const size_t nbytes = static_cast<size_t>(bits / 8);
  std::vector<uint8_t> digests;
  for (const std::string& code : codes) {
    uint8_t first_byte = 0;
    auto unit = iscc_internal::DecodeIsccRelaxed(code, &first_byte);
    if (!unit.ok()) return unit.status().WithContext("Mixed-Code input '" + code + "'");
    if (unit->main_type != MainType::kContent) {
      return Status::InvalidArgument("Mixed-Code input '" + code + "' is not a Content-Code");
    }
    if (unit->bits() < static_cast<size_t>(bits)) {
      return Status::InvalidArgument("Mixed-Code input '" + code + "' is shorter than " +
                                     std::to_string(bits) + " bits");
    }
    // code_content_mixed.py: first header byte ‖ body[:nbytes-1].
    digests.push_back(first_byte);
    digests.insert(digests.end(), unit->body.begin(), unit->body.begin() + static_cast<ptrdiff_t>(nbytes - 1));
  }
  const auto h = iscc_internal::SimHash(digests.data(), codes.size(), nbytes);
  return EncodeUnit(MainType::kContent, kSubTypeMixed, h, bits);
}

}  // namespace chuqu
