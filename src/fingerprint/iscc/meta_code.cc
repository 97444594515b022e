// Meta-Code (ISO 24138 §5.1; iscc_core/code_meta.py gen_meta_code_v0, soft_hash_meta_v0).
#include <algorithm>
#include <cctype>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/jcs.h"
#include "chuqu/iscc.h"
#include "fingerprint/blake3/blake3.h"
#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu {
namespace {

using iscc_internal::AppendUtf8;
using iscc_internal::DecodeUtf8;

constexpr size_t kTrimName = 128;           // options.py meta_trim_name
constexpr size_t kTrimDescription = 4096;   // meta_trim_description
constexpr size_t kTrimMeta = 128000;        // meta_trim_meta (payload cap, v1.3.0)
constexpr size_t kNgramText = 3;            // meta_ngram_size_text
constexpr size_t kNgramBytes = 4;           // meta_ngram_size_bytes

std::array<uint8_t, 32> SimHashOfDigests(const std::vector<uint8_t>& digests) {
  const auto h = iscc_internal::SimHash(digests.data(), digests.size() / 32, 32);
  std::array<uint8_t, 32> out;
  std::copy(h.begin(), h.end(), out.begin());
  return out;
}

// simhash(BLAKE3(utf8(g)) for g in sliding_window(text_collapse(text), 3)).
Result<std::array<uint8_t, 32>> TextSimHash(std::string_view utf8) {
  CHUQU_ASSIGN_OR_RETURN(std::string collapsed, iscc_internal::TextCollapse(utf8));
  std::u32string cps;
  CHUQU_CHECK(DecodeUtf8(collapsed, &cps));
  const size_t windows = cps.size() >= kNgramText ? cps.size() - kNgramText + 1 : 1;
  std::vector<uint8_t> digests;
  digests.reserve(windows * 32);
  for (size_t i = 0; i < windows; ++i) {
    std::string gram;
    for (size_t k = i; k < std::min(i + kNgramText, cps.size()); ++k) AppendUtf8(cps[k], &gram);
    const auto d = Blake3(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(gram.data()), gram.size()));
    digests.insert(digests.end(), d.begin(), d.end());
  }
  return SimHashOfDigests(digests);
}

// simhash(BLAKE3(g) for g in sliding_window(payload, 4)).
std::array<uint8_t, 32> BytesSimHash(std::span<const uint8_t> payload) {
  const size_t windows = payload.size() >= kNgramBytes ? payload.size() - kNgramBytes + 1 : 1;
  std::vector<uint8_t> digests;
  digests.reserve(windows * 32);
  for (size_t i = 0; i < windows; ++i) {
    const auto d = Blake3(payload.subspan(i, std::min(kNgramBytes, payload.size() - i)));
    digests.insert(digests.end(), d.begin(), d.end());
  }
  return SimHashOfDigests(digests);
}

// First 128 bits of name and extra hashes interleaved in 32-bit chunks.
std::array<uint8_t, 32> Interleave(const std::array<uint8_t, 32>& name, const std::array<uint8_t, 32>& extra) {
  std::array<uint8_t, 32> out;
  for (size_t c = 0; c < 4; ++c) {
    std::copy_n(name.begin() + static_cast<ptrdiff_t>(4 * c), 4, out.begin() + static_cast<ptrdiff_t>(8 * c));
    std::copy_n(extra.begin() + static_cast<ptrdiff_t>(4 * c), 4, out.begin() + static_cast<ptrdiff_t>(8 * c + 4));
  }
  return out;
}

std::string Base64(std::span<const uint8_t> data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (const size_t rem = data.size() - i; rem > 0) {
    const uint32_t v = uint32_t{data[i]} << 16 | (rem == 2 ? uint32_t{data[i + 1]} << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rem == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::vector<uint8_t>> DecodeBase64(std::string_view s) {
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int nbits = 0;
  size_t pad = 0;
  for (const char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') { ++pad; continue; }
    else return Status::InvalidArgument(std::string("meta Data-URL has invalid base64 character '") + c + "'");
    if (pad) return Status::InvalidArgument("meta Data-URL has base64 data after '=' padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      out.push_back(static_cast<uint8_t>(acc >> (nbits - 8)));
      nbits -= 8;
      acc &= (1u << nbits) - 1;
    }
  }
  if (nbits >= 6) return Status::InvalidArgument("meta Data-URL base64 has an impossible length");
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// RFC 2397: data:[<mediatype>][;base64],<data>
Result<std::vector<uint8_t>> DataUrlPayload(std::string_view url) {
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) {
    return Status::InvalidArgument("meta Data-URL has no ',' before its data (RFC 2397)");
  }
  const std::string_view header = url.substr(0, comma);
  const std::string_view data = url.substr(comma + 1);
  if (header.size() >= 7 && StartsWithNoCase(header.substr(header.size() - 7), ";base64")) {
    return DecodeBase64(data);
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '%') {
      const int hi = i + 2 < data.size() ? HexValue(data[i + 1]) : -1;
      const int lo = i + 2 < data.size() ? HexValue(data[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::InvalidArgument("meta Data-URL has a malformed %-escape");
      out.push_back(static_cast<uint8_t>(hi << 4 | lo));
      i += 2;
    } else {
      out.push_back(static_cast<uint8_t>(data[i]));
    }
  }
  return out;
}

}  // namespace

Result<MetaCode> GenMetaCode(std::string_view name, std::string_view description,
                             const std::optional<std::string>& meta_json_or_data_url, int bits) {
  CHUQU_RETURN_IF_ERROR(iscc_internal::CheckUnitBits(bits));
  auto clean_name = iscc_internal::TextClean(name);
  if (!clean_name.ok()) return clean_name.status().WithContext("Meta-Code name");
  MetaCode out;
  out.name = iscc_internal::TextTrim(iscc_internal::TextRemoveNewlines(*clean_name), kTrimName);
  if (out.name.empty()) {
    return Status::InvalidArgument("Meta-Code needs a non-empty name (after Unicode cleaning)");
  }
  auto clean_desc = iscc_internal::TextClean(description);
  if (!clean_desc.ok()) return clean_desc.status().WithContext("Meta-Code description");
  out.description = iscc_internal::TextTrim(*clean_desc, kTrimDescription);

  CHUQU_ASSIGN_OR_RETURN(const auto name_hash, TextSimHash(out.name));
  std::array<uint8_t, 32> digest;
  std::vector<uint8_t> payload;
  bool have_meta = false;
  if (meta_json_or_data_url && !meta_json_or_data_url->empty()) {
    const std::string& meta = *meta_json_or_data_url;
    if (StartsWithNoCase(meta, "data:")) {
      CHUQU_ASSIGN_OR_RETURN(payload, DataUrlPayload(meta));
      out.meta = meta;
      have_meta = true;
    } else {
      nlohmann::json j = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) {
        return Status::InvalidArgument("Meta-Code meta must be a JSON object or an RFC 2397 Data-URL");
      }
      if (!j.empty()) {  // an empty dict counts as absent (code_meta.py `if meta:`)
        auto jcs = CanonicalJson(j);
        if (!jcs.ok()) return jcs.status().WithContext("Meta-Code meta");
        payload.assign(jcs->begin(), jcs->end());
        const char* media_type = j.contains("@context") ? "application/ld+json" : "application/json";
        out.meta = std::string("data:") + media_type + ";base64," + Base64(payload);
        have_meta = true;
      }
    }
  }
  if (have_meta) {
    if (payload.size() > kTrimMeta) {
      return Status::InvalidArgument("Meta-Code meta payload has " + std::to_string(payload.size()) +
                                     " bytes, more than the 128000-byte limit");
    }
    digest = Interleave(name_hash, BytesSimHash(payload));
  } else {
    std::string joined = out.name + " " + out.description;
    joined = iscc_internal::TextTrim(joined, joined.size());  // Python strip()
    payload.assign(joined.begin(), joined.end());
    if (out.description.empty()) {
      digest = name_hash;
    } else {
      CHUQU_ASSIGN_OR_RETURN(const auto desc_hash, TextSimHash(out.description));
      digest = Interleave(name_hash, desc_hash);
    }
  }
  out.iscc = iscc_internal::EncodeUnit(MainType::kMeta, kSubTypeNone, digest, bits);
  out.metahash = "1e20" + iscc_internal::Hex(Blake3(payload));
  return out;
}

}  // namespace chuqu
