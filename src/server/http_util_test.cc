#include "server/http_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chuqu::server {
namespace {

TEST(HttpStatusFor, MapsEveryRefusal) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kCorruption), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kIOError), 500);
}

TEST(ErrorBody, JsonShapeAndHidesInternalDetail) {
  auto j = nlohmann::json::parse(ErrorBody(Status::NotFound("no work 7")));
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["message"], "no work 7");
  j = nlohmann::json::parse(ErrorBody(Status::IOError("/secret/path: disk full")));
  EXPECT_EQ(j["error"]["code"], "internal");
  EXPECT_EQ(j["error"]["message"], "internal error");
  // Invalid UTF-8 from a client does not throw.
  j = nlohmann::json::parse(ErrorBody(Status::InvalidArgument("bad \xff byte")));
  EXPECT_EQ(j["error"]["code"], "invalid_argument");
}

TEST(ParseBearer, AcceptsOnlyWellFormedTokens) {
  EXPECT_EQ(ParseBearer("Bearer cq_abc123"), "cq_abc123");
  EXPECT_FALSE(ParseBearer(""));
  EXPECT_FALSE(ParseBearer("Bearer "));
  EXPECT_FALSE(ParseBearer("bearer cq_abc"));
  EXPECT_FALSE(ParseBearer("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(ParseBearer("Bearer a b"));
  EXPECT_FALSE(ParseBearer("Bearer a\nb"));
  EXPECT_FALSE(ParseBearer("Bearer " + std::string(257, 'a')));
}

TEST(ParseId, StrictDecimal) {
  EXPECT_EQ(*ParseId("0"), 0u);
  EXPECT_EQ(*ParseId("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseId("18446744073709551616").ok());  // overflow
  EXPECT_FALSE(ParseId("99999999999999999999").ok());
  EXPECT_FALSE(ParseId("").ok());
  EXPECT_FALSE(ParseId("007").ok());
  EXPECT_FALSE(ParseId("-1").ok());
  EXPECT_FALSE(ParseId("+1").ok());
  EXPECT_FALSE(ParseId("1a").ok());
  EXPECT_FALSE(ParseId("..").ok());
}

TEST(RateLimiter, BurstThenSustainedRate) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  RateLimiter limiter(10, 3, [&] { return now; });
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));  // per key
  now += std::chrono::milliseconds(100);  // one token back at 10/s
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  now += std::chrono::seconds(10);  // refilled to the burst, not beyond
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiter, ZeroRateDisables) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Allow("a"));
}

TEST(Metrics, PrometheusText) {
  Metrics m;
  m.Record("/log/tile", "GET", 200, 0.002);
  m.Record("/log/tile", "GET", 200, 0.2);
  m.Record("/log/tile", "GET", 404, 0.0001);
  m.AddGauge("chuqu_log_size", "Entries.", [] { return 42.0; });
  const std::string t = m.Render();
  EXPECT_NE(t.find("chuqu_http_requests_total{route=\"/log/tile\",method=\"GET\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("chuqu_http_request_duration_seconds_bucket{route=\"/log/tile\",le=\"0.0025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("chuqu_http_request_duration_seconds_count{route=\"/log/tile\"} 3\n"),
            std::string::npos);
  EXPECT_NE(t.find("# TYPE chuqu_log_size gauge\nchuqu_log_size 42\n"), std::string::npos);
}

}  // namespace
}  // namespace chuqu::server
