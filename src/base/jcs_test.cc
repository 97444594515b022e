#include "base/jcs.h"

#include <bit>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace chuqu {
namespace {

std::string Canon(std::string_view json_text) {
  auto r = CanonicalJson(nlohmann::json::parse(json_text));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
TEST(JcsTest, AppendixBNumbers) {
  const struct {
    uint64_t bits;
    const char* want;
  } kCases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : kCases) {
    const double d = std::bit_cast<double>(c.bits);
    EXPECT_EQ(FormatEs6Number(d), c.want) << std::hex << c.bits;
    EXPECT_EQ(*CanonicalJson(nlohmann::json(d)), c.want) << std::hex << c.bits;
  }
}

TEST(JcsTest, NumbersFromText) {
  EXPECT_EQ(Canon("[1e+20, 1.0, -0.0, 4.50, 2e-3, 1e-7, 333333333.33333329, 1E30, 100, -5]"),
            "[100000000000000000000,1,0,4.5,0.002,1e-7,333333333.3333333,1e+30,100,-5]");
  EXPECT_EQ(Canon("[0.000001, 0.0000001, 123456789012345680000, 1e21]"),
            "[0.000001,1e-7,123456789012345680000,1e+21]");
}

TEST(JcsTest, NonFiniteIsRejected) {
  auto r = CanonicalJson(nlohmann::json(std::numeric_limits<double>::quiet_NaN()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(CanonicalJson(nlohmann::json(std::numeric_limits<double>::infinity())).ok());
}

// RFC 8785 §3.2.4 main example.
TEST(JcsTest, Rfc8785MainExample) {
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(Canon(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
            "1e-27],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 §3.2.3: member names sorted by UTF-16 code units (the emoji's surrogate pair
// sorts before U+FB33 although its code point is larger).
TEST(JcsTest, Rfc8785KeyOrder) {
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(Canon(input),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(JcsTest, NestedAndEscapes) {
  EXPECT_EQ(Canon(R"({"b":[{"z":1,"a":{"y":null,"x":[]}}],"a":"\u0001\u001f\u007f\u2028"})"),
            "{\"a\":\"\\u0001\\u001f\x7f\xE2\x80\xA8\",\"b\":[{\"a\":{\"x\":[],\"y\":null},\"z\":1}]}");
  EXPECT_EQ(Canon("{}"), "{}");
  EXPECT_EQ(Canon("[]"), "[]");
  EXPECT_EQ(Canon("\"\""), "\"\"");
}

TEST(JcsTest, InvalidUtf8IsRejected) {
  nlohmann::json j = std::string("a\xFF");
  auto r = CanonicalJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos);
  nlohmann::json k;
  k[std::string("\xC0\xAF")] = 1;  // overlong '/'
  EXPECT_FALSE(CanonicalJson(k).ok());
}

}  // namespace
}  // namespace chuqu
