// Text normalisation with Python 3 semantics (iscc_core/code_meta.py text_clean,
// text_remove_newlines; code_content_text.py text_collapse) on ICU 72 (Unicode 15.0).
#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <vector>

#include <string>

#include "chuqu/iscc.h"
#include "fingerprint/iscc/iscc_internal.h"

namespace chuqu {
namespace iscc_internal {
namespace {

struct Normalizers {
  const icu::Normalizer2* nfkc = nullptr;
  const icu::Normalizer2* nfd = nullptr;
};

const Normalizers& GetNormalizers() {
  static const Normalizers n = [] {
    Normalizers r;
    UErrorCode st = U_ZERO_ERROR;
    r.nfkc = icu::Normalizer2::getNFKCInstance(st);
    CHUQU_CHECK(U_SUCCESS(st));
    r.nfd = icu::Normalizer2::getNFDInstance(st);
    CHUQU_CHECK(U_SUCCESS(st));
    return r;
  }();
  return n;
}

Status InvalidUtf8(std::string_view what) {
  return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
}

Status CheckUtf8(std::string_view s, std::string_view what) {
  if (!IsValidUtf8(s)) return InvalidUtf8(what);
  return Status::Ok();
}

// The 7 line breaks text_clean keeps (options.py text_newlines).
bool IsKeptNewline(char32_t c) {
  return c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x85 || c == 0x2028 || c == 0x2029;
}

// Python str.splitlines() boundaries (the 0x1C..0x1E separators were already removed).
bool IsLineBreak(char32_t c) { return IsKeptNewline(c) || (c >= 0x1C && c <= 0x1E); }

std::u32string ToU32(const icu::UnicodeString& s) {
  std::u32string out;
  out.reserve(static_cast<size_t>(s.length()));
  const char16_t* p = s.getBuffer();
  const int32_t n = s.length();
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(p, i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

std::string ToUtf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char32_t c : s) AppendUtf8(c, &out);
  return out;
}

}  // namespace

Result<std::string> TextClean(std::string_view utf8) {
  CHUQU_RETURN_IF_ERROR(CheckUtf8(utf8, "text"));
  UErrorCode st = U_ZERO_ERROR;
  const icu::UnicodeString nfkc = GetNormalizers().nfkc->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size()))), st);
  if (U_FAILURE(st)) return Status::Internal("ICU NFKC normalisation failed");
  // Drop categories C* (incl. Cn unassigned) except newlines.
  std::u32string text;
  for (const char32_t c : ToU32(nfkc)) {
    if ((U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_C_MASK) && !IsKeptNewline(c)) continue;
    text.push_back(c);
  }
  // splitlines(); keep at most one consecutive whitespace-only line (as "").
  std::u32string out;
  bool have_line = false;
  int blank_run = 0;
  auto emit = [&](std::u32string_view line) {
    if (have_line) out.push_back(U'\n');
    out.append(line);
    have_line = true;
  };
  size_t i = 0;
  while (i < text.size()) {
    size_t e = i;
    while (e < text.size() && !IsLineBreak(text[e])) ++e;
    const std::u32string_view line(text.data() + i, e - i);
    if (PyStrip(line).empty()) {
      if (blank_run < 1) emit(U"");
      ++blank_run;  // stays >= 1 until a content line
    } else {
      emit(line);
      blank_run = 0;
    }
    if (e < text.size()) {
      if (text[e] == U'\r' && e + 1 < text.size() && text[e + 1] == U'\n') ++e;
      ++e;
    }
    i = e;
  }
  return ToUtf8(PyStrip(out));
}

std::string TextRemoveNewlines(std::string_view utf8) {
  std::u32string cps;
  CHUQU_CHECK(DecodeUtf8(utf8, &cps));
  std::u32string out;
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && IsPythonSpace(cps[i])) ++i;
    if (i == cps.size()) break;
    if (!out.empty()) out.push_back(U' ');
    while (i < cps.size() && !IsPythonSpace(cps[i])) out.push_back(cps[i++]);
  }
  return ToUtf8(out);
}

namespace {

// Drop whitespace (all Python whitespace is Z* or C*) and categories C*, M*, P*.
constexpr uint32_t kCollapseDrop = U_GC_C_MASK | U_GC_M_MASK | U_GC_P_MASK | U_GC_Z_MASK;

bool Dropped(UChar32 c) { return (U_GET_GC_MASK(c) & kCollapseDrop) != 0; }

Result<std::string> Nfkc(std::string_view utf8) {
  UErrorCode st = U_ZERO_ERROR;
  std::string out;
  out.reserve(utf8.size());
  icu::StringByteSink<std::string> sink(&out);
  GetNormalizers().nfkc->normalizeUTF8(0, icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())),
                                       sink, nullptr, st);
  if (U_FAILURE(st)) return Status::Internal("ICU NFKC normalisation failed");
  return out;
}

// filter(lower(NFD(text))) with ICU, the steps of text_collapse before the final NFKC.
// REQUIRES: valid UTF-8.
Result<std::string> CollapseBeforeNfkc(std::string_view utf8) {
  UErrorCode st = U_ZERO_ERROR;
  std::string nfd;
  nfd.reserve(utf8.size() + utf8.size() / 4);
  {
    icu::StringByteSink<std::string> sink(&nfd);
    GetNormalizers().nfd->normalizeUTF8(0, icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())),
                                        sink, nullptr, st);
  }
  if (U_FAILURE(st)) return Status::Internal("ICU NFD normalisation failed");
  // Python str.lower(): full lower-case mapping incl. SpecialCasing and Final_Sigma
  // (ICU root locale, language-independent).
  std::string lower;
  lower.reserve(nfd.size() + nfd.size() / 8);
  {
    icu::StringByteSink<std::string> sink(&lower);
    icu::CaseMap::utf8ToLower("", 0, icu::StringPiece(nfd.data(), static_cast<int32_t>(nfd.size())), sink,
                              nullptr, st);
  }
  if (U_FAILURE(st)) return Status::Internal("ICU lower-casing failed");
  // Same decision as Dropped() for the BMP as a table (u_charType is an out-of-line call).
  static const std::vector<bool> kBmpDrop = [] {
    std::vector<bool> t(0x10000);
    for (UChar32 c = 0; c < 0x10000; ++c) t[static_cast<size_t>(c)] = Dropped(c);
    return t;
  }();
  std::string kept(lower.size(), '\0');
  size_t kept_len = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(lower.data());
  const int32_t n = static_cast<int32_t>(lower.size());
  for (int32_t i = 0; i < n;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0 || (c < 0x10000 ? kBmpDrop[static_cast<size_t>(c)] : Dropped(c))) continue;
    for (int32_t k = start; k < i; ++k) kept[kept_len++] = static_cast<char>(p[k]);
  }
  kept.resize(kept_len);
  return kept;
}

// Per-code-point form of filter(lower(NFD(.))) for the BMP. Exact when a text has no
// code point marked `contextual`: NFD decomposes each code point on its own and only
// reorders non-starters (ccc != 0); root-locale lower-casing is per code point except
// Final_Sigma (U+03A3); the filter is per code point. So a code point is contextual if its
// NFD contains U+03A3 or a non-starter that survives lower+filter (whose order could
// then matter). Surrogates never occur in valid UTF-8.
struct CollapseTable {
  std::vector<uint32_t> offset;  // 0x10001 entries into `bytes`
  std::string bytes;
  std::vector<bool> contextual;

  CollapseTable() : offset(0x10001), contextual(0x10000) {
    for (UChar32 c = 0; c < 0x10000; ++c) {
      offset[static_cast<size_t>(c)] = static_cast<uint32_t>(bytes.size());
      if (U_IS_SURROGATE(c)) continue;
      std::string one;
      AppendUtf8(static_cast<char32_t>(c), &one);
      auto collapsed = CollapseBeforeNfkc(one);
      CHUQU_CHECK(collapsed.ok());
      bytes += *collapsed;
      UErrorCode st = U_ZERO_ERROR;
      const icu::UnicodeString nfd = GetNormalizers().nfd->normalize(icu::UnicodeString(c), st);
      CHUQU_CHECK(U_SUCCESS(st));
      for (int32_t i = 0; i < nfd.length();) {
        const UChar32 d = nfd.char32At(i);
        i += U16_LENGTH(d);
        bool ctx = d == 0x03A3;
        if (!ctx && u_getCombiningClass(d) != 0) {
          std::string d8;
          AppendUtf8(static_cast<char32_t>(d), &d8);
          auto dc = CollapseBeforeNfkc(d8);
          ctx = !dc.ok() || !dc->empty();
        }
        if (ctx) contextual[static_cast<size_t>(c)] = true;
      }
    }
    offset[0x10000] = static_cast<uint32_t>(bytes.size());
  }
};

const CollapseTable& GetCollapseTable() {
  static const CollapseTable t;
  return t;
}

}  // namespace

Result<std::string> TextCollapseReference(std::string_view utf8) {
  CHUQU_RETURN_IF_ERROR(CheckUtf8(utf8, "text"));
  CHUQU_ASSIGN_OR_RETURN(std::string kept, CollapseBeforeNfkc(utf8));
  return Nfkc(kept);
}

Result<std::string> TextCollapse(std::string_view utf8) {
  // Pure ASCII (the common case) is its own NFD and NFKC, and lower() is ASCII
  // lower-casing, so only the category filter remains; categories still come from ICU.
  static const std::array<bool, 128> kAsciiDrop = [] {
    std::array<bool, 128> t{};
    for (UChar32 c = 0; c < 128; ++c) t[static_cast<size_t>(c)] = Dropped(c);
    return t;
  }();
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out;
    out.reserve(utf8.size());
    for (const char ch : utf8) {
      const char c = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + ('a' - 'A')) : ch;
      if (!kAsciiDrop[static_cast<unsigned char>(c)]) out.push_back(c);
    }
    return out;
  }
  CHUQU_RETURN_IF_ERROR(CheckUtf8(utf8, "text"));
  // Table lookups per code point, then one NFKC pass. filter(lower(NFD(.))) distributes
  // over a split at an ASCII whitespace character (a starter without decomposition that is
  // neither cased nor case-ignorable, so neither reordering nor Final_Sigma looks across
  // it, and the filter drops it); a word holding a contextual or supplementary code point
  // is therefore computed on its own with ICU.
  const CollapseTable& table = GetCollapseTable();
  std::string kept;
  kept.reserve(utf8.size());
  const auto* p = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t n = static_cast<int32_t>(utf8.size());
  int32_t word_start = 0;        // input offset after the last ASCII whitespace
  size_t word_start_kept = 0;    // kept.size() at that point
  auto is_space = [](uint8_t b) { return b == ' ' || (b >= 0x09 && b <= 0x0D); };
  for (int32_t i = 0; i < n;) {
    if (is_space(p[i])) {
      ++i;
      word_start = i;
      word_start_kept = kept.size();
      continue;
    }
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c >= 0 && c < 0x10000 && !table.contextual[static_cast<size_t>(c)]) {
      const uint32_t b = table.offset[static_cast<size_t>(c)], e = table.offset[static_cast<size_t>(c) + 1];
      kept.append(table.bytes, b, e - b);
      continue;
    }
    int32_t word_end = i;
    while (word_end < n && !is_space(p[word_end])) ++word_end;
    kept.resize(word_start_kept);
    CHUQU_ASSIGN_OR_RETURN(
        std::string word,
        CollapseBeforeNfkc(utf8.substr(static_cast<size_t>(word_start), static_cast<size_t>(word_end - word_start))));
    kept += word;
    i = word_end;
  }
  return Nfkc(kept);
}

}  // namespace iscc_internal

Result<std::string> IsccTextClean(std::string_view utf8) { return iscc_internal::TextClean(utf8); }

Result<std::string> IsccTextCollapse(std::string_view utf8) { return iscc_internal::TextCollapse(utf8); }

}  // namespace chuqu
