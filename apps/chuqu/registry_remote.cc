#include "registry_remote.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "client/client.h"
#include "client/registry_client.h"
#include "ledger/bundle.h"
#include "media/extract.h"

namespace chuqu::app::remote {
namespace {

using nlohmann::json;

// The server's refusals already say who refused and why ("server refused: 403 …"); local
// failures keep the code name as the local commands print them.
std::string Describe(const Status& s) {
  const std::string& m = s.message();
  if (m.rfind("server ", 0) == 0 || s.code() == StatusCode::kUnavailable) return m;
  return s.ToString();
}

[[noreturn]] void Fail(const std::string& cmd, const Status& s) {
  std::cerr << "chuqu " << cmd << ": " << Describe(s) << "\n";
  throw CLI::RuntimeError(1);
}

struct Session {
  std::unique_ptr<client::Client> http;
  std::unique_ptr<client::RegistryClient> api;
  std::optional<registry::PartyKey> key;
  const registry::PartyKey* signer() const { return key ? &*key : nullptr; }
};

Session Connect(const std::string& cmd, const Target& t) {
  Session s;
  client::ClientOptions o;
  o.token = t.token;
  Result<std::unique_ptr<client::Client>> c = client::Client::Create(t.server, o);
  if (!c.ok()) Fail(cmd, c.status());
  s.http = std::move(*c);
  s.api = std::make_unique<client::RegistryClient>(*s.http);
  if (!t.party_key.empty()) {
    Result<registry::PartyKey> k = registry::ReadPartyKeyFile(t.party_key);
    if (!k.ok()) Fail(cmd, k.status());
    s.key = std::move(*k);
  }
  return s;
}

// Every write prints {"<what>": index, "index": index}, as the local commands do.
void PrintWrite(const std::string& cmd, const Result<json>& w, std::string_view what) {
  if (!w.ok()) Fail(cmd, w.status());
  const json& index = (*w)["index"];
  std::cout << json{{what, index}, {"index", index}}.dump() << "\n";
}

json Field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? json() : *it;
}

}  // namespace

void Register(const Target& t, const registry::WorkInfo& info,
              const std::vector<std::string>& files, bool fingerprints_only) {
  Session s = Connect("register", t);
  int failures = 0;
  for (const std::string& f : files) {
    Result<json> r = Status::Internal("unset");
    if (!fingerprints_only && s.signer() == nullptr) {
      // The upload is spooled under a temporary name on the server: send the title here.
      registry::WorkInfo i = info;
      if (i.kind.empty()) i.kind = "other";  // the server then uses the detected media
      if (i.title.empty()) i.title = media::NameFromPath(f);
      r = s.api->RegisterFile(f, i);
    } else {
      Result<registry::Fingerprints> fp = registry::Registry::FingerprintFile(f);
      if (fp.ok()) {
        r = s.api->RegisterFingerprints(*fp, client::DefaultWorkInfo(info, *fp, f), s.signer(),
                                        fingerprints_only ? "" : f);
      } else {
        r = fp.status();
      }
    }
    if (!r.ok()) {
      ++failures;
      std::cerr << "chuqu register: " << f << ": " << Describe(r.status()) << "\n";
      continue;
    }
    std::cout << json{{"file", f},
                      {"work", Field(*r, "work")},
                      {"index", Field(*r, "index")},
                      {"media", Field(*r, "media")},
                      {"prior_art", Field(*r, "prior_art")},
                      {"receipt", Field(*r, "receipt")}}
                     .dump()
              << "\n";
  }
  if (failures) throw CLI::RuntimeError(1);
}

void Match(const Target& t, const std::vector<std::string>& files, bool fingerprints_only) {
  Session s = Connect("match", t);
  int failures = 0;
  for (const std::string& f : files) {
    Result<json> m = Status::Internal("unset");
    if (fingerprints_only) {
      Result<registry::Fingerprints> fp = registry::Registry::FingerprintFile(f);
      m = fp.ok() ? s.api->MatchFingerprints(*fp) : Result<json>(fp.status());
    } else {
      m = s.api->MatchFile(f);
    }
    if (!m.ok()) {
      ++failures;
      std::cerr << "chuqu match: " << f << ": " << Describe(m.status()) << "\n";
      continue;
    }
    std::cout << json{{"file", f}, {"matches", Field(*m, "matches")}}.dump() << "\n";
  }
  if (failures) throw CLI::RuntimeError(1);
}

void Show(const Target& t, uint64_t work) {
  Session s = Connect("show", t);
  Result<json> w = s.api->GetWork(work);
  if (!w.ok()) Fail("show", w.status());
  // The API calls it "registration"; the local command "registered".
  std::cout << json{{"work", Field(*w, "work")},
                    {"media", Field(*w, "media")},
                    {"registered", Field(*w, "registration")},
                    {"entry", Field(*w, "entry")},
                    {"owners", Field(*w, "owners")},
                    {"history", Field(*w, "history")}}
                   .dump()
            << "\n";
}

void Transfer(const Target& t, uint64_t work, const std::string& to, int64_t basis_points) {
  Session s = Connect("transfer", t);
  PrintWrite("transfer", s.api->Transfer(s.signer(), work, to, basis_points), "transfer");
}

void Offer(const Target& t, const registry::LicenceOffer& offer) {
  Session s = Connect("licence offer", t);
  PrintWrite("licence offer", s.api->OfferLicence(s.signer(), offer), "offer");
}

void Accept(const Target& t, uint64_t offer) {
  Session s = Connect("licence accept", t);
  PrintWrite("licence accept", s.api->AcceptLicence(s.signer(), offer), "grant");
}

void PriceCap(const Target& t, const std::string& kind, int64_t max, const std::string& currency) {
  Session s = Connect("price-cap", t);
  if (!s.key) {
    Fail("price-cap", Status::InvalidArgument(
                          "with --server, give the operator's key file with --party (the API "
                          "has no route where the server signs a price cap)"));
  }
  PrintWrite("price-cap", s.api->SetPriceCap(*s.key, kind, max, currency), "price_cap");
}

void ClaimOpen(const Target& t, uint64_t work, const std::string& reason, const json& evidence) {
  Session s = Connect("claim open", t);
  PrintWrite("claim open", s.api->Claim(s.signer(), work, reason, evidence), "claim");
}

void ClaimAnswer(const Target& t, uint64_t claim, const std::string& text) {
  Session s = Connect("claim answer", t);
  PrintWrite("claim answer", s.api->Answer(s.signer(), claim, text), "answer");
}

void ClaimResolve(const Target& t, uint64_t claim, const std::string& outcome,
                  const std::string& note) {
  Session s = Connect("claim resolve", t);
  PrintWrite("claim resolve", s.api->Resolve(s.signer(), claim, outcome, note), "resolve");
}

void Evidence(const Target& t, uint64_t index, const std::string& out) {
  Session s = Connect("evidence", t);
  Result<std::string> text = s.api->Evidence(index);
  if (!text.ok()) Fail("evidence", text.status());
  // Only a bundle is written (what `chuqu verify` then checks offline).
  Result<ledger::EvidenceBundle> b = ledger::ParseBundle(*text);
  if (!b.ok()) {
    Fail("evidence", Status::Corruption("the server's answer is not an evidence bundle: " +
                                        b.status().message()));
  }
  Result<std::string> key = s.api->LogKey();
  if (!key.ok()) Fail("evidence", key.status());
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << *text;
  if (!f.flush()) Fail("evidence", Status::IOError("cannot write " + out));
  std::cout << json{{"bundle", out}, {"index", index}, {"log_key", *key}}.dump() << "\n";
}

}  // namespace chuqu::app::remote
