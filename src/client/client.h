// An HTTP client for a running `chuqu serve` (docs/api.md): base URL, bearer token, timeouts,
// and the server's JSON error bodies turned into Status values a person can act on:
//   "server refused: 409 failed_precondition: transfer exceeds the share held"
//   "cannot connect to http://127.0.0.1:8080: connection refused (is `chuqu serve` running?)"
// The token is sent only in the Authorization header: it never appears in a Status message.
// cpp-httplib stays behind this header (its compile flags must match Debian's build).
//
// Thread-safety: a Client is not thread-safe (one keep-alive connection); use one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chuqu/status.h"

namespace chuqu::client {

// A parsed server base URL: http:// or https://, a host (name, IPv4, or [IPv6]), an optional
// port and an optional path prefix (a server behind a reverse proxy at /chuqu).
struct ServerUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written; IPv6 keeps its brackets
  int port = 0;        // 80 / 443 when not written
  std::string prefix;  // "" or "/a/b" (no trailing slash)
  // "scheme://host:port/prefix": the form used in messages.
  std::string ToString() const;
};

// InvalidArgument (saying what is wrong) for anything but scheme://host[:port][/prefix]:
// other schemes, user info ("user:pass@": use --token), query strings, fragments, bad ports.
Result<ServerUrl> ParseServerUrl(std::string_view url);

struct ClientOptions {
  std::string token;  // Bearer token; empty sends no Authorization header (reads only)
  int connect_timeout_seconds = 10;
  // Registering a long video takes the server a while: generous read/write timeouts.
  int read_timeout_seconds = 300;
  int write_timeout_seconds = 300;
  std::string user_agent = "chuqu-cli/0.1";
};

// One response body and its Content-Type (only 2xx responses reach the caller).
struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// One part of a multipart/form-data upload.
struct FormPart {
  std::string name;
  std::string content;
  std::string filename;      // empty: a plain field
  std::string content_type;  // e.g. "application/octet-stream", "application/json"
};

class Client {
 public:
  // InvalidArgument for a bad URL or a token holding characters a bearer token cannot hold
  // (RFC 6750 §2.1 token68; the message does not repeat the token).
  static Result<std::unique_ptr<Client>> Create(std::string_view url, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ServerUrl& url() const { return url_; }
  bool has_token() const { return !options_.token.empty(); }

  // `path` is absolute below the prefix ("/v1/works/3"). Non-2xx answers become errors:
  // the HTTP status mapped back to a StatusCode (the server's error code name when it sent
  // one), message "server refused: <status> <code>: <server's message>" (4xx) or
  // "server failed: …" (5xx). Transport failures are Unavailable naming the URL.
  Result<Reply> Get(std::string_view path);
  Result<Reply> PostJson(std::string_view path, const nlohmann::json& body);
  Result<Reply> PostForm(std::string_view path, const std::vector<FormPart>& parts);

  // The same, with the body parsed as JSON (Corruption if the server's reply is not JSON).
  Result<nlohmann::json> GetJson(std::string_view path);
  Result<nlohmann::json> PostJsonForJson(std::string_view path, const nlohmann::json& body);
  Result<nlohmann::json> PostFormForJson(std::string_view path,
                                         const std::vector<FormPart>& parts);

 private:
  class Impl;
  Client(ServerUrl url, ClientOptions options, std::unique_ptr<Impl> impl);

  ServerUrl url_;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The Status for a non-2xx reply (exposed for tests): `body` is the server's error JSON
// {"error":{"code","message"}} or anything else (then quoted, shortened, made printable).
Status StatusFromReply(int http_status, std::string_view body);

}  // namespace chuqu::client
