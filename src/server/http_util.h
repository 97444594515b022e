// Small pieces of the HTTP layer kept free of any HTTP library so they can be unit-tested and
// fuzzed: Status -> HTTP status and JSON error body, the per-token rate limiter, bearer-token
// parsing, decimal id parsing, and the Prometheus metrics registry.
//
// Thread-safety: the free functions are pure; RateLimiter and Metrics are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chuqu/status.h"

namespace chuqu::server {

// The one place a Status becomes an HTTP status (DESIGN.md: only src/server and apps map).
// InvalidArgument/Unsupported/OutOfRange 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, AlreadyExists/FailedPrecondition 409, ResourceExhausted 413, Unavailable 503,
// everything else 500.
int HttpStatusFor(StatusCode code);
// Lower-case snake name of a code for the JSON error ("invalid_argument", "not_found", ...).
std::string_view ErrorCodeName(StatusCode code);
// {"error":{"code":"...","message":"..."}}. Messages of 500s are replaced by "internal error"
// (details go to the server's log only).
std::string ErrorBody(const Status& status);
std::string ErrorBody(std::string_view code, std::string_view message);

// "Bearer <token>" -> token. nullopt for a missing scheme, empty or over-long (>256) token, or
// characters outside the token68 set (RFC 6750 §2.1).
std::optional<std::string> ParseBearer(std::string_view authorization);

// Strict decimal uint64 for path ids: 1..20 digits, no sign, no leading zeros (except "0"),
// no overflow. InvalidArgument otherwise.
Result<uint64_t> ParseId(std::string_view text);

// Token-bucket limiter per key (the token's party): `rate` requests per second sustained,
// `burst` at once. A key idle long enough to refill is dropped, so the map stays bounded by the
// number of keys active within burst/rate seconds.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  RateLimiter(double rate, double burst, Clock clock = nullptr);
  // True if the request may proceed (a unit is taken). rate <= 0 disables limiting.
  bool Allow(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  double burst_;
  Clock clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

// Prometheus text exposition (version 0.0.4) of the server's counters: requests by route,
// method and status; a latency histogram by route; and gauges supplied at scrape time.
class Metrics {
 public:
  // Upper bounds of the latency histogram buckets, seconds.
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
  void Record(std::string_view route, std::string_view method, int status, double seconds);
  // A gauge sampled at each scrape (e.g. the log size); `help` is one line.
  void AddGauge(std::string name, std::string help, std::function<double()> sample);
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> counts = std::vector<uint64_t>(std::size(kBuckets), 0);
    uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> sample;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::vector<Gauge> gauges_;
};

}  // namespace chuqu::server
