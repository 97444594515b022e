// Extract: one call from a file to what the content fingerprints need. Detects the media
// type from content (detect.h), runs the matching extractor and returns plain data:
// text, 32x32 grey pixels, a Chromaprint fingerprint or MPEG-7 frame signatures, plus the
// title found in the file's metadata. Files of other types give ContentType::kNone (they
// are identified by their bytes only: ISCC Data + Instance).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chuqu/status.h"
#include "media/audio.h"
#include "media/iscc_image.h"
#include "media/text.h"
#include "media/video.h"

namespace chuqu::media {

enum class ContentType { kText, kImage, kAudio, kVideo, kNone };

// "text", "image", "audio", "video", "data".
std::string_view ContentTypeName(ContentType type);

struct Content {
  ContentType type = ContentType::kNone;
  std::string mime;   // detected MIME type
  std::string title;  // from the file's metadata; empty if none
  std::string text;                          // kText: UTF-8
  std::array<uint8_t, 1024> grey32{};        // kImage: iscc-sdk normalised pixels
  std::vector<int32_t> chromaprint;          // kAudio: raw fingerprint
  std::vector<VideoFrameSignature> frames;   // kVideo
  // kImage with ExtractOptions::image_rgb_long_side: the image's sRGB pixels from the decode
  // that gave grey32 (see IsccImageDecode::rgb; empty if the image is larger).
  RgbImage rgb;
};

struct ExtractOptions {
  TextOptions text;
  IsccImageOptions image;
  // false: an image is identified (type, mime, title) but not decoded, and grey32 is left
  // zero for the caller to fill (a match query takes it from its own shrink-on-load decode).
  bool image_pixels = true;
  // > 0 with image_pixels: Content::rgb as DecodeImageRgb with max_long_side = this gives it,
  // from the same decode as grey32, so a registration decodes its image once.
  int image_rgb_long_side = 0;
  AudioOptions audio;
  VideoOptions video;
};

// Errors carry a message a person can act on (see each extractor). A zero-byte file, an
// unreadable path and a contradicting extension are errors for every type.
Result<Content> Extract(const std::string& path, const ExtractOptions& options = {});

// Content of bytes the caller declares to be plain text (an HTTP body sent as text/plain), from
// memory: no content sniffing (markup is not interpreted) and no file. Decoded by the same
// PlainTextFromBytes as Extract decodes a file that libmagic detects as plain text, so for such
// bytes the Content is the same (mime "text/plain", no title). Errors: empty or blank text,
// undecodable bytes, more than options.text.max_file_bytes — with Extract's messages.
Result<Content> ExtractPlainTextBytes(std::string_view bytes, const ExtractOptions& options = {});

// True if `bytes`, uploaded as a file named `file_name`, is an image ExtractImageBytes reads
// from memory: detected as an image (DetectMediaBytes, extension check included) in a format
// photos come in (PNG, JPEG, GIF, WebP, TIFF, HEIF/AVIF, JPEG XL, JPEG 2000) that libvips
// loads from memory. Other images (e.g. SVG, PSD, PPM) take Extract on a file.
bool IsImageBytes(std::string_view bytes, std::string_view file_name);

// Extract of a file named `file_name` holding `bytes`, for bytes that pass IsImageBytes, from
// memory (borrowed for the call): the same Content and the same errors (a truncated or corrupt
// image, a decompression bomb), without a file. Other bytes: kInvalidArgument.
Result<Content> ExtractImageBytes(std::string_view bytes, std::string_view file_name,
                                  const ExtractOptions& options = {});

// iscc-sdk's fallback Meta-Code name when a file has no title (text_name_from_uri): the
// file name without directory and extension, '-' and '_' replaced by spaces.
std::string NameFromPath(std::string_view path);

}  // namespace chuqu::media
