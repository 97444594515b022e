// Normalisation tables: built once from ICU (NFKC_Casefold, general categories, scripts) and
// OpenCC (t2s), then applied per code point. See text_fingerprint.h for the contract.
#include <opencc.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/utf8.h"
#include "fingerprint/text/text_fingerprint.h"

namespace chuqu::text {
namespace {

// Table entry for one BMP code point.
constexpr uint32_t kSeparator = 0;         // dropped; ends a word
constexpr uint32_t kSilent = 1u << 28;     // dropped without ending a word (marks, Cf)
constexpr uint32_t kWordFlag = 1u << 29;   // | folded code point: part of a word token
constexpr uint32_t kIdeoFlag = 1u << 30;   // | folded code point: a token by itself
constexpr uint32_t kMulti = 1u << 31;      // folds to several code points: slow path
constexpr uint32_t kCodeMask = 0x1FFFFF;

bool IsIdeographicLike(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC)) return true;
  UErrorCode st = U_ZERO_ERROR;
  const UScriptCode s = uscript_getScript(c, &st);
  if (U_FAILURE(st)) return false;
  switch (s) {
    case USCRIPT_HAN: case USCRIPT_HIRAGANA: case USCRIPT_KATAKANA: case USCRIPT_HANGUL:
    case USCRIPT_BOPOMOFO: case USCRIPT_THAI: case USCRIPT_LAO: case USCRIPT_KHMER:
    case USCRIPT_MYANMAR: case USCRIPT_YI:
      return true;
    default:
      return false;
  }
}

// Category decision for a folded code point (before t2s).
uint32_t Classify(UChar32 c) {
  const int8_t t = u_charType(c);
  switch (t) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER: case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      return IsIdeographicLike(c) ? kIdeoFlag : kWordFlag;
    case U_NON_SPACING_MARK: case U_ENCLOSING_MARK: case U_COMBINING_SPACING_MARK:
    case U_FORMAT_CHAR:
      return kSilent;
    default:
      return kSeparator;
  }
}

struct Tables {
  Status status;                 // FailedPrecondition if OpenCC data is missing
  std::vector<uint32_t> bmp;     // 65536 entries
  std::unordered_map<uint32_t, uint32_t> t2s;  // traditional -> simplified, single chars
  const icu::Normalizer2* nfkc_cf = nullptr;

  uint32_t ToSimplified(uint32_t c) const {
    auto it = t2s.find(c);
    return it == t2s.end() ? c : it->second;
  }

  // Folded (code point | flag) outputs of one code point; kSilent / kSeparator when none.
  void Fold(UChar32 c, std::vector<uint32_t>* out) const {
    out->clear();
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString src(c);
    icu::UnicodeString dst = nfkc_cf->normalize(src, st);
    if (U_FAILURE(st)) return;
    bool any_sep = false;
    for (int32_t i = 0; i < dst.length();) {
      const UChar32 d = dst.char32At(i);
      i += U16_LENGTH(d);
      const uint32_t cls = Classify(d);
      if (cls == kWordFlag || cls == kIdeoFlag) {
        out->push_back(ToSimplified(static_cast<uint32_t>(d)) | cls);
      } else if (cls == kSeparator) {
        any_sep = true;
      }
    }
    if (out->empty()) out->push_back(any_sep ? kSeparator : kSilent);
  }
};

std::unique_ptr<Tables> BuildTables() {
  auto t = std::make_unique<Tables>();
  UErrorCode st = U_ZERO_ERROR;
  t->nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(st);
  CHUQU_CHECK(U_SUCCESS(st) && t->nfkc_cf != nullptr);

  // t2s, one character per line so OpenCC's phrase matching never spans two characters.
  std::vector<uint32_t> han;
  for (uint32_t c = 0x2E80; c < 0x32000; ++c) {
    if (c >= 0xA000 && c < 0xF900) continue;
    if (c >= 0xFB00 && c < 0x20000) continue;
    if (u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_IDEOGRAPHIC)) han.push_back(c);
  }
  std::string joined;
  joined.reserve(han.size() * 5);
  for (uint32_t c : han) {
    icu::UnicodeString u(static_cast<UChar32>(c));
    u.toUTF8String(joined);
    joined.push_back('\n');
  }
  opencc_t cc = opencc_open("t2s.json");
  if (cc == reinterpret_cast<opencc_t>(-1)) {
    cc = opencc_open("/usr/share/opencc/t2s.json");
  }
  if (cc == reinterpret_cast<opencc_t>(-1)) {
    t->status = Status::FailedPrecondition(
        "OpenCC t2s.json not found (install the Debian package libopencc-data)");
  } else {
    char* converted = opencc_convert_utf8(cc, joined.data(), joined.size());
    if (converted != nullptr) {
      icu::UnicodeString out = icu::UnicodeString::fromUTF8(converted);
      opencc_convert_utf8_free(converted);
      size_t line = 0;
      std::vector<UChar32> cur;
      for (int32_t i = 0; i < out.length() && line < han.size();) {
        const UChar32 d = out.char32At(i);
        i += U16_LENGTH(d);
        if (d == '\n') {
          if (cur.size() == 1 && static_cast<uint32_t>(cur[0]) != han[line]) {
            t->t2s[han[line]] = static_cast<uint32_t>(cur[0]);
          }
          cur.clear();
          ++line;
        } else {
          cur.push_back(d);
        }
      }
      if (line != han.size()) {
        t->t2s.clear();
        t->status = Status::Internal("OpenCC t2s changed the line structure of the table");
      }
    } else {
      t->status = Status::Internal("OpenCC t2s conversion failed");
    }
    opencc_close(cc);
  }

  t->bmp.assign(0x10000, kSeparator);
  std::vector<uint32_t> folded;
  for (uint32_t c = 0; c < 0x10000; ++c) {
    if (c >= 0xD800 && c < 0xE000) continue;
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') t->bmp[c] = (c + 32) | kWordFlag;
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) t->bmp[c] = c | kWordFlag;
      continue;
    }
    t->Fold(static_cast<UChar32>(c), &folded);
    t->bmp[c] = folded.size() == 1 ? folded[0] : kMulti;
  }
  return t;
}

const Tables& GetTables() {
  static const std::unique_ptr<Tables> tables = BuildTables();
  return *tables;
}

uint32_t WordToken(uint32_t h) { return (h & 0x7FFFFFFFu) | 0x80000000u; }

// The one normalisation pass; `folded` (optional) receives the folded text.
Status NormalizeImpl(std::string_view utf8, NormalizedText* out, std::string* folded) {
  const Tables& t = GetTables();
  if (!t.status.ok()) return t.status;
  if (utf8.size() > (size_t{1} << 31)) {
    return Status::ResourceExhausted("text longer than 2 GiB");
  }
  out->tokens.clear();
  out->begin.clear();
  out->end.clear();
  out->tokens.reserve(utf8.size() / 2);
  out->begin.reserve(utf8.size() / 2);
  out->end.reserve(utf8.size() / 2);

  bool in_word = false;
  uint32_t word_hash = 0;
  uint32_t word_begin = 0;
  uint32_t word_end = 0;
  auto close_word = [&] {
    if (!in_word) return;
    out->tokens.push_back(WordToken(word_hash));
    out->begin.push_back(word_begin);
    out->end.push_back(word_end);
    if (folded != nullptr) folded->push_back(' ');
    in_word = false;
  };
  auto append = [&](char32_t c) {
    if (folded == nullptr) return;
    icu::UnicodeString u(static_cast<UChar32>(c));
    u.toUTF8String(*folded);
  };
  std::vector<uint32_t> multi;
  uint32_t index = 0;  // original code-point offset
  for (size_t i = 0; i < utf8.size(); ++index) {
    char32_t cp;
    if (!NextUtf8(utf8, &i, &cp)) {
      return Status::InvalidArgument("text is not valid UTF-8 (byte " + std::to_string(i) + ")");
    }
    const uint32_t* outs;
    size_t n_outs = 1;
    uint32_t single;
    if (cp < 0x10000 && t.bmp[cp] != kMulti) {
      single = t.bmp[cp];
      outs = &single;
    } else {
      t.Fold(static_cast<UChar32>(cp), &multi);
      outs = multi.data();
      n_outs = multi.size();
      // An expansion holding an ideographic token (U+336C -> "20点") starts its own tokens,
      // so a word before it never overlaps the tokens sharing this code point's range.
      if (n_outs > 1 && std::any_of(multi.begin(), multi.end(),
                                    [](uint32_t e) { return (e & kIdeoFlag) != 0; })) {
        close_word();
      }
    }
    for (size_t j = 0; j < n_outs; ++j) {
      const uint32_t e = outs[j];
      if (e == kSilent) {
        if (in_word) word_end = index + 1;
        continue;
      }
      if (e == kSeparator) {
        close_word();
        continue;
      }
      const uint32_t c = e & kCodeMask;
      if (e & kIdeoFlag) {
        close_word();
        out->tokens.push_back(c);
        out->begin.push_back(index);
        out->end.push_back(index + 1);
        append(c);
      } else {
        if (!in_word) {
          in_word = true;
          word_hash = 2166136261u;  // FNV-1a
          word_begin = index;
          if (folded != nullptr && !folded->empty() && folded->back() != ' ') {
            folded->push_back(' ');
          }
        }
        word_hash = (word_hash ^ c) * 16777619u;
        word_end = index + 1;
        append(c);
      }
    }
  }
  close_word();
  if (folded != nullptr && !folded->empty() && folded->back() == ' ') folded->pop_back();
  out->original_length = index;
  return Status::Ok();
}

}  // namespace

Result<NormalizedText> Normalize(std::string_view utf8) {
  NormalizedText out;
  Status s = NormalizeImpl(utf8, &out, nullptr);
  if (!s.ok()) return s;
  return out;
}

Result<std::string> NormalizeToString(std::string_view utf8) {
  NormalizedText out;
  std::string folded;
  Status s = NormalizeImpl(utf8, &out, &folded);
  if (!s.ok()) return s;
  return folded;
}

}  // namespace chuqu::text
