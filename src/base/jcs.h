// RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value, used as
// hash/signature input (ISCC Meta-Code metadata, ledger entries).
// Thread-safety: pure function.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chuqu/status.h"

namespace chuqu {

// Serialises `value` per RFC 8785: no whitespace, object members sorted by the UTF-16
// code units of their names (§3.2.3), strings escaped minimally (§3.2.2.2), numbers as
// IEEE 754 doubles in ECMAScript Number.prototype.toString form (§3.2.2.3; integers
// are converted to double first, so 1.0 -> "1", 1e20 -> "100000000000000000000").
// InvalidArgument for NaN/Infinity, invalid UTF-8 in a string, or binary values.
Result<std::string> CanonicalJson(const nlohmann::json& value);

// ECMAScript Number::toString of a finite double ("-0" is written "0"). REQUIRES: finite.
std::string FormatEs6Number(double value);

}  // namespace chuqu
