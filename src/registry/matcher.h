// Matcher: the in-memory match index of the registry (derived: rebuilt from the store at open,
// updated on each registration). One ranked result type for every media.
//
// Built-in evidence per media (each plugged in as a MediaMatcher):
//   exact   — same SHA-256 (score 1);
//   iscc    — ISCC Content-Code units (64-bit) of the same media, Hamming distance;
//   image   — PDQ (256-bit) with the query's 8 dihedral variants (rotations / flips);
//   text    — winnowed text fingerprints (index/text_index.h) with spans in code points.
//   video   — index::VideoMatcher: frame PDQ votes + temporal alignment, segments in seconds;
//   audio   — index::AudioMatcher: Chromaprint offsets, segments in seconds, bit error rate.
//   image-local — index::ImageMatcher's local tier: ORB descriptors voted per work and
//             verified by RANSAC (crops, overlays, screenshots, picture-in-picture), with the
//             matched region in both images.
// Further matchers plug in through MediaMatcher.
//
// Thread-safety: Search is const and may run concurrently with other Searches; Add needs
// exclusive access (the Registry holds a shared_mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "chuqu/pdq.h"
#include "chuqu/status.h"
#include "fingerprint/text/text_fingerprint.h"
#include "index/audio_matcher.h"
#include "index/image_matcher.h"
#include "index/video_matcher.h"

namespace chuqu::registry {

// Everything a work is matched by. Computed from the file (Registry::FingerprintFile) or by a
// client. In an entry: compact values inline, bulky ones (text fingerprints) by SHA-256 with
// the bytes in the blobs table (docs/entry-format.md).
struct Fingerprints {
  std::string media = "data";   // "text", "image", "audio", "video", "data"
  std::string mime;
  std::string sha256;           // of the content bytes, lower-case hex (may be empty)
  uint64_t size = 0;            // content bytes
  std::string iscc;             // ISCC-CODE (may be empty for client fingerprints)
  std::string meta_code;        // ISCC units ("ISCC:..."), empty if absent
  std::string content_code;
  std::string data_code;
  std::string instance_code;
  std::optional<Hash256> pdq;  // images
  int pdq_quality = 0;
  // Query side only: the 8 dihedral PDQ variants (index 0 = original); not stored.
  std::vector<Hash256> pdq_dihedral;
  // Text: winnowing fingerprints (bulky; stored as a blob, "CQTF" encoding).
  std::optional<text::TextFingerprints> text;
  // Video: vPDQ-style frames (stored with 1 dihedral as a "CQVF" blob; a query may carry 8).
  std::optional<index::VideoFingerprint> video;
  // Audio: Chromaprint raw fingerprint (stored as a "CQAF" blob).
  std::optional<index::AudioFingerprint> audio;
  // Image: ORB local features in a frame of at most 1024 pixels (stored as a "CQIF" blob with
  // ~300 descriptors; a query from MatchFile carries 600).
  std::optional<index::ImageFingerprint> image;
  // Query side only: the text itself (span search needs the normalised query); not stored.
  std::string query_text;
};

// Algorithm tags recorded with stored fingerprints (DESIGN.md "every stored fingerprint names
// its algorithm and version").
inline constexpr std::string_view kPdqAlgorithm = "pdq-1";
inline constexpr std::string_view kTextAlgorithm = "chuqu-winnow-1";
inline constexpr std::string_view kVideoAlgorithm = "chuqu-vpdq-cqvf-1";
inline constexpr std::string_view kAudioAlgorithm = "chromaprint-cqaf-1";
inline constexpr std::string_view kImageAlgorithm = "orb-cqif-1";

// Who registered a work first (the entry that registered it).
struct FirstRegistration {
  uint64_t index = 0;
  std::string time;
  std::string party;
};

struct Match {
  uint64_t work = 0;
  std::string media;        // the registered work's media
  double score = 0;         // in [0,1], higher is surer
  nlohmann::json evidence;  // {"method": ..., distances / spans / region ...}
  FirstRegistration first;
};

struct MatcherOptions {
  size_t max_results = 20;          // ranked list is cut here
  uint32_t pdq_radius = 70;         // PDQ matches up to this distance (of 256)
  uint32_t iscc_radius = 12;        // ISCC Content-Code units up to this distance (of 64)
  double min_score = 0.3;
  // Not owned. If set, a query image's fingerprint and its local-feature search use it for
  // latency (ORB beside PDQ, the descriptor scan in two halves; the same results). Null runs
  // on the calling thread: right for a server whose cores are busy with other requests.
  TaskRunner* runner = nullptr;
};

// A pluggable matcher for one kind of evidence (e.g. a video segment aligner in src/index).
class MediaMatcher {
 public:
  virtual ~MediaMatcher() = default;
  virtual std::string_view name() const = 0;
  // Indexes a work. Works it cannot use (other media) are ignored with OK.
  [[nodiscard]] virtual Status Add(uint64_t work, const Fingerprints& fp) = 0;
  // Candidate matches; `first` and `media` are filled by Matcher. At most max_results.
  virtual std::vector<Match> Search(const Fingerprints& query, size_t max_results) const = 0;
};

class Matcher {
 public:
  explicit Matcher(const MatcherOptions& options = {});
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  void AddPlugin(std::unique_ptr<MediaMatcher> plugin);
  // Indexes `work` in every matcher. InvalidArgument for a duplicate work id.
  [[nodiscard]] Status Add(uint64_t work, const Fingerprints& fp, const FirstRegistration& first);
  // Ranked (score descending, then earlier registration), one Match per work (the best
  // evidence; others are listed under evidence.also), at most max_results. An empty index
  // answers an empty list.
  std::vector<Match> Search(const Fingerprints& query) const;
  size_t size() const;

 private:
  MatcherOptions options_;
  std::vector<std::unique_ptr<MediaMatcher>> plugins_;
  struct WorkInfo {
    std::string media;
    FirstRegistration first;
  };
  std::unordered_map<uint64_t, WorkInfo> works_;
};

}  // namespace chuqu::registry
