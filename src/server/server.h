// chuqu's HTTP server: the c2sp.org/tlog-tiles log under /log/, /healthz, /metrics, and the
// routes other modules add (the /v1 registry API, api_routes.h). Built on cpp-httplib (the
// Debian build: header plus libcpp-httplib.so); this is the only module that speaks HTTP.
//
// Every route goes through Route(): it authenticates (Bearer token, TokenStore) when asked,
// applies the per-token rate limit, maps a handler's Status to an HTTP status with the JSON
// body {"error":{"code","message"}}, catches third-party exceptions, and records metrics and a
// one-line key=value access log (method, route, path, status, bytes, duration; never headers,
// query strings or tokens). Bodies above max_body_bytes are refused with 413 before a handler
// runs; slow clients hit the read/write timeouts.
//
// Thread-safety: handlers run on the server's thread pool (ServerOptions::threads); Stop() may
// be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chuqu/status.h"
#include "server/http_util.h"
#include "server/tokens.h"
#include "store/store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace chuqu::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port (see Server::port())
  int threads = 8;
  size_t max_body_bytes = size_t{64} << 20;
  int read_timeout_seconds = 10;
  int write_timeout_seconds = 10;
  int keep_alive_seconds = 5;
  // Requests served on one keep-alive connection before it is closed. httplib's default of 5
  // makes a busy client reconnect every 5 requests, and a reconnect that finds the listen
  // backlog full waits for the 1 s SYN retry (docs/benchmarks.md, server load).
  size_t keep_alive_max_requests = 1000;
  // Per-token rate limit for authenticated routes: sustained requests/s and burst.
  double rate_per_second = 200;
  double rate_burst = 400;
  // Access log lines to stderr (spdlog).
  bool access_log = true;
};

// What a handler knows about its caller.
struct Caller {
  std::optional<std::string> party;  // set when the route authenticated a token
};

using Handler = std::function<Status(const httplib::Request&, httplib::Response&, const Caller&)>;

enum class Auth { kNone, kRequired };

// A registered route as documented (docs/openapi.yaml lists exactly these).
struct RouteInfo {
  std::string method;  // "GET", "POST", ...
  std::string route;   // template name, e.g. "/v1/works/{id}"
  Auth auth = Auth::kNone;
};

class Server {
 public:
  // `store` serves /log/ and must outlive the Server; `tokens` may be null (then every route
  // needing auth answers 401).
  Server(const ServerOptions& options, store::Store& store, TokenStore* tokens);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a route. `pattern` is a std::regex over the decoded path; `route` names it in metrics
  // and logs. method: "GET", "POST", "PUT", "DELETE".
  void Route(std::string_view method, const std::string& pattern, std::string route, Auth auth,
             Handler handler);
  Metrics& metrics() { return metrics_; }
  // Every route added so far, in the order added.
  const std::vector<RouteInfo>& routes() const { return routes_; }

  // Binds host:port. Unavailable if the address cannot be bound.
  [[nodiscard]] Status Bind();
  int port() const { return port_; }
  // Serves until Stop(). REQUIRES: Bind() succeeded.
  void Run();
  void Stop();

 private:
  void AddLogRoutes();
  ServerOptions options_;
  store::Store& store_;
  TokenStore* tokens_;
  std::unique_ptr<httplib::Server> http_;
  Metrics metrics_;
  std::vector<RouteInfo> routes_;
  RateLimiter limiter_;
  int port_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_finished_{false};
};

// Writes a JSON value as the response body (application/json).
void SetJson(httplib::Response& res, int status, const std::string& body);

}  // namespace chuqu::server
