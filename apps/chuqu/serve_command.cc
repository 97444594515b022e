// chuqu serve --data DIR [--listen 127.0.0.1:8080]: the HTTP server (src/server) on the
// registry in DIR, initialising DIR if it holds no registry yet.
// chuqu token create --data DIR [--operator]: a new API token (printed once on stdout) for a
// new custodial party (key in DIR/parties/<party>.key, 0600), or for the operator. Safe while
// the server runs: it writes only DIR/tokens and DIR/parties (the server registers the party
// on its first write).
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "registry/registry.h"
#include "server/api.h"
#include "server/server.h"
#include "server/tokens.h"
#include "registry/registry_store.h"
#include "store/open_store.h"

namespace chuqu::app {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void ServeFail(const std::string& cmd, const Status& s) {
  std::cerr << "chuqu " << cmd << ": " << s.ToString() << "\n";
  throw CLI::RuntimeError(1);
}

struct ServeFlags {
  std::string data;
  std::string store;  // "" = DIR/log.db (or DIR/store.url); postgresql://... (registry.h)
  std::string listen = "127.0.0.1:8080";
  int threads = 8;
  int max_body_mib = 64;
  double rate = 200;
  int64_t batch_micros = 2000;
  bool quiet = false;
};

Status ParseListen(const std::string& listen, server::ServerOptions& o) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--listen must be HOST:PORT");
  }
  o.host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--listen port must be 0..65535");
  }
  o.port = std::stoi(port);
  return Status::Ok();
}

void Serve(const ServeFlags& f) {
  server::ServerOptions o;
  if (Status s = ParseListen(f.listen, o); !s.ok()) ServeFail("serve", s);
  o.threads = f.threads;
  o.max_body_bytes = static_cast<size_t>(f.max_body_mib) << 20;
  o.rate_per_second = f.rate;
  o.rate_burst = f.rate * 2;
  o.access_log = !f.quiet;

  // SIGINT/SIGTERM stop the server (handled on a thread; every other thread, including the
  // sequencer the registry starts, blocks them: so they are blocked before anything starts).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  registry::Options ro;
  ro.batch_interval_micros = f.batch_micros;
  ro.store_url = f.store;
  Result<std::unique_ptr<registry::Registry>> reg =
      fs::exists(fs::path(f.data) / "log.db") || fs::exists(fs::path(f.data) / "log.key")
          ? OpenRegistry(f.data, ro)
          : registry::Registry::Init(f.data, "chuqu.local/registry", ro);
  if (!reg.ok()) ServeFail("serve", reg.status());
  // A second, read-only use of the same store for /log/ (snapshots; the registry's
  // sequencer is the one writer).
  Result<std::string> location = registry::RegistryStoreLocation(f.data, f.store);
  if (!location.ok()) ServeFail("serve", location.status());
  store::OpenStoreOptions so;
  so.create_if_missing = false;
  so.quick_check_on_open = false;  // the registry's open just ran it
  auto store = store::OpenStore(*location, so);
  if (!store.ok()) ServeFail("serve", store.status());
  auto tokens = server::TokenStore::Open(f.data);
  if (!tokens.ok()) ServeFail("serve", tokens.status());

  server::Server srv(o, **store, tokens->get());
  server::Api api(**reg, f.data);
  api.AddRoutes(srv);
  srv.metrics().AddGauge("chuqu_registry_entries", "Entries the registry has sequenced.",
                         [r = reg->get()] { return static_cast<double>(r->size()); });
  if (Status s = srv.Bind(); !s.ok()) ServeFail("serve", s);
  std::cerr << "chuqu serve: listening on http://" << o.host << ":" << srv.port()
            << " (data " << f.data << ", log size " << (*reg)->size() << ")\n";
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    srv.Stop();
  });
  srv.Run();
  waiter.join();
  std::cerr << "chuqu serve: stopped\n";
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  auto* serve = app.add_subcommand("serve", "Run the HTTP server (/v1 API, /log/ tiles)");
  serve->add_option("--data", f->data, "registry data directory (initialised if empty)")
      ->required();
  serve->add_option("--store", f->store,
                    "postgresql://USER@HOST[:PORT]/DB[?schema=NAME]: log and tables in PostgreSQL "
                    "(password from PGPASSWORD or ~/.pgpass; recorded in DIR/store.url); "
                    "default DIR/log.db (SQLite)")
      ->envname("CHUQU_STORE");
  serve->add_option("--listen", f->listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--threads", f->threads, "worker threads")->capture_default_str();
  serve->add_option("--max-body-mib", f->max_body_mib, "request body limit, MiB")
      ->capture_default_str();
  serve->add_option("--rate", f->rate, "requests/s per token (burst 2x); 0: no limit")
      ->capture_default_str();
  serve->add_option("--batch-micros", f->batch_micros, "sequencer batching window, us")
      ->capture_default_str();
  serve->add_flag("--quiet", f->quiet, "no access log");
  serve->callback([f] { Serve(*f); });

  auto* token = app.add_subcommand("token", "API tokens for chuqu serve");
  token->require_subcommand(1);
  auto data = std::make_shared<std::string>();
  auto op = std::make_shared<bool>(false);
  auto* create = token->add_subcommand(
      "create", "New token for a new custodial party (or --operator); prints the token once");
  create->add_option("--data", *data, "registry data directory")->required();
  create->add_flag("--operator", *op, "a token for the operator party (DIR/operator.key)");
  // A party holding its own key (it signs its entries, e.g. `chuqu register --server URL
  // --party KEY`): the server keeps no key for it.
  auto own = std::make_shared<std::string>();
  create->add_option("--party", *own,
                     "a token for this party id (64 hex), which signs its own entries")
      ->excludes("--operator");
  create->callback([data, op, own] {
    std::string party;
    if (!own->empty()) {
      if (own->size() != 64 || own->find_first_not_of("0123456789abcdef") != std::string::npos) {
        ServeFail("token create",
                  Status::InvalidArgument("--party must be a party id: 64 lower-case hex digits"));
      }
      party = *own;
    } else if (*op) {
      auto k = registry::ReadPartyKeyFile((fs::path(*data) / "operator.key").string());
      if (!k.ok()) ServeFail("token create", k.status());
      party = k->party;
    } else {
      const registry::PartyKey k = registry::PartyKey::Generate();
      std::error_code ec;
      fs::create_directories(fs::path(*data) / "parties", ec);
      if (ec) ServeFail("token create", Status::IOError("cannot create " + *data + "/parties"));
      chmod((fs::path(*data) / "parties").c_str(), 0700);
      const std::string path = server::Api::CustodialKeyPath(*data, k.party);
      if (Status s = registry::WritePartyKeyFile(path, k); !s.ok()) ServeFail("token create", s);
      party = k.party;
    }
    auto tokens = server::TokenStore::Open(*data);
    if (!tokens.ok()) ServeFail("token create", tokens.status());
    auto t = (*tokens)->Create(party);
    if (!t.ok()) ServeFail("token create", t.status());
    std::cerr << "party " << party << "\n";
    std::cout << *t << "\n";
  });
}

}  // namespace chuqu::app
