// Kill -9 under load (issue "Kill -9 the server under load, restart"): runs the real
// `chuqu serve`, registers texts from several threads (each with an Idempotency-Key), polls
// /log/checkpoint, SIGKILLs the server mid-load, restarts it on the same DIR, and checks:
//  - every acknowledged (201) work is present with the acknowledged entry, its receipt
//    verifies against the log key, and matching its text finds it;
//  - the checkpoint after restart is consistent with every checkpoint served before (a
//    verified consistency proof from the store, checked against each served root);
//  - every request whose response was lost is retried with the same key and answers either
//    201 (it was not applied) or 409 already_exists naming its work (it was), and every
//    acknowledged request retried answers 409 with the same work: no duplicates in the log.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/jcs.h"
#include "base/testing/temp_dir.h"
#include "ledger/checkpoint.h"
#include "ledger/log_view.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "server/testing/serve_process.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 2;
constexpr int kMinRunMs = 1500;  // the instrumented server needs longer to open and serve
constexpr int kMaxRunMs = 2500;
#else
constexpr int kRounds = 5;
constexpr int kMinRunMs = 300;
constexpr int kMaxRunMs = 900;
#endif
constexpr int kWriters = 4;

std::string MakeText(uint64_t seed) {
  // A vocabulary large enough that texts share few shingles (a tiny one makes every shingle
  // common, and common shingles do not identify a work).
  static const char* kVocab[] = {
      "river",   "stone",   "light",   "garden",  "winter",  "paper",   "signal",  "harbour",
      "lantern", "orchard", "copper",  "meadow",  "thunder", "silver",  "canyon",  "window",
      "falcon",  "ember",   "glacier", "violet",  "market",  "bridge",  "quartz",  "shadow",
      "engine",  "velvet",  "prairie", "crystal", "mirror",  "forest",  "island",  "breeze",
      "summit",  "compass", "anchor",  "candle",  "harvest", "beacon",  "meridian", "tundra",
      "saffron", "granite", "willow",  "cascade", "horizon", "marble",  "nectar",  "pebble"};
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 3);
  std::string out;
  for (int i = 0; i < 150; ++i) {
    if (i) out += (i % 12 == 11) ? ". " : " ";
    out += kVocab[rng() % std::size(kVocab)];
  }
  return out + ".\n";
}

using server::testing::RunCommand;

// A `chuqu serve` child on an ephemeral loopback port, SIGKILLed when done.
class ServeProcess {
 public:
  ServeProcess(const fs::path& data, const fs::path& log)
      : child_(server::testing::StartServe(CHUQU_BINARY, data.string(), log.string(),
                                           {"--threads", "8", "--batch-micros", "1000"})) {
    if (child_.port == 0) ADD_FAILURE() << child_.error;
  }
  ~ServeProcess() { Kill(); }
  void Kill() { server::testing::StopServe(child_, SIGKILL); }
  int port() const { return child_.port; }

 private:
  server::testing::ServeChild child_;
};

struct Ack {
  uint64_t seed = 0;
  std::string key;
  std::string token;
  uint64_t work = 0;
  std::string entry;  // canonical bytes (re-canonicalised from the response)
  std::string receipt;
};

struct Attempt {  // a request whose response never came
  uint64_t seed = 0;
  std::string key;
  std::string token;
};

httplib::Result Register(httplib::Client& c, const std::string& token, uint64_t seed,
                         const std::string& key) {
  httplib::MultipartFormDataItems items = {
      {"file", MakeText(seed), "text-" + std::to_string(seed) + ".txt", "text/plain"},
      {"info", R"({"kind":"text","title":"kill test"})", "", "application/json"}};
  return c.Post("/v1/works", {{"Authorization", "Bearer " + token}, {"Idempotency-Key", key}},
                items);
}

class ServeKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_ / "data";
    for (int i = 0; i < 3; ++i) {
      tokens_.push_back(RunCommand(std::string(CHUQU_BINARY) + " token create --data " +
                            data_.string() + " 2>/dev/null"));
      ASSERT_FALSE(tokens_.back().empty());
    }
  }
  chuqu::testing::TempDir tmp_{"chuqu_serve_kill_"};
  fs::path dir_ = tmp_.path(), data_;
  std::vector<std::string> tokens_;
};

TEST_F(ServeKillTest, AcknowledgedWorksSurviveKill9AndRetriesAreIdempotent) {
  std::vector<Ack> acks;
  std::vector<Attempt> lost;
  std::vector<std::string> served;  // checkpoints served before some kill
  std::mt19937_64 rng(std::random_device{}());
  std::atomic<uint64_t> next_seed{rng() >> 16};
  std::unique_ptr<ledger::NoteVerifier> verifier;

  for (int round = 0; round <= kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ServeProcess serve(data_, dir_ / ("serve-" + std::to_string(round) + ".log"));
    ASSERT_NE(serve.port(), 0);
    httplib::Client c("127.0.0.1", serve.port());
    c.set_read_timeout(30, 0);
    if (!verifier) {
      auto key = c.Get("/v1/log-key");
      ASSERT_TRUE(key && key->status == 200);
      auto v = ledger::ParseVerifierKey(key->body.substr(0, key->body.find('\n')));
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      verifier = std::move(*v);
    }

    // --- After a restart: check everything acknowledged or served before.
    auto cp = c.Get("/log/checkpoint");
    ASSERT_TRUE(cp && cp->status == 200);
    auto latest = ledger::OpenCheckpoint(cp->body, *verifier, verifier->name());
    ASSERT_TRUE(latest.ok()) << latest.status().ToString();
    {
      store::SqliteOptions so;
      so.create_if_missing = false;
      so.quick_check_on_open = false;
      auto store = store::SqliteStore::Open((data_ / "log.db").string(), so);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      auto snap = (*store)->NewSnapshot();
      ASSERT_TRUE(snap.ok());
      for (const std::string& note : served) {
        auto old = ledger::OpenCheckpoint(note, *verifier, verifier->name());
        ASSERT_TRUE(old.ok());
        const uint64_t old_size = old->checkpoint.size;
        ASSERT_LE(old_size, latest->checkpoint.size) << "the log shrank";
        ledger::LogCheckpoint now;
        auto proof = ledger::ProveConsistency(**snap, *verifier, old_size, &now);
        ASSERT_TRUE(proof.ok()) << proof.status().ToString();
        ASSERT_EQ(now.checkpoint.size, latest->checkpoint.size);
        EXPECT_TRUE(ledger::VerifyConsistency(old_size, now.checkpoint.size, *proof,
                                              old->checkpoint.root_hash,
                                              now.checkpoint.root_hash)
                        .ok())
            << "checkpoint " << old_size << " is not consistent with " << now.checkpoint.size;
      }
      // No request was applied twice: every text (unique per seed) is registered once.
      auto dup = (*snap)->Query(
          "SELECT sha256, COUNT(*) FROM works GROUP BY sha256 HAVING COUNT(*) > 1");
      ASSERT_TRUE(dup.ok()) << dup.status().ToString();
      EXPECT_TRUE(dup->empty()) << dup->size() << " texts registered more than once";
    }
    ledger::ReceiptPolicy policy;
    policy.log_key = verifier.get();
    for (const Ack& a : acks) {
      auto w = c.Get(("/v1/works/" + std::to_string(a.work)).c_str());
      ASSERT_TRUE(w);
      ASSERT_EQ(w->status, 200) << "acknowledged work " << a.work << " is missing: " << w->body;
      json stored = json::parse(w->body)["entry"];
      stored.erase("index");  // GET /v1/works adds the entry's log index
      auto entry = CanonicalJson(stored);
      ASSERT_TRUE(entry.ok());
      EXPECT_EQ(*entry, a.entry) << "work " << a.work;
      auto receipt = ledger::ParseReceipt(a.receipt);
      ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
      auto verified = ledger::VerifyReceipt(*receipt, a.entry, policy);
      EXPECT_TRUE(verified.ok()) << "work " << a.work << ": " << verified.status().ToString();
      EXPECT_EQ(receipt->index, a.work);
    }
    // Matchable: a sample per round (all of them in the last one).
    {
      std::vector<const Ack*> sample;
      for (const Ack& a : acks) sample.push_back(&a);
      std::shuffle(sample.begin(), sample.end(), rng);
      if (round < kRounds && sample.size() > 25) sample.resize(25);
      for (const Ack* a : sample) {
        const std::string text = MakeText(a->seed);
        auto m = c.Post("/v1/match", {{"Authorization", "Bearer " + tokens_[0]}},
                        text.substr(text.size() / 5, text.size() * 3 / 5), "text/plain");
        ASSERT_TRUE(m);
        ASSERT_EQ(m->status, 200) << m->body;
        bool found = false;
        const json matches = json::parse(m->body)["matches"];
        for (const auto& match : matches) {
          found = found || match["work"] == a->work;
        }
        EXPECT_TRUE(found) << "work " << a->work << " not matched: " << m->body.substr(0, 400);
      }
    }
    // Retries: lost responses are resolved by the key; acknowledged ones are not re-applied.
    for (const Attempt& l : lost) {
      auto r = Register(c, l.token, l.seed, l.key);
      ASSERT_TRUE(r);
      json body = json::parse(r->body);
      if (r->status == 201) continue;  // not applied before the kill: applied now, once
      ASSERT_EQ(r->status, 409) << r->body;
      EXPECT_EQ(body["error"]["code"], "already_exists") << r->body;
      EXPECT_TRUE(body.contains("work")) << r->body;
    }
    lost.clear();
    for (size_t i = 0; i < acks.size(); i += 7) {
      auto r = Register(c, acks[i].token, acks[i].seed, acks[i].key);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 409) << r->body;
      json body = json::parse(r->body);
      EXPECT_EQ(body["error"]["code"], "already_exists");
      EXPECT_EQ(body.value("work", ~uint64_t{0}), acks[i].work) << r->body;
    }
    if (round == kRounds) break;

    // --- Load, then kill -9.
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client wc("127.0.0.1", serve.port());
        wc.set_keep_alive(true);
        wc.set_read_timeout(30, 0);
        const std::string& token = tokens_[static_cast<size_t>(t) % tokens_.size()];
        while (!stop) {
          const uint64_t seed = next_seed++;
          const std::string key = "kill-" + std::to_string(seed);
          auto r = Register(wc, token, seed, key);
          if (!r) {  // the server died: the request may or may not have been applied
            std::lock_guard lock(mu);
            lost.push_back({seed, key, token});
            break;
          }
          if (r->status != 201) {
            ADD_FAILURE() << r->status << " " << r->body;
            break;
          }
          json body = json::parse(r->body);
          auto entry = CanonicalJson(body["entry"]);
          std::lock_guard lock(mu);
          acks.push_back({seed, key, token, body["work"].get<uint64_t>(),
                          entry.ok() ? *entry : "", body["receipt"].get<std::string>()});
        }
      });
    }
    threads.emplace_back([&] {
      httplib::Client pc("127.0.0.1", serve.port());
      while (!stop) {
        auto r = pc.Get("/log/checkpoint");
        if (!r) break;
        if (r->status == 200) {
          std::lock_guard lock(mu);
          served.push_back(r->body);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(
        kMinRunMs + static_cast<int>(rng() % static_cast<uint64_t>(kMaxRunMs - kMinRunMs))));
    serve.Kill();
    stop = true;
    for (auto& th : threads) th.join();
    {
      std::lock_guard lock(mu);
      for (const Ack& a : acks) {
        auto r = ledger::ParseReceipt(a.receipt);
        if (r.ok()) served.push_back(r->checkpoint);
      }
      // Keep the check bounded: the newest 200 served checkpoints are enough.
      if (served.size() > 200) served.erase(served.begin(), served.end() - 200);
    }
    std::fprintf(stderr, "round %d: %zu acknowledged so far, %zu lost responses\n", round,
                 acks.size(), lost.size());
  }
  EXPECT_GT(acks.size(), 0u);
}

}  // namespace
}  // namespace chuqu
