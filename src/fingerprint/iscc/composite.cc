// Instance-Code (ISO 24138 §5.9), ISCC-CODE composition (§6; iscc_core/iscc_code.py)
// and ISCC-SUM / WIDE (bio-codes/iscc-sum code_iscc_sum).
#include <algorithm>
#include <vector>

#include "chuqu/iscc.h"
#include "fingerprint/blake3/blake3.h"
#include "fingerprint/iscc/data_chunker.h"
#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu {
namespace {

std::string MultiHash(const std::array<uint8_t, kBlake3OutLen>& digest) {
  return "1e20" + iscc_internal::Hex(digest);  // multihash: blake3 (0x1e), 32 bytes (0x20)
}

std::string EncodeComposite(uint8_t st, uint16_t length, std::vector<uint8_t> body) {
  IsccUnit u;
  u.main_type = MainType::kIscc;
  u.sub_type = st;
  u.version = 0;
  u.length = length;
  u.body = std::move(body);
  return EncodeIscc(u);
}

}  // namespace

struct InstanceHasher::Impl {
  Blake3Hasher blake3;
  uint64_t filesize = 0;
};

InstanceHasher::InstanceHasher() : impl_(std::make_unique<Impl>()) {}
InstanceHasher::~InstanceHasher() = default;
InstanceHasher::InstanceHasher(InstanceHasher&&) noexcept = default;
InstanceHasher& InstanceHasher::operator=(InstanceHasher&&) noexcept = default;

void InstanceHasher::Update(std::span<const uint8_t> data) {
  impl_->blake3.Update(data);
  impl_->filesize += data.size();
}

Result<InstanceCode> InstanceHasher::Finish(int bits) const {
  CHUQU_RETURN_IF_ERROR(iscc_internal::CheckUnitBits(bits));
  const auto digest = impl_->blake3.Finalize();
  InstanceCode out;
  out.iscc = iscc_internal::EncodeUnit(MainType::kInstance, kSubTypeNone, digest, bits);
  out.datahash = MultiHash(digest);
  out.filesize = impl_->filesize;
  return out;
}

Result<InstanceCode> GenInstanceCode(std::span<const uint8_t> data, int bits) {
  InstanceHasher h;
  h.Update(data);
  return h.Finish(bits);
}

Result<std::string> GenIsccCode(std::span<const std::string> units, bool wide) {
  if (units.size() < 2) return Status::InvalidArgument("ISCC-CODE needs at least two units (Data and Instance)");
  std::vector<IsccUnit> decoded;
  for (const std::string& code : units) {
    auto u = DecodeIscc(code);
    if (!u.ok()) return u.status().WithContext("ISCC-CODE input '" + code + "'");
    if (u->main_type > MainType::kInstance) {
      return Status::InvalidArgument("ISCC-CODE input '" + code + "' is not an ISCC-UNIT");
    }
    if (u->bits() < 64) {
      return Status::InvalidArgument("ISCC-CODE input '" + code + "' is shorter than 64 bits");
    }
    decoded.push_back(std::move(*u));
  }
  std::stable_sort(decoded.begin(), decoded.end(),
                   [](const IsccUnit& a, const IsccUnit& b) { return a.main_type < b.main_type; });
  const size_t n = decoded.size();
  if (decoded[n - 2].main_type != MainType::kData || decoded[n - 1].main_type != MainType::kInstance) {
    return Status::InvalidArgument("ISCC-CODE needs exactly one Data-Code and one Instance-Code");
  }
  // Optional prefix: at most one each of META, SEMANTIC, CONTENT (constants.py UNITS).
  uint16_t length = 0;
  std::optional<uint8_t> st;
  for (size_t i = 0; i + 2 < n; ++i) {
    uint16_t bit = 0;
    switch (decoded[i].main_type) {
      case MainType::kMeta: bit = 4; break;
      case MainType::kSemantic: bit = 2; break;
      case MainType::kContent: bit = 1; break;
      default:
        return Status::InvalidArgument("ISCC-CODE needs exactly one Data-Code and one Instance-Code");
    }
    if (length & bit) return Status::InvalidArgument("ISCC-CODE has two units of the same MainType");
    length |= bit;
    if (bit != 4) {
      if (st && *st != decoded[i].sub_type) {
        return Status::InvalidArgument("ISCC-CODE: Semantic-Code and Content-Code must have the same SubType");
      }
      st = decoded[i].sub_type;
    }
  }
  std::vector<uint8_t> body;
  // iscc_code.py: WIDE only for exactly Data+Instance of >= 128 bits each; else standard.
  if (wide && n == 2 && decoded[0].bits() >= 128 && decoded[1].bits() >= 128) {
    for (const auto& u : decoded) body.insert(body.end(), u.body.begin(), u.body.begin() + 16);
    return EncodeComposite(kSubTypeWide, 0, std::move(body));
  }
  for (const auto& u : decoded) body.insert(body.end(), u.body.begin(), u.body.begin() + 8);
  const uint8_t subtype = st ? *st : (n == 2 ? kSubTypeSum : kSubTypeIsccNone);
  return EncodeComposite(subtype, length, std::move(body));
}

struct IsccSumHasher::Impl {
  iscc_internal::DataChunker data;
  Blake3Hasher blake3;
  uint64_t filesize = 0;
};

IsccSumHasher::IsccSumHasher() : impl_(std::make_unique<Impl>()) {}
IsccSumHasher::~IsccSumHasher() = default;
IsccSumHasher::IsccSumHasher(IsccSumHasher&&) noexcept = default;
IsccSumHasher& IsccSumHasher::operator=(IsccSumHasher&&) noexcept = default;

void IsccSumHasher::Update(std::span<const uint8_t> data) {
  // Feed both hashes slice by slice so each slice is still in cache for the second.
  constexpr size_t kSlice = 256 * 1024;
  impl_->filesize += data.size();
  while (!data.empty()) {
    const auto slice = data.first(std::min(data.size(), kSlice));
    impl_->data.Update(slice);
    impl_->blake3.Update(slice);
    data = data.subspan(slice.size());
  }
}

IsccSum IsccSumHasher::Finish(bool wide) const {
  const auto data_digest = impl_->data.Digest();
  const auto instance_digest = impl_->blake3.Finalize();
  IsccSum out;
  std::vector<uint8_t> body;
  const size_t n = wide ? 16 : 8;
  body.insert(body.end(), data_digest.begin(), data_digest.begin() + static_cast<ptrdiff_t>(n));
  body.insert(body.end(), instance_digest.begin(), instance_digest.begin() + static_cast<ptrdiff_t>(n));
  out.iscc = EncodeComposite(wide ? kSubTypeWide : kSubTypeSum, 0, std::move(body));
  out.datahash = MultiHash(instance_digest);
  out.filesize = impl_->filesize;
  out.units = {iscc_internal::EncodeUnit(MainType::kData, kSubTypeNone, data_digest, 256),
               iscc_internal::EncodeUnit(MainType::kInstance, kSubTypeNone, instance_digest, 256)};
  return out;
}

}  // namespace chuqu
