// Fault injection for the sequencer and the SQLite store (STYLE.md "fault injection"):
//  - Kill: a child process appends from many threads and reports every acknowledged entry; it
//    is SIGKILLed at a random moment, many times. After each kill the log must re-derive
//    cleanly, every acknowledged entry must be present with a valid proof, and the checkpoint
//    must be consistent with every checkpoint handed out before.
//  - Damage: bytes flipped or torn in the database file are reported (Corruption), or, when
//    they hit unused space, everything served is still exactly right. Never wrong data.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "base/testing/temp_dir.h"
#include "ledger/log_view.h"
#include "ledger/sequencer.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::ledger {
namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kDefaultIterations = 10;
constexpr int kMinRunMs = 300;  // the instrumented helper needs longer to open the log
#else
constexpr int kDefaultIterations = 30;
constexpr int kMinRunMs = 40;
#endif

using chuqu::testing::TempDir;

// Runs the helper for `run_for`, SIGKILLs it, and returns every complete line it printed.
std::vector<std::string> RunAndKill(const std::string& db, const std::string& key_file, int run,
                                    std::chrono::milliseconds run_for) {
  int fds[2];
  CHUQU_CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHUQU_CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::string run_id = std::to_string(run);
    execl(CHUQU_CRASH_HELPER, CHUQU_CRASH_HELPER, db.c_str(), key_file.c_str(), run_id.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + run_for;
  bool eof = false;
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) eof = true;
      else out.append(buf, n);
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "helper exited on its own, status " << status;
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(out.substr(start, nl - start));
  }
  return lines;  // a partial last line (cut by the kill) is not an acknowledgement
}

TEST(SequencerCrashTest, KilledAtRandomNeverLosesAcknowledgedEntries) {
  TempDir dir("chuqu_crash_test_");
  const std::string db = (dir.path() / "log.db").string();
  const std::string key_file = (dir.path() / "log.key").string();
  auto signer = Ed25519Signer::Generate("crash.test/log");
  ASSERT_TRUE(signer.ok());
  auto verifier = (*signer)->MakeVerifier();
  std::ofstream(key_file) << (*signer)->SignerKey() << "\n";
  {
    auto store = store::SqliteStore::Open(db);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(InitLog(**store, **signer).ok());
  }
  int iterations = kDefaultIterations;
  if (const char* env = std::getenv("CHUQU_CRASH_ITERATIONS")) iterations = std::atoi(env);

  std::map<uint64_t, std::string> acknowledged;     // index -> entry
  std::map<uint64_t, Hash> handed_out;              // checkpoint size -> root
  std::mt19937 rng(20261122);
  uint64_t total_acks = 0;
  for (int run = 0; run < iterations; ++run) {
    auto run_for = std::chrono::milliseconds(kMinRunMs + rng() % 260);
    std::vector<std::string> lines = RunAndKill(db, key_file, run, run_for);
    std::map<uint64_t, std::string> acked_now;
    std::map<uint64_t, Hash> checkpoints_now;
    for (const std::string& line : lines) {
      std::istringstream in(line);
      std::string tag, entry, root_b64;
      uint64_t index, size;
      ASSERT_TRUE(in >> tag >> index >> entry >> size >> root_b64) << line;
      ASSERT_EQ(tag, "ACK");
      auto root = HashFromBase64(root_b64);
      ASSERT_TRUE(root.ok());
      ASSERT_TRUE(acknowledged.emplace(index, entry).second) << "index reused: " << index;
      acked_now.emplace(index, entry);
      checkpoints_now[size] = *root;
      auto [it, fresh] = handed_out.emplace(size, *root);
      ASSERT_TRUE(fresh || it->second == *root) << "two roots for size " << size;
    }
    total_acks += acked_now.size();

    // Restart: the log must verify end to end.
    auto store = store::SqliteStore::Open(db, {.create_if_missing = false});
    ASSERT_TRUE(store.ok()) << "run " << run << ": " << store.status().ToString();
    auto snap = (*store)->NewSnapshot();
    ASSERT_TRUE(snap.ok());
    auto report = CheckLog(**snap, *verifier);
    ASSERT_TRUE(report.ok()) << "run " << run << ": " << report.status().ToString();
    auto latest = LatestCheckpoint(**snap, *verifier);
    ASSERT_TRUE(latest.ok());
    const uint64_t size = latest->checkpoint.size;
    ASSERT_EQ(report->entries, size);

    // Every acknowledged entry is present...
    if (!acknowledged.empty()) {
      ASSERT_LT(acknowledged.rbegin()->first, size);
    }
    auto entries = (*snap)->ReadEntries(0, size);
    ASSERT_TRUE(entries.ok());
    for (const auto& [index, entry] : acknowledged) ASSERT_EQ((*entries)[index], entry) << index;
    // ...with a valid proof against the new checkpoint (all of this run's, a sample of older).
    std::vector<uint64_t> to_prove;
    for (const auto& [index, entry] : acked_now) to_prove.push_back(index);
    for (int k = 0; k < 20 && !acknowledged.empty(); ++k) {
      auto it = acknowledged.begin();
      std::advance(it, rng() % acknowledged.size());
      to_prove.push_back(it->first);
    }
    for (uint64_t index : to_prove) {
      auto receipt = ProveEntry(**snap, *verifier, index);
      ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
      ASSERT_TRUE(VerifyInclusion(index, size, LeafHash(acknowledged[index]), receipt->proof,
                                  latest->checkpoint.root_hash)
                      .ok());
    }
    // The new checkpoint is consistent with every checkpoint handed out before the crash: each
    // old root is the root of a prefix of the stored tree (and, for this run's, a proof checks).
    store::SnapshotHashReader reader(**snap);
    for (const auto& [old_size, old_root] : handed_out) {
      ASSERT_LE(old_size, size);
      ASSERT_EQ(*TreeHash(old_size, reader), old_root) << "fork at size " << old_size;
    }
    for (const auto& [old_size, old_root] : checkpoints_now) {
      auto proof = ProveConsistency(**snap, *verifier, old_size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(old_size, size, *proof, old_root,
                                    latest->checkpoint.root_hash)
                      .ok());
    }
  }
  std::printf("kill iterations: %d, acknowledged entries: %llu, lost: 0, checkpoints: %zu\n",
              iterations, static_cast<unsigned long long>(total_acks), handed_out.size());
  EXPECT_GT(total_acks, 0u);
}

class LogDamageTest : public ::testing::Test {
 protected:
  static constexpr int kEntries = 3000;
  static std::string EntryText(int i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "damage-test-entry-%06d-", i);
    return std::string(buf) + std::string(40, static_cast<char>('a' + i % 26));
  }

  void SetUp() override {
    db_ = (dir_.path() / "log.db").string();
    auto signer = Ed25519Signer::Generate("damage.test/log");
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    verifier_ = signer_->MakeVerifier();
    {
      auto store = store::SqliteStore::Open(db_);
      ASSERT_TRUE(store.ok());
      ASSERT_TRUE(InitLog(**store, *signer_).ok());
      SequencerOptions options;
      options.batch_interval = std::chrono::microseconds(0);
      auto sequencer = Sequencer::Start(**store, *signer_, options);
      ASSERT_TRUE(sequencer.ok());
      std::vector<std::future<Result<SequencedEntry>>> futures;
      for (int i = 0; i < kEntries; ++i) futures.push_back((*sequencer)->Append(EntryText(i)));
      for (auto& f : futures) ASSERT_TRUE(f.get().ok());
      latest_note_ = (*sequencer)->LatestCheckpoint();
    }  // closing the last connection checkpoints the WAL into the database file
    ASSERT_FALSE(fs::exists(db_ + "-wal") && fs::file_size(db_ + "-wal") > 0);
    std::ifstream in(db_, std::ios::binary);
    pristine_.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_GT(pristine_.size(), 4096u);
  }

  void WriteDb(const std::string& bytes) {
    std::ofstream(db_, std::ios::binary | std::ios::trunc) << bytes;
    fs::remove(db_ + "-wal");
    fs::remove(db_ + "-shm");
  }

  // Outcome of reading the whole log from a possibly damaged file.
  // kDetected only for a Corruption status; any other error is kOtherError.
  enum class Outcome { kDetected, kIntact, kWrongDataServed, kOtherError };
  static Outcome Failed(const Status& s, std::string* why) {
    *why = s.ToString();
    return s.code() == StatusCode::kCorruption ? Outcome::kDetected : Outcome::kOtherError;
  }
  Outcome ReadEverything(std::string* why) {
    auto store = store::SqliteStore::Open(db_, {.create_if_missing = false});
    if (!store.ok()) return Failed(store.status(), why);
    auto snap = (*store)->NewSnapshot();
    if (!snap.ok()) return Failed(snap.status(), why);
    auto report = CheckLog(**snap, *verifier_);
    if (!report.ok()) return Failed(report.status(), why);
    // The check passed, so what is served must be exactly what was written.
    auto latest = LatestCheckpoint(**snap, *verifier_);
    auto entries = (*snap)->ReadEntries(0, kEntries);
    if (!latest.ok() || latest->note != latest_note_ || !entries.ok()) {
      return Outcome::kWrongDataServed;
    }
    for (int i = 0; i < kEntries; ++i) {
      if ((*entries)[i] != EntryText(i)) return Outcome::kWrongDataServed;
    }
    return Outcome::kIntact;
  }

  TempDir dir_;
  std::string db_;
  std::unique_ptr<Ed25519Signer> signer_;
  std::unique_ptr<Ed25519Verifier> verifier_;
  std::string latest_note_;
  std::string pristine_;
};

TEST_F(LogDamageTest, FlippedEntryByteIsCorruption) {
  std::string damaged = pristine_;
  size_t at = damaged.find(EntryText(1234));
  ASSERT_NE(at, std::string::npos);
  damaged[at + 30] ^= 0x01;
  WriteDb(damaged);
  auto store = store::SqliteStore::Open(db_);
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->ReadEntries(1234, 1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ProveEntry(**snap, *verifier_, 1234).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(CheckLog(**snap, *verifier_).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(ProveEntry(**snap, *verifier_, 1).ok());  // the rest is still served
}

TEST_F(LogDamageTest, FlippedInteriorHashIsCorruption) {
  // The level-1 node over leaves 1234..1235 is stored once (not in any tile) and is on the
  // audit path of leaves 1232 and 1233.
  MemoryHashStore tree;
  for (int i = 0; i < kEntries; ++i) tree.Append(LeafHash(EntryText(i)));
  const Hash node = tree.hashes()[StoredHashIndex(1, 617)];
  std::string damaged = pristine_;
  size_t at = damaged.find(std::string(node.begin(), node.end()));
  ASSERT_NE(at, std::string::npos);
  damaged[at + 7] ^= 0x80;
  WriteDb(damaged);
  auto store = store::SqliteStore::Open(db_);
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(ProveEntry(**snap, *verifier_, 1232).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(CheckLog(**snap, *verifier_).status().code(), StatusCode::kCorruption);
}

TEST_F(LogDamageTest, RandomFlipsAndTornPagesAreNeverServed) {
  std::mt19937 rng(7);
  const size_t page = 4096;
  const size_t pages = pristine_.size() / page;
  int detected = 0, intact = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::string damaged = pristine_;
    size_t p = rng() % pages;
    if (trial % 2 == 0) {
      damaged[p * page + rng() % page] ^= static_cast<char>(1 + rng() % 255);
    } else {  // torn write: the second half of the page never reached the disk
      std::fill(damaged.begin() + p * page + page / 2, damaged.begin() + (p + 1) * page, '\0');
    }
    WriteDb(damaged);
    std::string why;
    Outcome outcome = ReadEverything(&why);
    ASSERT_NE(outcome, Outcome::kWrongDataServed) << "trial " << trial << " page " << p;
    ASSERT_NE(outcome, Outcome::kOtherError) << "trial " << trial << " page " << p << ": " << why;
    (outcome == Outcome::kDetected ? detected : intact)++;
  }
  std::printf("damage trials: %d detected, %d harmless (unused space), 0 served wrong data\n",
              detected, intact);
  EXPECT_GT(detected, 0);
}

}  // namespace
}  // namespace chuqu::ledger
