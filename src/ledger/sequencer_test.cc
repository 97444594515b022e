#include "ledger/sequencer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "base/testing/temp_dir.h"
#include "ledger/log_view.h"
#include "ledger/tiles.h"
#include "store/sqlite/sqlite_store.h"

namespace chuqu::ledger {
namespace {

namespace fs = std::filesystem;

class SequencerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Ed25519Signer::Generate("example.test/log");
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    verifier_ = signer_->MakeVerifier();
    OpenStore();
    ASSERT_TRUE(InitLog(*store_, *signer_).ok());
  }
  void TearDown() override {
    store_.reset();
  }
  void OpenStore() {
    auto store = store::SqliteStore::Open((dir_ / "log.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::unique_ptr<Sequencer> StartSequencer(SequencerOptions options = {}) {
    options.batch_interval = std::chrono::microseconds(1000);
    auto s = Sequencer::Start(*store_, *signer_, options);
    CHUQU_CHECK(s.ok());
    return std::move(*s);
  }
  std::unique_ptr<store::Snapshot> Snap() {
    auto s = store_->NewSnapshot();
    CHUQU_CHECK(s.ok());
    return std::move(*s);
  }
  void ExpectReceiptVerifies(const SequencedEntry& got, const std::string& entry) {
    ReceiptPolicy policy;
    policy.log_key = verifier_.get();
    auto verified = VerifyReceipt(got.receipt, entry, policy);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->index, got.index);
    EXPECT_EQ(got.receipt.index, got.index);
  }

  chuqu::testing::TempDir tmp_{"chuqu_sequencer_test_"};
  fs::path dir_ = tmp_.path();
  std::unique_ptr<Ed25519Signer> signer_;
  std::unique_ptr<Ed25519Verifier> verifier_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(SequencerTest, ConcurrentAppendersGetDistinctIndexesAndValidReceipts) {
  auto sequencer = StartSequencer();
  constexpr int kThreads = 4, kPerThread = 150;
  std::vector<std::vector<std::pair<std::string, Result<SequencedEntry>>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<std::string, std::future<Result<SequencedEntry>>>> futures;
      for (int i = 0; i < kPerThread; ++i) {
        std::string entry = "thread " + std::to_string(t) + " entry " + std::to_string(i);
        futures.emplace_back(entry, sequencer->Append(entry));
        if (i % 10 == 9) {  // a mix of pipelined and waiting callers
          for (auto& [e, f] : futures) results[t].emplace_back(e, f.get());
          futures.clear();
        }
      }
      for (auto& [e, f] : futures) results[t].emplace_back(e, f.get());
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> indexes;
  auto snap = Snap();
  for (const auto& per_thread : results) {
    for (const auto& [entry, result] : per_thread) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_TRUE(indexes.insert(result->index).second);
      ExpectReceiptVerifies(*result, entry);
      EXPECT_EQ((*snap->ReadEntries(result->index, 1))[0], entry);
    }
  }
  constexpr uint64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(*indexes.rbegin(), kTotal - 1);
  SequencerStats stats = sequencer->Stats();
  EXPECT_EQ(stats.entries, kTotal);
  EXPECT_GE(stats.batches, 2u);
  EXPECT_LE(stats.batches, kTotal);
  EXPECT_EQ(stats.failed_batches, 0u);
  auto latest = LatestCheckpoint(*snap, *verifier_);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->checkpoint.size, kTotal);
  auto report = CheckLog(*snap, *verifier_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, kTotal);
  EXPECT_GT(report->checkpoints, 1u);
}

TEST_F(SequencerTest, ReadersProveWhileTheWriterRuns) {
  auto sequencer = StartSequencer();
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, proofs{0};
  std::thread reader([&] {
    std::mt19937_64 rng(1);
    while (!done.load()) {
      auto snap = store_->NewSnapshot();
      if (!snap.ok()) {
        ++failures;
        continue;
      }
      auto latest = LatestCheckpoint(**snap, *verifier_);
      if (!latest.ok()) {
        ++failures;
        continue;
      }
      if (latest->checkpoint.size == 0) continue;
      uint64_t index = rng() % latest->checkpoint.size;
      auto receipt = ProveEntry(**snap, *verifier_, index);
      auto entry = (*snap)->ReadEntries(index, 1);
      ReceiptPolicy policy;
      policy.log_key = verifier_.get();
      if (!receipt.ok() || !entry.ok() || !VerifyReceipt(*receipt, (*entry)[0], policy).ok()) {
        ++failures;
      }
      ++proofs;
    }
  });
  std::vector<std::future<Result<SequencedEntry>>> futures;
  for (int i = 0; i < 600; ++i) {
    futures.push_back(sequencer->Append("entry " + std::to_string(i)));
    if (i % 50 == 49) {
      for (auto& f : futures) ASSERT_TRUE(f.get().ok());
      futures.clear();
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(proofs.load(), 0);
}

TEST_F(SequencerTest, EntrySizeLimit) {
  auto sequencer = StartSequencer();
  auto too_big = sequencer->Append(std::string(kMaxEntrySize + 1, 'x')).get();
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  auto max = sequencer->Append(std::string(kMaxEntrySize, 'x')).get();
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  auto empty = sequencer->Append("").get();
  ASSERT_TRUE(empty.ok());
  ExpectReceiptVerifies(*empty, "");
  EXPECT_EQ(empty->index, 1u);
}

TEST_F(SequencerTest, RestartContinuesTheSameTree) {
  std::vector<std::string> checkpoints;
  for (int run = 0; run < 3; ++run) {
    auto sequencer = StartSequencer();
    for (int i = 0; i < 40; ++i) {
      auto r = sequencer->Append("run " + std::to_string(run) + " " + std::to_string(i)).get();
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->index, static_cast<uint64_t>(run * 40 + i));
      checkpoints.push_back(r->receipt.checkpoint);
    }
    sequencer.reset();
    store_.reset();
    OpenStore();
  }
  auto snap = Snap();
  ASSERT_TRUE(CheckLog(*snap, *verifier_).ok());
  // Every checkpoint handed out is consistent with the latest.
  for (const std::string& note : checkpoints) {
    auto old = OpenCheckpoint(note, *verifier_, verifier_->name());
    ASSERT_TRUE(old.ok());
    LogCheckpoint latest;
    auto proof = ProveConsistency(*snap, *verifier_, old->checkpoint.size, &latest);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    EXPECT_TRUE(VerifyConsistency(old->checkpoint.size, latest.checkpoint.size, *proof,
                                  old->checkpoint.root_hash, latest.checkpoint.root_hash)
                    .ok());
  }
}

TEST_F(SequencerTest, StartRefusesUninitializedStoreAndForeignKey) {
  EXPECT_EQ(InitLog(*store_, *signer_).code(), StatusCode::kFailedPrecondition);
  auto other_signer = Ed25519Signer::Generate("example.test/log");
  ASSERT_TRUE(other_signer.ok());
  EXPECT_FALSE(Sequencer::Start(*store_, **other_signer).ok());

  auto empty = store::SqliteStore::Open((dir_ / "empty.db").string());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Sequencer::Start(**empty, *signer_).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SequencerTest, ExtraWritesShareTheTransaction) {
  {
    auto sequencer = StartSequencer();
    ExtraWrites create = [](store::WriteTransaction& txn, uint64_t index) -> Status {
      CHUQU_RETURN_IF_ERROR(txn.Execute("CREATE TABLE derived(idx INTEGER PRIMARY KEY)"));
      store::SqlValue p[] = {static_cast<int64_t>(index)};
      return txn.Execute("INSERT INTO derived(idx) VALUES(?1)", p);
    };
    ASSERT_TRUE(sequencer->Append("first", create).get().ok());
    ExtraWrites fail = [](store::WriteTransaction& txn, uint64_t) -> Status {
      return txn.Execute("INSERT INTO no_such_table VALUES(1)");
    };
    auto failed = sequencer->Append("second", fail).get();
    EXPECT_FALSE(failed.ok());
    EXPECT_EQ(sequencer->Stats().failed_batches, 1u);
    // The failed batch left nothing behind and the sequencer carries on from the same size.
    auto next = sequencer->Append("third").get();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->index, 1u);
  }
  auto snap = Snap();
  EXPECT_EQ(*snap->ReadEntries(0, 2), (std::vector<std::string>{"first", "third"}));
  EXPECT_TRUE(CheckLog(*snap, *verifier_).ok());
}

TEST_F(SequencerTest, PushbackWhenTheQueueIsFull) {
  SequencerOptions options;
  options.max_pending = 4;
  auto s = Sequencer::Start(*store_, *signer_, [&] {
    SequencerOptions o = options;
    o.batch_interval = std::chrono::seconds(2);  // the queue stays full while we append
    return o;
  }());
  ASSERT_TRUE(s.ok());
  std::vector<std::future<Result<SequencedEntry>>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back((*s)->Append(std::to_string(i) + " e"));
  int unavailable = 0, ok = 0;
  s->reset();  // stopping commits what was queued without waiting for the interval
  for (auto& f : futures) {
    auto r = f.get();
    if (r.ok()) ++ok;
    if (r.status().code() == StatusCode::kUnavailable) ++unavailable;
  }
  EXPECT_GE(unavailable, 1);
  EXPECT_GE(ok, 4);
  EXPECT_EQ(ok + unavailable, 10);
}

TEST_F(SequencerTest, DamagedStoredHashIsDetected) {
  {
    auto sequencer = StartSequencer();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sequencer->Append(std::to_string(i) + " e").get().ok());
  }
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "log.db").c_str(), &db), SQLITE_OK);
  // The node over leaves 0..15 (level 4) is on the root's path for size 20.
  std::string sql = "UPDATE log_hashes SET hash = zeroblob(32) WHERE id = " +
                    std::to_string(StoredHashIndex(4, 0));
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  OpenStore();
  auto started = Sequencer::Start(*store_, *signer_);
  EXPECT_EQ(started.status().code(), StatusCode::kCorruption);
  auto snap = Snap();
  EXPECT_EQ(ProveEntry(*snap, *verifier_, 9).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(CheckLog(*snap, *verifier_).status().code(), StatusCode::kCorruption);
}

TEST_F(SequencerTest, ViewRejectsOutOfRangeRequests) {
  {
    auto sequencer = StartSequencer();
    ASSERT_TRUE(sequencer->Append("only").get().ok());
  }
  auto snap = Snap();
  EXPECT_EQ(ProveEntry(*snap, *verifier_, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ProveEntry(*snap, *verifier_, UINT64_MAX).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ProveConsistency(*snap, *verifier_, 2).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ProveConsistency(*snap, *verifier_, UINT64_MAX).status().code(),
            StatusCode::kOutOfRange);
  auto zero = ProveConsistency(*snap, *verifier_, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
  EXPECT_TRUE(ProveEntry(*snap, *verifier_, 0).ok());
}

}  // namespace
}  // namespace chuqu::ledger
