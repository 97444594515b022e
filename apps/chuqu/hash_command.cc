// chuqu hash --algo pdq|pdq8|vpdq [--json] FILE...: Meta's PDQ (images) and vPDQ (video)
// hashes, bit-exact with the reference core (src/fingerprint/pdq, src/fingerprint/vpdq).
//
// Text output follows the reference tools: pdq -> "hash,quality,file" (pdq-photo-hasher);
// pdq8 -> the 8 dihedral hashes (orig, rot90, rot180, rot270, flipx, flipy, flipplus1,
// flipminus1), then quality and file (--pdqdih-across); vpdq -> "# file" then the
// reference hash-file lines "frame,quality,hash,timestamp" (vpdq-hash-video).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "fingerprint/pdq/pdq_hasher.h"
#include "fingerprint/vpdq/vpdq.h"
#include "media/image.h"
#include "media/video_frames.h"

namespace chuqu::app {
namespace {

using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

struct HashFlags {
  std::string algo = "pdq";
  bool json = false;
  double seconds_per_hash = 1.0;
  bool every_frame = false;
  bool by_timestamp = false;
  bool reference_cli_resize = false;
  int max_side = 8192;
  std::vector<std::string> files;
};

double Since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

Status HashImage(const HashFlags& flags, const std::string& file, pdq::PdqHasher& hasher) {
  media::ImageDecodeOptions decode;
  // Larger images are shrunk on load (bounded memory); the hash then differs slightly from
  // a full-resolution hash, which the output says.
  decode.max_long_side = flags.max_side;
  const auto t0 = SteadyClock::now();
  CHUQU_ASSIGN_OR_RETURN(media::RgbImage image, media::DecodeImageRgb(file, decode));
  const double decode_seconds = Since(t0);
  pdq::RgbBuffer resized;
  pdq::RgbView view{image.rgb.data(), image.width, image.height,
                    3 * static_cast<size_t>(image.width)};
  if (flags.reference_cli_resize) {
    resized = pdq::ResizeLikeReferenceCli(view);
    view = resized.view();
  }
  const auto t1 = SteadyClock::now();
  Json out;
  out["file"] = file;
  out["algo"] = flags.algo;
  if (flags.algo == "pdq8") {
    CHUQU_ASSIGN_OR_RETURN(pdq::PdqDihedralResult r, hasher.HashRgbDihedral(view));
    const double hash_seconds = Since(t1);
    if (flags.json) {
      Json hashes = Json::object();
      for (int d = 0; d < pdq::kNumDihedral; ++d) {
        hashes[std::string(pdq::DihedralName(static_cast<pdq::Dihedral>(d)))] = r.hashes[d].Hex();
      }
      out["hashes"] = hashes;
      out["quality"] = r.quality;
      out["too_small"] = r.too_small;
    } else {
      std::string line;
      for (const Hash256& h : r.hashes) line += h.Hex() + ",";
      std::cout << line << r.quality << "," << file << "\n";
      if (r.too_small) std::cerr << "chuqu hash: " << file << ": too small to hash (< 5 px)\n";
      return Status::Ok();
    }
    out["width"] = view.width;
    out["height"] = view.height;
    out["decode_ms"] = decode_seconds * 1e3;
    out["hash_ms"] = hash_seconds * 1e3;
  } else {
    CHUQU_ASSIGN_OR_RETURN(pdq::PdqResult r, hasher.HashRgb(view));
    const double hash_seconds = Since(t1);
    if (!flags.json) {
      std::cout << r.hash.Hex() << "," << r.quality << "," << file << "\n";
      if (r.too_small) std::cerr << "chuqu hash: " << file << ": too small to hash (< 5 px)\n";
      return Status::Ok();
    }
    out["hash"] = r.hash.Hex();
    out["quality"] = r.quality;
    out["too_small"] = r.too_small;
    out["width"] = view.width;
    out["height"] = view.height;
    out["decode_ms"] = decode_seconds * 1e3;
    out["hash_ms"] = hash_seconds * 1e3;
  }
  std::cout << out.dump() << "\n";
  return Status::Ok();
}

Status HashVideo(const HashFlags& flags, const std::string& file) {
  media::VideoFrameOptions options;
  options.seconds_per_frame = flags.every_frame ? 0.0 : flags.seconds_per_hash;
  options.by_timestamp = flags.by_timestamp;
  CHUQU_ASSIGN_OR_RETURN(auto reader, media::VideoFrameReader::Open(file, options));
  vpdq::VpdqFrameHasher hasher;
  std::vector<vpdq::VpdqFeature> features;
  double hash_seconds = 0;
  const Status s = reader->ForEachFrame([&](const media::RgbFrame& f) -> Status {
    const auto t0 = SteadyClock::now();
    CHUQU_ASSIGN_OR_RETURN(
        vpdq::VpdqFeature feature,
        hasher.HashFrame({f.data, f.width, f.height, f.stride}, f.frame_number, f.timestamp));
    hash_seconds += Since(t0);
    features.push_back(feature);
    return Status::Ok();
  });
  CHUQU_RETURN_IF_ERROR(s);
  const media::VideoInfo& info = reader->info();
  const media::VideoReadStats& stats = reader->stats();
  if (!flags.json) {
    std::cout << "# " << file << "\n" << vpdq::FormatHashFile(features);
    if (stats.truncated || stats.decode_errors > 0) {
      std::cerr << "chuqu hash: " << file << ": hashed " << stats.frames_decoded
                << " decodable frames; " << stats.decode_errors << " packets failed to decode"
                << (stats.truncated ? ", file ends early (truncated?)" : "") << "\n";
    }
    return Status::Ok();
  }
  Json out;
  out["file"] = file;
  out["algo"] = "vpdq";
  out["width"] = info.width;
  out["height"] = info.height;
  out["codec"] = info.codec;
  out["fps"] = info.fps;
  out["clock"] = info.clock == media::SamplingClock::kFrameIndex ? "frame_index" : "timestamp";
  out["frame_step"] = info.frame_step;
  out["frames_decoded"] = stats.frames_decoded;
  out["truncated"] = stats.truncated;
  out["decode_errors"] = stats.decode_errors;
  Json frames = Json::array();
  for (const vpdq::VpdqFeature& f : features) {
    frames.push_back({{"frame", f.frame_number},
                      {"quality", f.quality},
                      {"hash", f.hash.Hex()},
                      {"timestamp", f.timestamp}});
  }
  out["frames"] = std::move(frames);
  out["decode_ms"] = stats.decode_seconds * 1e3;
  out["convert_ms"] = stats.convert_seconds * 1e3;
  out["hash_ms"] = hash_seconds * 1e3;
  std::cout << out.dump() << "\n";
  return Status::Ok();
}

}  // namespace

void AddHashCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "hash", "Print Meta PDQ (images; pdq8 = all 8 dihedral variants) or vPDQ (video) hashes");
  auto flags = std::make_shared<HashFlags>();
  cmd->add_option("--algo", flags->algo, "pdq, pdq8 or vpdq")
      ->check(CLI::IsMember({"pdq", "pdq8", "vpdq"}))
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "one JSON object per file and line");
  cmd->add_option("--seconds-per-hash", flags->seconds_per_hash,
                  "vpdq: seconds between hashed frames (0 = every frame)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_flag("--every-frame", flags->every_frame, "vpdq: hash every frame");
  cmd->add_flag("--by-timestamp", flags->by_timestamp,
                "vpdq: sample by presentation time (variable frame rate) instead of frame index");
  cmd->add_flag("--reference-cli-resize", flags->reference_cli_resize,
                "pdq/pdq8: first resize to 512x512 as Meta's pdq-photo-hasher does");
  cmd->add_option("--max-side", flags->max_side,
                  "pdq/pdq8: shrink larger images on load to this long side")
      ->check(CLI::Range(64, 65536))
      ->capture_default_str();
  cmd->add_option("files", flags->files, "image or video files")->required();
  cmd->callback([flags] {
    int failures = 0;
    pdq::PdqHasher hasher;
    for (const std::string& file : flags->files) {
      const Status s = flags->algo == "vpdq" ? HashVideo(*flags, file)
                                             : HashImage(*flags, file, hasher);
      if (!s.ok()) {
        ++failures;
        std::cerr << "chuqu hash: " << file << ": " << s.ToString() << "\n";
      }
    }
    if (failures > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace chuqu::app
