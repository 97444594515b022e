#include "media/video.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/display.h>
}

#include <cmath>

#include "media/av_util.h"
#include "media/file.h"

namespace chuqu::media {
namespace {

using internal::AvErrorString;

class BitReader {
 public:
  explicit BitReader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(uint64_t bits) const { return pos_ + bits <= bytes_.size() * 8ull; }
  void Skip(uint64_t bits) { pos_ += bits; }
  // REQUIRES: Has(bits), bits <= 32. MSB-first.
  uint32_t Read(int bits) {
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i, ++pos_) {
      const auto byte = static_cast<uint8_t>(bytes_[pos_ >> 3]);
      v = (v << 1) | ((byte >> (7 - (pos_ & 7))) & 1u);
    }
    return v;
  }

 private:
  std::string_view bytes_;
  uint64_t pos_ = 0;
};

struct GraphFree {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
struct InOutFree {
  void operator()(AVFilterInOut* io) const { avfilter_inout_free(&io); }
};

// The filters the ffmpeg CLI inserts for a display-matrix rotation (autorotate).
std::string RotationFilters(const AVStream* st) {
  const auto* matrix = reinterpret_cast<const int32_t*>(
      av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
  if (matrix == nullptr) return "";
  double theta = -av_display_rotation_get(matrix);
  if (std::isnan(theta)) return "";
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  if (std::fabs(theta - 90) < 1.0) return "transpose=clock,";
  if (std::fabs(theta - 180) < 1.0) return "hflip,vflip,";
  if (std::fabs(theta - 270) < 1.0) return "transpose=cclock,";
  return "";
}

bool SafeForFilterArgs(const std::string& s) {
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

constexpr int kMaxDecodeErrors = 1000;

}  // namespace

Result<std::vector<VideoFrameSignature>> ParseMpeg7Signature(std::string_view bytes) {
  BitReader r(bytes);
  auto truncated = [] { return Status::Corruption("MPEG-7 signature is truncated"); };
  if (!r.Has(129 + 32 + 16 + 65 + 32)) return truncated();
  r.Skip(129);
  const uint32_t frames = r.Read(32);
  r.Read(16);  // media time unit
  r.Skip(1 + 32 + 32);
  const uint32_t segments = r.Read(32);
  const uint64_t segment_bits = static_cast<uint64_t>(segments) * (4 * 32 + 1 + 5 * 243);
  constexpr uint64_t kFrameBits = 1 + 32 + 8 + 40 + 76 * 8;
  if (!r.Has(segment_bits + 1 + static_cast<uint64_t>(frames) * kFrameBits)) return truncated();
  r.Skip(segment_bits + 1);
  std::vector<VideoFrameSignature> out(frames);
  for (uint32_t f = 0; f < frames; ++f) {
    r.Skip(1);
    r.Read(32);  // media time
    r.Read(8);   // confidence
    r.Skip(40);
    VideoFrameSignature& sig = out[f];
    for (int i = 0; i < 76; ++i) {
      uint32_t v = r.Read(8);
      // Five base-3 digits, most significant first (values >= 243 keep only v mod 243).
      for (int d = 4; d >= 0; --d) {
        sig[i * 5 + d] = static_cast<uint8_t>(v % 3);
        v /= 3;
      }
    }
  }
  return out;
}

Result<VideoContent> ExtractVideo(const std::string& path, const VideoOptions& options) {
  CHUQU_RETURN_IF_ERROR(CheckRegularFile(path).status());
  CHUQU_ASSIGN_OR_RETURN(internal::AvInput input, internal::OpenAvInput(path, options.timeout));
  AVFormatContext* fmt = input.format.get();
  int index = -1;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (internal::IsRealVideo(fmt->streams[i])) {
      index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, static_cast<int>(i), -1, nullptr, 0);
      if (index < 0 || !internal::IsRealVideo(fmt->streams[index])) index = static_cast<int>(i);
      break;
    }
  }
  if (index < 0) return Status::InvalidArgument("no video stream");
  AVStream* st = fmt->streams[index];
  CHUQU_ASSIGN_OR_RETURN(internal::CodecPtr dec, internal::OpenDecoder(fmt, index));

  CHUQU_ASSIGN_OR_RETURN(TempFile sig_file, TempFile::Create("chuqu_mp7_"));
  if (!SafeForFilterArgs(sig_file.path())) {
    return Status::FailedPrecondition("temporary directory path has characters FFmpeg filter "
                                      "arguments cannot carry: " + sig_file.path());
  }
  // ffmpeg CLI timestamps start at 0: it subtracts the container start time.
  const int64_t start = fmt->start_time == AV_NOPTS_VALUE
                            ? 0
                            : av_rescale_q(fmt->start_time, AV_TIME_BASE_Q, st->time_base);
  const int64_t limit_pts =
      options.max_seconds > 0
          ? av_rescale_q(static_cast<int64_t>(options.max_seconds * AV_TIME_BASE), AV_TIME_BASE_Q,
                         st->time_base)
          : INT64_MAX;

  std::unique_ptr<AVFilterGraph, GraphFree> graph;
  AVFilterContext* src = nullptr;
  AVFilterContext* sink = nullptr;
  internal::FramePtr out_frame(av_frame_alloc());
  internal::FramePtr frame(av_frame_alloc());
  internal::PacketPtr pkt(av_packet_alloc());
  if (!out_frame || !frame || !pkt) return Status::ResourceExhausted("out of memory");
  int64_t frames_in = 0;

  // The graph is built on the first decoded frame, whose size and format are final.
  auto build_graph = [&](const AVFrame* f) -> Status {
    graph.reset(avfilter_graph_alloc());
    if (!graph) return Status::ResourceExhausted("out of memory");
    graph->nb_threads = 1;
    const AVRational sar = f->sample_aspect_ratio.num > 0 ? f->sample_aspect_ratio : AVRational{0, 1};
    std::string args = "video_size=" + std::to_string(f->width) + "x" + std::to_string(f->height) +
                       ":pix_fmt=" + std::to_string(f->format) +
                       ":time_base=" + std::to_string(st->time_base.num) + "/" +
                       std::to_string(st->time_base.den) + ":pixel_aspect=" +
                       std::to_string(sar.num) + "/" + std::to_string(sar.den);
    int err = avfilter_graph_create_filter(&src, avfilter_get_by_name("buffer"), "in",
                                           args.c_str(), nullptr, graph.get());
    if (err < 0) return Status::InvalidArgument("unsupported video frames: " + AvErrorString(err));
    err = avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nullptr,
                                       nullptr, graph.get());
    if (err < 0) return Status::Internal("buffersink: " + AvErrorString(err));
    std::unique_ptr<AVFilterInOut, InOutFree> outputs(avfilter_inout_alloc());
    std::unique_ptr<AVFilterInOut, InOutFree> inputs(avfilter_inout_alloc());
    if (!outputs || !inputs) return Status::ResourceExhausted("out of memory");
    outputs->name = av_strdup("in");
    outputs->filter_ctx = src;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = sink;
    const std::string desc = RotationFilters(st) +
                             "fps=fps=5,signature=format=binary:filename=" + sig_file.path();
    AVFilterInOut* in_raw = inputs.release();
    AVFilterInOut* out_raw = outputs.release();
    err = avfilter_graph_parse_ptr(graph.get(), desc.c_str(), &in_raw, &out_raw, nullptr);
    avfilter_inout_free(&in_raw);
    avfilter_inout_free(&out_raw);
    if (err < 0) return Status::Internal("signature filter graph: " + AvErrorString(err));
    err = avfilter_graph_config(graph.get(), nullptr);
    if (err < 0) return Status::InvalidArgument("cannot process these video frames: " + AvErrorString(err));
    return Status::Ok();
  };
  auto drain_sink = [&]() {
    while (av_buffersink_get_frame(sink, out_frame.get()) >= 0) av_frame_unref(out_frame.get());
  };
  bool past_limit = false;
  int errors = 0;
  auto push_decoded = [&]() -> Status {
    while (true) {
      int r = avcodec_receive_frame(dec.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return Status::Ok();
      if (r < 0) {
        if (++errors > kMaxDecodeErrors) return Status::InvalidArgument("video cannot be decoded");
        return Status::Ok();
      }
      int64_t pts = frame->best_effort_timestamp;
      if (pts != AV_NOPTS_VALUE) {
        pts -= start;
        if (pts > limit_pts) past_limit = true;
      }
      frame->pts = pts;
      if (!past_limit) {
        if (!graph) CHUQU_RETURN_IF_ERROR(build_graph(frame.get()));
        r = av_buffersrc_add_frame_flags(src, frame.get(), 0);
        if (r < 0) {
          av_frame_unref(frame.get());
          return Status::InvalidArgument("video frame rejected (size or format changed "
                                         "mid-stream?): " + AvErrorString(r));
        }
        ++frames_in;
        drain_sink();
      }
      av_frame_unref(frame.get());
    }
  };

  while (!past_limit) {
    int r = av_read_frame(fmt, pkt.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) {
      if (r == AVERROR_EXIT) return Status::Unavailable("reading the video timed out");
      break;  // truncated input: use the frames decoded so far
    }
    if (pkt->stream_index == index) {
      r = avcodec_send_packet(dec.get(), pkt.get());
      if (r < 0 && r != AVERROR(EAGAIN) && ++errors > kMaxDecodeErrors) {
        return Status::InvalidArgument("video cannot be decoded: " + AvErrorString(r));
      }
      Status s = push_decoded();
      if (!s.ok()) return s;
    }
    av_packet_unref(pkt.get());
  }
  if (!past_limit) {
    avcodec_send_packet(dec.get(), nullptr);
    CHUQU_RETURN_IF_ERROR(push_decoded());
  }
  if (!graph || frames_in == 0) return Status::InvalidArgument("no decodable video frames");
  if (int r = av_buffersrc_add_frame_flags(src, nullptr, 0); r < 0) {  // end of stream
    return Status::Internal("signature filter: " + AvErrorString(r));
  }
  drain_sink();
  graph.reset();  // the signature filter writes its file when it is freed

  CHUQU_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(sig_file.path(), 1ull << 30));
  if (bytes.empty()) {
    return Status::InvalidArgument("video gave no frame signatures (no frame rate or timestamps?)");
  }
  CHUQU_ASSIGN_OR_RETURN(std::vector<VideoFrameSignature> sigs, ParseMpeg7Signature(bytes));
  if (sigs.empty()) {
    return Status::InvalidArgument("video gave no frame signatures (no frame rate or timestamps?)");
  }
  VideoContent out;
  out.frames = std::move(sigs);
  out.title = internal::AvTitle(fmt, index);
  return out;
}

}  // namespace chuqu::media
