#include "registry/content_code.h"

#include <algorithm>
#include <vector>

#include "chuqu/iscc.h"

namespace chuqu::registry {

Result<std::string> IsccContentCode(const media::Content& c) {
  switch (c.type) {
    case media::ContentType::kText: {
      // iscc-sdk: ic.text_clean(text) before gen_text_code_v0.
      CHUQU_ASSIGN_OR_RETURN(std::string clean, IsccTextClean(c.text));
      CHUQU_ASSIGN_OR_RETURN(TextCode t, GenTextCode(clean, 64));
      return t.iscc;
    }
    case media::ContentType::kImage:
      return GenImageCode(c.grey32, 64);
    case media::ContentType::kAudio:
      return GenAudioCode(c.chromaprint, 64);
    case media::ContentType::kVideo: {
      // media keeps ternary values as uint8_t; the ISCC API takes uint16_t (vectors reach 379).
      std::vector<FrameSignature> frames(c.frames.size());
      for (size_t i = 0; i < frames.size(); ++i) {
        std::copy(c.frames[i].begin(), c.frames[i].end(), frames[i].begin());
      }
      return GenVideoCode(frames, 64);
    }
    case media::ContentType::kNone:
      break;
  }
  return Status::Internal("no content code for this media type");
}

}  // namespace chuqu::registry
