#include "base/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include "base/utf8.h"

namespace chuqu {
namespace {

// RFC 8785 §3.2.2.2: escape only '"', '\\' and C0 controls (short forms where JSON has
// them, else \u00xx lower-case); everything else is copied as UTF-8.
Status AppendString(std::string_view s, std::string* out) {
  if (!IsValidUtf8(s)) {
    return Status::InvalidArgument("JSON string is not valid UTF-8");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
  return Status::Ok();
}

Status Append(const nlohmann::json& v, std::string* out) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null:
      out->append("null");
      return Status::Ok();
    case T::boolean:
      out->append(v.get<bool>() ? "true" : "false");
      return Status::Ok();
    case T::number_integer:
      out->append(FormatEs6Number(static_cast<double>(v.get<int64_t>())));
      return Status::Ok();
    case T::number_unsigned:
      out->append(FormatEs6Number(static_cast<double>(v.get<uint64_t>())));
      return Status::Ok();
    case T::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) {
        return Status::InvalidArgument("JSON number is NaN or Infinity (RFC 8785 §3.2.2.3)");
      }
      out->append(FormatEs6Number(d));
      return Status::Ok();
    }
    case T::string:
      return AppendString(v.get_ref<const std::string&>(), out);
    case T::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out->push_back(',');
        first = false;
        CHUQU_RETURN_IF_ERROR(Append(e, out));
      }
      out->push_back(']');
      return Status::Ok();
    }
    case T::object: {
      // §3.2.3: sort member names by their UTF-16 code units.
      std::vector<std::pair<std::u16string, const nlohmann::json::object_t::value_type*>> members;
      members.reserve(v.size());
      for (const auto& kv : v.get_ref<const nlohmann::json::object_t&>()) {
        std::u16string key16;
        if (!Utf8ToUtf16(kv.first, &key16)) {
          return Status::InvalidArgument("JSON object key is not valid UTF-8");
        }
        members.emplace_back(std::move(key16), &kv);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      bool first = true;
      for (const auto& [key16, kv] : members) {
        if (!first) out->push_back(',');
        first = false;
        CHUQU_RETURN_IF_ERROR(AppendString(kv->first, out));
        out->push_back(':');
        CHUQU_RETURN_IF_ERROR(Append(kv->second, out));
      }
      out->push_back('}');
      return Status::Ok();
    }
    case T::binary:
      return Status::InvalidArgument("binary values have no JSON form");
    case T::discarded:
      return Status::InvalidArgument("discarded JSON value");
  }
  return Status::InvalidArgument("unknown JSON value type");
}

}  // namespace

std::string FormatEs6Number(double value) {
  CHUQU_CHECK(std::isfinite(value));
  if (value == 0) return "0";  // also -0 (ECMA-262 Number::toString step 2)
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest round-trip digits: "d[.ddd]e±XX".
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  CHUQU_CHECK(res.ec == std::errc());
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e_pos = sci.find('e');
  CHUQU_CHECK(e_pos != std::string_view::npos);
  std::string digits;
  for (const char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<std::string> CanonicalJson(const nlohmann::json& value) {
  std::string out;
  CHUQU_RETURN_IF_ERROR(Append(value, &out));
  return out;
}

}  // namespace chuqu
