#include "fingerprint/vpdq/vpdq.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

namespace chuqu::vpdq {

double ReferenceTimestamp(int frame_number, double fps) {
  return static_cast<double>(static_cast<float>(frame_number) / static_cast<float>(fps));
}

int FrameStep(double seconds_per_hash, double fps) {
  if (!(seconds_per_hash > 0) || !(fps > 0) || !std::isfinite(seconds_per_hash * fps)) return 1;
  const double step = seconds_per_hash * fps;
  if (step >= 2147483647.0) return 2147483647;
  const int s = static_cast<int>(step);
  return s == 0 ? 1 : s;
}

Result<VpdqFeature> VpdqFrameHasher::HashFrame(const pdq::RgbView& frame, int frame_number,
                                               double timestamp) {
  CHUQU_ASSIGN_OR_RETURN(pdq::PdqResult r, hasher_.HashRgb(frame));
  if (r.too_small) {
    return Status::InvalidArgument("frame " + std::to_string(frame_number) + " is " +
                                   std::to_string(frame.width) + "x" +
                                   std::to_string(frame.height) +
                                   ", under the 5-pixel minimum PDQ can hash");
  }
  return VpdqFeature{r.hash, frame_number, r.quality, timestamp};
}

std::string FormatHashLine(const VpdqFeature& f) {
  char ts[64];
  std::snprintf(ts, sizeof(ts), "%.3f", f.timestamp);
  return std::to_string(f.frame_number) + "," + std::to_string(f.quality) + "," + f.hash.Hex() +
         "," + ts;
}

std::string FormatHashFile(std::span<const VpdqFeature> features) {
  std::string out;
  out.reserve(features.size() * 80);
  for (const VpdqFeature& f : features) {
    out += FormatHashLine(f);
    out += '\n';
  }
  return out;
}

namespace {

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool ParseDouble(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

// Longer than any video (31 years); keeps "%.3f" output short.
constexpr double kMaxTimestamp = 1e9;

Status LineError(size_t line, const std::string& what) {
  return Status::InvalidArgument("vPDQ hash file line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<std::vector<VpdqFeature>> ParseHashFile(std::string_view text) {
  std::vector<VpdqFeature> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view fields[4];
    size_t n = 0;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      if (n == 4) return LineError(line_no, "more than 4 comma-separated fields");
      fields[n++] = line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (n != 4) {
      return LineError(line_no, "expected frameNumber,quality,hash,timestamp; got " +
                                    std::to_string(n) + " field(s)");
    }
    VpdqFeature f;
    if (!ParseInt(fields[0], f.frame_number) || f.frame_number < 0) {
      return LineError(line_no, "frame number is not a non-negative integer");
    }
    if (!ParseInt(fields[1], f.quality) || f.quality < 0 || f.quality > 100) {
      return LineError(line_no, "quality is not an integer in 0..100");
    }
    Result<Hash256> h = Hash256::ParseHex(fields[2]);
    if (!h.ok()) return LineError(line_no, h.status().message());
    f.hash = *h;
    if (!ParseDouble(fields[3], f.timestamp) || f.timestamp < 0 || f.timestamp > kMaxTimestamp) {
      return LineError(line_no, "timestamp is not a number of seconds in 0..1e9");
    }
    out.push_back(f);
  }
  return out;
}

namespace {

std::vector<Hash256> Kept(std::span<const VpdqFeature> features, const MatchOptions& options) {
  std::vector<Hash256> kept;
  kept.reserve(features.size());
  std::set<Hash256> seen;
  for (const VpdqFeature& f : features) {
    if (options.dedupe && !seen.insert(f.hash).second) continue;
    if (f.quality < options.min_quality) continue;
    kept.push_back(f.hash);
  }
  return kept;
}

size_t CountMatched(const std::vector<Hash256>& a, const std::vector<Hash256>& b,
                    const MatchOptions& options) {
  const int limit = options.inclusive ? options.distance : options.distance - 1;
  size_t matched = 0;
  for (const Hash256& x : a) {
    for (const Hash256& y : b) {
      if (Distance(x, y) <= limit) {
        ++matched;
        break;
      }
    }
  }
  return matched;
}

}  // namespace

MatchResult MatchVideos(std::span<const VpdqFeature> query, std::span<const VpdqFeature> compared,
                        const MatchOptions& options) {
  MatchResult result;
  const std::vector<Hash256> q = Kept(query, options);
  const std::vector<Hash256> c = Kept(compared, options);
  result.query_frames = q.size();
  result.compared_frames = c.size();
  if (q.empty() || c.empty()) {
    result.empty = true;
    return result;
  }
  result.query_match_pct = (static_cast<double>(CountMatched(q, c, options)) * 100.0) / q.size();
  result.compared_match_pct =
      (static_cast<double>(CountMatched(c, q, options)) * 100.0) / c.size();
  return result;
}

}  // namespace chuqu::vpdq
