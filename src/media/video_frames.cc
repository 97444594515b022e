#include "media/video_frames.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

#include "media/file.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace chuqu::media {
namespace {

using Clock = std::chrono::steady_clock;

// Container frame rates above this are treated as unknown (VFR files often report the
// timebase, e.g. 90000, as r_frame_rate).
constexpr double kMaxPlausibleFps = 1000.0;
// Packets of all streams read before giving up: bounds work on hostile files whose
// demuxer never reaches the end.
constexpr int64_t kMaxPacketsPerFrameBudget = 64;

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

void SilenceFfmpeg() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

struct VideoFrameReader::Impl {
  VideoFrameOptions options;
  VideoInfo info;
  VideoReadStats stats;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  int stream_index = -1;
  AVRational time_base{0, 1};
  int64_t start_pts = 0;
  SwsContext* sws = nullptr;
  AVFrame* frame = nullptr;
  AVFrame* rgb = nullptr;
  AVPacket* packet = nullptr;
  bool used = false;
  double next_sample = 0;  // kTimestamp: next time at which a frame is taken
  double last_timestamp = 0;

  ~Impl() {
    sws_freeContext(sws);
    av_frame_free(&frame);
    av_frame_free(&rgb);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    if (format != nullptr) avformat_close_input(&format);
  }

  Status CheckSize(int w, int h) const {
    if (w <= 0 || h <= 0) return Status::InvalidArgument("video frame has no size");
    if (w > options.max_width || h > options.max_height ||
        static_cast<int64_t>(w) * h > options.max_pixels) {
      return Status::ResourceExhausted(
          "video frame is " + std::to_string(w) + "x" + std::to_string(h) +
          ", above the limit of " + std::to_string(options.max_width) + "x" +
          std::to_string(options.max_height) + " and " +
          std::to_string(options.max_pixels / 1'000'000) + " megapixels");
    }
    return Status::Ok();
  }

  // Converts `frame` to RGB24 at its own size and hands it to the callback if selected.
  Status Deliver(const std::function<Status(const RgbFrame&)>& on_frame) {
    const int64_t n = stats.frames_decoded++;
    if (stats.frames_decoded > options.max_decoded_frames) {
      return Status::ResourceExhausted("video has more than " +
                                       std::to_string(options.max_decoded_frames) +
                                       " frames, the configured limit");
    }
    double timestamp = 0;
    bool selected = false;
    if (info.clock == SamplingClock::kFrameIndex) {
      selected = n % info.frame_step == 0;
      // The reference computes this in float (vpdq hasher.h).
      timestamp = static_cast<double>(static_cast<float>(n) / static_cast<float>(info.fps));
    } else {
      const int64_t pts = frame->best_effort_timestamp;
      if (pts != AV_NOPTS_VALUE && time_base.den > 0) {
        timestamp = std::max(0.0, static_cast<double>(pts - start_pts) * av_q2d(time_base));
      } else {
        timestamp = last_timestamp;  // no timestamp: stays at the previous frame's time
      }
      last_timestamp = timestamp;
      if (options.seconds_per_frame <= 0) {
        selected = true;
      } else if (timestamp >= next_sample) {
        selected = true;
        next_sample =
            (std::floor(timestamp / options.seconds_per_frame) + 1) * options.seconds_per_frame;
      }
    }
    if (!selected) return Status::Ok();

    const int w = frame->width;
    const int h = frame->height;
    CHUQU_RETURN_IF_ERROR(CheckSize(w, h));
    const auto t0 = Clock::now();
    sws = sws_getCachedContext(sws, w, h, static_cast<AVPixelFormat>(frame->format), w, h,
                               AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr);
    if (sws == nullptr) {
      const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame->format));
      return Status::Unsupported(std::string("cannot convert video pixel format ") +
                                 (name != nullptr ? name : "unknown") + " to RGB");
    }
    if (rgb == nullptr || rgb->width != w || rgb->height != h) {
      av_frame_free(&rgb);
      rgb = av_frame_alloc();
      if (rgb == nullptr) return Status::ResourceExhausted("out of memory for a video frame");
      rgb->format = AV_PIX_FMT_RGB24;
      rgb->width = w;
      rgb->height = h;
      if (const int err = av_frame_get_buffer(rgb, 0); err < 0) {
        return Status::ResourceExhausted("cannot allocate a video frame: " + AvError(err));
      }
    }
    const int rows = sws_scale(sws, frame->data, frame->linesize, 0, h, rgb->data, rgb->linesize);
    stats.convert_seconds += Seconds(t0, Clock::now());
    if (rows != h) return Status::InvalidArgument("video frame conversion to RGB failed");
    ++stats.frames_delivered;
    RgbFrame out;
    out.data = rgb->data[0];
    out.width = w;
    out.height = h;
    out.stride = static_cast<size_t>(rgb->linesize[0]);
    out.frame_number = static_cast<int>(n);
    out.timestamp = timestamp;
    return on_frame(out);
  }

  // Receives every frame the decoder has ready.
  Status Drain(const std::function<Status(const RgbFrame&)>& on_frame) {
    while (true) {
      const auto t0 = Clock::now();
      const int err = avcodec_receive_frame(codec, frame);
      stats.decode_seconds += Seconds(t0, Clock::now());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
      if (err < 0) {
        ++stats.decode_errors;
        return Status::Ok();
      }
      Status s = Deliver(on_frame);
      av_frame_unref(frame);
      CHUQU_RETURN_IF_ERROR(s);
    }
  }

  Status TooManyErrors() const {
    return Status::InvalidArgument("video is corrupt: " + std::to_string(stats.decode_errors) +
                                   " packets failed to decode");
  }
};

VideoFrameReader::VideoFrameReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoFrameReader::~VideoFrameReader() = default;
const VideoInfo& VideoFrameReader::info() const { return impl_->info; }
const VideoReadStats& VideoFrameReader::stats() const { return impl_->stats; }

Result<std::unique_ptr<VideoFrameReader>> VideoFrameReader::Open(
    const std::string& path, const VideoFrameOptions& options) {
  SilenceFfmpeg();
  CHUQU_ASSIGN_OR_RETURN(const uint64_t size, CheckRegularFile(path));
  if (size == 0) return Status::InvalidArgument("video file is empty (0 bytes)");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (const int err = avformat_open_input(&impl->format, path.c_str(), nullptr, nullptr);
      err < 0) {
    impl->format = nullptr;  // freed by FFmpeg on failure
    return Status::InvalidArgument("not a readable video file: " + AvError(err));
  }
  if (const int err = avformat_find_stream_info(impl->format, nullptr); err < 0) {
    return Status::InvalidArgument("cannot read the video's stream information: " + AvError(err));
  }
  AVStream* stream = nullptr;
  bool cover_art_only = false;
  for (unsigned i = 0; i < impl->format->nb_streams; ++i) {
    AVStream* s = impl->format->streams[i];
    if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    if (s->disposition & AV_DISPOSITION_ATTACHED_PIC) {
      cover_art_only = true;  // an album cover is a still image, not video
      continue;
    }
    stream = s;
    impl->stream_index = static_cast<int>(i);
    break;
  }
  if (stream == nullptr) {
    return Status::Unsupported(cover_art_only ? "file has no video stream (only cover art)"
                                              : "file has no video stream");
  }
  const AVCodecParameters* par = stream->codecpar;
  if (par->width <= 0 || par->height <= 0) {
    return Status::InvalidArgument("video stream has no frame size");
  }
  CHUQU_RETURN_IF_ERROR(impl->CheckSize(par->width, par->height));
  const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
  if (decoder == nullptr) {
    return Status::Unsupported(std::string("no decoder for video codec ") +
                               avcodec_get_name(par->codec_id));
  }
  impl->codec = avcodec_alloc_context3(decoder);
  if (impl->codec == nullptr) return Status::ResourceExhausted("cannot allocate a decoder");
  if (const int err = avcodec_parameters_to_context(impl->codec, par); err < 0) {
    return Status::InvalidArgument("bad video codec parameters: " + AvError(err));
  }
  impl->codec->thread_count = options.decoder_threads < 0 ? 1 : options.decoder_threads;
  if (options.decoder_threads != 1) {
    impl->codec->thread_type = (decoder->capabilities & AV_CODEC_CAP_SLICE_THREADS)
                                   ? FF_THREAD_SLICE
                                   : FF_THREAD_FRAME;
  }
  if (const int err = avcodec_open2(impl->codec, decoder, nullptr); err < 0) {
    return Status::Unsupported("cannot open the video decoder: " + AvError(err));
  }
  impl->frame = av_frame_alloc();
  impl->packet = av_packet_alloc();
  if (impl->frame == nullptr || impl->packet == nullptr) {
    return Status::ResourceExhausted("cannot allocate decoder buffers");
  }
  impl->time_base = stream->time_base;
  impl->start_pts = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;

  VideoInfo& info = impl->info;
  info.width = par->width;
  info.height = par->height;
  info.codec = avcodec_get_name(par->codec_id);
  if (impl->format->duration != AV_NOPTS_VALUE && impl->format->duration > 0) {
    info.duration_seconds = static_cast<double>(impl->format->duration) / AV_TIME_BASE;
  }
  AVRational rate = stream->avg_frame_rate;
  if (rate.num == 0 || rate.den == 0) rate = stream->r_frame_rate;
  const double fps = (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : 0.0;
  if (!options.by_timestamp && std::isfinite(fps) && fps > 0 && fps <= kMaxPlausibleFps) {
    info.fps = fps;
    info.clock = SamplingClock::kFrameIndex;
    // The reference's frameMod (filehasher.cpp): (int)(seconds * fps), 0 -> 1.
    const double step = options.seconds_per_frame > 0 ? options.seconds_per_frame * fps : 0.0;
    info.frame_step = step >= 1.0 ? static_cast<int>(std::min(step, 2147483647.0)) : 1;
  } else {
    info.fps = (std::isfinite(fps) && fps > 0 && fps <= kMaxPlausibleFps) ? fps : 0;
    info.clock = SamplingClock::kTimestamp;
    info.frame_step = 1;
  }
  return std::unique_ptr<VideoFrameReader>(new VideoFrameReader(std::move(impl)));
}

Status VideoFrameReader::ForEachFrame(const std::function<Status(const RgbFrame&)>& on_frame) {
  Impl& m = *impl_;
  if (m.used) return Status::FailedPrecondition("ForEachFrame may be called only once");
  m.used = true;
  const int64_t max_packets =
      std::max<int64_t>(1'000'000, m.options.max_decoded_frames * kMaxPacketsPerFrameBudget);
  while (true) {
    if (++m.stats.packets > max_packets) {
      return Status::ResourceExhausted("video has more packets than the configured limit");
    }
    const auto t0 = Clock::now();
    const int err = av_read_frame(m.format, m.packet);
    m.stats.decode_seconds += Seconds(t0, Clock::now());
    if (err == AVERROR_EOF) break;
    if (err < 0) {
      m.stats.truncated = true;  // truncated or corrupt container: decode what we have
      break;
    }
    if (m.packet->stream_index != m.stream_index) {
      av_packet_unref(m.packet);
      continue;
    }
    const auto t1 = Clock::now();
    const int sent = avcodec_send_packet(m.codec, m.packet);
    m.stats.decode_seconds += Seconds(t1, Clock::now());
    av_packet_unref(m.packet);
    if (sent < 0 && sent != AVERROR(EAGAIN)) {
      if (++m.stats.decode_errors > m.options.max_decode_errors) return m.TooManyErrors();
      continue;
    }
    CHUQU_RETURN_IF_ERROR(m.Drain(on_frame));
    if (m.stats.decode_errors > m.options.max_decode_errors) return m.TooManyErrors();
  }
  // Flush the decoder's delayed frames.
  if (avcodec_send_packet(m.codec, nullptr) >= 0) CHUQU_RETURN_IF_ERROR(m.Drain(on_frame));
  if (m.stats.frames_decoded == 0) {
    return Status::InvalidArgument(m.stats.truncated ? "no decodable video frames (file truncated?)"
                                                     : "no decodable video frames");
  }
  return Status::Ok();
}

}  // namespace chuqu::media
