// Deterministic English-like test text: `words` words from an 18-word vocabulary, a full stop
// every 12 words. The same seed gives the same text on every platform (std::mt19937 is
// specified). Test support only.
#pragma once

#include <cstdint>
#include <iterator>
#include <random>
#include <string>

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

}  // namespace chuqu::testing
