// Region proposals for video copy detection: where, in a query's frames, a registered video
// may sit whole. Pure functions over 8-bit luma frames (no decoding here); used by
// ExtractVideoFingerprint (av_fingerprint.h) to add query views (index::VideoView).
//
// Picture-in-picture insets: an overlaid video is a fixed rectangle whose four sides are
// sharp luma steps at the same place in every frame, while the content on both sides changes
// independently. FindInsets accumulates, per pixel boundary, the share of frames with a
// local-maximum step of at least `min_step` grey levels (a persistence map), then scores every
// rectangle spanned by the strongest vertical and horizontal lines by the mean persistence of
// its weakest side. The frame borders count as lines, so a picture between letterbox or
// pillarbox bars, or an inset flush with an edge, is found too (at least two measured sides;
// rectangles with more measured sides rank first).
//
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "index/video_matcher.h"

namespace chuqu::media {

// A borrowed 8-bit luma frame, row-major, no padding.
struct LumaFrame {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
};

struct InsetOptions {
  int max_insets = 4;
  int min_step = 10;            // grey levels across a side
  double min_side_score = 0.35;  // mean persistence of the weakest side, 0..1
  double min_size = 0.15;       // inset width and height, fractions of the frame
  double max_size = 0.9;
  int line_candidates = 12;     // strongest lines per direction combined into rectangles
};

// Rectangles (fractions of the frame) ranked by measured sides then score, at most
// max_insets, none overlapping
// another by more than 60 % (intersection over union). Empty when no frame is given, the
// frames differ in size, or a frame is smaller than 16x16.
std::vector<index::VideoRegion> FindInsets(std::span<const LumaFrame> frames,
                                           const InsetOptions& options = {});

}  // namespace chuqu::media
