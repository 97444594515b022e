// Test helper for sequencer_crash_test: appends entries to a log as fast as it can from several
// threads and prints, for every acknowledged entry, one line
//   ACK <index> <entry> <checkpoint size> <checkpoint root base64>
// to stdout (one write(2) per line, so a line is either whole or absent when the process is
// SIGKILLed). Runs until killed.
//
// usage: sequencer_crash_helper DB SKEY_FILE RUN_ID
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/sequencer.h"
#include "store/sqlite/sqlite_store.h"

namespace {

int Fail(const chuqu::Status& s) {
  std::fprintf(stderr, "sequencer_crash_helper: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chuqu;
  if (argc != 4) {
    std::fprintf(stderr, "usage: sequencer_crash_helper DB SKEY_FILE RUN_ID\n");
    return 2;
  }
  std::ifstream key_file(argv[2]);
  std::stringstream key;
  key << key_file.rdbuf();
  std::string skey = key.str();
  while (!skey.empty() && skey.back() == '\n') skey.pop_back();
  auto signer = ledger::Ed25519Signer::FromSignerKey(skey);
  if (!signer.ok()) return Fail(signer.status());
  auto store = store::SqliteStore::Open(argv[1]);
  if (!store.ok()) return Fail(store.status());
  ledger::SequencerOptions options;
  options.batch_interval = std::chrono::microseconds(500);
  auto sequencer = ledger::Sequencer::Start(**store, **signer, options);
  if (!sequencer.ok()) return Fail(sequencer.status());
  auto verifier = (*signer)->MakeVerifier();

  const std::string run = argv[3];
  constexpr int kThreads = 6, kInFlight = 8;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t seq = 0;; seq += kInFlight) {
        std::vector<std::pair<std::string, std::future<Result<ledger::SequencedEntry>>>> futures;
        for (int k = 0; k < kInFlight; ++k) {
          std::string entry = "run" + run + "-t" + std::to_string(t) + "-" +
                              std::to_string(seq + k);
          futures.emplace_back(entry, (*sequencer)->Append(entry));
        }
        for (auto& [entry, future] : futures) {
          auto r = future.get();
          if (!r.ok()) {
            std::fprintf(stderr, "append failed: %s\n", r.status().ToString().c_str());
            _exit(3);
          }
          auto cp = ledger::OpenCheckpoint(r->receipt.checkpoint, *verifier, verifier->name());
          if (!cp.ok()) _exit(4);
          std::string line = "ACK " + std::to_string(r->index) + " " + entry + " " +
                             std::to_string(cp->checkpoint.size) + " " +
                             ledger::HashToBase64(cp->checkpoint.root_hash) + "\n";
          if (write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}
