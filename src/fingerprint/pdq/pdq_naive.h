// A deliberately plain, scalar transcription of the reference PDQ pipeline (notes §1.2):
// one running-sum box filter per row and per column, full decimation, element-by-element
// DCT sums and Torben's median. It is the test oracle for the fast PdqHasher and the
// "naive" baseline in bench/pdq_bench.cc; never used on a hot path.
#pragma once

#include "fingerprint/pdq/pdq_hasher.h"

namespace chuqu::pdq::naive {

// REQUIRES: a valid view (the fast hasher validates; this oracle does not).
PdqResult HashRgb(const RgbView& image);
PdqDihedralResult HashRgbDihedral(const RgbView& image);
PdqResult HashLuma(const LumaView& luma);
PdqDihedralResult HashLumaDihedral(const LumaView& luma);

// Torben's median (reference hashing/torben.cpp semantics).
float TorbenMedian(const float* values, int n);

}  // namespace chuqu::pdq::naive
