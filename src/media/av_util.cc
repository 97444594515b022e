#include "media/av_util.h"

#include <mutex>

namespace chuqu::media::internal {

std::string AvErrorString(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Result<AvInput> OpenAvInput(const std::string& path, std::chrono::seconds timeout) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  AvInput in;
  in.deadline = std::make_unique<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now() + timeout);
  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return Status::ResourceExhausted("out of memory");
  raw->interrupt_callback.callback = [](void* opaque) -> int {
    const auto* d = static_cast<const std::chrono::steady_clock::time_point*>(opaque);
    return std::chrono::steady_clock::now() > *d ? 1 : 0;
  };
  raw->interrupt_callback.opaque = in.deadline.get();
  // Only local files: no network protocols reachable through playlists or references.
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  int err = avformat_open_input(&raw, path.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (err < 0) {  // avformat_open_input frees `raw` on failure
    return Status::InvalidArgument("cannot open as audio/video: " + AvErrorString(err));
  }
  in.format.reset(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) {
    return Status::InvalidArgument("cannot read audio/video stream information: " +
                                   AvErrorString(err));
  }
  return in;
}

Result<CodecPtr> OpenDecoder(AVFormatContext* format, int index) {
  AVStream* st = format->streams[index];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (codec == nullptr) {
    return Status::Unsupported(std::string("no decoder for codec ") +
                               avcodec_get_name(st->codecpar->codec_id));
  }
  CodecPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Status::ResourceExhausted("out of memory");
  int err = avcodec_parameters_to_context(ctx.get(), st->codecpar);
  if (err < 0) return Status::InvalidArgument("bad codec parameters: " + AvErrorString(err));
  ctx->thread_count = 1;
  ctx->pkt_timebase = st->time_base;
  err = avcodec_open2(ctx.get(), codec, nullptr);
  if (err < 0) return Status::InvalidArgument("cannot open decoder: " + AvErrorString(err));
  return ctx;
}

std::string AvTitle(AVFormatContext* format, int stream_index) {
  for (const char* key : {"iscc_name", "title"}) {
    if (const AVDictionaryEntry* e = av_dict_get(format->metadata, key, nullptr, 0)) {
      if (e->value && *e->value) return e->value;
    }
    if (stream_index >= 0) {
      const AVDictionaryEntry* e =
          av_dict_get(format->streams[stream_index]->metadata, key, nullptr, 0);
      if (e && e->value && *e->value) return e->value;
    }
  }
  return "";
}

bool IsRealVideo(const AVStream* stream) {
  return stream->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
         (stream->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0;
}

}  // namespace chuqu::media::internal
