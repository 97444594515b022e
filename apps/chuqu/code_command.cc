// chuqu code [--json] FILE...: the ISCC-CODE of each file with its units, the detected
// media type and the SHA-256. Content is decoded by src/media (detection by content,
// one extractor per type) and coded by chuqu_iscc the way iscc-sdk's code_iscc does:
// Meta-Code from the file's title (else its name), Content-Code for text, image, audio
// and video, Data- and Instance-Code over the bytes (streamed in fixed-size buffers, so
// memory does not grow with the file). A file that fails prints one line on stderr and
// the others are still coded; the exit code is 1 if any failed.
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chuqu/iscc.h"
#include "commands.h"
#include "fingerprint/pdq/pdq_hasher.h"
#include "media/extract.h"
#include "media/file.h"
#include "media/image.h"
#include "registry/content_code.h"

namespace chuqu::app {
namespace {

// Everything `chuqu code` reports for one file.
struct FileCode {
  std::string file;
  std::string media;  // "text", "image", "audio", "video" or "data" (no content unit)
  std::string mime;   // detected from content
  std::string iscc;   // ISCC-CODE
  std::optional<std::string> meta;
  std::optional<std::string> content;
  std::string data;
  std::string instance;
  std::string sha256;  // lower-case hex
  // Further per-media fingerprints (e.g. PDQ for images) belong here, filled in CodeFile
  // and written by ToJson / PrintText.
  std::optional<pdq::PdqResult> pdq;  // images: Meta's PDQ hash and quality
};

// PDQ of an image at full resolution (shrunk on load only above 8192 px, as `chuqu hash`).
std::optional<pdq::PdqResult> PdqOfImage(const std::string& path) {
  media::ImageDecodeOptions options;
  options.max_long_side = 8192;
  Result<media::RgbImage> img = media::DecodeImageRgb(path, options);
  if (!img.ok()) return std::nullopt;
  pdq::PdqHasher hasher;
  Result<pdq::PdqResult> r = hasher.HashRgb(
      {img->rgb.data(), img->width, img->height, 3 * static_cast<size_t>(img->width)});
  if (!r.ok()) return std::nullopt;
  return *r;
}

constexpr size_t kReadBuffer = 1 << 20;  // 1 MiB: Data/Instance/SHA-256 are streamed

struct Digests {
  std::string data;
  std::string instance;
  std::string sha256;
};

Result<Digests> HashFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Status::IOError("cannot open for reading");
  DataHasher data;
  InstanceHasher instance;
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  std::vector<uint8_t> buf(kReadBuffer);
  while (true) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      const std::span<const uint8_t> chunk(buf.data(), n);
      data.Update(chunk);
      instance.Update(chunk);
      crypto_hash_sha256_update(&sha, buf.data(), n);
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) return Status::IOError("read failed");
      break;
    }
  }
  Digests d;
  CHUQU_ASSIGN_OR_RETURN(d.data, data.Code(64));
  CHUQU_ASSIGN_OR_RETURN(InstanceCode ic, instance.Finish(64));
  d.instance = std::move(ic.iscc);
  uint8_t out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, out);
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t b : out) {
    d.sha256 += kHex[b >> 4];
    d.sha256 += kHex[b & 15];
  }
  return d;
}

// iscc-sdk code_meta: the title from metadata, or if it is empty after cleaning the file
// name (text_name_from_uri). nullopt if neither gives a name.
std::optional<std::string> MetaUnit(const std::string& path, const std::string& title) {
  if (!title.empty()) {
    Result<MetaCode> m = GenMetaCode(title, "", std::nullopt, 64);
    if (m.ok()) return m->iscc;
  }
  Result<MetaCode> m = GenMetaCode(media::NameFromPath(path), "", std::nullopt, 64);
  if (m.ok()) return m->iscc;
  return std::nullopt;
}

Result<FileCode> CodeFile(const std::string& path) {
  CHUQU_ASSIGN_OR_RETURN(media::Content content, media::Extract(path));
  FileCode out;
  out.file = path;
  out.media = std::string(media::ContentTypeName(content.type));
  out.mime = content.mime;
  if (content.type != media::ContentType::kNone) {
    CHUQU_ASSIGN_OR_RETURN(std::string cc, registry::IsccContentCode(content));
    out.content = std::move(cc);
    out.meta = MetaUnit(path, content.title);
  }
  if (content.type == media::ContentType::kImage) out.pdq = PdqOfImage(path);
  CHUQU_ASSIGN_OR_RETURN(Digests d, HashFile(path));
  out.data = std::move(d.data);
  out.instance = std::move(d.instance);
  out.sha256 = std::move(d.sha256);
  std::vector<std::string> units;
  if (out.meta) units.push_back(*out.meta);
  if (out.content) units.push_back(*out.content);
  units.push_back(out.data);
  units.push_back(out.instance);
  CHUQU_ASSIGN_OR_RETURN(out.iscc, GenIsccCode(units));
  return out;
}

nlohmann::ordered_json ToJson(const FileCode& c) {
  nlohmann::ordered_json units;
  if (c.meta) units["meta"] = *c.meta;
  if (c.content) units["content"] = *c.content;
  units["data"] = c.data;
  units["instance"] = c.instance;
  nlohmann::ordered_json j;
  j["file"] = c.file;
  j["media"] = c.media;
  j["iscc"] = c.iscc;
  j["units"] = std::move(units);
  j["sha256"] = c.sha256;
  if (c.pdq) {
    j["pdq"] = {{"hash", c.pdq->hash.Hex()}, {"quality", c.pdq->quality}};
    if (c.pdq->too_small) j["pdq"]["too_small"] = true;
  }
  return j;
}

void PrintText(const FileCode& c, std::ostream& out) {
  out << c.file << "\n";
  out << "  media     " << c.media << " (" << c.mime << ")\n";
  out << "  ISCC      " << c.iscc << "\n";
  if (c.meta) out << "  meta      " << *c.meta << "\n";
  if (c.content) out << "  content   " << *c.content << "\n";
  out << "  data      " << c.data << "\n";
  out << "  instance  " << c.instance << "\n";
  out << "  sha256    " << c.sha256 << "\n";
  if (c.pdq) {
    out << "  pdq       " << c.pdq->hash.Hex() << " (quality " << c.pdq->quality
        << (c.pdq->too_small ? ", too small to hash" : "") << ")\n";
  }
}

}  // namespace

void AddCodeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("code", "Print the ISCC-CODE, its units, media type and SHA-256 of files");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "one JSON object per line");
  cmd->add_option("files", *files, "files to code")->required();
  cmd->callback([files, json] {
    if (sodium_init() < 0) {
      std::cerr << "chuqu code: libsodium failed to initialise\n";
      throw CLI::RuntimeError(2);
    }
    bool failed = false;
    for (const std::string& path : *files) {
      Result<FileCode> code = CodeFile(path);
      if (!code.ok()) {
        std::cerr << "chuqu code: " << path << ": " << code.status().message() << "\n";
        failed = true;
        continue;
      }
      if (*json) {
        std::cout << ToJson(*code).dump(-1, ' ', false,
                                        nlohmann::ordered_json::error_handler_t::replace)
                  << "\n";
      } else {
        PrintText(*code, std::cout);
      }
      std::cout.flush();
    }
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace chuqu::app
