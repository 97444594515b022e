// load_gen: a bounded load generator for `chuqu serve` on loopback (docs/benchmarks.md
// "Registry server under load"). Not a Google Benchmark: it drives a real server over HTTP.
//
//   load_gen --spawn [--chuqu PATH] [--threads 8] [--duration 10] [--mix text=4,image=1,match=4]
//   load_gen --server http://127.0.0.1:8080 --token T [--token T2 ...] [...]
//
// --spawn starts `chuqu serve` in a fresh temporary directory on an ephemeral loopback port
// (no rate limit, access log off), creates --parties custodial tokens, and stops and removes it
// at the end. N client threads, each with one keep-alive connection, run a fixed mix of
// operations for a fixed duration (or --requests in total):
//   text  — POST /v1/works, a unique ~150-word text (multipart), with an Idempotency-Key;
//   image — POST /v1/works, a unique 128x128 PNG made in-process before the timed window (so
//           the generator's zlib does not compete with the server; a thread that runs out of
//           prepared images makes more inside the window, and the report counts them);
//   match — POST /v1/match, an excerpt of an already registered text (should find it).
// It prints, per operation: requests, errors, sustained ops/s, p50/p90/p99/max latency, and
// exits 1 if any request failed. Only loopback addresses are accepted.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/testing/serve_process.h"
#include "small_png.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string server;
  std::vector<std::string> tokens;
  bool spawn = false;
  std::string chuqu =
#ifdef CHUQU_BINARY
      CHUQU_BINARY;
#else
      "chuqu";
#endif
  int threads = 8;
  double duration = 10;
  long requests = 0;  // 0: run for `duration`
  int parties = 4;
  int server_threads = 8;
  long images_per_thread = -1;  // -1: enough for 2,000 images/s over --duration (or --requests)
  long batch_micros = -1;  // -1: the serve default
  long seed_texts = 100;
  std::map<std::string, int> mix = {{"text", 4}, {"image", 1}, {"match", 4}};
  // Content-Type of match bodies: text/plain UTF-8 is fingerprinted from memory,
  // application/octet-stream is spooled and detected (docs/api.md "Plain-text bodies").
  std::string match_type = "text/plain";
  // --spawn: the server's data directory is DIR/data and is kept after the run (a registry
  // for registry_open_bench); "" = a temporary directory, removed.
  std::string keep;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "load_gen: %s\nusage: load_gen (--spawn [--chuqu PATH] [--parties 4]"
               " [--server-threads 8] [--batch-micros US] [--images-per-thread N] [--keep DIR] | --server http://127.0.0.1:PORT"
               " --token T...) [--threads 8] [--duration 10] [--requests N]"
               " [--mix text=4,image=1,match=4] [--seed-texts 100]"
               " [--match-type text/plain|application/octet-stream]\n",
               why);
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--spawn") {
      f.spawn = true;
    } else if (a == "--server") {
      f.server = value();
    } else if (a == "--token") {
      f.tokens.push_back(value());
    } else if (a == "--chuqu") {
      f.chuqu = value();
    } else if (a == "--threads") {
      f.threads = std::stoi(value());
    } else if (a == "--duration") {
      f.duration = std::stod(value());
    } else if (a == "--requests") {
      f.requests = std::stol(value());
    } else if (a == "--parties") {
      f.parties = std::stoi(value());
    } else if (a == "--server-threads") {
      f.server_threads = std::stoi(value());
    } else if (a == "--batch-micros") {
      f.batch_micros = std::stol(value());
    } else if (a == "--images-per-thread") {
      f.images_per_thread = std::stol(value());
    } else if (a == "--keep") {
      f.keep = value();
    } else if (a == "--seed-texts") {
      f.seed_texts = std::stol(value());
    } else if (a == "--match-type") {
      f.match_type = value();
      if (f.match_type != "text/plain" && f.match_type != "application/octet-stream") {
        Usage("--match-type is text/plain or application/octet-stream");
      }
    } else if (a == "--mix") {
      f.mix.clear();
      std::string m = value();
      size_t pos = 0;
      while (pos < m.size()) {
        size_t comma = m.find(',', pos);
        if (comma == std::string::npos) comma = m.size();
        const std::string item = m.substr(pos, comma - pos);
        const size_t eq = item.find('=');
        if (eq == std::string::npos) Usage("--mix items are op=weight");
        const std::string op = item.substr(0, eq);
        if (op != "text" && op != "image" && op != "match") Usage("--mix ops: text, image, match");
        f.mix[op] = std::stoi(item.substr(eq + 1));
        pos = comma + 1;
      }
    } else {
      Usage(("unknown flag " + a).c_str());
    }
  }
  if (f.spawn == !f.server.empty()) Usage("give exactly one of --spawn and --server");
  if (!f.spawn && f.tokens.empty()) Usage("--server needs --token");
  if (!f.keep.empty() && !f.spawn) Usage("--keep goes with --spawn");
  if (f.threads < 1 || f.threads > 64) Usage("--threads must be 1..64");
  if (f.duration <= 0 || f.duration > 600) Usage("--duration must be in (0, 600] seconds");
  if (f.parties < 1 || f.parties > 64) Usage("--parties must be 1..64");
  if (!f.server.empty() && f.server.rfind("http://127.0.0.1:", 0) != 0 &&
      f.server.rfind("http://localhost:", 0) != 0) {
    Usage("--server must be a loopback http://127.0.0.1:PORT or http://localhost:PORT URL");
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Content.

std::string MakeText(uint64_t seed, int words) {
  static const char* kVocab[] = {
      "river",   "stone",  "light",   "garden", "winter",  "paper",   "signal", "harbour",
      "lantern", "orchard", "copper", "meadow", "thunder", "silver",  "canyon", "window",
      "falcon",  "ember",  "glacier", "violet", "market",  "bridge",  "quartz", "shadow",
      "engine",  "velvet", "prairie", "crystal", "mirror", "forest",  "island", "breeze",
      "summit",  "compass", "anchor", "candle", "harvest", "lighthouse", "meridian", "tundra",
      "saffron", "granite", "willow", "beacon", "cascade", "horizon", "marble", "nectar"};
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 1);
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i) out += (i % 12 == 11) ? ". " : " ";
    out += kVocab[rng() % std::size(kVocab)];
  }
  return out + ".\n";
}

// ---------------------------------------------------------------------------------------------
// Spawned server.

struct Spawned {
  fs::path dir;
  bool keep = false;  // --keep: the directory stays
  pid_t pid = -1;
  int port = 0;
  std::vector<std::string> tokens;
};

using chuqu::server::testing::RunCommand;

Spawned Spawn(const Flags& f) {
  Spawned s;
  if (!f.keep.empty()) {
    s.dir = f.keep;
    s.keep = true;
    std::error_code ec;
    fs::create_directories(s.dir, ec);
    if (ec || fs::exists(s.dir / "data")) Usage("--keep needs a directory without data/ in it");
  } else {
    std::string tmpl = (fs::temp_directory_path() / "chuqu_load_gen_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) Usage("cannot create a temporary directory");
    s.dir = tmpl;
  }
  const std::string data = (s.dir / "data").string();
  for (int i = 0; i < f.parties; ++i) {
    std::string t = RunCommand(f.chuqu + " token create --data " + data + " 2>/dev/null");
    if (t.empty()) Usage(("cannot create a token with " + f.chuqu).c_str());
    s.tokens.push_back(t);
  }
  std::vector<std::string> extra = {"--threads", std::to_string(f.server_threads)};
  if (f.batch_micros >= 0) {
    extra.push_back("--batch-micros");
    extra.push_back(std::to_string(f.batch_micros));
  }
  chuqu::server::testing::ServeChild child =
      chuqu::server::testing::StartServe(f.chuqu, data, (s.dir / "serve.log").string(), extra);
  if (child.port == 0) {
    std::fprintf(stderr, "load_gen: %s\n", child.error.c_str());
    std::exit(1);
  }
  s.pid = child.pid;
  s.port = child.port;
  return s;
}

void Stop(Spawned& s) {
  if (s.pid > 0) {
    kill(s.pid, SIGTERM);
    int status = 0;
    waitpid(s.pid, &status, 0);
  }
  if (s.keep) {
    std::fprintf(stderr, "load_gen: the registry is kept in %s\n", (s.dir / "data").c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(s.dir, ec);
}

// ---------------------------------------------------------------------------------------------
// Load.

struct OpStats {
  std::vector<double> ms;
  long errors = 0;
  long found = 0;  // match: the registered source was found
  std::string first_error;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// Registered texts (seeds and work ids) that match requests draw from.
struct Registered {
  std::mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> texts;  // (seed, work)
  void Add(uint64_t seed, uint64_t work) {
    std::lock_guard lock(mu);
    texts.emplace_back(seed, work);
  }
  bool Pick(std::mt19937_64& rng, uint64_t* seed, uint64_t* work) {
    std::lock_guard lock(mu);
    if (texts.empty()) return false;
    const auto& t = texts[rng() % texts.size()];
    *seed = t.first;
    *work = t.second;
    return true;
  }
};

constexpr int kTextWords = 150;

httplib::Result RegisterText(httplib::Client& c, const std::string& token, uint64_t seed,
                             const std::string& key) {
  httplib::MultipartFormDataItems items = {
      {"file", MakeText(seed, kTextWords), "text-" + std::to_string(seed) + ".txt", "text/plain"},
      {"info", R"({"kind":"text","title":"load text"})", "", "application/json"}};
  httplib::Headers h = {{"Authorization", "Bearer " + token}, {"Idempotency-Key", key}};
  return c.Post("/v1/works", h, items);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  Spawned spawned;
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> tokens = f.tokens;
  if (f.spawn) {
    spawned = Spawn(f);
    port = spawned.port;
    tokens = spawned.tokens;
  } else {
    const std::string rest = f.server.substr(f.server.find("://") + 3);
    host = rest.substr(0, rest.find(':'));
    port = std::stoi(rest.substr(rest.find(':') + 1));
  }
  const uint64_t run_id = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());

  // Seed texts for matching (not timed).
  Registered registered;
  {
    httplib::Client c(host, port);
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);
    for (long i = 0; i < f.seed_texts; ++i) {
      const uint64_t seed = run_id + 1000000000ULL + static_cast<uint64_t>(i);
      auto r = RegisterText(c, tokens[static_cast<size_t>(i) % tokens.size()], seed,
                            "seed-" + std::to_string(seed));
      if (!r || r->status != 201) {
        std::fprintf(stderr, "load_gen: seeding failed: %s\n",
                     r ? (std::to_string(r->status) + " " + r->body).c_str()
                       : httplib::to_string(r.error()).c_str());
        if (f.spawn) Stop(spawned);
        return 1;
      }
      registered.Add(seed, nlohmann::json::parse(r->body)["work"].get<uint64_t>());
    }
  }

  std::vector<std::string> ops;
  for (const auto& [op, weight] : f.mix) {
    for (int i = 0; i < weight; ++i) ops.push_back(op);
  }
  if (ops.empty()) Usage("--mix has no operation");
  // Images made before the timed window, one list per client thread, on every core.
  const long image_weight = f.mix.count("image") ? f.mix.at("image") : 0;
  long images_per_thread = 0;
  if (image_weight > 0) {
    long total_weight = 0;
    for (const auto& [op, w] : f.mix) total_weight += w;
    const double share = static_cast<double>(image_weight) / static_cast<double>(total_weight);
    const double wanted = f.requests > 0 ? static_cast<double>(f.requests) * share
                                         : f.duration * 2000.0 * share;
    images_per_thread = f.images_per_thread >= 0
                            ? f.images_per_thread
                            : static_cast<long>(wanted / f.threads) + 1;
  }
  auto image_seed = [&](int thread, uint64_t i) {
    return run_id + (static_cast<uint64_t>(thread) << 32) + (uint64_t{1} << 31) + i;
  };
  std::vector<std::vector<std::string>> images(static_cast<size_t>(f.threads));
  {
    const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> makers;
    for (unsigned w = 0; w < workers; ++w) {
      makers.emplace_back([&, w] {
        for (int t = static_cast<int>(w); t < f.threads; t += static_cast<int>(workers)) {
          auto& list = images[static_cast<size_t>(t)];
          list.reserve(static_cast<size_t>(images_per_thread));
          for (long i = 0; i < images_per_thread; ++i) {
            list.push_back(chuqu::bench::MakePng(image_seed(t, static_cast<uint64_t>(i))));
          }
        }
      });
    }
    for (auto& m : makers) m.join();
  }
  std::atomic<long> images_made_in_window{0};

  std::atomic<long> issued{0};
  std::mutex stats_mu;
  std::map<std::string, OpStats> stats;
  // Every client connects (GET /healthz) before the clock starts: the figures are sustained
  // throughput, not N simultaneous connects against httplib's listen backlog of 5 (a dropped
  // SYN is retried after 1 s).
  std::latch connected(f.threads);
  std::latch go(1);
  Clock::time_point start, deadline;
  std::vector<std::thread> threads;
  for (int t = 0; t < f.threads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c(host, port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms to a multipart POST
      c.set_read_timeout(30, 0);
      c.Get("/healthz");
      connected.count_down();
      go.wait();
      const std::string& token = tokens[static_cast<size_t>(t) % tokens.size()];
      std::mt19937_64 rng(run_id + static_cast<uint64_t>(t));
      std::map<std::string, OpStats> local;
      uint64_t n = 0;
      uint64_t next_image = 0;
      while (Clock::now() < deadline) {
        if (f.requests > 0 && issued.fetch_add(1) >= f.requests) break;
        const std::string& op = ops[rng() % ops.size()];
        const uint64_t seed = run_id + (static_cast<uint64_t>(t) << 32) + n++;
        const auto t0 = Clock::now();
        httplib::Result r{nullptr, httplib::Error::Unknown};
        uint64_t expect = 0;
        if (op == "text") {
          r = RegisterText(c, token, seed, "k-" + std::to_string(seed));
        } else if (op == "image") {
          const uint64_t i = next_image++;
          const uint64_t iseed = image_seed(t, i);
          auto& prepared = images[static_cast<size_t>(t)];
          std::string png;
          if (i < prepared.size()) {
            png = std::move(prepared[i]);
          } else {
            png = chuqu::bench::MakePng(iseed);
            images_made_in_window.fetch_add(1);
          }
          httplib::MultipartFormDataItems items = {
              {"file", std::move(png), "image-" + std::to_string(iseed) + ".png", "image/png"},
              {"info", R"({"kind":"image","title":"load image"})", "", "application/json"}};
          httplib::Headers h = {{"Authorization", "Bearer " + token},
                                {"Idempotency-Key", "i-" + std::to_string(iseed)}};
          r = c.Post("/v1/works", h, items);
        } else {
          uint64_t text_seed = 0;
          registered.Pick(rng, &text_seed, &expect);
          const std::string text = MakeText(text_seed, kTextWords);
          // An excerpt: about the middle 60% of the text.
          const std::string excerpt = text.substr(text.size() / 5, text.size() * 3 / 5);
          httplib::Headers h = {{"Authorization", "Bearer " + token}};
          r = c.Post("/v1/match", h, excerpt, f.match_type);
        }
        const double ms =
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        OpStats& s = local[op];
        const int want = op == "match" ? 200 : 201;
        if (!r || r->status != want) {
          ++s.errors;
          if (s.first_error.empty()) {
            s.first_error = r ? std::to_string(r->status) + " " + r->body.substr(0, 300)
                              : "transport: " + httplib::to_string(r.error());
          }
          if (!r) {
            c.stop();  // reconnect
          }
          continue;
        }
        s.ms.push_back(ms);
        if (op == "text") {
          nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
          if (!j.is_discarded() && j.contains("work")) registered.Add(seed, j["work"]);
        } else if (op == "match") {
          nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
          if (!j.is_discarded()) {
            for (const auto& m : j["matches"]) {
              if (m["work"] == expect) {
                ++s.found;
                break;
              }
            }
          }
        }
      }
      std::lock_guard lock(stats_mu);
      for (auto& [op, s] : local) {
        OpStats& g = stats[op];
        g.ms.insert(g.ms.end(), s.ms.begin(), s.ms.end());
        g.errors += s.errors;
        g.found += s.found;
        if (g.first_error.empty()) g.first_error = s.first_error;
      }
    });
  }
  connected.wait();
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(f.duration));
  go.count_down();
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (f.spawn) Stop(spawned);

  std::printf("load_gen: %d threads, %zu tokens, %.1f s, mix", f.threads, tokens.size(), seconds);
  for (const auto& [op, w] : f.mix) std::printf(" %s=%d", op.c_str(), w);
  std::printf("\n%-6s %9s %7s %9s %8s %8s %8s %8s %s\n", "op", "requests", "errors", "ops/s",
              "p50 ms", "p90 ms", "p99 ms", "max ms", "notes");
  long total_errors = 0;
  for (auto& [op, s] : stats) {
    total_errors += s.errors;
    const size_t ok = s.ms.size();
    std::string notes;
    if (op == "image") {
      notes = std::to_string(images_made_in_window.load()) + " images made in the window";
    }
    if (op == "match") notes = "source found " + std::to_string(s.found) + "/" + std::to_string(ok);
    std::printf("%-6s %9ld %7ld %9.1f %8.1f %8.1f %8.1f %8.1f %s\n", op.c_str(),
                static_cast<long>(ok) + s.errors, s.errors, static_cast<double>(ok) / seconds,
                Percentile(s.ms, 0.50), Percentile(s.ms, 0.90), Percentile(s.ms, 0.99),
                s.ms.empty() ? 0.0 : *std::max_element(s.ms.begin(), s.ms.end()), notes.c_str());
    if (!s.first_error.empty()) std::printf("       first error: %s\n", s.first_error.c_str());
  }
  return total_errors == 0 ? 0 : 1;
}
