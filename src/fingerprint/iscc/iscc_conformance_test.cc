// ISO 24138 conformance: every case of iscc-core's data.json (50) and iscc-sum's
// test_vectors.json (19), read in place from CHUQU_SHARED_DATA, one named test per case.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chuqu/iscc.h"

namespace chuqu {
namespace {

using nlohmann::json;

struct Case {
  std::string function;
  std::string name;
  json inputs;
  json outputs;
};

const char kDataJson[] = CHUQU_SHARED_DATA "/iscc/data.json";
const char kSumJson[] = CHUQU_SHARED_DATA "/iscc/iscc-sum/test_vectors.json";

std::optional<json> LoadJson(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::vector<Case> LoadCases(const char* path) {
  std::vector<Case> cases;
  const auto j = LoadJson(path);
  if (!j) return cases;
  for (const auto& [function, tests] : j->items()) {
    if (function.starts_with("_")) continue;
    for (const auto& [name, test] : tests.items()) {
      cases.push_back({function, name, test.at("inputs"), test.at("outputs")});
    }
  }
  return cases;
}

// "stream:<hex>" -> bytes (strip exactly the 7-character prefix; see README).
std::vector<uint8_t> Stream(const json& v) {
  const std::string s = v.get<std::string>();
  EXPECT_TRUE(s.starts_with("stream:")) << s;
  std::vector<uint8_t> out;
  for (size_t i = 7; i + 1 < s.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  return out;
}

template <typename T>
T Ok(Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return T{};
  }
  return std::move(r).value();
}

// Runs one case and returns the outputs in iscc-core's dict shape.
json RunCase(const Case& c) {
  const json& in = c.inputs;
  const std::string& f = c.function;
  json out = json::object();
  if (f == "gen_meta_code_v0") {
    std::optional<std::string> meta;
    if (in[2].is_object()) meta = in[2].dump();
    if (in[2].is_string()) meta = in[2].get<std::string>();
    const MetaCode m = Ok(GenMetaCode(in[0].get<std::string>(), in[1].is_null() ? "" : in[1].get<std::string>(),
                                      meta, in[3].get<int>()));
    out["iscc"] = m.iscc;
    out["name"] = m.name;
    if (!m.description.empty()) out["description"] = m.description;
    if (!m.meta.empty()) out["meta"] = m.meta;
    out["metahash"] = m.metahash;
  } else if (f == "gen_text_code_v0") {
    const TextCode t = Ok(GenTextCode(in[0].get<std::string>(), in[1].get<int>()));
    out["iscc"] = t.iscc;
    out["characters"] = t.characters;
  } else if (f == "gen_image_code_v0") {
    const auto pixels = in[0].get<std::vector<uint8_t>>();
    out["iscc"] = Ok(GenImageCode(pixels, in[1].get<int>()));
  } else if (f == "gen_audio_code_v0") {
    const auto cv = in[0].get<std::vector<int32_t>>();
    out["iscc"] = Ok(GenAudioCode(cv, in[1].get<int>()));
  } else if (f == "gen_video_code_v0") {
    std::vector<FrameSignature> frames;
    for (const auto& frame : in[0]) {
      FrameSignature sig{};
      EXPECT_EQ(frame.size(), sig.size());
      for (size_t i = 0; i < sig.size() && i < frame.size(); ++i) sig[i] = frame[i].get<uint16_t>();
      frames.push_back(sig);
    }
    out["iscc"] = Ok(GenVideoCode(frames, in[1].get<int>()));
  } else if (f == "gen_mixed_code_v0") {
    const auto codes = in[0].get<std::vector<std::string>>();
    out["iscc"] = Ok(GenMixedCode(codes, in[1].get<int>()));
    out["parts"] = codes;
  } else if (f == "gen_data_code_v0" || f == "gen_data_code") {
    out["iscc"] = Ok(GenDataCode(Stream(in[0]), in[1].get<int>()));
  } else if (f == "gen_instance_code_v0" || f == "gen_instance_code") {
    const InstanceCode ic = Ok(GenInstanceCode(Stream(in[0]), in[1].get<int>()));
    out["iscc"] = ic.iscc;
    out["datahash"] = ic.datahash;
    out["filesize"] = ic.filesize;
  } else if (f == "gen_iscc_code_v0") {
    out["iscc"] = Ok(GenIsccCode(in[0].get<std::vector<std::string>>()));
  } else if (f == "code_iscc_sum") {
    IsccSumHasher h;
    h.Update(Stream(in[0]));
    const IsccSum s = h.Finish(in[1].get<bool>());
    out["iscc"] = s.iscc;
    out["datahash"] = s.datahash;
    out["filesize"] = s.filesize;
    if (in[2].get<bool>()) out["units"] = s.units;
  } else {
    ADD_FAILURE() << "unknown conformance function " << f;
  }
  return out;
}

std::string TestName(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.function + "_" + info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class IsccCoreConformance : public testing::TestWithParam<Case> {};
class IsccSumConformance : public testing::TestWithParam<Case> {};

TEST_P(IsccCoreConformance, MatchesReference) { EXPECT_EQ(RunCase(GetParam()), GetParam().outputs); }
TEST_P(IsccSumConformance, MatchesReference) { EXPECT_EQ(RunCase(GetParam()), GetParam().outputs); }

INSTANTIATE_TEST_SUITE_P(DataJson, IsccCoreConformance, testing::ValuesIn(LoadCases(kDataJson)), TestName);
INSTANTIATE_TEST_SUITE_P(IsccSumVectors, IsccSumConformance, testing::ValuesIn(LoadCases(kSumJson)), TestName);

// Fails (not skips) when the shared data is missing or incomplete.
TEST(IsccConformanceData, AllVectorsPresent) {
  ASSERT_TRUE(LoadJson(kDataJson)) << "missing or unreadable " << kDataJson;
  ASSERT_TRUE(LoadJson(kSumJson)) << "missing or unreadable " << kSumJson;
  EXPECT_EQ(LoadCases(kDataJson).size(), 50u);
  EXPECT_EQ(LoadCases(kSumJson).size(), 19u);
}

// Streaming the iscc-sum inputs byte by byte gives the same result as one Update.
TEST(IsccConformanceData, SumVectorsStreamedByteByByte) {
  for (const Case& c : LoadCases(kSumJson)) {
    if (c.function != "code_iscc_sum") continue;
    IsccSumHasher h;
    for (const uint8_t b : Stream(c.inputs[0])) h.Update(std::span<const uint8_t>(&b, 1));
    EXPECT_EQ(h.Finish(c.inputs[1].get<bool>()).iscc, c.outputs["iscc"].get<std::string>()) << c.name;
  }
}

}  // namespace
}  // namespace chuqu
