// ISCC codec (ISO 24138 §4; iscc_core/codec.py, IEP-0001): varnibble header, RFC 4648
// base32, canonical form, decomposition, human-readable form and distance.
#include <bit>
#include <cctype>
#include <string>
#include <vector>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu {
namespace iscc_internal {

Status CheckUnitBits(int bits) {
  if (bits < 32 || bits > 256 || bits % 32 != 0) {
    return Status::InvalidArgument("ISCC unit bits must be one of 32, 64, ..., 256 (got " +
                                   std::to_string(bits) + ")");
  }
  return Status::Ok();
}

std::string EncodeBase32(std::span<const uint8_t> data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t acc = 0;
  int nbits = 0;
  for (const uint8_t b : data) {
    acc = (acc << 8) | b;
    nbits += 8;
    while (nbits >= 5) {
      out.push_back(kAlphabet[(acc >> (nbits - 5)) & 31]);
      nbits -= 5;
    }
  }
  if (nbits > 0) out.push_back(kAlphabet[(acc << (5 - nbits)) & 31]);
  return out;
}

std::string Hex(std::span<const uint8_t> data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (const uint8_t b : data) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace iscc_internal

namespace {

using iscc_internal::EncodeBase32;

// Writes `n` as a varnibble (codec.py encode_varnibble) into a nibble list.
void PutVarnibble(uint32_t n, std::vector<uint8_t>* nibbles) {
  if (n < 8) {
    nibbles->push_back(static_cast<uint8_t>(n));
  } else if (n < 72) {
    const uint32_t v = (0b10u << 6) | (n - 8);
    nibbles->push_back(static_cast<uint8_t>(v >> 4));
    nibbles->push_back(static_cast<uint8_t>(v & 15));
  } else if (n < 584) {
    const uint32_t v = (0b110u << 9) | (n - 72);
    nibbles->push_back(static_cast<uint8_t>(v >> 8));
    nibbles->push_back(static_cast<uint8_t>((v >> 4) & 15));
    nibbles->push_back(static_cast<uint8_t>(v & 15));
  } else {
    CHUQU_CHECK(n < 4680);
    const uint32_t v = (0b1110u << 12) | (n - 584);
    for (int s = 12; s >= 0; s -= 4) nibbles->push_back(static_cast<uint8_t>((v >> s) & 15));
  }
}

std::vector<uint8_t> EncodeHeader(uint32_t mt, uint32_t st, uint32_t version, uint32_t length) {
  std::vector<uint8_t> nibbles;
  for (const uint32_t f : {mt, st, version, length}) PutVarnibble(f, &nibbles);
  if (nibbles.size() % 2) nibbles.push_back(0);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < nibbles.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nibbles[i] << 4 | nibbles[i + 1]));
  }
  return out;
}

// Bit reader over bytes, MSB first.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}
  size_t remaining() const { return data_.size() * 8 - pos_; }
  uint32_t Read(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i, ++pos_) {
      v = (v << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1);
    }
    return v;
  }
  uint32_t Peek(int n) const {
    BitReader copy = *this;
    return copy.Read(n);
  }
  size_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// codec.py decode_varnibble.
bool ReadVarnibble(BitReader* r, uint32_t* value) {
  const size_t rem = r->remaining();
  if (rem >= 4 && r->Peek(1) == 0) {
    *value = r->Read(4);
    return true;
  }
  if (rem >= 8 && r->Peek(2) == 0b10) {
    *value = (r->Read(8) & 0x3F) + 8;
    return true;
  }
  if (rem >= 12 && r->Peek(3) == 0b110) {
    *value = (r->Read(12) & 0x1FF) + 72;
    return true;
  }
  if (rem >= 16 && r->Peek(4) == 0b1110) {
    *value = (r->Read(16) & 0xFFF) + 584;
    return true;
  }
  return false;
}

struct Header {
  uint32_t mt, st, version, length;
  size_t header_bytes;
};

Result<Header> DecodeHeader(std::span<const uint8_t> raw) {
  BitReader r(raw);
  Header h{};
  uint32_t* fields[] = {&h.mt, &h.st, &h.version, &h.length};
  for (uint32_t* f : fields) {
    if (!ReadVarnibble(&r, f)) return Status::InvalidArgument("ISCC header is truncated or malformed");
  }
  size_t pos = r.pos();
  if (pos % 8) {
    if (r.Peek(4) != 0) return Status::InvalidArgument("ISCC header padding nibble is not 0000");
    pos += 4;
  }
  h.header_bytes = pos / 8;
  return h;
}

// RFC 4648 base32 decode (case-insensitive, no padding). Rejects characters outside the
// alphabet, impossible lengths and non-zero trailing bits (non-canonical encodings).
Result<std::vector<uint8_t>> DecodeBase32(std::string_view s) {
  std::vector<uint8_t> out;
  out.reserve(s.size() * 5 / 8);
  uint32_t acc = 0;
  int nbits = 0;
  for (const char ch : s) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= '2' && c <= '7') {
      v = static_cast<uint32_t>(c - '2' + 26);
    } else {
      return Status::InvalidArgument(std::string("ISCC contains '") + ch +
                                     "', which is not a base32 character (A-Z, 2-7)");
    }
    acc = (acc << 5) | v;
    nbits += 5;
    if (nbits >= 8) {
      out.push_back(static_cast<uint8_t>(acc >> (nbits - 8)));
      nbits -= 8;
      acc &= (1u << nbits) - 1;
    }
  }
  const size_t rem = s.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return Status::InvalidArgument("ISCC base32 has an impossible length of " +
                                   std::to_string(s.size()) + " characters");
  }
  if (acc != 0) return Status::InvalidArgument("ISCC base32 has non-zero trailing bits");
  return out;
}

// iscc_clean: optional "ISCC:" scheme (any case), then whitespace and '-' removed.
Result<std::string> Clean(std::string_view code) {
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.remove_prefix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.remove_suffix(1);
  const size_t colon = code.find(':');
  if (colon != std::string_view::npos) {
    std::string scheme(code.substr(0, colon));
    while (!scheme.empty() && std::isspace(static_cast<unsigned char>(scheme.back()))) scheme.pop_back();
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "iscc") {
      return Status::InvalidArgument("ISCC has unknown scheme '" + std::string(code.substr(0, colon)) +
                                     "' (expected 'ISCC:')");
    }
    code.remove_prefix(colon + 1);
  }
  std::string out;
  for (const char c : code) {
    if (c == '-' || std::isspace(static_cast<unsigned char>(c))) continue;
    out.push_back(c);
  }
  if (out.empty()) return Status::InvalidArgument("ISCC is empty");
  return out;
}

bool IsUnitType(uint32_t mt) {
  const auto m = static_cast<MainType>(mt);
  return m == MainType::kMeta || m == MainType::kSemantic || m == MainType::kContent ||
         m == MainType::kData || m == MainType::kInstance || m == MainType::kFlake;
}

// Validates header fields; returns body length in bytes implied by the header.
Result<size_t> BodyBytes(const Header& h, bool check_subtype = true) {
  if (h.mt > 7) return Status::InvalidArgument("ISCC MainType " + std::to_string(h.mt) + " is unknown");
  const auto mt = static_cast<MainType>(h.mt);
  const bool is_id = mt == MainType::kId;
  if (h.version != 0 && !(is_id && h.version == 1)) {
    return Status::InvalidArgument("ISCC version " + std::to_string(h.version) + " is unknown");
  }
  uint32_t max_st = 0;
  switch (mt) {
    case MainType::kSemantic:
    case MainType::kContent: max_st = 4; break;
    case MainType::kIscc: max_st = 7; break;
    case MainType::kId: max_st = h.version == 0 ? 3 : 1; break;
    default: max_st = 0;
  }
  if (check_subtype && h.st > max_st) {
    return Status::InvalidArgument("ISCC SubType " + std::to_string(h.st) + " is invalid for MainType " +
                                   std::to_string(h.mt));
  }
  if (IsUnitType(h.mt)) {
    if (h.length > 7) return Status::InvalidArgument("ISCC unit length field exceeds 256 bits");
    return static_cast<size_t>(h.length + 1) * 4;
  }
  if (mt == MainType::kIscc) {
    if (h.length > 7) return Status::InvalidArgument("ISCC-CODE unit set field is invalid");
    if (h.st == kSubTypeWide) {
      if (h.length != 0) return Status::InvalidArgument("ISCC-CODE WIDE must contain only Data and Instance");
      return size_t{32};
    }
    if (h.st == kSubTypeSum && h.length != 0) {
      return Status::InvalidArgument("ISCC-CODE SUM must contain only Data and Instance");
    }
    return static_cast<size_t>(std::popcount(h.length)) * 8 + 16;
  }
  // ID: v0 counter bytes 0..4 (64..96 bits), v1 always 64 bits.
  if (h.version == 1 && h.length != 0) return Status::InvalidArgument("ISCC-ID v1 length must be 0");
  if (h.length > 4) return Status::InvalidArgument("ISCC-ID counter is too long");
  return static_cast<size_t>(8 + h.length);
}

Result<std::vector<uint8_t>> CleanAndDecode(std::string_view code) {
  CHUQU_ASSIGN_OR_RETURN(std::string clean, Clean(code));
  return DecodeBase32(clean);
}

IsccUnit MakeUnit(MainType mt, uint8_t st, uint8_t version, std::span<const uint8_t> body) {
  IsccUnit u;
  u.main_type = mt;
  u.sub_type = st;
  u.version = version;
  u.body.assign(body.begin(), body.end());
  if (IsUnitType(static_cast<uint32_t>(mt))) u.length = static_cast<uint16_t>(body.size() / 4 - 1);
  return u;
}

const char* MainTypeName(MainType mt) {
  static constexpr const char* kNames[] = {"META", "SEMANTIC", "CONTENT", "DATA",
                                           "INSTANCE", "ISCC", "ID", "FLAKE"};
  return kNames[static_cast<int>(mt)];
}

std::string SubTypeName(const IsccUnit& u) {
  static constexpr const char* kContent[] = {"TEXT", "IMAGE", "AUDIO", "VIDEO", "MIXED",
                                             "SUM", "NONE", "WIDE"};
  static constexpr const char* kId[] = {"PRIVATE", "BITCOIN", "ETHEREUM", "POLYGON"};
  switch (u.main_type) {
    case MainType::kSemantic:
    case MainType::kContent:
    case MainType::kIscc: return kContent[u.sub_type];
    case MainType::kId:
      if (u.version == 1) return "REALM_" + std::to_string(u.sub_type);
      return kId[u.sub_type];
    default: return "NONE";
  }
}

}  // namespace

namespace iscc_internal {

std::string EncodeUnit(MainType mt, uint8_t st, std::span<const uint8_t> digest, int bits) {
  CHUQU_CHECK(CheckUnitBits(bits).ok());
  CHUQU_CHECK(digest.size() >= static_cast<size_t>(bits / 8));
  return EncodeIscc(MakeUnit(mt, st, 0, digest.first(static_cast<size_t>(bits / 8))));
}

}  // namespace iscc_internal

namespace {

Result<IsccUnit> Decode(std::string_view code, bool check_subtype, uint8_t* first_byte) {
  CHUQU_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, CleanAndDecode(code));
  CHUQU_ASSIGN_OR_RETURN(Header h, DecodeHeader(raw));
  CHUQU_ASSIGN_OR_RETURN(size_t body_bytes, BodyBytes(h, check_subtype));
  if (first_byte) *first_byte = raw[0];
  const size_t have = raw.size() - h.header_bytes;
  if (have < body_bytes) {
    return Status::InvalidArgument("ISCC is truncated: header announces " + std::to_string(body_bytes * 8) +
                                   " body bits, found " + std::to_string(have * 8));
  }
  if (have > body_bytes) {
    return Status::InvalidArgument("ISCC has " + std::to_string((have - body_bytes) * 8) +
                                   " bits after its body (a sequence of units? use DecomposeIscc)");
  }
  IsccUnit u;
  u.main_type = static_cast<MainType>(h.mt);
  u.sub_type = static_cast<uint8_t>(h.st);
  u.version = static_cast<uint8_t>(h.version);
  u.length = static_cast<uint16_t>(h.length);
  u.body.assign(raw.begin() + static_cast<ptrdiff_t>(h.header_bytes), raw.end());
  return u;
}

}  // namespace

namespace iscc_internal {

Result<IsccUnit> DecodeIsccRelaxed(std::string_view code, uint8_t* first_byte) {
  return Decode(code, /*check_subtype=*/false, first_byte);
}

}  // namespace iscc_internal

Result<IsccUnit> DecodeIscc(std::string_view code) { return Decode(code, true, nullptr); }

std::string EncodeIscc(const IsccUnit& unit) {
  uint32_t length = unit.length;
  if (IsUnitType(static_cast<uint32_t>(unit.main_type))) {
    CHUQU_CHECK(!unit.body.empty() && unit.body.size() % 4 == 0 && unit.body.size() <= 32);
    length = static_cast<uint32_t>(unit.body.size() / 4 - 1);
  }
  std::vector<uint8_t> raw = EncodeHeader(static_cast<uint32_t>(unit.main_type), unit.sub_type,
                                          unit.version, length);
  raw.insert(raw.end(), unit.body.begin(), unit.body.end());
  return "ISCC:" + EncodeBase32(raw);
}

Result<std::vector<IsccUnit>> DecomposeIscc(std::string_view code) {
  CHUQU_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, CleanAndDecode(code));
  std::vector<IsccUnit> units;
  std::span<const uint8_t> rest(raw);
  while (!rest.empty()) {
    CHUQU_ASSIGN_OR_RETURN(Header h, DecodeHeader(rest));
    CHUQU_ASSIGN_OR_RETURN(size_t body_bytes, BodyBytes(h));
    if (rest.size() - h.header_bytes < body_bytes) {
      return Status::InvalidArgument("ISCC sequence ends inside a unit body");
    }
    const auto body = rest.subspan(h.header_bytes, body_bytes);
    rest = rest.subspan(h.header_bytes + body_bytes);
    const auto mt = static_cast<MainType>(h.mt);
    const auto st = static_cast<uint8_t>(h.st);
    const auto vs = static_cast<uint8_t>(h.version);
    if (mt != MainType::kIscc) {
      IsccUnit u = MakeUnit(mt, st, vs, body);
      u.length = static_cast<uint16_t>(h.length);
      units.push_back(std::move(u));
      continue;
    }
    if (st == kSubTypeWide) {
      units.push_back(MakeUnit(MainType::kData, kSubTypeNone, vs, body.subspan(0, 16)));
      units.push_back(MakeUnit(MainType::kInstance, kSubTypeNone, vs, body.subspan(16, 16)));
      continue;
    }
    // Optional units in MainType order (META, SEMANTIC, CONTENT), then Data, Instance.
    size_t off = 0;
    for (const auto& [bit, unit_mt] : {std::pair{4u, MainType::kMeta}, std::pair{2u, MainType::kSemantic},
                                      std::pair{1u, MainType::kContent}}) {
      if (!(h.length & bit)) continue;
      const uint8_t unit_st = unit_mt == MainType::kMeta ? kSubTypeNone : st;
      if (unit_mt != MainType::kMeta && unit_st > kSubTypeMixed) {
        return Status::InvalidArgument("ISCC-CODE SubType does not fit its Content/Semantic unit");
      }
      units.push_back(MakeUnit(unit_mt, unit_st, vs, body.subspan(off, 8)));
      off += 8;
    }
    units.push_back(MakeUnit(MainType::kData, kSubTypeNone, vs, body.subspan(off, 8)));
    units.push_back(MakeUnit(MainType::kInstance, kSubTypeNone, vs, body.subspan(off + 8, 8)));
  }
  return units;
}

Result<std::string> ExplainIscc(std::string_view code) {
  CHUQU_ASSIGN_OR_RETURN(IsccUnit u, DecodeIscc(code));
  std::string out = std::string(MainTypeName(u.main_type)) + "-" + SubTypeName(u) + "-V" +
                    std::to_string(u.version) + "-";
  if (u.main_type == MainType::kIscc) {
    if (u.length & 4) out += 'M';
    if (u.length & 2) out += 'S';
    if (u.length & 1) out += 'C';
    out += "DI";
  } else {
    out += std::to_string(u.bits());
  }
  if (u.main_type == MainType::kId && u.body.size() > 8) {
    // ISCC-ID v0 uniqueness counter: uvarint after the 64-bit hash (codec.py iscc_explain).
    uint64_t counter = 0;
    int shift = 0;
    for (size_t i = 8; i < u.body.size() && shift < 64; ++i, shift += 7) {
      counter |= uint64_t{u.body[i] & 0x7Fu} << shift;
      if (!(u.body[i] & 0x80)) break;
    }
    return out + "-" + iscc_internal::Hex(std::span(u.body).first(8)) + "-" + std::to_string(counter);
  }
  return out + "-" + iscc_internal::Hex(u.body);
}

Result<int> IsccDistance(std::string_view a, std::string_view b) {
  CHUQU_ASSIGN_OR_RETURN(IsccUnit ua, DecodeIscc(a));
  CHUQU_ASSIGN_OR_RETURN(IsccUnit ub, DecodeIscc(b));
  if (ua.main_type != ub.main_type || ua.sub_type != ub.sub_type || ua.version != ub.version ||
      ua.length != ub.length || ua.body.size() != ub.body.size()) {
    return Status::InvalidArgument(
        "ISCCs are not comparable: distance needs the same type, subtype, version and length");
  }
  int d = 0;
  for (size_t i = 0; i < ua.body.size(); ++i) d += std::popcount(static_cast<unsigned>(ua.body[i] ^ ub.body[i]));
  return d;
}

}  // namespace chuqu
