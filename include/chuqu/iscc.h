// ISO 24138:2024 ISCC (International Standard Content Code): codec, the content units
// and the ISCC-CODE / ISCC-SUM composites, bit-exact with iscc-core 1.3.0 (the ISO
// reference) and iscc-sum. Algorithm notes: /work/shared/notes/iscc.md.
//
// Pure code: no I/O, no decoders. Callers supply decoded inputs (text, 32x32 grey
// pixels, Chromaprint values, MPEG-7 frame signatures, byte streams).
// Thread-safety: free functions are reentrant; a hasher object is used by one thread at
// a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"

namespace chuqu {

// ---------------------------------------------------------------------------------------
// Codec (ISO 24138 §4, IEP-0001)
// ---------------------------------------------------------------------------------------

// Header MainType.
enum class MainType : uint8_t {
  kMeta = 0,
  kSemantic = 1,
  kContent = 2,
  kData = 3,
  kInstance = 4,
  kIscc = 5,  // ISCC-CODE (composite)
  kId = 6,
  kFlake = 7,
};

// Header SubType values. META/DATA/INSTANCE/FLAKE use kSubTypeNone (0). SEMANTIC and
// CONTENT use Text..Mixed. MainType ISCC uses Text..Mixed plus Sum, IsccNone and Wide.
inline constexpr uint8_t kSubTypeNone = 0;
inline constexpr uint8_t kSubTypeText = 0;
inline constexpr uint8_t kSubTypeImage = 1;
inline constexpr uint8_t kSubTypeAudio = 2;
inline constexpr uint8_t kSubTypeVideo = 3;
inline constexpr uint8_t kSubTypeMixed = 4;
inline constexpr uint8_t kSubTypeSum = 5;       // ISCC-CODE of Data+Instance only
inline constexpr uint8_t kSubTypeIsccNone = 6;  // ISCC-CODE with Meta but no Content
inline constexpr uint8_t kSubTypeWide = 7;      // 128-bit Data + 128-bit Instance (post-ISO)

// One decoded ISCC (a unit or a composite ISCC-CODE): header fields and body.
struct IsccUnit {
  MainType main_type = MainType::kMeta;
  uint8_t sub_type = 0;
  uint8_t version = 0;
  // Raw header Length field. For META/SEMANTIC/CONTENT/DATA/INSTANCE/FLAKE it is
  // body bits/32 - 1 and EncodeIscc derives it from `body`; for ISCC it is the unit
  // bit set (4 META, 2 SEMANTIC, 1 CONTENT; 0 for SUM/WIDE); for ID the counter bytes.
  uint16_t length = 0;
  std::vector<uint8_t> body;  // bits = body.size() * 8

  size_t bits() const { return body.size() * 8; }
  bool operator==(const IsccUnit&) const = default;
};

// Parses an ISCC string: optional "ISCC:" scheme (any case), base32 in any case;
// whitespace and '-' are removed first (iscc_clean). Validates header fields and that the
// body length matches the header. A dash-separated sequence of several units is rejected
// here (use DecomposeIscc).
Result<IsccUnit> DecodeIscc(std::string_view code);

// Canonical form "ISCC:" + RFC 4648 base32 (upper case, no padding) of header ‖ body.
// REQUIRES: a well-formed unit (as produced by DecodeIscc or the Gen* functions).
std::string EncodeIscc(const IsccUnit& unit);

// Splits an ISCC-CODE into its units (Meta/Semantic/Content 64-bit, Data, Instance;
// WIDE gives 128-bit Data and Instance), or a concatenated/dash-separated sequence of
// units into those units. A single unit yields itself.
Result<std::vector<IsccUnit>> DecomposeIscc(std::string_view code);

// Human-readable form "MAINTYPE-SUBTYPE-VERSION-LENGTH-<hex body>", e.g.
// "CONTENT-IMAGE-V0-64-e0a1...", "ISCC-TEXT-V0-MCDI-<hex>" (iscc_explain).
Result<std::string> ExplainIscc(std::string_view code);

// Hamming distance between the bodies of two comparable units (same MainType, SubType,
// Version and length). Error if not comparable.
Result<int> IsccDistance(std::string_view a, std::string_view b);

// ---------------------------------------------------------------------------------------
// Text normalisation (iscc_core/code_meta.py, code_content_text.py); exposed for reuse.
// Input must be valid UTF-8, else InvalidArgument.
// ---------------------------------------------------------------------------------------

// NFKC, drop control/format/unassigned chars except newlines, at most one blank line,
// strip (text_clean).
Result<std::string> IsccTextClean(std::string_view utf8);
// NFD, lower(), drop whitespace/C*/M*/P* chars, NFKC (text_collapse).
Result<std::string> IsccTextCollapse(std::string_view utf8);

// ---------------------------------------------------------------------------------------
// Units (ISO 24138 §5). `bits` is 32..256 in steps of 32 (default 64); other values are
// InvalidArgument. Every returned `iscc` is in canonical "ISCC:..." form.
// ---------------------------------------------------------------------------------------

struct MetaCode {
  std::string iscc;
  std::string name;         // cleaned, trimmed name
  std::string description;  // cleaned description; empty = absent
  std::string meta;         // Data-URL of the metadata; empty = absent
  std::string metahash;     // "1e20" + hex BLAKE3 multihash
};
// `meta_json_or_data_url`: a JSON object text (canonicalised with RFC 8785 JCS) or an
// RFC 2397 "data:" URL; the payload is capped at 128,000 bytes.
Result<MetaCode> GenMetaCode(std::string_view name, std::string_view description,
                             const std::optional<std::string>& meta_json_or_data_url,
                             int bits = 64);

struct TextCode {
  std::string iscc;
  int64_t characters = 0;  // code points after text_collapse
};
Result<TextCode> GenTextCode(std::string_view utf8, int bits = 64);

// REQUIRES nothing: a span that is not exactly 1024 pixels is InvalidArgument.
// `grey32x32` is 32x32 row-major 8-bit luma (the SDK's normalised image).
Result<std::string> GenImageCode(std::span<const uint8_t> grey32x32, int bits = 64);

// `chromaprint`: raw signed Chromaprint fingerprint (fpcalc -raw -signed); may be empty.
Result<std::string> GenAudioCode(std::span<const int32_t> chromaprint, int bits = 64);

// One MPEG-7 frame signature: 380 ternary values (0..2 from FFmpeg's signature filter;
// wider values are accepted as iscc-core does). Empty input is InvalidArgument.
using FrameSignature = std::array<uint16_t, 380>;
Result<std::string> GenVideoCode(std::span<const FrameSignature> frames, int bits = 64);

// >= 2 Content-Code units, each at least `bits` long.
Result<std::string> GenMixedCode(std::span<const std::string> codes, int bits = 64);

// Data-Code (§5.8): streaming, bounded memory (< 16 KiB of look-ahead); results equal
// one-shot hashing however the input is split.
class DataHasher {
 public:
  DataHasher();
  ~DataHasher();
  DataHasher(DataHasher&&) noexcept;
  DataHasher& operator=(DataHasher&&) noexcept;

  void Update(std::span<const uint8_t> data);
  // The code of all data so far; does not end the stream (Update may continue).
  Result<std::string> Code(int bits = 64) const;
  // The full 256-bit MinHash digest of all data so far.
  std::array<uint8_t, 32> Digest() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
Result<std::string> GenDataCode(std::span<const uint8_t> data, int bits = 64);

struct InstanceCode {
  std::string iscc;
  std::string datahash;  // "1e20" + hex BLAKE3 (multihash)
  uint64_t filesize = 0;
};
// Instance-Code (§5.9): BLAKE3 of the stream.
class InstanceHasher {
 public:
  InstanceHasher();
  ~InstanceHasher();
  InstanceHasher(InstanceHasher&&) noexcept;
  InstanceHasher& operator=(InstanceHasher&&) noexcept;

  void Update(std::span<const uint8_t> data);
  // Does not end the stream.
  Result<InstanceCode> Finish(int bits = 64) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
Result<InstanceCode> GenInstanceCode(std::span<const uint8_t> data, int bits = 64);

// ISCC-CODE (§6): >= 2 units incl. Data and Instance (any order), each >= 64 bits, at most
// one each of Meta, Semantic, Content (Semantic and Content with the same SubType).
// wide=true gives SubType WIDE ("K4...", 128+128 bits) when the units are exactly Data and
// Instance of >= 128 bits each; otherwise the standard code, as iscc-core does.
Result<std::string> GenIsccCode(std::span<const std::string> units, bool wide = false);

// ISCC-SUM (iscc-sum's code_iscc_sum): Data + Instance in one pass over a stream.
struct IsccSum {
  std::string iscc;      // "ISCC:KU..." (64+64 bits) or "ISCC:K4..." (wide, 128+128)
  std::string datahash;  // "1e20" + hex BLAKE3
  uint64_t filesize = 0;
  std::vector<std::string> units;  // [256-bit Data-Code, 256-bit Instance-Code]
};
class IsccSumHasher {
 public:
  IsccSumHasher();
  ~IsccSumHasher();
  IsccSumHasher(IsccSumHasher&&) noexcept;
  IsccSumHasher& operator=(IsccSumHasher&&) noexcept;

  void Update(std::span<const uint8_t> data);
  // Does not end the stream.
  IsccSum Finish(bool wide = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chuqu
