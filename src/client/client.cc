#include "client/client.h"

#include <httplib.h>

#include <charconv>

namespace chuqu::client {
namespace {

// Printable, one line, at most `limit` bytes: server text quoted in our messages.
std::string Printable(std::string_view s, size_t limit = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= limit) {
      out += "…";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool IsToken68(std::string_view t) {
  if (t.empty() || t.size() > 256) return false;
  size_t i = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < t.size(); ++i) {
    if (t[i] != '=') return false;
  }
  return true;
}

StatusCode CodeFromName(std::string_view name, int http_status) {
  static constexpr std::pair<std::string_view, StatusCode> kNames[] = {
      {"invalid_argument", StatusCode::kInvalidArgument},
      {"not_found", StatusCode::kNotFound},
      {"already_exists", StatusCode::kAlreadyExists},
      {"failed_precondition", StatusCode::kFailedPrecondition},
      {"permission_denied", StatusCode::kPermissionDenied},
      {"unauthenticated", StatusCode::kUnauthenticated},
      {"too_large", StatusCode::kResourceExhausted},
      {"resource_exhausted", StatusCode::kResourceExhausted},
      {"rate_limited", StatusCode::kUnavailable},
      {"unavailable", StatusCode::kUnavailable},
      {"unsupported", StatusCode::kUnsupported},
      {"out_of_range", StatusCode::kOutOfRange},
      {"internal", StatusCode::kInternal},
  };
  for (const auto& [n, c] : kNames) {
    if (n == name) return c;
  }
  switch (http_status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kFailedPrecondition;
    case 413: return StatusCode::kResourceExhausted;
    case 429:
    case 502:
    case 503:
    case 504: return StatusCode::kUnavailable;
    default: return http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
}

bool IsJsonType(std::string_view ct) {
  return ct == "application/json" || ct.rfind("application/json;", 0) == 0;
}

}  // namespace

std::string ServerUrl::ToString() const { return scheme + "://" + host + ":" + std::to_string(port) + prefix; }

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  // Never echo user info (it may hold a password): "http://…@host".
  std::string shown(url);
  if (const size_t at = shown.find('@'); at != std::string::npos) {
    const size_t start = shown.find("://");
    const size_t from = start == std::string::npos ? 0 : start + 3;
    if (at >= from) shown.replace(from, at - from, "…");
  }
  shown = Printable(shown, 100);
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("--server " + shown + ": " + std::string(why) +
                                   " (expected http://HOST[:PORT][/PREFIX])");
  };
  ServerUrl u;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  u.scheme = std::string(url.substr(0, sep));
  for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https") return bad("only http and https are supported");
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return bad("no user info in the URL: pass the token with --token or $CHUQU_TOKEN");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed [IPv6] host");
    u.host = std::string(authority.substr(0, close + 1));
    if (u.host.size() < 3 ||
        u.host.find_first_not_of("0123456789abcdefABCDEF:.", 1) != u.host.size() - 1) {
      return bad("malformed [IPv6] host");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
    if (u.host.empty()) return bad("no host");
    for (char c : u.host) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
        return bad("malformed host");
      }
    }
  }
  if (u.host.empty()) return bad("no host");
  if (port_text.empty()) {
    u.port = u.scheme == "https" ? 443 : 80;
  } else {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return bad("port must be 1..65535");
    }
    u.port = port;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f || c == '\\') return bad("malformed path prefix");
  }
  u.prefix = std::string(path);
  return u;
}

Status StatusFromReply(int http_status, std::string_view body) {
  std::string code_name;
  std::string message;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const nlohmann::json& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) code_name = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      message = e["message"].get<std::string>();
    }
  } else if (!body.empty()) {
    message.append("\"").append(Printable(body)).append("\"");
  }
  const StatusCode code = CodeFromName(code_name, http_status);
  std::string text = http_status >= 500 ? "server failed: " : "server refused: ";
  text += std::to_string(http_status);
  if (!code_name.empty()) text.append(" ").append(Printable(code_name, 40));
  if (!message.empty()) text.append(": ").append(Printable(message, 400));
  if (http_status == 401) text += " (check --token or $CHUQU_TOKEN)";
  if (http_status == 429) text += " (too many requests: retry later)";
  return Status(code, std::move(text));
}

class Client::Impl {
 public:
  Impl(const ServerUrl& url, const ClientOptions& o) : http(url.scheme + "://" + url.host + ":" + std::to_string(url.port)) {
    http.set_connection_timeout(o.connect_timeout_seconds, 0);
    http.set_read_timeout(o.read_timeout_seconds, 0);
    http.set_write_timeout(o.write_timeout_seconds, 0);
    http.set_keep_alive(true);
    http.set_follow_location(false);  // a redirect would resend the token elsewhere
    if (!o.token.empty()) http.set_bearer_token_auth(o.token);
  }
  httplib::Client http;
};

Client::Client(ServerUrl url, ClientOptions options, std::unique_ptr<Impl> impl)
    : url_(std::move(url)), options_(std::move(options)), impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(std::string_view url, ClientOptions options) {
  CHUQU_ASSIGN_OR_RETURN(ServerUrl u, ParseServerUrl(url));
  if (!options.token.empty() && !IsToken68(options.token)) {
    return Status::InvalidArgument(
        "the token holds characters a bearer token cannot hold (RFC 6750 token68)");
  }
  auto impl = std::make_unique<Impl>(u, options);
  if (!impl->http.is_valid()) {
    return Status::InvalidArgument("cannot make a client for " + u.ToString());
  }
  return std::unique_ptr<Client>(new Client(std::move(u), std::move(options), std::move(impl)));
}

namespace {

Result<Reply> Finish(const httplib::Result& r, const ServerUrl& url, const ClientOptions& o) {
  if (!r) {
    const std::string where = url.ToString();
    switch (r.error()) {
      case httplib::Error::Connection:
        return Status::Unavailable("cannot connect to " + where +
                                   ": connection refused or host unreachable (is `chuqu serve` "
                                   "running there?)");
      case httplib::Error::ConnectionTimeout:
        return Status::Unavailable("cannot connect to " + where + " within " +
                                   std::to_string(o.connect_timeout_seconds) + " s");
      case httplib::Error::Read:
        return Status::Unavailable("no complete answer from " + where + " (timeout " +
                                   std::to_string(o.read_timeout_seconds) +
                                   " s, or the connection was closed)");
      case httplib::Error::Write:
        return Status::Unavailable("cannot send the request to " + where +
                                   " (the connection was closed: body too large?)");
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLLoadingCerts:
      case httplib::Error::SSLServerVerification:
        return Status::Unavailable("TLS with " + where +
                                   " failed: " + httplib::to_string(r.error()));
      default:
        return Status::Unavailable("request to " + where +
                                   " failed: " + httplib::to_string(r.error()));
    }
  }
  if (r->status < 200 || r->status > 299) return StatusFromReply(r->status, r->body);
  Reply out;
  out.status = r->status;
  out.content_type = r->get_header_value("Content-Type");
  out.body = r->body;
  return out;
}

Result<nlohmann::json> ParseJsonReply(const Reply& r, const ServerUrl& url) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!IsJsonType(r.content_type) || j.is_discarded()) {
    return Status::Corruption("the answer of " + url.ToString() +
                              " is not JSON (is it a chuqu server?)");
  }
  return j;
}

}  // namespace

Result<Reply> Client::Get(std::string_view path) {
  return Finish(impl_->http.Get(url_.prefix + std::string(path)), url_, options_);
}

Result<Reply> Client::PostJson(std::string_view path, const nlohmann::json& body) {
  return Finish(impl_->http.Post(url_.prefix + std::string(path),
                                 body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                 "application/json"),
                url_, options_);
}

Result<Reply> Client::PostForm(std::string_view path, const std::vector<FormPart>& parts) {
  httplib::MultipartFormDataItems items;
  items.reserve(parts.size());
  for (const FormPart& p : parts) items.push_back({p.name, p.content, p.filename, p.content_type});
  return Finish(impl_->http.Post(url_.prefix + std::string(path), items), url_, options_);
}

Result<nlohmann::json> Client::GetJson(std::string_view path) {
  CHUQU_ASSIGN_OR_RETURN(Reply r, Get(path));
  return ParseJsonReply(r, url_);
}

Result<nlohmann::json> Client::PostJsonForJson(std::string_view path, const nlohmann::json& body) {
  CHUQU_ASSIGN_OR_RETURN(Reply r, PostJson(path, body));
  return ParseJsonReply(r, url_);
}

Result<nlohmann::json> Client::PostFormForJson(std::string_view path,
                                               const std::vector<FormPart>& parts) {
  CHUQU_ASSIGN_OR_RETURN(Reply r, PostForm(path, parts));
  return ParseJsonReply(r, url_);
}

}  // namespace chuqu::client
