// Image copy detection over stored fingerprints (pure: no decoder, no OpenCV).
//
// Two tiers, searched together and merged into one ranked list per registered image:
//   global — the query's 8 dihedral PDQ hashes against each reference's original PDQ hash
//            (catches flips/rotations by 90 degrees), and the 64-bit ISCC Image-Code;
//   local  — up to ~300 binary local descriptors per image (ORB, 256 bits, computed by
//            src/media/image_features.h) in a 256-bit Hamming index whose ids name
//            (image, keypoint); images are voted for by descriptor hits, the best voted are
//            verified geometrically (RANSAC 2-D affine over the matched keypoints, own
//            deterministic implementation), and the inlier count gives the score and the
//            matched region (crops, overlays, screenshots, picture-in-picture).
// Scores are in [0,1]; the thresholds are calibrated on the media corpus for precision
// >= 0.99 (docs/benchmarks.md "Image copy detection").
//
// Thread-safety: Search is const and may run concurrently with other Searches; Add and
// Remove need exclusive access.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/task_runner.h"
#include "chuqu/pdq.h"
#include "chuqu/status.h"
#include "index/hamming.h"
#include "index/hamming_index.h"
#include "index/ivf_hamming_index.h"

namespace chuqu::index {

// A keypoint position in pixels of the image as fingerprinted (full resolution: (0,0) is the
// top-left corner of the top-left pixel).
struct ImagePoint {
  float x = 0;
  float y = 0;
  friend bool operator==(const ImagePoint&, const ImagePoint&) = default;
};

// Corners in order top-left, top-right, bottom-right, bottom-left of the region (a region
// under rotation or flip keeps the reference's corner order, so the quad shows the mapping).
using ImageQuad = std::array<ImagePoint, 4>;

// The 8 dihedral PDQ variants in pdq::Dihedral order (index 0 = the image as is).
inline constexpr int kImageDihedrals = 8;
// Most descriptors one fingerprint may carry (the extractor keeps ~300).
inline constexpr size_t kMaxImageDescriptors = 1024;

// Everything an image is matched by; can be stored (EncodeImageFingerprint) and re-indexed
// without the image. References use pdq[0] only; queries use all 8.
struct ImageFingerprint {
  int width = 0;   // pixels of the image the coordinates refer to
  int height = 0;
  std::array<Hash256, kImageDihedrals> pdq{};
  int pdq_quality = 0;                 // 0..100 (PDQ quality; < 50 is not used)
  std::optional<uint64_t> iscc_image;  // ISCC Image-Code body, 64 bits big-endian
  std::vector<ImagePoint> keypoints;   // keypoints[i] is where descriptors[i] was taken
  std::vector<Code256> descriptors;    // ORB 256-bit, bit i = bit (i%8) of byte i/8
  friend bool operator==(const ImageFingerprint&, const ImageFingerprint&) = default;
};

// Checks sizes and ranges: width/height in 1..65535, pdq_quality in 0..100, keypoints and
// descriptors of equal count <= kMaxImageDescriptors, keypoints finite and inside the image.
[[nodiscard]] Status ValidateImageFingerprint(const ImageFingerprint& fp);

// Compact binary form "CQIF" version 1 (little-endian):
//   "CQIF" u8 version=1 u8 flags(bit0: iscc present) u16 width u16 height u8 quality
//   8 x 32-byte PDQ (Hash256::words big-endian, as the hex) [u64 iscc]
//   u16 n, n x (u16 x*16, u16 y*16) keypoints (1/16 pixel), n x 32-byte descriptors.
// About 12.3 KB for 300 descriptors.
std::vector<uint8_t> EncodeImageFingerprint(const ImageFingerprint& fp);
// Any truncated, oversized, inconsistent or unknown-version input is kInvalidArgument.
Result<ImageFingerprint> DecodeImageFingerprint(std::span<const uint8_t> bytes);

enum class ImageEvidence : uint8_t { kPdq, kIscc, kLocal };
std::string_view ImageEvidenceName(ImageEvidence e);  // "pdq", "iscc", "local"

struct ImageMatch {
  uint64_t id = 0;       // the id given to Add
  double score = 0;      // in [0,1], higher is surer; the list is ranked by it
  ImageEvidence method = ImageEvidence::kPdq;  // the evidence that gave the score
  int pdq_distance = -1;   // best of the query's dihedrals vs the reference (-1: not found)
  int pdq_dihedral = -1;   // which query variant (pdq::Dihedral) gave it
  int iscc_distance = -1;  // of 64 (-1: not found / absent)
  int votes = 0;           // query descriptors with a hit in this reference
  int inliers = 0;         // geometrically consistent keypoint matches
  double descriptor_distance = 0;  // mean Hamming distance (of 256) over the inlier matches
  // Spread of the inliers: the larger of the areas of their bounding boxes in the query and
  // in the reference, as fractions of that image (a shared logo covers little of either).
  double coverage = 0;
  // Matched region: in query pixels and in reference pixels (whole images for a global
  // match). For a local match, ref_region is the reference rectangle clipped to what the
  // query shows, and query_region is where it lies in the query.
  ImageQuad query_region{};
  ImageQuad ref_region{};
  int ref_width = 0;  // the reference's frame (ImageFingerprint width/height given to Add)
  int ref_height = 0;
};

struct ImageMatcherOptions {
  size_t max_results = 20;     // ranked list is cut here (a blank query stays bounded)
  uint32_t pdq_radius = 64;    // PDQ candidates up to this distance (scored below)
  uint32_t iscc_radius = 8;    // ISCC Image-Code candidates up to this distance (of 64)
  size_t max_global_hits = 256;  // per query hash, candidates taken from a global index
  uint32_t descriptor_radius = 56;  // ORB descriptor hit radius (of 256)
  size_t max_hits_per_descriptor = 16;  // generic descriptors vote for few images only
  size_t max_verify = 24;      // best-voted references verified per query
  int min_votes = 6;           // references with fewer votes are not verified
  int min_inliers = 8;         // RANSAC models with fewer inliers are rejected
  // Matches scoring below this are dropped: the operating point for precision >= 0.99 on the
  // media corpus (bench/image_accuracy, docs/benchmarks.md "Image copy detection").
  double min_score = 0.69;
  // Which index answers the descriptor search (radius, cap as above):
  //   kAuto         — the flat scan (exact) while fewer than ivf_min_descriptors are stored,
  //                   then the inverted file (sub-linear, approximate: a subset of the flat
  //                   scan's hits, exact distances) from then on, even if removals shrink it;
  //   kFlat         — always the flat scan (the oracle);
  //   kInvertedFile — always the inverted file (tests, the accuracy benchmark).
  enum class DescriptorSearch : uint8_t { kAuto, kFlat, kInvertedFile };
  DescriptorSearch descriptor_search = DescriptorSearch::kAuto;
  // Above the media corpus' 67k descriptors (its results stay the flat scan's) and where the
  // inverted file measured clearly faster (docs/benchmarks.md "Image copy detection").
  size_t ivf_min_descriptors = 250000;
  IvfOptions ivf{};  // vocabulary size, probes and retraining of the inverted file
  // Not owned. If set, the descriptor scan is split in two halves of the query's descriptors
  // run on it (same results, lower latency, no less CPU); null (the default) scans on the
  // calling thread, the right choice for a server whose cores are busy.
  TaskRunner* runner = nullptr;
};

// Per-query work, for benchmarks and logs.
struct ImageSearchStats {
  size_t descriptor_hits = 0;
  size_t voted_images = 0;
  size_t verified_images = 0;
};

class ImageMatcher {
 public:
  explicit ImageMatcher(ImageMatcherOptions options = {});
  ~ImageMatcher();
  ImageMatcher(const ImageMatcher&) = delete;
  ImageMatcher& operator=(const ImageMatcher&) = delete;

  // Indexes a reference. kAlreadyExists for a repeated id, kInvalidArgument for a
  // fingerprint ValidateImageFingerprint refuses.
  [[nodiscard]] Status Add(uint64_t id, const ImageFingerprint& fp);
  // kNotFound if `id` is not indexed.
  [[nodiscard]] Status Remove(uint64_t id);
  size_t size() const { return slot_of_.size(); }

  // Ranked by score descending, then id; at most options.max_results. An empty index
  // answers an empty list. kInvalidArgument for an invalid query fingerprint.
  Result<std::vector<ImageMatch>> Search(const ImageFingerprint& query,
                                         ImageSearchStats* stats = nullptr) const;

  // Score functions (exposed for the accuracy benchmark and tests).
  static double PdqScore(int distance);
  static double IsccScore(int distance);
  static double LocalScore(int inliers, double coverage);

  const ImageMatcherOptions& options() const { return options_; }

 private:
  struct Reference {
    uint64_t id = 0;
    int width = 0;
    int height = 0;
    bool live = false;
    std::vector<ImagePoint> keypoints;
  };
  // Descriptor ids: slot << kKeypointBits | keypoint index.
  static constexpr int kKeypointBits = 16;

  ImageMatcherOptions options_;
  std::vector<Reference> refs_;                    // by slot
  std::unordered_map<uint64_t, uint32_t> slot_of_;  // id -> slot
  MihHammingIndex<4> pdq_index_;                   // slot -> pdq[0]
  FlatHammingIndex<1> iscc_index_;                 // slot -> ISCC Image-Code
  // Flat scan (multi-query AVX-512 kernel, FilterBlocksWithin): exact, and at corpus scale
  // (67k) as fast as the inverted file; empty once the inverted file holds the descriptors
  // (ivf_ set: 2.9x faster at 250k, 36x at 10^7; docs/benchmarks.md "Image copy detection").
  FlatHammingIndex<4> descriptors_;
  std::unique_ptr<IvfHammingIndex> ivf_;
  std::unordered_map<uint32_t, int> pdq_quality_;  // slot -> reference quality

  std::vector<std::vector<Neighbor>> DescriptorHits(std::span<const Code256> queries) const;
};

// Geometric verification, exposed for tests: RANSAC over correspondences query[i] <->
// ref[i], 2-D affine ref -> query. Returns the inlier count and the model (row-major 2x3)
// or 0 inliers when no acceptable model exists. Deterministic (fixed seed).
struct AffineModel {
  std::array<double, 6> a{};  // qx = a0*rx + a1*ry + a2, qy = a3*rx + a4*ry + a5
  int inliers = 0;
};
AffineModel EstimateAffineRansac(std::span<const ImagePoint> query,
                                 std::span<const ImagePoint> ref, double inlier_threshold,
                                 int iterations = 400);

}  // namespace chuqu::index
