// The registry's commands, working on a data directory (docs/registry.md) or, with
// --server URL instead of --data DIR, against a running `chuqu serve` (registry_remote.cc;
// same arguments, same output lines):
//   chuqu init --data DIR                     new log + operator key + operator party
//   chuqu party create --data DIR --name N    new party key file (0600) and its party entry
//   chuqu party key --key FILE                new party key file only (to sign for a server)
//   chuqu register --data DIR [--party KEY] [--kind K] [--title T] [--json] FILE...
//   chuqu show --data DIR WORK
//   chuqu match --data DIR [--json] FILE...
//   chuqu transfer --data DIR --party KEY --work W --to PARTY --bp N
//   chuqu licence offer|accept ...,  chuqu price-cap ...,  chuqu claim open|answer|resolve ...
//   chuqu evidence --data DIR WORK -o BUNDLE
// Exit codes: 0 done; 1 refused or failed (one line on stderr saying why); CLI11's codes for
// usage errors. Per-file commands go on after a failing file and exit 1 at the end.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/task_runner.h"
#include "commands.h"
#include "ledger/bundle.h"
#include "registry/registry.h"
#include "registry_remote.h"

namespace chuqu::app {

Result<std::unique_ptr<registry::Registry>> OpenRegistry(const std::string& dir,
                                                         registry::Options options) {
  std::unique_ptr<ThreadPool> pool;
  if (const unsigned cores = std::thread::hardware_concurrency();
      cores >= 2 && options.open_runner == nullptr) {
    pool = std::make_unique<ThreadPool>(cores - 1);
    options.open_runner = pool.get();
  }
  return registry::Registry::Open(dir, options);
}

namespace {

using registry::Registry;

[[noreturn]] void Fail(const std::string& cmd, const Status& s) {
  std::cerr << "chuqu " << cmd << ": " << s.ToString() << "\n";
  throw CLI::RuntimeError(1);
}

std::unique_ptr<Registry> OpenOrFail(const std::string& cmd, const std::string& dir,
                                     const registry::Options& options = {}) {
  Result<std::unique_ptr<Registry>> r = OpenRegistry(dir, options);
  if (!r.ok()) Fail(cmd, r.status());
  return std::move(*r);
}

registry::PartyKey KeyOrFail(const std::string& cmd, const Registry& reg,
                             const std::string& key_file) {
  if (key_file.empty()) return reg.operator_key();
  Result<registry::PartyKey> k = registry::ReadPartyKeyFile(key_file);
  if (!k.ok()) Fail(cmd, k.status());
  return *k;
}

nlohmann::json MatchJson(const registry::Match& m) {
  return {{"work", m.work},
          {"media", m.media},
          {"score", m.score},
          {"evidence", m.evidence},
          {"first_registration",
           {{"index", m.first.index}, {"time", m.first.time}, {"party", m.first.party}}}};
}

nlohmann::json MatchesJson(const std::vector<registry::Match>& ms) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& m : ms) a.push_back(MatchJson(m));
  return a;
}

struct Common {
  std::string data;
  std::string server;  // base URL; set: the command runs against that server
  std::string token;   // with --server
  std::string party;   // key file; empty: the operator's (local), the token's party (server)
  bool json = false;
  bool fingerprints_only = false;
  remote::Target target() const { return {server, token, party}; }
};

void AddData(CLI::App* cmd, Common& c) {
  cmd->add_option("--data", c.data, "registry data directory")->required();
}
// Exactly one of --data DIR and --server URL.
void AddWhere(CLI::App* cmd, Common& c) {
  auto* where = cmd->add_option_group("where", "a local data directory or a running server");
  where->add_option("--data", c.data, "registry data directory");
  where->add_option("--server", c.server,
                    "URL of a running `chuqu serve` (http://HOST:PORT or https://...)");
  where->require_option(1);
  cmd->add_option("--token", c.token,
                  "API token for --server (default: $CHUQU_TOKEN; keep it out of shell history)")
      ->envname("CHUQU_TOKEN");
}
void AddParty(CLI::App* cmd, Common& c) {
  cmd->add_option("--party,--key", c.party,
                  "acting party's key file. Local: default DIR/operator.key. With --server: "
                  "entries are signed here and sent to /v1/entries (the server never sees the "
                  "key); default: the token's party, signed by the server");
}

void PrintWrite(const registry::WriteResult& w, std::string_view what) {
  std::cout << nlohmann::json{{what, w.index}, {"index", w.index}}.dump() << "\n";
}

}  // namespace

void AddRegistryCommands(CLI::App& app) {
  // init
  {
    auto c = std::make_shared<Common>();
    auto name = std::make_shared<std::string>("chuqu.local/registry");
    auto* cmd = app.add_subcommand("init", "Create a registry (log, log key, operator key)");
    AddData(cmd, *c);
    cmd->add_option("--name", *name, "log origin (key name)")->capture_default_str();
    auto store = std::make_shared<std::string>();
    cmd->add_option("--store", *store,
                    "postgresql://USER@HOST[:PORT]/DB[?schema=NAME]: keep the log in PostgreSQL "
                    "(password from PGPASSWORD or ~/.pgpass); default DIR/log.db (SQLite)")
        ->envname("CHUQU_STORE");
    cmd->callback([c, name, store] {
      registry::Options options;
      options.store_url = *store;
      Result<std::unique_ptr<Registry>> r = Registry::Init(c->data, *name, options);
      if (!r.ok()) Fail("init", r.status());
      std::cout << nlohmann::json{{"data", c->data},
                                  {"operator", (*r)->operator_key().party},
                                  {"log_key", (*r)->log_key()}}
                       .dump()
                << "\n";
    });
  }
  // party create
  {
    auto* party = app.add_subcommand("party", "Parties (Ed25519 keys)");
    party->require_subcommand(1);
    auto c = std::make_shared<Common>();
    auto name = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto* cmd = party->add_subcommand("create", "New party: key file (0600) + party entry");
    AddData(cmd, *c);
    cmd->add_option("--name", *name, "display name")->required();
    cmd->add_option("--key", *out, "key file to write (default: DIR/keys/<name>.key)");
    cmd->callback([c, name, out] {
      auto reg = OpenOrFail("party create", c->data);
      std::string path = *out;
      if (path.empty()) {
        std::string safe;
        for (char ch : *name) safe += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
        std::filesystem::create_directories(std::filesystem::path(c->data) / "keys");
        path = (std::filesystem::path(c->data) / "keys" / (safe + ".key")).string();
      }
      registry::PartyKey key = registry::PartyKey::Generate();
      if (Status s = registry::WritePartyKeyFile(path, key); !s.ok()) Fail("party create", s);
      Result<registry::WriteResult> w = reg->RegisterParty(key, *name);
      if (!w.ok()) {
        std::filesystem::remove(path);
        Fail("party create", w.status());
      }
      std::cout << nlohmann::json{{"party", key.party}, {"key", path}, {"index", w->index}}.dump()
                << "\n";
    });
  }
  // party key: a key file only, for a party that signs its own entries on a server
  {
    auto* party = app.get_subcommand("party");
    auto out = std::make_shared<std::string>();
    auto* cmd = party->add_subcommand(
        "key", "New party key file (0600) and nothing else: for --server, the server's "
               "operator then runs `chuqu token create --party ID`");
    cmd->add_option("--key", *out, "key file to write (never overwritten)")->required();
    cmd->callback([out] {
      const registry::PartyKey key = registry::PartyKey::Generate();
      if (Status s = registry::WritePartyKeyFile(*out, key); !s.ok()) Fail("party key", s);
      std::cout << nlohmann::json{{"party", key.party}, {"key", *out}}.dump() << "\n";
    });
  }
  // register
  {
    auto c = std::make_shared<Common>();
    auto info = std::make_shared<registry::WorkInfo>();
    auto files = std::make_shared<std::vector<std::string>>();
    info->kind = "";
    auto* cmd = app.add_subcommand("register", "Register files as works (through the log)");
    AddWhere(cmd, *c);
    AddParty(cmd, *c);
    cmd->add_option("--kind", info->kind,
                    "text, image, audio, video, document, patent, dataset, other "
                    "(default: the detected media)");
    cmd->add_option("--title", info->title, "title (default: the file name)");
    cmd->add_option("--creator", info->creators, "creator (repeatable)");
    cmd->add_flag("--ai-generated", info->ai_generated, "declare AI-generated content");
    cmd->add_flag("--digital-human", info->digital_human, "declare digital-human content");
    cmd->add_flag("--json", c->json, "one JSON object per file and line (the default)");
    cmd->add_flag("--fingerprints-only", c->fingerprints_only,
                  "with --server: compute the fingerprints here and send only them (the "
                  "content never leaves this machine)");
    cmd->add_option("files", *files, "files to register")->required();
    cmd->callback([c, info, files] {
      if (!c->server.empty()) return remote::Register(c->target(), *info, *files, c->fingerprints_only);
      auto reg = OpenOrFail("register", c->data);
      const registry::PartyKey key = KeyOrFail("register", *reg, c->party);
      int failures = 0;
      for (const std::string& f : *files) {
        registry::WorkInfo i = *info;
        if (i.kind.empty()) i.kind = "other";  // RegisterFile then uses the detected media
        Result<registry::RegisterResult> r = reg->RegisterFile(key, f, i);
        if (!r.ok()) {
          ++failures;
          std::cerr << "chuqu register: " << r.status().ToString() << "\n";
          continue;
        }
        std::cout << nlohmann::json{{"file", f},
                                    {"work", r->work},
                                    {"index", r->index},
                                    {"media", r->media},
                                    {"prior_art", MatchesJson(r->prior_art)},
                                    {"receipt", r->receipt}}
                         .dump()
                  << "\n";
      }
      if (failures) throw CLI::RuntimeError(1);
    });
  }
  // show
  {
    auto c = std::make_shared<Common>();
    auto work = std::make_shared<uint64_t>(0);
    auto* cmd = app.add_subcommand("show", "Show a work: registration, owners, history");
    AddWhere(cmd, *c);
    cmd->add_option("work", *work, "work id")->required();
    cmd->callback([c, work] {
      if (!c->server.empty()) return remote::Show(c->target(), *work);
      auto reg = OpenOrFail("show", c->data);
      Result<registry::WorkRecord> w = reg->GetWork(*work);
      if (!w.ok()) Fail("show", w.status());
      nlohmann::json owners = nlohmann::json::array();
      for (const auto& s : w->owners) {
        owners.push_back({{"party", s.party}, {"basis_points", s.basis_points}});
      }
      std::cout << nlohmann::json{{"work", w->work},
                                  {"media", w->media},
                                  {"registered", {{"index", w->registration.index},
                                                  {"time", w->registration.time},
                                                  {"party", w->registration.party}}},
                                  {"entry", w->entry},
                                  {"owners", owners},
                                  {"history", w->history}}
                       .dump()
                << "\n";
    });
  }
  // match
  {
    auto c = std::make_shared<Common>();
    auto files = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand("match", "Find registered works that files copy");
    AddWhere(cmd, *c);
    cmd->add_flag("--json", c->json, "one JSON object per file and line (the default)");
    cmd->add_flag("--fingerprints-only", c->fingerprints_only,
                  "with --server: send fingerprints computed here, not the file");
    cmd->add_option("files", *files, "query files")->required();
    cmd->callback([c, files] {
      if (!c->server.empty()) return remote::Match(c->target(), *files, c->fingerprints_only);
      // One query at a time: a second core shortens an image match (same results).
      std::unique_ptr<ThreadPool> pool;
      registry::Options options;
      if (std::thread::hardware_concurrency() >= 2) {
        pool = std::make_unique<ThreadPool>(1);
        options.matcher.runner = pool.get();
      }
      auto reg = OpenOrFail("match", c->data, options);
      int failures = 0;
      for (const std::string& f : *files) {
        Result<std::vector<registry::Match>> m = reg->MatchFile(f);
        if (!m.ok()) {
          ++failures;
          std::cerr << "chuqu match: " << m.status().ToString() << "\n";
          continue;
        }
        std::cout << nlohmann::json{{"file", f}, {"matches", MatchesJson(*m)}}.dump() << "\n";
      }
      if (failures) throw CLI::RuntimeError(1);
    });
  }
  // transfer
  {
    auto c = std::make_shared<Common>();
    auto work = std::make_shared<uint64_t>(0);
    auto to = std::make_shared<std::string>();
    auto bp = std::make_shared<int64_t>(0);
    auto* cmd = app.add_subcommand("transfer", "Give basis points of your share to a party");
    AddWhere(cmd, *c);
    AddParty(cmd, *c);
    cmd->add_option("--work", *work, "work id")->required();
    cmd->add_option("--to", *to, "recipient party id (public key hex)")->required();
    cmd->add_option("--bp", *bp, "basis points (10000 = the whole work)")
        ->required()
        ->check(CLI::Range(int64_t{1}, registry::kFullShare));
    cmd->callback([c, work, to, bp] {
      if (!c->server.empty()) return remote::Transfer(c->target(), *work, *to, *bp);
      auto reg = OpenOrFail("transfer", c->data);
      Result<registry::WriteResult> w =
          reg->Transfer(KeyOrFail("transfer", *reg, c->party), *work, *to, *bp);
      if (!w.ok()) Fail("transfer", w.status());
      PrintWrite(*w, "transfer");
    });
  }
  // licence offer | accept
  {
    auto* lic = app.add_subcommand("licence", "Licence offers and grants");
    lic->require_subcommand(1);
    auto c = std::make_shared<Common>();
    auto o = std::make_shared<registry::LicenceOffer>();
    auto* offer = lic->add_subcommand("offer", "Offer a licence on a work you own");
    AddWhere(offer, *c);
    AddParty(offer, *c);
    offer->add_option("--work", o->work, "work id")->required();
    offer->add_option("--type", o->type, "open, non-exclusive or exclusive")
        ->check(CLI::IsMember({"open", "non-exclusive", "exclusive"}))
        ->capture_default_str();
    offer->add_option("--price", o->price, "price in minor units (e.g. fen)")->required();
    offer->add_option("--currency", o->currency)->capture_default_str();
    offer->add_option("--unit", o->unit, "what the price is per")->capture_default_str();
    offer->add_flag("--pay-after-use", o->pay_after_use, "先使用后付费: pay after use");
    offer->add_option("--territory", o->territory)->capture_default_str();
    offer->add_option("--term", o->term, "ISO 8601 duration, e.g. P1Y (empty: perpetual)");
    offer->callback([c, o] {
      if (!c->server.empty()) return remote::Offer(c->target(), *o);
      auto reg = OpenOrFail("licence offer", c->data);
      Result<registry::WriteResult> w =
          reg->OfferLicence(KeyOrFail("licence offer", *reg, c->party), *o);
      if (!w.ok()) Fail("licence offer", w.status());
      PrintWrite(*w, "offer");
    });
    auto ca = std::make_shared<Common>();
    auto id = std::make_shared<uint64_t>(0);
    auto* accept = lic->add_subcommand("accept", "Accept an offer (the grant)");
    AddWhere(accept, *ca);
    AddParty(accept, *ca);
    accept->add_option("--offer", *id, "offer id")->required();
    accept->callback([ca, id] {
      if (!ca->server.empty()) return remote::Accept(ca->target(), *id);
      auto reg = OpenOrFail("licence accept", ca->data);
      Result<registry::WriteResult> w =
          reg->AcceptLicence(KeyOrFail("licence accept", *reg, ca->party), *id);
      if (!w.ok()) Fail("licence accept", w.status());
      PrintWrite(*w, "grant");
    });
  }
  // price-cap (operator)
  {
    auto c = std::make_shared<Common>();
    auto kind = std::make_shared<std::string>();
    auto max = std::make_shared<int64_t>(0);
    auto currency = std::make_shared<std::string>("CNY");
    auto* cmd = app.add_subcommand("price-cap", "Operator: price cap per work kind (0 removes)");
    AddWhere(cmd, *c);
    AddParty(cmd, *c);
    cmd->add_option("--kind", *kind, "work kind")->required();
    cmd->add_option("--max", *max, "highest price in minor units")->required();
    cmd->add_option("--currency", *currency)->capture_default_str();
    cmd->callback([c, kind, max, currency] {
      if (!c->server.empty()) return remote::PriceCap(c->target(), *kind, *max, *currency);
      auto reg = OpenOrFail("price-cap", c->data);
      Result<registry::WriteResult> w =
          reg->SetPriceCap(KeyOrFail("price-cap", *reg, c->party), *kind, *max, *currency);
      if (!w.ok()) Fail("price-cap", w.status());
      PrintWrite(*w, "price_cap");
    });
  }
  // claim open | answer | resolve
  {
    auto* claim = app.add_subcommand("claim", "Claims and disputes");
    claim->require_subcommand(1);
    auto c = std::make_shared<Common>();
    auto work = std::make_shared<uint64_t>(0);
    auto reason = std::make_shared<std::string>();
    auto evidence = std::make_shared<std::string>();
    auto* open = claim->add_subcommand("open", "Claim against a work");
    AddWhere(open, *c);
    AddParty(open, *c);
    open->add_option("--work", *work, "work id")->required();
    open->add_option("--reason", *reason, "why")->required();
    open->add_option("--evidence", *evidence, "JSON file with match evidence (chuqu match)");
    open->callback([c, work, reason, evidence] {
      nlohmann::json ev = nlohmann::json::object();
      if (!evidence->empty()) {
        std::ifstream in(*evidence);
        ev = nlohmann::json::parse(in, nullptr, false);
        if (!in || ev.is_discarded()) {
          Fail("claim open", Status::InvalidArgument(*evidence + " is not a JSON file"));
        }
      }
      if (!c->server.empty()) return remote::ClaimOpen(c->target(), *work, *reason, ev);
      auto reg = OpenOrFail("claim open", c->data);
      Result<registry::WriteResult> w =
          reg->Claim(KeyOrFail("claim open", *reg, c->party), *work, *reason, ev);
      if (!w.ok()) Fail("claim open", w.status());
      PrintWrite(*w, "claim");
    });
    auto ca = std::make_shared<Common>();
    auto id = std::make_shared<uint64_t>(0);
    auto text = std::make_shared<std::string>();
    auto* answer = claim->add_subcommand("answer", "An owner answers a claim");
    AddWhere(answer, *ca);
    AddParty(answer, *ca);
    answer->add_option("--claim", *id, "claim id")->required();
    answer->add_option("--text", *text, "the answer")->required();
    answer->callback([ca, id, text] {
      if (!ca->server.empty()) return remote::ClaimAnswer(ca->target(), *id, *text);
      auto reg = OpenOrFail("claim answer", ca->data);
      Result<registry::WriteResult> w =
          reg->Answer(KeyOrFail("claim answer", *reg, ca->party), *id, *text);
      if (!w.ok()) Fail("claim answer", w.status());
      PrintWrite(*w, "answer");
    });
    auto cr = std::make_shared<Common>();
    auto rid = std::make_shared<uint64_t>(0);
    auto outcome = std::make_shared<std::string>();
    auto note = std::make_shared<std::string>();
    auto* resolve = claim->add_subcommand("resolve", "Operator resolves a claim");
    AddWhere(resolve, *cr);
    AddParty(resolve, *cr);
    resolve->add_option("--claim", *rid, "claim id")->required();
    resolve->add_option("--outcome", *outcome, "upheld, rejected or settled")->required();
    resolve->add_option("--note", *note, "resolution note");
    resolve->callback([cr, rid, outcome, note] {
      if (!cr->server.empty()) return remote::ClaimResolve(cr->target(), *rid, *outcome, *note);
      auto reg = OpenOrFail("claim resolve", cr->data);
      Result<registry::WriteResult> w =
          reg->Resolve(KeyOrFail("claim resolve", *reg, cr->party), *rid, *outcome, *note);
      if (!w.ok()) Fail("claim resolve", w.status());
      PrintWrite(*w, "resolve");
    });
  }
  // evidence
  {
    auto c = std::make_shared<Common>();
    auto index = std::make_shared<uint64_t>(0);
    auto out = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("evidence", "Write the evidence bundle of a work (or entry)");
    AddWhere(cmd, *c);
    cmd->add_option("work", *index, "work id (or any entry index)")->required();
    cmd->add_option("-o,--out", *out, "bundle file to write")->required();
    cmd->callback([c, index, out] {
      if (!c->server.empty()) return remote::Evidence(c->target(), *index, *out);
      auto reg = OpenOrFail("evidence", c->data);
      Result<ledger::EvidenceBundle> b = reg->Evidence(*index);
      if (!b.ok()) Fail("evidence", b.status());
      std::ofstream f(*out, std::ios::binary | std::ios::trunc);
      f << ledger::FormatBundle(*b);
      if (!f.flush()) Fail("evidence", Status::IOError("cannot write " + *out));
      std::cout << nlohmann::json{{"bundle", *out}, {"index", *index}, {"log_key", reg->log_key()}}
                       .dump()
                << "\n";
    });
  }
}

}  // namespace chuqu::app
