// docs/openapi.yaml cannot drift from the server: the documented (method, path) pairs are
// exactly the routes Server and Api register (with the same auth), every $ref resolves and
// every component is used, every path template's parameters are declared, and the responses
// of a real in-process server — successes and refusals — have a documented status and carry
// the documented required fields and types (a small validator for the schema keywords the
// document uses; the requests sent are checked against the documented request schemas too).
// GCC 12 at -O2 with ASan warns maybe-uninitialized inside <regex> (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <httplib.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/api.h"
#include "server/testing/test_server.h"

namespace chuqu::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// YAML -> JSON with every scalar a string (the document's numbers are only compared as text).
json ToJson(const YAML::Node& n) {
  if (n.IsMap()) {
    json j = json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = ToJson(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    json j = json::array();
    for (const auto& e : n) j.push_back(ToJson(e));
    return j;
  }
  if (n.IsScalar()) return n.as<std::string>();
  return nullptr;
}

const json& Document() {
  static const json doc = ToJson(YAML::LoadFile(CHUQU_SOURCE_DIR "/docs/openapi.yaml"));
  return doc;
}

// "#/components/schemas/X" -> the node, or nullptr.
const json* Resolve(const json& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const json::json_pointer ptr(ref.substr(1));
  return doc.contains(ptr) ? &doc.at(ptr) : nullptr;
}

const json& Deref(const json& node) {
  if (node.is_object() && node.contains("$ref")) {
    const json* target = Resolve(Document(), node["$ref"].get<std::string>());
    if (target != nullptr) return Deref(*target);
  }
  return node;
}

void CollectRefs(const json& node, std::vector<std::string>* refs) {
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) {
      if (k == "$ref" && v.is_string()) refs->push_back(v.get<std::string>());
      CollectRefs(v, refs);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) CollectRefs(v, refs);
  }
}

const std::set<std::string> kMethods = {"get", "post", "put", "delete", "patch", "head"};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Validates `value` against the subset of OpenAPI 3.0 schema keywords the document uses.
// Appends one line per violation to `errors`.
void Validate(const json& schema_in, const json& value, const std::string& where,
              std::vector<std::string>* errors) {
  const json& schema = Deref(schema_in);
  if (!schema.is_object()) return;
  const auto fail = [&](const std::string& what) { errors->push_back(where + ": " + what); };
  if (auto it = schema.find("allOf"); it != schema.end()) {
    for (const auto& s : *it) Validate(s, value, where, errors);
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    const std::string t = *it;
    const bool ok = (t == "object" && value.is_object()) || (t == "array" && value.is_array()) ||
                    (t == "string" && value.is_string()) ||
                    (t == "integer" && value.is_number_integer()) ||
                    (t == "number" && value.is_number()) ||
                    (t == "boolean" && value.is_boolean());
    if (!ok) return fail("not of type " + t + ": " + value.dump().substr(0, 80));
  }
  if (auto it = schema.find("enum"); it != schema.end() && value.is_string()) {
    bool found = false;
    for (const auto& e : *it) found = found || e == value;
    if (!found) fail("\"" + value.get<std::string>() + "\" not in enum");
  }
  if (auto it = schema.find("pattern"); it != schema.end() && value.is_string()) {
    if (!std::regex_search(value.get<std::string>(), std::regex(it->get<std::string>()))) {
      fail("\"" + value.get<std::string>() + "\" does not match " + it->get<std::string>());
    }
  }
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    const auto bound = [&](const char* key) { return std::stoll(schema[key].get<std::string>()); };
    if (schema.contains("minimum") && v < bound("minimum")) fail("below minimum");
    if (schema.contains("maximum") && v > bound("maximum")) fail("above maximum");
  }
  if (value.is_object()) {
    const json props = schema.value("properties", json::object());
    for (const auto& r : schema.value("required", json::array())) {
      const std::string name = r;
      if (!value.contains(name)) fail("missing required \"" + name + "\"");
    }
    for (const auto& [k, v] : value.items()) {
      if (props.contains(k)) {
        Validate(props[k], v, where + "." + k, errors);
      } else if (schema.value("additionalProperties", "true") == "false") {
        fail("undocumented property \"" + k + "\"");
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      Validate(schema["items"], value[i], where + "[" + std::to_string(i) + "]", errors);
    }
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = testing::TestServer::Create("chuqu_openapi_test_");
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    ts_ = std::move(*ts);
    dir_ = ts_->dir();
    registry_ = &ts_->registry();
    tokens_ = &ts_->tokens();
    ts_->Build();
    server_ = &ts_->server();
  }

  void Start() {
    ASSERT_TRUE(ts_->Start().ok());
    client_ = ts_->NewClient();
  }

  std::string CustodialToken() {
    std::string token;
    ts_->NewCustodialParty(&token);
    return token;
  }

  // The documented operation for a request, its response status documented, and a JSON body
  // valid against the documented schema. Returns the parsed body (null if not JSON).
  json Check(const std::string& method, const std::string& route, const httplib::Result& r,
             int want_status) {
    SCOPED_TRACE(method + " " + route);
    EXPECT_TRUE(r) << "no response";
    if (!r) return nullptr;
    EXPECT_EQ(r->status, want_status) << r->body;
    const json& doc = Document();
    const json::json_pointer op_ptr("/paths/" + EscapePointer(route) + "/" +
                                    std::string(method == "GET" ? "get" : "post"));
    EXPECT_TRUE(doc.contains(op_ptr)) << "undocumented operation";
    if (!doc.contains(op_ptr)) return nullptr;
    const json& responses = doc.at(op_ptr)["responses"];
    const std::string code = std::to_string(r->status);
    EXPECT_TRUE(responses.contains(code)) << "status " << code << " is not documented";
    if (!responses.contains(code)) return nullptr;
    const json& resp = Deref(responses[code]);
    const std::string ct = r->get_header_value("Content-Type");
    const std::string media = ct.substr(0, ct.find(';'));
    EXPECT_TRUE(resp.contains("content") && resp["content"].contains(media))
        << "content type " << ct << " is not documented";
    if (!resp.contains("content") || !resp["content"].contains(media)) return nullptr;
    if (media != "application/json") return nullptr;
    json body = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << r->body;
    std::vector<std::string> errors;
    Validate(resp["content"][media]["schema"], body, "response", &errors);
    for (const auto& e : errors) ADD_FAILURE() << e << "\n" << r->body.substr(0, 400);
    return body;
  }

  // A JSON request body valid against the documented request schema of the operation.
  static void CheckRequest(const std::string& route, const json& body) {
    SCOPED_TRACE("request POST " + route);
    const json::json_pointer ptr("/paths/" + EscapePointer(route) +
                                 "/post/requestBody/content/application~1json/schema");
    ASSERT_TRUE(Document().contains(ptr));
    std::vector<std::string> errors;
    Validate(Document().at(ptr), body, "request", &errors);
    for (const auto& e : errors) ADD_FAILURE() << e;
  }

  static std::string EscapePointer(std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }

  std::unique_ptr<testing::TestServer> ts_;
  fs::path dir_;
  registry::Registry* registry_ = nullptr;
  TokenStore* tokens_ = nullptr;
  Server* server_ = nullptr;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OpenApiTest, DocumentedRoutesAreExactlyTheServersRoutes) {
  const json& doc = Document();
  ASSERT_EQ(doc["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> documented, served;
  std::set<std::pair<std::string, std::string>> documented_auth, served_auth;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method)) continue;
      documented.insert({Upper(method), path});
      if (op.contains("security") && !op["security"].empty()) {
        documented_auth.insert({Upper(method), path});
      }
    }
  }
  for (const RouteInfo& r : server_->routes()) {
    served.insert({r.method, r.route});
    if (r.auth == Auth::kRequired) served_auth.insert({r.method, r.route});
  }
  EXPECT_EQ(documented, served);
  EXPECT_EQ(documented_auth, served_auth);
  EXPECT_EQ(served.size(), 18u);
}

TEST_F(OpenApiTest, RefsResolveAndEveryComponentIsUsed) {
  const json& doc = Document();
  std::vector<std::string> refs;
  CollectRefs(doc, &refs);
  ASSERT_FALSE(refs.empty());
  std::set<std::string> used;
  for (const auto& ref : refs) {
    EXPECT_NE(Resolve(doc, ref), nullptr) << "unresolved $ref " << ref;
    used.insert(ref);
  }
  for (const char* kind : {"schemas", "responses", "parameters"}) {
    for (const auto& [name, v] : doc["components"][kind].items()) {
      EXPECT_TRUE(used.count(std::string("#/components/") + kind + "/" + name))
          << kind << "/" << name << " is never referenced";
    }
  }
  for (const auto& [name, v] : doc["components"]["securitySchemes"].items()) {
    EXPECT_EQ(name, "bearer");
  }
}

TEST_F(OpenApiTest, OperationsDeclareTheirPathParametersAndErrors) {
  const json& doc = Document();
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> in_template;
    static const std::regex kParam(R"(\{([^}]+)\})");
    for (std::sregex_iterator it(path.begin(), path.end(), kParam), end; it != end; ++it) {
      in_template.insert((*it)[1]);
    }
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method)) continue;
      SCOPED_TRACE(method + " " + path);
      EXPECT_TRUE(op.contains("operationId") &&
                  operation_ids.insert(op["operationId"].get<std::string>()).second);
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array())) {
        const json& param = Deref(p);
        if (param["in"] == "path") {
          EXPECT_EQ(param["required"], "true");
          declared.insert(param["name"]);
        }
      }
      EXPECT_EQ(declared, in_template);
      ASSERT_TRUE(op.contains("responses"));
      bool has_success = false;
      for (const auto& [code, resp] : op["responses"].items()) {
        has_success = has_success || code[0] == '2';
        const json& r = Deref(resp);
        EXPECT_TRUE(r.contains("description")) << code;
        if (code[0] == '4' || code[0] == '5') {
          // Every error is the JSON error object.
          ASSERT_TRUE(r.contains("content") && r["content"].contains("application/json")) << code;
          std::vector<std::string> errors;
          Validate(r["content"]["application/json"]["schema"],
                   json{{"error", {{"code", "not_found"}, {"message", "m"}}}}, code, &errors);
          EXPECT_TRUE(errors.empty()) << code << ": " << errors[0];
        }
      }
      EXPECT_TRUE(has_success);
      if (op.contains("security")) {
        EXPECT_TRUE(op["responses"].contains("401"));
        EXPECT_TRUE(op["responses"].contains("429"));
        EXPECT_TRUE(op["responses"].contains("413"));
      }
    }
  }
}

TEST_F(OpenApiTest, RealResponsesMatchTheDocument) {
  const std::string alice = CustodialToken();
  const std::string bob = CustodialToken();
  const std::string op = *tokens_->Create(registry_->operator_key().party);
  Start();
  const httplib::Headers auth_alice = {{"Authorization", "Bearer " + alice}};
  const httplib::Headers auth_bob = {{"Authorization", "Bearer " + bob}};
  const httplib::Headers auth_op = {{"Authorization", "Bearer " + op}};
  const auto post_json = [&](const std::string& route, const std::string& path,
                             const httplib::Headers& h, const json& body) {
    CheckRequest(route, body);
    return client_->Post(path.c_str(), h, body.dump(), "application/json");
  };

  Check("GET", "/healthz", client_->Get("/healthz"), 200);
  Check("GET", "/log/checkpoint", client_->Get("/log/checkpoint"), 200);
  Check("GET", "/v1/log-key", client_->Get("/v1/log-key"), 200);
  Check("GET", "/metrics", client_->Get("/metrics"), 200);

  std::string text;
  for (int i = 0; i < 200; ++i) text += "word" + std::to_string(i * 7919 % 1000) + " ";
  const json info = {{"kind", "text"}, {"title", "Poem"}, {"creators", {"A"}}};
  CheckRequest("/v1/works", {{"fingerprints", {{"media", "image"}}}, {"info", info}});
  httplib::MultipartFormDataItems items = {{"file", text, "poem.txt", "text/plain"},
                                           {"info", info.dump(), "", "application/json"}};
  json reg = Check("POST", "/v1/works", client_->Post("/v1/works", auth_alice, items), 201);
  ASSERT_TRUE(reg.is_object());
  const uint64_t work = reg["work"];
  // Idempotency-Key: applied once, a retry is a 409 naming the entry (ReplayError).
  httplib::Headers idem = auth_alice;
  idem.emplace("Idempotency-Key", "openapi-test 1");
  const json fp_body = {{"fingerprints", {{"media", "data"}, {"sha256", std::string(64, 'b')}}}};
  CheckRequest("/v1/works", fp_body);
  json first = Check("POST", "/v1/works",
                     client_->Post("/v1/works", idem, fp_body.dump(), "application/json"), 201);
  json again = Check("POST", "/v1/works",
                     client_->Post("/v1/works", idem, fp_body.dump(), "application/json"), 409);
  EXPECT_EQ(again.value("index", json()), first.value("index", json())) << again;
  idem.erase("Idempotency-Key");
  idem.emplace("Idempotency-Key", std::string(129, 'k'));
  Check("POST", "/v1/works",
        client_->Post("/v1/works", idem, fp_body.dump(), "application/json"), 400);
  const std::string bob_party = *tokens_->Lookup(bob);
  Check("POST", "/v1/match", client_->Post("/v1/match", auth_bob, text, "text/plain"), 200);
  // Bob's party entry (a custodial party is otherwise registered on its first write).
  ASSERT_TRUE(registry_->RegisterParty(*registry::ReadPartyKeyFile(Api::CustodialKeyPath(
                                           dir_.string(), bob_party)),
                                       "Bob")
                  .ok());
  json m = Check("POST", "/v1/match", post_json("/v1/match", "/v1/match", auth_bob,
                                                {{"fingerprints", {{"media", "text"}}}}),
                 200);
  Check("GET", "/v1/works/{id}", client_->Get(("/v1/works/" + std::to_string(work)).c_str()),
        200);
  Check("GET", "/v1/evidence/{index}",
        client_->Get(("/v1/evidence/" + std::to_string(work)).c_str()), 200);
  Check("GET", "/v1/parties/{party}/next-seq",
        client_->Get(("/v1/parties/" + bob_party + "/next-seq").c_str()), 200);
  json offer = Check("POST", "/v1/offers",
                     post_json("/v1/offers", "/v1/offers", auth_alice,
                               {{"work", work}, {"type", "exclusive"}, {"price", 100},
                                {"pay_after_use", true}, {"term", "P1Y"}}),
                     201);
  const std::string offer_id = std::to_string(offer.value("index", uint64_t{0}));
  Check("POST", "/v1/offers/{id}/accept",
        client_->Post(("/v1/offers/" + offer_id + "/accept").c_str(), auth_bob, "{}",
                      "application/json"),
        201);
  Check("POST", "/v1/offers/{id}/accept",
        client_->Post(("/v1/offers/" + offer_id + "/accept").c_str(), auth_bob, "",
                      "application/json"),
        409);
  Check("POST", "/v1/transfers",
        post_json("/v1/transfers", "/v1/transfers", auth_alice,
                  {{"work", work}, {"to", bob_party}, {"basis_points", 2500}}),
        201);
  json claim = Check("POST", "/v1/claims",
                     post_json("/v1/claims", "/v1/claims", auth_bob,
                               {{"work", work}, {"reason", "copied"}, {"evidence", {{"m", 1}}}}),
                     201);
  const std::string claim_id = std::to_string(claim.value("index", uint64_t{0}));
  Check("POST", "/v1/claims/{id}/answer",
        post_json("/v1/claims/{id}/answer", "/v1/claims/" + claim_id + "/answer", auth_alice,
                  {{"text", "no"}}),
        201);
  Check("POST", "/v1/claims/{id}/resolve",
        client_->Post(("/v1/claims/" + claim_id + "/resolve").c_str(), auth_bob,
                      R"({"outcome":"upheld"})", "application/json"),
        403);
  Check("POST", "/v1/claims/{id}/resolve",
        post_json("/v1/claims/{id}/resolve", "/v1/claims/" + claim_id + "/resolve", auth_op,
                  {{"outcome", "settled"}, {"note", "ok"}}),
        201);
  // A signed entry: Bob's next one, signed with his key.
  auto bob_key = registry::ReadPartyKeyFile(Api::CustodialKeyPath(dir_.string(), bob_party));
  ASSERT_TRUE(bob_key.ok());
  registry::Entry e;
  e.kind = std::string(registry::kKindTransfer);
  e.time = registry::NowRfc3339();
  e.party = bob_party;
  e.seq = registry_->NextSeq(bob_party);
  e.body = {{"work", work}, {"to", registry_->operator_key().party}, {"basis_points", 100}};
  auto signed_entry = registry::SignEntry(e, bob_key->secret_key);
  ASSERT_TRUE(signed_entry.ok());
  Check("POST", "/v1/entries",
        post_json("/v1/entries", "/v1/entries", auth_bob, {{"entry", *signed_entry}}), 201);
  Check("POST", "/v1/entries",
        post_json("/v1/entries", "/v1/entries", auth_bob, {{"entry", *signed_entry}}), 409);
  Check("GET", "/v1/works/{id}", client_->Get(("/v1/works/" + std::to_string(work)).c_str()),
        200);

  // Refusals: documented statuses with the error object.
  Check("POST", "/v1/works", client_->Post("/v1/works", text, "text/plain"), 401);
  Check("POST", "/v1/works",
        client_->Post("/v1/works", auth_alice, "{\"info\":", "application/json"), 400);
  Check("POST", "/v1/works",
        client_->Post("/v1/works", auth_alice, std::string(2 << 20, 'a'), "text/plain"), 413);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());  // 413 closes
  Check("POST", "/v1/transfers",
        client_->Post("/v1/transfers", auth_bob,
                      json{{"work", work}, {"to", bob_party}, {"basis_points", 1}}.dump(),
                      "application/json"),
        400);  // to oneself
  Check("GET", "/v1/works/{id}", client_->Get("/v1/works/99999999999999999999"), 400);
  Check("GET", "/v1/works/{id}", client_->Get("/v1/works/12345"), 404);
  Check("GET", "/v1/parties/{party}/next-seq", client_->Get("/v1/parties/xyz/next-seq"), 400);
  Check("GET", "/log/tile/{L}/{N}", client_->Get("/log/tile/0/000.p/1"), 200);
  Check("GET", "/log/tile/{L}/{N}", client_->Get("/log/tile/0/x001/000"), 404);
  Check("GET", "/log/tile/entries/{N}", client_->Get("/log/tile/entries/000.p/1"), 200);
  Check("GET", "/log/tile/entries/{N}", client_->Get("/log/tile/entries/../checkpoint"), 404);
  // The metrics name routes by the document's templates.
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("route=\"/v1/works/{id}\",method=\"GET\",status=\"200\""),
            std::string::npos);
  EXPECT_NE(metrics->body.find("route=\"/log/tile/entries/{N}\""), std::string::npos);
}

}  // namespace
}  // namespace chuqu::server
