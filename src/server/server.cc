#include "server/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "ledger/tiles.h"

namespace chuqu::server {
namespace {

using Clock = std::chrono::steady_clock;

// Per-request state for the logger, which httplib calls on the thread that served the request
// (also for requests refused before routing: 400 parse errors, 413, unmatched 404).
thread_local std::string tl_route;
thread_local Clock::time_point tl_start{};

// Printable ASCII only, at most 200 characters: paths are attacker-chosen (no log injection).
std::string LogSafe(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  if (s.size() > 200) out += "...";
  return out;
}

}  // namespace

void SetJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

Server::Server(const ServerOptions& options, store::Store& store, TokenStore* tokens)
    : options_(options),
      store_(store),
      tokens_(tokens),
      http_(std::make_unique<httplib::Server>()),
      limiter_(options.rate_per_second, options.rate_burst) {
  const int threads = options_.threads < 1 ? 1 : options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(options_.read_timeout_seconds, 0);
  http_->set_write_timeout(options_.write_timeout_seconds, 0);
  http_->set_keep_alive_timeout(options_.keep_alive_seconds);
  http_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  // Responses go out as header and body writes: without TCP_NODELAY, Nagle holds the body until
  // the client's delayed ACK (~40 ms per keep-alive request; docs/benchmarks.md, server load).
  http_->set_tcp_nodelay(true);
  http_->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    tl_route.clear();
    tl_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Responses httplib makes itself (no route, body too large, bad request line) get the same
  // JSON error body as ours; our own error responses already carry one.
  http_->set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string code = "invalid_argument", message = "bad request";
    if (res.status == 404) code = "not_found", message = "no such route";
    if (res.status == 413) code = "too_large", message = "request body too large";
    if (res.status == 405) code = "invalid_argument", message = "method not allowed";
    if (res.status >= 500) code = "internal", message = "internal error";
    res.set_content(ErrorBody(code, message), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string route = tl_route.empty() ? "unmatched" : tl_route;
    const double seconds =
        tl_start == Clock::time_point{}
            ? 0.0
            : std::chrono::duration<double>(Clock::now() - tl_start).count();
    tl_route.clear();
    tl_start = {};
    metrics_.Record(route, req.method == "GET" || req.method == "POST" || req.method == "HEAD"
                               ? req.method
                               : "other",
                    res.status, seconds);
    if (options_.access_log) {
      spdlog::info("method={} route={} path={} status={} bytes={} ms={:.3f} remote={}",
                   LogSafe(req.method), route, LogSafe(req.path), res.status, res.body.size(),
                   seconds * 1000, LogSafe(req.remote_addr));
    }
  });
  AddLogRoutes();
  Route("GET", "/healthz", "/healthz", Auth::kNone,
        [this](const httplib::Request&, httplib::Response& res, const Caller&) -> Status {
          CHUQU_ASSIGN_OR_RETURN(auto snap, store_.NewSnapshot());
          CHUQU_ASSIGN_OR_RETURN(auto cp, snap->LatestCheckpoint());
          if (!cp) return Status::Unavailable("log not initialised");
          SetJson(res, 200, nlohmann::json{{"status", "ok"}, {"log_size", cp->size}}.dump());
          return Status::Ok();
        });
  metrics_.AddGauge("chuqu_log_size", "Entries in the log (latest checkpoint).", [this] {
    auto snap = store_.NewSnapshot();
    if (!snap.ok()) return -1.0;
    auto cp = (*snap)->LatestCheckpoint();
    return cp.ok() && *cp ? static_cast<double>((*cp)->size) : -1.0;
  });
  Route("GET", "/metrics", "/metrics", Auth::kNone,
        [this](const httplib::Request&, httplib::Response& res, const Caller&) -> Status {
          res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
          return Status::Ok();
        });
}

Server::~Server() = default;

void Server::Route(std::string_view method, const std::string& pattern, std::string route,
                   Auth auth, Handler handler) {
  routes_.push_back({std::string(method), route, auth});
  auto wrapped = [this, route = std::move(route), auth, handler = std::move(handler)](
                     const httplib::Request& req, httplib::Response& res) {
    tl_route = route;
    Caller caller;
    if (auth == Auth::kRequired) {
      const auto token = ParseBearer(req.get_header_value("Authorization"));
      if (token && tokens_ != nullptr) caller.party = tokens_->Lookup(*token);
      if (!caller.party) {
        res.set_header("WWW-Authenticate", "Bearer");
        SetJson(res, 401, ErrorBody("unauthenticated", "a valid Bearer token is required"));
        return;
      }
      if (!limiter_.Allow(*caller.party)) {
        res.set_header("Retry-After", "1");
        SetJson(res, 429, ErrorBody("rate_limited", "too many requests for this token"));
        return;
      }
    }
    Status s;
    try {
      s = handler(req, res, caller);
    } catch (const std::exception& e) {
      s = Status::Internal(std::string("exception: ") + e.what());
    }
    if (!s.ok()) {
      if (HttpStatusFor(s.code()) == 500) {
        spdlog::error("route={} error={}", tl_route, LogSafe(s.ToString()));
      }
      res.headers.erase("Cache-Control");
      SetJson(res, HttpStatusFor(s.code()), ErrorBody(s));
    }
  };
  if (method == "GET") {
    http_->Get(pattern, wrapped);
  } else if (method == "POST") {
    http_->Post(pattern, wrapped);
  } else if (method == "PUT") {
    http_->Put(pattern, wrapped);
  } else if (method == "DELETE") {
    http_->Delete(pattern, wrapped);
  } else {
    CHUQU_CHECK(false && "unknown method");
  }
}

void Server::AddLogRoutes() {
  // c2sp.org/tlog-tiles: <prefix>/checkpoint, <prefix>/tile/<L>/<N>[.p/<W>],
  // <prefix>/tile/entries/<N>[.p/<W>]; the prefix is /log.
  Route("GET", "/log/checkpoint", "/log/checkpoint", Auth::kNone,
        [this](const httplib::Request&, httplib::Response& res, const Caller&) -> Status {
          CHUQU_ASSIGN_OR_RETURN(auto snap, store_.NewSnapshot());
          CHUQU_ASSIGN_OR_RETURN(auto cp, snap->LatestCheckpoint());
          if (!cp) return Status::NotFound("log not initialised");
          res.set_header("Cache-Control", "no-cache");
          res.set_content(cp->note, "text/plain; charset=utf-8");
          return Status::Ok();
        });
  // Two routes (entry bundles first: httplib tries patterns in order) so that metrics and
  // docs/openapi.yaml name them apart; one handler, ParseTilePath tells them apart.
  Handler tile_handler =
        [this](const httplib::Request& req, httplib::Response& res, const Caller&) -> Status {
          auto parsed = ledger::ParseTilePath(req.matches[1].str());
          if (!parsed.ok()) return Status::NotFound("bad tile path: " + parsed.status().message());
          const ledger::Tile tile = *parsed;
          CHUQU_ASSIGN_OR_RETURN(auto snap, store_.NewSnapshot());
          std::string body;
          if (tile.entries) {
            if (tile.index >= ledger::kMaxTreeSize / ledger::kTileWidth) {
              return Status::NotFound("entry bundle beyond the log");
            }
            auto entries = snap->ReadEntries(tile.index * ledger::kTileWidth,
                                             static_cast<uint64_t>(tile.width));
            if (!entries.ok()) {
              if (entries.status().code() == StatusCode::kOutOfRange) {
                return Status::NotFound("entry bundle beyond the log");
              }
              return entries.status();
            }
            CHUQU_ASSIGN_OR_RETURN(body, ledger::EncodeEntryBundle(*entries));
          } else {
            auto data = snap->ReadTile(tile.level, tile.index, tile.width);
            if (!data.ok()) {
              if (data.status().code() == StatusCode::kNotFound ||
                  data.status().code() == StatusCode::kOutOfRange) {
                return Status::NotFound("tile not in the log");
              }
              return data.status();
            }
            body = std::move(*data);
          }
          // Full tiles never change; a partial tile of width W never changes either, but a
          // client polling the right edge should move on to wider ones soon.
          res.set_header("Cache-Control", tile.full() ? "public, max-age=31536000, immutable"
                                                      : "public, max-age=60");
          res.set_content(std::move(body), "application/octet-stream");
          return Status::Ok();
        };
  Route("GET", R"(/log/(tile/entries/.*))", "/log/tile/entries/{N}", Auth::kNone, tile_handler);
  Route("GET", R"(/log/(tile/.*))", "/log/tile/{L}/{N}", Auth::kNone, std::move(tile_handler));
}

Status Server::Bind() {
  if (options_.port == 0) {
    const int p = http_->bind_to_any_port(options_.host);
    if (p <= 0) return Status::Unavailable("cannot bind " + options_.host + ":0");
    port_ = p;
  } else {
    if (!http_->bind_to_port(options_.host, options_.port)) {
      return Status::Unavailable("cannot bind " + options_.host + ":" +
                                 std::to_string(options_.port));
    }
    port_ = options_.port;
  }
  return Status::Ok();
}

void Server::Run() {
  run_started_ = true;
  if (!stop_requested_) http_->listen_after_bind();
  run_finished_ = true;
}

void Server::Stop() {
  stop_requested_ = true;
  // httplib's stop() is a no-op until listen has started; repeat until Run has returned.
  while (run_started_ && !run_finished_) {
    http_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace chuqu::server
