#include "server/http_util.h"

#include <cinttypes>
#include <cstdio>
#include <tuple>

#include <nlohmann/json.hpp>

namespace chuqu::server {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string_view ErrorCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kOutOfRange: return "out_of_range";
    case StatusCode::kResourceExhausted: return "too_large";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kUnavailable: return "unavailable";
    default: return "internal";
  }
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
  // Messages may quote client bytes: replace invalid UTF-8 rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ErrorBody(const Status& status) {
  const int http = HttpStatusFor(status.code());
  return ErrorBody(ErrorCodeName(status.code()),
                   http == 500 ? std::string_view("internal error") : status.message());
}

std::optional<std::string> ParseBearer(std::string_view h) {
  constexpr std::string_view kScheme = "Bearer ";
  if (h.size() <= kScheme.size() || h.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  std::string_view t = h.substr(kScheme.size());
  if (t.empty() || t.size() > 256) return std::nullopt;
  for (char c : t) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  return std::string(t);
}

Result<uint64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 20) return Status::InvalidArgument("bad id: not a decimal");
  if (text.size() > 1 && text[0] == '0') return Status::InvalidArgument("bad id: leading zero");
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Status::InvalidArgument("bad id: not a decimal");
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Status::InvalidArgument("bad id: overflow");
    v = v * 10 + d;
  }
  return v;
}

RateLimiter::RateLimiter(double rate, double burst, Clock clock)
    : rate_(rate), burst_(burst < 1 ? 1 : burst), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

bool RateLimiter::Allow(const std::string& key) {
  if (rate_ <= 0) return true;
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  const std::chrono::duration<double> refill(burst_ / rate_);
  if (now - last_sweep_ > refill) {
    // Buckets idle for a full refill are back at `burst`: identical to absent ones.
    std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > refill; });
    last_sweep_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + dt * rate_);
    b.last = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void Metrics::Record(std::string_view route, std::string_view method, int status,
                     double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[std::string(route)];
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> sample) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(sample)});
}

std::string Metrics::Render() const {
  std::string out;
  char buf[256];
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP chuqu_http_requests_total HTTP requests by route, method and status.\n";
  out += "# TYPE chuqu_http_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    std::snprintf(buf, sizeof buf,
                  "chuqu_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %" PRIu64
                  "\n",
                  std::get<0>(k).c_str(), std::get<1>(k).c_str(), std::get<2>(k), n);
    out += buf;
  }
  out += "# HELP chuqu_http_request_duration_seconds HTTP request latency by route.\n";
  out += "# TYPE chuqu_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < std::size(kBuckets); ++i) {
      std::snprintf(buf, sizeof buf,
                    "chuqu_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %" PRIu64
                    "\n",
                    route.c_str(), kBuckets[i], h.counts[i]);
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "chuqu_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64
                  "\nchuqu_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                  "chuqu_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                  route.c_str(), h.count, route.c_str(), h.sum, route.c_str(), h.count);
    out += buf;
  }
  for (const Gauge& g : gauges_) {
    out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
    std::snprintf(buf, sizeof buf, "%s %.17g\n", g.name.c_str(), g.sample());
    out += buf;
  }
  return out;
}

}  // namespace chuqu::server
