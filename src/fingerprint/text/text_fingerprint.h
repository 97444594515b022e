// Text fingerprints for partial-copy detection (docs: shared/notes/text-copy-detection.md
// §2.1, §2.4): normalisation to a token sequence that remembers original code-point
// offsets, and winnowed k-gram fingerprints (Schleimer, Wilkerson & Aiken, SIGMOD 2003).
//
// Normalisation, applied per code point so every token maps back to an exact range of the
// ORIGINAL text (offsets are Unicode code points, as in PAN and shared/data/text):
//   NFKC + case folding (ICU NFKC_Casefold: full/half width, compatibility forms),
//   drop categories P (punctuation), S (symbols), Z (separators), C (controls), M (marks),
//   traditional -> simplified with OpenCC t2s applied character by character (context-free,
//   so offsets stay 1:1 and query and work are folded identically).
// Tokens: each ideographic / kana / hangul / Thai-like character is one token; a maximal
// run of other letters and digits (a Latin word, a number) is one token, so English is
// matched on words and Chinese on characters.
//
// Thread-safety: pure functions; the first call builds immutable tables once (thread-safe).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::text {

struct NormalizedText {
  // One value per token: a CJK-like token is its (folded) code point; a word token is a
  // 31-bit hash of its folded letters with bit 31 set (never equal to a code point).
  std::vector<uint32_t> tokens;
  // Original code-point range [begin[i], end[i]) that produced tokens[i]. Ranges are
  // non-decreasing and never overlap partially: tokens from one code point that expands to
  // several (U+3340 ㍀ -> ポンド) share that code point's range; otherwise disjoint.
  std::vector<uint32_t> begin;
  std::vector<uint32_t> end;
  uint32_t original_length = 0;  // code points in the original text

  size_t size() const { return tokens.size(); }
};

// InvalidArgument on invalid UTF-8 (overlong forms, surrogates, > U+10FFFF, truncation),
// ResourceExhausted above 2^31 bytes.
Result<NormalizedText> Normalize(std::string_view utf8);

// The folded form of the text as UTF-8 (word tokens keep their folded letters, separated by
// one space; other tokens are concatenated). For tests, debugging and exact-hash baselines.
Result<std::string> NormalizeToString(std::string_view utf8);

struct WinnowOptions {
  // k-gram length in tokens (noise threshold: nothing shorter is ever matched).
  int k = 8;
  // Window of consecutive k-gram hashes; any shared run of >= w + k - 1 tokens shares at
  // least one fingerprint. Density ~ 2 / (w + 1).
  int w = 4;
};

// One selected k-gram: enough to index and to report spans without the text.
struct TextFingerprint {
  uint64_t hash = 0;      // hash of the k tokens
  uint32_t position = 0;  // index of the first token in the normalised sequence
  uint32_t begin = 0;     // original code-point offset of the first token
  uint32_t end = 0;       // original code-point offset one past the last token

  bool operator==(const TextFingerprint&) const = default;
};

// Fingerprints of one text: all a registry has to keep to index a work.
struct TextFingerprints {
  WinnowOptions options;
  uint32_t num_tokens = 0;       // normalised length
  uint32_t original_length = 0;  // code points of the original
  std::vector<TextFingerprint> fingerprints;  // increasing position

  bool operator==(const TextFingerprints& o) const {
    return options.k == o.options.k && options.w == o.options.w &&
           num_tokens == o.num_tokens && original_length == o.original_length &&
           fingerprints == o.fingerprints;
  }
};

// Hash of every k-gram (k-gram i starts at token i); empty if fewer than k tokens.
// REQUIRES: k >= 1.
std::vector<uint64_t> KGramHashes(std::span<const uint32_t> tokens, int k);

// Winnowing with robust tie-breaking (rightmost minimum in each window of w hashes; a
// position is emitted once). A text with k..k+w-2 tokens yields its minimum k-gram; a text
// shorter than k tokens yields none. InvalidArgument unless 1 <= k <= 64, 1 <= w <= 256.
Result<TextFingerprints> Winnow(const NormalizedText& text, const WinnowOptions& options);

// Normalize + Winnow.
Result<TextFingerprints> FingerprintText(std::string_view utf8, const WinnowOptions& options);

// Compact binary form for storage ("CQTF" v1, little-endian; see text_fingerprint.cc).
std::string EncodeFingerprints(const TextFingerprints& fps);
// Corruption on anything EncodeFingerprints could not have produced.
Result<TextFingerprints> DecodeFingerprints(std::string_view bytes);

}  // namespace chuqu::text
