// Winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003, §3 "robust winnowing") and the
// stored form of text fingerprints.
#include "fingerprint/text/text_fingerprint.h"

#include <cstring>
#include <string>

namespace chuqu::text {
namespace {

constexpr uint64_t kBase = 0x100000001B3ull * 2 + 1;  // odd multiplier of the rolling hash

uint64_t Mix64(uint64_t x) {  // splitmix64 finaliser: uniform minima for winnowing
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t GetLe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

constexpr char kMagic[4] = {'C', 'Q', 'T', 'F'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 1 + 1 + 2 + 4 + 4 + 4;
constexpr size_t kRecordBytes = 8 + 4 + 4 + 4;

bool ValidOptions(const WinnowOptions& o) { return o.k >= 1 && o.k <= 64 && o.w >= 1 && o.w <= 256; }

}  // namespace

std::vector<uint64_t> KGramHashes(std::span<const uint32_t> tokens, int k) {
  CHUQU_CHECK(k >= 1);
  std::vector<uint64_t> out;
  const size_t kk = static_cast<size_t>(k);
  if (tokens.size() < kk) return out;
  out.reserve(tokens.size() - kk + 1);
  uint64_t top = 1;  // kBase^(k-1)
  for (size_t i = 1; i < kk; ++i) top *= kBase;
  uint64_t h = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i >= kk) h -= (uint64_t{tokens[i - kk]} + 1) * top;
    h = h * kBase + (uint64_t{tokens[i]} + 1);
    if (i + 1 >= kk) out.push_back(Mix64(h ^ static_cast<uint64_t>(k)));
  }
  return out;
}

Result<TextFingerprints> Winnow(const NormalizedText& text, const WinnowOptions& options) {
  if (!ValidOptions(options)) {
    return Status::InvalidArgument("winnowing needs 1 <= k <= 64 and 1 <= w <= 256");
  }
  TextFingerprints out;
  out.options = options;
  out.num_tokens = static_cast<uint32_t>(text.size());
  out.original_length = text.original_length;
  const std::vector<uint64_t> h = KGramHashes(text.tokens, options.k);
  if (h.empty()) return out;
  const size_t k = static_cast<size_t>(options.k);
  const size_t w = std::min(static_cast<size_t>(options.w), h.size());
  auto emit = [&](size_t pos) {
    out.fingerprints.push_back(TextFingerprint{h[pos], static_cast<uint32_t>(pos),
                                               text.begin[pos], text.end[pos + k - 1]});
  };
  out.fingerprints.reserve(h.size() * 2 / (w + 1) + 2);
  size_t last = SIZE_MAX;
  size_t min_pos = 0;
  for (size_t start = 0; start + w <= h.size(); ++start) {
    const size_t stop = start + w;  // window [start, stop)
    if (last == SIZE_MAX || min_pos < start) {
      min_pos = start;  // rescan the whole window, rightmost minimum
      for (size_t j = start + 1; j < stop; ++j) {
        if (h[j] <= h[min_pos]) min_pos = j;
      }
    } else if (h[stop - 1] <= h[min_pos]) {
      min_pos = stop - 1;
    }
    if (min_pos != last) {
      emit(min_pos);
      last = min_pos;
    }
  }
  return out;
}

Result<TextFingerprints> FingerprintText(std::string_view utf8, const WinnowOptions& options) {
  Result<NormalizedText> n = Normalize(utf8);
  if (!n.ok()) return n.status();
  return Winnow(*n, options);
}

// Layout: "CQTF" | u8 version (1) | u8 k | u16 w | u32 num_tokens | u32 original_length |
// u32 count | count x (u64 hash | u32 position | u32 begin | u32 end), little-endian.
std::string EncodeFingerprints(const TextFingerprints& fps) {
  std::string s;
  s.reserve(kHeaderBytes + fps.fingerprints.size() * kRecordBytes);
  s.append(kMagic, 4);
  s.push_back(static_cast<char>(kVersion));
  s.push_back(static_cast<char>(fps.options.k));
  s.push_back(static_cast<char>(fps.options.w & 0xFF));
  s.push_back(static_cast<char>((fps.options.w >> 8) & 0xFF));
  PutU32(&s, fps.num_tokens);
  PutU32(&s, fps.original_length);
  PutU32(&s, static_cast<uint32_t>(fps.fingerprints.size()));
  for (const TextFingerprint& f : fps.fingerprints) {
    PutU64(&s, f.hash);
    PutU32(&s, f.position);
    PutU32(&s, f.begin);
    PutU32(&s, f.end);
  }
  return s;
}

Result<TextFingerprints> DecodeFingerprints(std::string_view b) {
  if (b.size() < kHeaderBytes || std::memcmp(b.data(), kMagic, 4) != 0) {
    return Status::Corruption("not a text fingerprint record (bad magic or too short)");
  }
  if (static_cast<uint8_t>(b[4]) != kVersion) {
    return Status::Corruption("unknown text fingerprint version " +
                              std::to_string(static_cast<uint8_t>(b[4])));
  }
  TextFingerprints out;
  out.options.k = static_cast<uint8_t>(b[5]);
  out.options.w = static_cast<int>(GetLe(b.data() + 6, 2));
  out.num_tokens = static_cast<uint32_t>(GetLe(b.data() + 8, 4));
  out.original_length = static_cast<uint32_t>(GetLe(b.data() + 12, 4));
  const uint64_t count = GetLe(b.data() + 16, 4);
  if (!ValidOptions(out.options)) return Status::Corruption("text fingerprint: bad k or w");
  if (b.size() != kHeaderBytes + count * kRecordBytes) {
    return Status::Corruption("text fingerprint: length does not match the count");
  }
  out.fingerprints.resize(count);
  const char* p = b.data() + kHeaderBytes;
  for (uint64_t i = 0; i < count; ++i, p += kRecordBytes) {
    TextFingerprint& f = out.fingerprints[i];
    f.hash = GetLe(p, 8);
    f.position = static_cast<uint32_t>(GetLe(p + 8, 4));
    f.begin = static_cast<uint32_t>(GetLe(p + 12, 4));
    f.end = static_cast<uint32_t>(GetLe(p + 16, 4));
    const bool ordered = i == 0 || f.position > out.fingerprints[i - 1].position;
    if (!ordered || uint64_t{f.position} + static_cast<uint64_t>(out.options.k) > out.num_tokens ||
        f.begin >= f.end || f.end > out.original_length) {
      return Status::Corruption("text fingerprint " + std::to_string(i) + " is out of range");
    }
  }
  return out;
}

}  // namespace chuqu::text
