#include "media/video_regions.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

namespace chuqu::media {
namespace {

struct Line {
  int pos;       // boundary index: the step lies between pos - 1 and pos
  double score;  // best mean persistence over a run of the minimum side length
};

// Counts, per pixel boundary, the frames with a step of at least `min_step` that is a local
// maximum across the boundary. Vertical boundaries: vcount[y * w + x] is the step between
// (x - 1, y) and (x, y); horizontal: hcount[y * w + x] between (x, y - 1) and (x, y).
void CountSteps(std::span<const LumaFrame> frames, int min_step, std::vector<int>& vcount,
                std::vector<int>& hcount) {
  const int w = frames[0].width, h = frames[0].height;
  vcount.assign(static_cast<size_t>(w) * h, 0);
  hcount.assign(static_cast<size_t>(w) * h, 0);
  std::vector<int> up(w), mid(w), down(w), step(w + 1);
  for (const LumaFrame& f : frames) {
    auto row = [&](int y) { return f.data + static_cast<size_t>(y) * w; };
    for (int y = 0; y < h; ++y) {
      const uint8_t* r = row(y);
      step[0] = step[w] = 0;
      for (int x = 1; x < w; ++x) step[x] = std::abs(r[x] - r[x - 1]);
      int* vc = &vcount[static_cast<size_t>(y) * w];
      for (int x = 1; x < w; ++x) {
        const int s = step[x];
        if (s >= min_step && s >= step[x - 1] && s >= step[x + 1]) ++vc[x];
      }
    }
    // Horizontal steps of rows y - 1 | y (mid), with the neighbours above and below.
    auto fill = [&](std::vector<int>& out, int y) {
      if (y < 1 || y >= h) {
        std::fill(out.begin(), out.end(), 0);
        return;
      }
      const uint8_t* a = row(y - 1);
      const uint8_t* b = row(y);
      for (int x = 0; x < w; ++x) out[x] = std::abs(b[x] - a[x]);
    };
    fill(up, 0);
    fill(mid, 1);
    for (int y = 1; y < h; ++y) {
      fill(down, y + 1);
      int* hc = &hcount[static_cast<size_t>(y) * w];
      for (int x = 0; x < w; ++x) {
        const int s = mid[x];
        if (s >= min_step && s >= up[x] && s >= down[x]) ++hc[x];
      }
      std::swap(up, mid);
      std::swap(mid, down);
    }
  }
}

// Prefix sums of persistence along each boundary line, smoothed over +-1 boundary (a side
// blurred by scaling or compression peaks on either side of the true boundary from frame to
// frame). count(i, b) is the count at position i along the line of boundary b, for
// b in [1, across); result [b * (along + 1) + i] = sum_{i' < i} persistence(i', b).
template <typename CountFn>
std::vector<float> PersistencePrefix(int along, int across, int frames, CountFn count) {
  std::vector<float> prefix(static_cast<size_t>(across + 1) * (along + 1), 0.0f);
  const float inv = 1.0f / static_cast<float>(frames);
  for (int b = 1; b < across; ++b) {
    float* p = &prefix[static_cast<size_t>(b) * (along + 1)];
    for (int i = 0; i < along; ++i) {
      int c = count(i, b);
      if (b > 1) c = std::max(c, count(i, b - 1));
      if (b + 1 < across) c = std::max(c, count(i, b + 1));
      p[i + 1] = p[i] + static_cast<float>(c) * inv;
    }
  }
  return prefix;
}

double Mean(const std::vector<float>& prefix, int along, int b, int from, int to) {
  const float* p = &prefix[static_cast<size_t>(b) * (along + 1)];
  return (p[to] - p[from]) / static_cast<double>(to - from);
}

// The strongest boundaries, at least 4 apart, each scored by its best run of `run` positions.
std::vector<Line> StrongLines(const std::vector<float>& prefix, int along, int across, int run,
                              const InsetOptions& options) {
  std::vector<Line> all;
  for (int b = 2; b + 1 < across; ++b) {
    double best = 0;
    for (int i = 0; i + run <= along; ++i) best = std::max(best, Mean(prefix, along, b, i, i + run));
    if (best >= options.min_side_score) all.push_back({b, best});
  }
  std::sort(all.begin(), all.end(), [](const Line& a, const Line& b) {
    return a.score != b.score ? a.score > b.score : a.pos < b.pos;
  });
  std::vector<Line> out;
  for (const Line& l : all) {
    if (static_cast<int>(out.size()) >= options.line_candidates) break;
    bool near = false;
    for (const Line& o : out) near = near || std::abs(o.pos - l.pos) < 4;
    if (!near) out.push_back(l);
  }
  std::sort(out.begin(), out.end(), [](const Line& a, const Line& b) { return a.pos < b.pos; });
  return out;
}

struct Rect {
  int x0, y0, x1, y1;
  double score;
  int measured;  // sides that are not the frame border
};

double Iou(const Rect& a, const Rect& b) {
  const int w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const int h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const double inter = static_cast<double>(w) * h;
  const double area_a = static_cast<double>(a.x1 - a.x0) * (a.y1 - a.y0);
  const double area_b = static_cast<double>(b.x1 - b.x0) * (b.y1 - b.y0);
  return inter / (area_a + area_b - inter);
}

}  // namespace

std::vector<index::VideoRegion> FindInsets(std::span<const LumaFrame> frames,
                                           const InsetOptions& options) {
  std::vector<index::VideoRegion> out;
  if (frames.empty() || options.max_insets <= 0) return out;
  const int w = frames[0].width, h = frames[0].height;
  if (w < 16 || h < 16) return out;
  for (const LumaFrame& f : frames) {
    if (f.width != w || f.height != h || f.data == nullptr) return out;
  }
  const int n = static_cast<int>(frames.size());
  std::vector<int> vcount, hcount;
  CountSteps(frames, options.min_step, vcount, hcount);
  // Vertical sides: lines along y, boundaries across x.
  const std::vector<float> vertical = PersistencePrefix(
      h, w, n, [&](int y, int x) { return vcount[static_cast<size_t>(y) * w + x]; });
  // Horizontal sides: lines along x, boundaries across y.
  const std::vector<float> horizontal = PersistencePrefix(
      w, h, n, [&](int x, int y) { return hcount[static_cast<size_t>(y) * w + x]; });

  const int min_w = std::max(8, static_cast<int>(options.min_size * w));
  const int min_h = std::max(8, static_cast<int>(options.min_size * h));
  const int max_w = static_cast<int>(options.max_size * w);
  const int max_h = static_cast<int>(options.max_size * h);
  // The frame's borders close a picture that spans the whole width or height (letterbox or
  // pillarbox bars, an inset flush with an edge); such a side has no step to measure.
  std::vector<Line> columns = StrongLines(vertical, h, w, min_h, options);
  std::vector<Line> rows = StrongLines(horizontal, w, h, min_w, options);
  columns.insert(columns.begin(), Line{0, 1.0});
  columns.push_back(Line{w, 1.0});
  rows.insert(rows.begin(), Line{0, 1.0});
  rows.push_back(Line{h, 1.0});

  std::vector<Rect> rects;
  for (size_t a = 0; a < columns.size(); ++a) {
    for (size_t b = a + 1; b < columns.size(); ++b) {
      const int x0 = columns[a].pos, x1 = columns[b].pos;
      if (x1 - x0 < min_w) continue;
      for (size_t c = 0; c < rows.size(); ++c) {
        for (size_t d = c + 1; d < rows.size(); ++d) {
          const int y0 = rows[c].pos, y1 = rows[d].pos;
          if (y1 - y0 < min_h || (x1 - x0 > max_w && y1 - y0 > max_h)) continue;
          // Score = the weakest measured side; at least two sides must be measured.
          double score = 1;
          int measured = 0;
          auto side = [&](bool border, double mean) {
            if (border) return;
            ++measured;
            score = std::min(score, mean);
          };
          side(x0 == 0, x0 == 0 ? 0 : Mean(vertical, h, x0, y0, y1));
          side(x1 == w, x1 == w ? 0 : Mean(vertical, h, x1, y0, y1));
          side(y0 == 0, y0 == 0 ? 0 : Mean(horizontal, w, y0, x0, x1));
          side(y1 == h, y1 == h ? 0 : Mean(horizontal, w, y1, x0, x1));
          if (measured >= 2 && score >= options.min_side_score) {
            rects.push_back({x0, y0, x1, y1, score, measured});
          }
        }
      }
    }
  }
  // More measured sides first (an inset near a border must not lose to the rectangle that
  // takes the border for its side), then by score.
  std::sort(rects.begin(), rects.end(), [](const Rect& a, const Rect& b) {
    if (a.measured != b.measured) return a.measured > b.measured;
    if (a.score != b.score) return a.score > b.score;
    return std::tie(a.x0, a.y0, a.x1, a.y1) < std::tie(b.x0, b.y0, b.x1, b.y1);
  });
  std::vector<Rect> kept;
  for (const Rect& r : rects) {
    if (static_cast<int>(kept.size()) >= options.max_insets) break;
    bool overlaps = false;
    for (const Rect& k : kept) overlaps = overlaps || Iou(k, r) > 0.6;
    if (!overlaps) kept.push_back(r);
  }
  for (const Rect& r : kept) {
    out.push_back({static_cast<float>(r.x0) / w, static_cast<float>(r.y0) / h,
                   static_cast<float>(r.x1 - r.x0) / w, static_cast<float>(r.y1 - r.y0) / h});
  }
  return out;
}

}  // namespace chuqu::media
