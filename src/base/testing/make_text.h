// Deterministic test texts. English-like: `words` words from an 18-word vocabulary, a full stop
// every 12 words. The same seed gives the same text on every platform (std::mt19937 is
// specified). Test support only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

namespace chuqu::testing {

inline std::string MakeText(uint32_t seed, int words) {
  static const char* kVocab[] = {"river",   "stone",   "light",   "garden", "winter", "paper",
                                 "signal",  "harbour", "lantern", "orchard", "copper", "meadow",
                                 "thunder", "silver",  "canyon",  "window", "falcon", "ember"};
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i) out += (i % 12 == 11) ? ". " : " ";
    out += kVocab[rng() % std::size(kVocab)];
  }
  return out + ".\n";
}

// Deterministic Chinese prose (UTF-8): `sentences` sentences of 8 two-character words from a
// 14-word vocabulary, a full stop and line break after every third.
inline std::string MakeChinese(uint32_t seed, int sentences) {
  static const char* kWords[] = {"春天", "河流", "山峰", "城市", "灯火", "书页", "秋风",
                                 "港口", "森林", "星辰", "故事", "花园", "记忆", "远方"};
  std::mt19937 rng(seed);
  std::string out;
  for (int s = 0; s < sentences; ++s) {
    for (int w = 0; w < 8; ++w) out += kWords[rng() % std::size(kWords)];
    out += s % 3 == 2 ? "。\n" : "，";
  }
  return out;
}

// UTF-8 -> ISO-8859-1, for test texts whose code points are all below U+0100 (no checks: a
// longer sequence would be garbled).
inline std::string Latin1(std::string_view utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80 || i + 1 == utf8.size()) {
      out += utf8[i];
    } else {
      const auto b1 = static_cast<unsigned char>(utf8[++i]);
      out += static_cast<char>(((b & 0x03) << 6) | (b1 & 0x3F));
    }
  }
  return out;
}

}  // namespace chuqu::testing
