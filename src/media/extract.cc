#include "media/extract.h"

#include "media/av_util.h"
#include "media/detect.h"
#include "media/image_meta.h"
#include "media/vips_util.h"

namespace chuqu::media {
namespace {

// Audio or video: a real video stream makes it video (cover art does not).
Result<ContentType> AvType(const std::string& path, std::chrono::seconds timeout) {
  CHUQU_ASSIGN_OR_RETURN(internal::AvInput input, internal::OpenAvInput(path, timeout));
  bool audio = false;
  for (unsigned i = 0; i < input.format->nb_streams; ++i) {
    const AVStream* st = input.format->streams[i];
    if (internal::IsRealVideo(st)) return ContentType::kVideo;
    audio |= st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
  }
  if (audio) return ContentType::kAudio;
  return Status::InvalidArgument("no audio or video stream in the file");
}

bool VipsCanLoad(const std::string& path) {
  if (!internal::EnsureVips().ok()) return false;
  const bool ok = vips_foreign_find_load(path.c_str()) != nullptr;
  vips_error_clear();
  return ok;
}

bool VipsCanLoadBuffer(std::string_view bytes) {
  if (!internal::EnsureVips().ok()) return false;
  const bool ok = vips_foreign_find_load_buffer(bytes.data(), bytes.size()) != nullptr;
  vips_error_clear();
  return ok;
}

// The formats photos are uploaded in, by their leading bytes: PNG, JPEG, GIF, WebP, TIFF,
// HEIF / AVIF, JPEG XL, JPEG 2000.
bool HasPhotoSignature(std::string_view b) {
  auto at = [&](size_t offset, std::string_view sig) {
    return b.size() >= offset + sig.size() && b.substr(offset, sig.size()) == sig;
  };
  using namespace std::string_view_literals;
  return at(0, "\x89PNG\r\n\x1a\n"sv) || at(0, "\xff\xd8\xff"sv) || at(0, "GIF87a"sv) ||
         at(0, "GIF89a"sv) || (at(0, "RIFF"sv) && at(8, "WEBP"sv)) || at(0, "II*\0"sv) ||
         at(0, "MM\0*"sv) || at(4, "ftypheic"sv) || at(4, "ftypheix"sv) ||
         at(4, "ftypmif1"sv) || at(4, "ftypavif"sv) || at(0, "\xff\x0a"sv) ||
         at(0, "\0\0\0\x0cJXL \r\n\x87\n"sv) || at(0, "\0\0\0\x0cjP  \r\n\x87\n"sv) ||
         at(0, "\xff\x4f\xff\x51"sv);
}

// Extract's image case, of a file or of `bytes` when not empty: decoded once.
Result<Content> ImageContent(const std::string& path, std::string_view bytes, std::string mime,
                             const ExtractOptions& options) {
  Content out;
  out.type = ContentType::kImage;
  out.mime = std::move(mime);
  if (!options.image_pixels) {
    if (bytes.empty()) {
      out.title = ImageTitle(path);
    } else if (internal::VipsImagePtr header(
                   vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr));
               header) {
      out.title = internal::ImageTitleOf(header.get());
    } else {
      vips_error_clear();  // the decoder reports errors
    }
    return out;
  }
  CHUQU_ASSIGN_OR_RETURN(
      IsccImageDecode image,
      DecodeIsccImage(path, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                      options.image, options.image_rgb_long_side));
  out.grey32 = image.pixels;
  out.rgb = std::move(image.rgb);
  out.title = std::move(image.title);
  return out;
}

Status NoText() {
  return Status::InvalidArgument("no text content could be extracted");
}

bool Blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

// Extracted text → Content; the tail both Extract and ExtractPlainTextBytes share.
Result<Content> TextContentOf(Result<TextContent> text, std::string mime) {
  if (!text.ok()) return text.status();
  if (Blank(text->text)) return NoText();
  Content out;
  out.mime = std::move(mime);
  out.type = ContentType::kText;
  out.text = std::move(text->text);
  out.title = std::move(text->title);
  return out;
}

}  // namespace

std::string_view ContentTypeName(ContentType type) {
  switch (type) {
    case ContentType::kText: return "text";
    case ContentType::kImage: return "image";
    case ContentType::kAudio: return "audio";
    case ContentType::kVideo: return "video";
    case ContentType::kNone: return "data";
  }
  return "data";
}

std::string NameFromPath(std::string_view path) {
  if (auto slash = path.find_last_of('/'); slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
  }
  // Python os.path.splitext: a leading dot is not an extension separator.
  const size_t dot = path.find_last_of('.');
  if (dot != std::string_view::npos && path.find_first_not_of('.') < dot) path = path.substr(0, dot);
  std::string name(path);
  for (char& c : name) {
    if (c == '-' || c == '_') c = ' ';
  }
  return name;
}

Result<Content> Extract(const std::string& path, const ExtractOptions& options) {
  CHUQU_ASSIGN_OR_RETURN(Detected detected, DetectMedia(path));
  Content out;
  out.mime = detected.mime;
  switch (detected.kind) {
    case MediaKind::kText:
    case MediaKind::kHtml:
    case MediaKind::kPdf: {
      return TextContentOf(detected.kind == MediaKind::kText ? ExtractPlainText(path, options.text)
                           : detected.kind == MediaKind::kHtml ? ExtractHtml(path, options.text)
                                                               : ExtractPdf(path, options.text),
                           std::move(out.mime));
    }
    case MediaKind::kImage: {
      if (!VipsCanLoad(path)) return out;  // e.g. PSD, ICO: identified by bytes only
      return ImageContent(path, {}, std::move(out.mime), options);
    }
    case MediaKind::kAv: {
      CHUQU_ASSIGN_OR_RETURN(ContentType type, AvType(path, options.audio.timeout));
      if (type == ContentType::kVideo) {
        CHUQU_ASSIGN_OR_RETURN(VideoContent video, ExtractVideo(path, options.video));
        out.frames = std::move(video.frames);
        out.title = std::move(video.title);
      } else {
        CHUQU_ASSIGN_OR_RETURN(AudioContent audio, ExtractAudio(path, options.audio));
        out.chromaprint = std::move(audio.chromaprint);
        out.title = std::move(audio.title);
      }
      out.type = type;
      return out;
    }
    case MediaKind::kOther:
      return out;
  }
  return out;
}

Result<Content> ExtractPlainTextBytes(std::string_view bytes, const ExtractOptions& options) {
  // DetectMedia's refusal of an empty file, in the same words.
  if (bytes.empty()) return Status::InvalidArgument("file is empty (0 bytes)");
  return TextContentOf(PlainTextFromBytes(bytes, options.text), "text/plain");
}

bool IsImageBytes(std::string_view bytes, std::string_view file_name) {
  // Signatures first: libmagic is slow on text, and libvips asks ImageMagick about anything its
  // own loaders reject. Bytes that fail here take the file path, which gives the same result.
  if (!HasPhotoSignature(bytes) || !VipsCanLoadBuffer(bytes)) return false;
  Result<Detected> d = DetectMediaBytes(bytes, file_name);
  return d.ok() && d->kind == MediaKind::kImage;
}

Result<Content> ExtractImageBytes(std::string_view bytes, std::string_view file_name,
                                  const ExtractOptions& options) {
  CHUQU_ASSIGN_OR_RETURN(Detected detected, DetectMediaBytes(bytes, file_name));
  if (detected.kind != MediaKind::kImage || !HasPhotoSignature(bytes) ||
      !VipsCanLoadBuffer(bytes)) {
    return Status::InvalidArgument("not an image read from memory: the content is " +
                                   detected.description);
  }
  return ImageContent("", bytes, std::move(detected.mime), options);
}

}  // namespace chuqu::media
