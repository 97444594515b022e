#include "media/audio.h"

#include <chromaprint.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include "media/av_util.h"
#include "media/file.h"

namespace chuqu::media {
namespace {

using internal::AvErrorString;

constexpr int kRate = 11025;  // Chromaprint's internal rate; fpcalc resamples to it.

struct SwrFree {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
struct ChromaprintFree {
  void operator()(ChromaprintContext* c) const { chromaprint_free(c); }
};

// Decoded-packet errors tolerated before the file is declared undecodable.
constexpr int kMaxDecodeErrors = 1000;

}  // namespace

Result<AudioContent> ExtractAudio(const std::string& path, const AudioOptions& options) {
  CHUQU_RETURN_IF_ERROR(CheckRegularFile(path).status());
  CHUQU_ASSIGN_OR_RETURN(internal::AvInput input, internal::OpenAvInput(path, options.timeout));
  AVFormatContext* fmt = input.format.get();
  const int index = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (index < 0) return Status::InvalidArgument("no audio stream");
  CHUQU_ASSIGN_OR_RETURN(internal::CodecPtr dec, internal::OpenDecoder(fmt, index));

  AVChannelLayout in_layout;
  if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || dec->ch_layout.nb_channels <= 0) {
    if (dec->ch_layout.nb_channels <= 0) return Status::InvalidArgument("audio has no channels");
    av_channel_layout_default(&in_layout, dec->ch_layout.nb_channels);
  } else if (av_channel_layout_copy(&in_layout, &dec->ch_layout) < 0) {
    return Status::ResourceExhausted("out of memory");
  }
  if (dec->sample_rate <= 0) return Status::InvalidArgument("audio has no sample rate");

  std::unique_ptr<SwrContext, SwrFree> swr;
  if (dec->sample_fmt != AV_SAMPLE_FMT_S16 || in_layout.nb_channels != 1 ||
      dec->sample_rate != kRate) {
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext* raw = nullptr;
    int err = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_S16, kRate, &in_layout,
                                  dec->sample_fmt, dec->sample_rate, 0, nullptr);
    swr.reset(raw);
    if (err < 0 || !swr) return Status::Unsupported("cannot convert this audio: " + AvErrorString(err));
    // fpcalc's FFmpegAudioProcessor::SetCompatibleMode.
    av_opt_set_int(swr.get(), "resampler", SWR_ENGINE_SWR, 0);
    av_opt_set_int(swr.get(), "filter_size", 16, 0);
    av_opt_set_int(swr.get(), "phase_shift", 8, 0);
    av_opt_set_int(swr.get(), "linear_interp", 1, 0);
    av_opt_set_int(swr.get(), "tsf", AV_SAMPLE_FMT_S16P, 0);
    av_opt_set_double(swr.get(), "cutoff", 0.8, 0);
    err = swr_init(swr.get());
    if (err < 0) return Status::Unsupported("cannot convert this audio: " + AvErrorString(err));
  }
  av_channel_layout_uninit(&in_layout);

  std::unique_ptr<ChromaprintContext, ChromaprintFree> cp(
      chromaprint_new(CHROMAPRINT_ALGORITHM_DEFAULT));
  if (!cp || !chromaprint_start(cp.get(), kRate, 1)) {
    return Status::Internal("Chromaprint failed to start");
  }

  internal::PacketPtr pkt(av_packet_alloc());
  internal::FramePtr frame(av_frame_alloc());
  if (!pkt || !frame) return Status::ResourceExhausted("out of memory");
  std::vector<int16_t> buf;
  const uint64_t limit =
      options.max_seconds > 0 ? static_cast<uint64_t>(options.max_seconds * kRate) : 0;
  uint64_t fed = 0;
  int errors = 0;
  bool done = false;

  auto feed = [&](const int16_t* data, int n) {
    if (n <= 0 || done) return;
    if (limit > 0 && fed + n >= limit) {
      n = static_cast<int>(limit - fed);
      done = true;
    }
    chromaprint_feed(cp.get(), data, n);
    fed += static_cast<uint64_t>(n);
  };
  auto consume = [&](AVFrame* f) -> Status {
    if (!swr) {
      feed(reinterpret_cast<const int16_t*>(f->data[0]), f->nb_samples);
      return Status::Ok();
    }
    const int cap = swr_get_out_samples(swr.get(), f->nb_samples);
    if (cap < 0) return Status::InvalidArgument("audio conversion failed");
    buf.resize(static_cast<size_t>(cap) + 16);
    uint8_t* out[1] = {reinterpret_cast<uint8_t*>(buf.data())};
    const int n = swr_convert(swr.get(), out, static_cast<int>(buf.size()),
                              const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
    if (n < 0) return Status::InvalidArgument("audio format changed mid-stream: " + AvErrorString(n));
    feed(buf.data(), n);
    return Status::Ok();
  };
  auto drain = [&]() -> Status {
    while (true) {
      int r = avcodec_receive_frame(dec.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return Status::Ok();
      if (r < 0) {
        if (++errors > kMaxDecodeErrors) return Status::InvalidArgument("audio cannot be decoded");
        return Status::Ok();
      }
      Status s = consume(frame.get());
      av_frame_unref(frame.get());
      CHUQU_RETURN_IF_ERROR(s);
    }
  };

  while (!done) {
    int r = av_read_frame(fmt, pkt.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) {
      if (r == AVERROR_EXIT) return Status::Unavailable("reading the audio timed out");
      break;  // a truncated file ends here, as fpcalc's reader would stop
    }
    if (pkt->stream_index == index) {
      r = avcodec_send_packet(dec.get(), pkt.get());
      if (r < 0 && r != AVERROR(EAGAIN) && ++errors > kMaxDecodeErrors) {
        return Status::InvalidArgument("audio cannot be decoded: " + AvErrorString(r));
      }
      CHUQU_RETURN_IF_ERROR(drain());
    }
    av_packet_unref(pkt.get());
  }
  if (!done) {
    avcodec_send_packet(dec.get(), nullptr);
    CHUQU_RETURN_IF_ERROR(drain());
    if (swr) {
      buf.resize(8192);
      uint8_t* out[1] = {reinterpret_cast<uint8_t*>(buf.data())};
      for (int i = 0; i < 64; ++i) {  // bounded: the resampler holds < filter length samples
        const int n = swr_convert(swr.get(), out, static_cast<int>(buf.size()), nullptr, 0);
        if (n <= 0) break;
        feed(buf.data(), n);
      }
    }
  }
  if (fed == 0) return Status::InvalidArgument("no decodable audio in the file");
  if (!chromaprint_finish(cp.get())) return Status::Internal("Chromaprint failed");
  uint32_t* raw_fp = nullptr;
  int size = 0;
  if (!chromaprint_get_raw_fingerprint(cp.get(), &raw_fp, &size)) {
    return Status::Internal("Chromaprint gave no fingerprint");
  }
  AudioContent out;
  out.chromaprint.resize(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) out.chromaprint[i] = static_cast<int32_t>(raw_fp[i]);
  chromaprint_dealloc(raw_fp);
  out.seconds = static_cast<double>(fed) / kRate;
  out.title = internal::AvTitle(fmt, index);
  return out;
}

}  // namespace chuqu::media
