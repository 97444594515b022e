// The registry's write path: group commit (writes planned against queued, not yet durable
// writes, sharing durable batches), fail-stop after a failed commit, and idempotent requests
// (registry.h "Idempotent requests"). Commits are held or failed with
// Options::commit_fault_for_testing; no test depends on timing.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "base/testing/temp_dir.h"

#include "registry/entry.h"
#include "registry/registry.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;

// A temporary directory "chuqu_group_commit_XXXXXX", removed with the test.
class TempDir : public chuqu::testing::TempDir {
 public:
  TempDir() : chuqu::testing::TempDir("chuqu_group_commit_") {}
};

// Distinct image fingerprints per seed (exact SHA-256 and a PDQ hash).
Fingerprints ImageFp(uint32_t seed) {
  std::mt19937_64 rng(seed);
  Fingerprints fp;
  fp.media = "image";
  std::string sha;
  std::string pdq;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 64; ++i) sha += kHex[rng() % 16];
  for (int i = 0; i < 64; ++i) pdq += kHex[rng() % 16];
  fp.sha256 = sha;
  fp.pdq = *Hash256::ParseHex(pdq);
  fp.pdq_quality = 90;
  return fp;
}

WorkInfo ImageInfo(const std::string& title) {
  WorkInfo i;
  i.kind = "image";
  i.title = title;
  return i;
}

// Polls `done` for up to 20 s (a generous bound for a loaded machine; tests pass long before).
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A commit hook that holds the commit of entry `hold` until released.
struct Gate {
  std::atomic<uint64_t> hold{~uint64_t{0}};
  std::atomic<bool> released{false};
  std::atomic<bool> reached{false};
  std::function<Status(uint64_t)> Hook() {
    return [this](uint64_t index) -> Status {
      if (index != hold.load()) return Status::Ok();
      reached = true;
      if (!WaitFor([this] { return released.load(); })) {
        return Status::Internal("gate never released");
      }
      return Status::Ok();
    };
  }
};

TEST(GroupCommitTest, WritesArePlannedWhileAnEarlierCommitIsInFlight) {
  TempDir dir;
  Gate gate;
  Options o;
  o.commit_fault_for_testing = gate.Hook();
  auto reg = Registry::Init(dir.Sub("r"), "test/log", o);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  Registry& r = **reg;
  const PartyKey alice = PartyKey::Generate();
  ASSERT_TRUE(r.RegisterParty(alice, "Alice").ok());
  const PartyKey bob = PartyKey::Generate();
  ASSERT_TRUE(r.RegisterParty(bob, "Bob").ok());
  const uint64_t before = r.size();

  // Alice's registration is held in its commit ...
  gate.hold = before;
  auto first = std::async(std::launch::async, [&] {
    return r.RegisterFingerprints(alice, ImageFp(1), ImageInfo("one"));
  });
  ASSERT_TRUE(WaitFor([&] { return gate.reached.load(); }));
  EXPECT_EQ(r.size(), before);  // not durable, so not visible to readers
  EXPECT_EQ(r.NextSeq(alice.party), 3);  // but planned: the next write builds on it
  EXPECT_FALSE(r.GetWork(before).ok());
  // ... while Alice offers a licence on that (not yet durable) work, and Bob registers: both
  // are validated against the planned state and queued behind it.
  LicenceOffer offer;
  offer.work = before;
  offer.price = 100;
  auto second = std::async(std::launch::async, [&] { return r.OfferLicence(alice, offer); });
  auto third = std::async(std::launch::async, [&] {
    return r.RegisterFingerprints(bob, ImageFp(2), ImageInfo("two"));
  });
  EXPECT_TRUE(WaitFor([&] { return r.NextSeq(alice.party) == 4 && r.NextSeq(bob.party) == 3; }))
      << "a write was not planned while an earlier commit was in flight";
  EXPECT_EQ(r.size(), before);
  gate.released = true;
  auto w1 = first.get();
  auto w2 = second.get();
  auto w3 = third.get();
  ASSERT_TRUE(w1.ok()) << w1.status().ToString();
  ASSERT_TRUE(w2.ok()) << w2.status().ToString();
  ASSERT_TRUE(w3.ok()) << w3.status().ToString();
  EXPECT_EQ(w1->index, before);
  std::set<uint64_t> later = {w2->index, w3->index};
  EXPECT_EQ(later, (std::set<uint64_t>{before + 1, before + 2}));
  EXPECT_EQ(r.size(), before + 3);
  auto work = r.GetWork(before);
  ASSERT_TRUE(work.ok());
  ASSERT_EQ(work->history.size(), 1u);
  EXPECT_EQ(work->history[0]["kind"], "offer");
  // A write returns only once durable and applied: its work is matchable at once.
  auto m = r.MatchFingerprints(ImageFp(2));
  ASSERT_TRUE(m.ok());
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, w3->index);
}

TEST(GroupCommitTest, ConcurrentWritersAllLandInOrderAndReplay) {
  TempDir dir;
  Options o;
  o.batch_interval_micros = 1000;
  auto reg = Registry::Init(dir.Sub("r"), "test/log", o);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  Registry& r = **reg;
  constexpr int kThreads = 6;
  constexpr int kPerThread = 20;
  std::vector<PartyKey> keys;
  for (int t = 0; t < kThreads; ++t) {
    keys.push_back(PartyKey::Generate());
    ASSERT_TRUE(r.RegisterParty(keys.back(), "p" + std::to_string(t)).ok());
  }
  const uint64_t before = r.size();
  std::vector<std::vector<uint64_t>> works(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto w = r.RegisterFingerprints(keys[t], ImageFp(1000 * t + i), ImageInfo("w"));
        if (!w.ok()) {
          ++errors;
          continue;
        }
        works[t].push_back(w->work);
        // Every other work: a transfer of half to the next party, planned right behind it.
        if (i % 2 == 0 && !r.Transfer(keys[t], w->work, keys[(t + 1) % kThreads].party, 5000).ok()) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(errors.load(), 0);
  EXPECT_EQ(r.size(), before + kThreads * kPerThread * 3 / 2);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(r.NextSeq(keys[t].party), 2 + kPerThread * 3 / 2);
    ASSERT_EQ(works[t].size(), static_cast<size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(works[t].begin(), works[t].end()));  // a party's own order
    auto w = r.GetWork(works[t][0]);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->owners.size(), 2u);
  }
  auto dump = r.DumpTables();
  ASSERT_TRUE(dump.ok());
  auto entries = r.Entries();
  ASSERT_TRUE(entries.ok());
  // Replaying the log into an empty registry gives the same derived tables.
  Options replay_options;
  replay_options.register_operator = false;
  auto replay = Registry::Init(dir.Sub("replay"), "test/replay", replay_options);
  ASSERT_TRUE(replay.ok());
  for (const std::string& e : *entries) {
    std::vector<std::string> blobs;
    ASSERT_TRUE((*replay)->Submit(e, blobs).ok());
  }
  auto replay_dump = (*replay)->DumpTables();
  ASSERT_TRUE(replay_dump.ok());
  EXPECT_EQ(*dump, *replay_dump);
}

TEST(GroupCommitTest, FailedCommitStopsWritesButNotReads) {
  TempDir dir;
  std::atomic<uint64_t> fail_at{~uint64_t{0}};
  Options o;
  o.commit_fault_for_testing = [&](uint64_t index) -> Status {
    if (index == fail_at.load()) return Status::IOError("simulated: disk full");
    return Status::Ok();
  };
  uint64_t kept = 0;
  PartyKey alice = PartyKey::Generate();
  {
    auto reg = Registry::Init(dir.Sub("r"), "test/log", o);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    Registry& r = **reg;
    ASSERT_TRUE(r.RegisterParty(alice, "Alice").ok());
    auto w = r.RegisterFingerprints(alice, ImageFp(7), ImageInfo("kept"));
    ASSERT_TRUE(w.ok());
    kept = w->work;
    const uint64_t size = r.size();
    const std::string checkpoint = r.LatestCheckpoint();

    fail_at = size;
    auto failed = r.RegisterFingerprints(alice, ImageFp(8), ImageInfo("lost"));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), StatusCode::kIOError) << failed.status().ToString();
    fail_at = ~uint64_t{0};
    // Every later write is refused, naming what to do; nothing is written.
    auto refused = r.RegisterFingerprints(alice, ImageFp(9), ImageInfo("refused"));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(refused.status().message().find("registry must be reopened"), std::string::npos)
        << refused.status().message();
    const PartyKey carol = PartyKey::Generate();
    EXPECT_EQ(r.RegisterParty(carol, "Carol").status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(r.size(), size);
    EXPECT_EQ(r.LatestCheckpoint(), checkpoint);
    // Reads keep working on the durable state.
    EXPECT_TRUE(r.GetWork(kept).ok());
    EXPECT_FALSE(r.GetWork(size).ok());
    auto m = r.MatchFingerprints(ImageFp(7));
    ASSERT_TRUE(m.ok());
    ASSERT_FALSE(m->empty());
    EXPECT_EQ((*m)[0].work, kept);
    EXPECT_TRUE(r.Evidence(kept).ok());
  }
  // Reopened: the durable log only, and writes work again (the lost entry's seq is reused).
  auto reg = Registry::Open(dir.Sub("r"));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ((*reg)->NextSeq(alice.party), 3);
  auto again = (*reg)->RegisterFingerprints(alice, ImageFp(8), ImageInfo("lost"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->work, kept + 1);
}

TEST(GroupCommitTest, WritesQueuedBehindAFailedCommitFailToo) {
  TempDir dir;
  Gate gate;
  std::atomic<bool> fail{false};
  Options o;
  auto hold = gate.Hook();
  o.commit_fault_for_testing = [&](uint64_t index) -> Status {
    CHUQU_RETURN_IF_ERROR(hold(index));
    if (fail && index == gate.hold.load()) return Status::IOError("simulated");
    return Status::Ok();
  };
  auto reg = Registry::Init(dir.Sub("r"), "test/log", o);
  ASSERT_TRUE(reg.ok());
  Registry& r = **reg;
  const PartyKey alice = PartyKey::Generate();
  ASSERT_TRUE(r.RegisterParty(alice, "Alice").ok());
  const uint64_t size = r.size();
  gate.hold = size;
  fail = true;
  auto first = std::async(std::launch::async, [&] {
    return r.RegisterFingerprints(alice, ImageFp(1), ImageInfo("a"));
  });
  ASSERT_TRUE(WaitFor([&] { return gate.reached.load(); }));
  // Planned on top of the entry whose commit will fail.
  auto second = std::async(std::launch::async, [&] {
    return r.RegisterFingerprints(alice, ImageFp(2), ImageInfo("b"));
  });
  ASSERT_TRUE(WaitFor([&] { return r.NextSeq(alice.party) == 4; }));
  gate.released = true;
  EXPECT_FALSE(first.get().ok());
  EXPECT_FALSE(second.get().ok());
  EXPECT_EQ(r.size(), size);
  auto reopened_size = [&] {
    reg->reset();
    auto again = Registry::Open(dir.Sub("r"));
    return again.ok() ? (*again)->size() : 0;
  };
  EXPECT_EQ(reopened_size(), size);
}

TEST(IdempotencyTest, RetriesAreRefusedNamingTheEntryAcrossRestarts) {
  TempDir dir;
  const PartyKey alice = PartyKey::Generate();
  const PartyKey bob = PartyKey::Generate();
  uint64_t work = 0;
  uint64_t transfer = 0;
  {
    auto reg = Registry::Init(dir.Sub("r"), "test/log");
    ASSERT_TRUE(reg.ok());
    Registry& r = **reg;
    ASSERT_TRUE(r.RegisterParty(alice, "Alice").ok());
    ASSERT_TRUE(r.RegisterParty(bob, "Bob").ok());
    auto w = r.RegisterFingerprints(alice, ImageFp(1), ImageInfo("photo"), "key-1");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    work = w->work;
    EXPECT_EQ(w->entry.find("key-1"), std::string::npos);  // only the request id is logged
    EXPECT_NE(w->entry.find(RequestId(alice.party, "key-1")), std::string::npos);
    const uint64_t size = r.size();
    // Same key, same content: already applied, naming the entry; nothing written.
    auto replay = r.RegisterFingerprints(alice, ImageFp(1), ImageInfo("photo"), "key-1");
    ASSERT_FALSE(replay.ok());
    EXPECT_EQ(replay.status().code(), StatusCode::kAlreadyExists);
    EXPECT_NE(replay.status().message().find("request already applied as entry " +
                                             std::to_string(work)),
              std::string::npos)
        << replay.status().message();
    // Same key, other content: a conflict naming the entry.
    auto conflict = r.RegisterFingerprints(alice, ImageFp(2), ImageInfo("other"), "key-1");
    ASSERT_FALSE(conflict.ok());
    EXPECT_EQ(conflict.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(conflict.status().message().find("entry " + std::to_string(work)),
              std::string::npos);
    EXPECT_EQ(r.size(), size);
    EXPECT_EQ(r.NextSeq(alice.party), 3);
    // Another party's identical key is another request.
    auto bobs = r.RegisterFingerprints(bob, ImageFp(3), ImageInfo("b"), "key-1");
    ASSERT_TRUE(bobs.ok()) << bobs.status().ToString();
    // A transfer retried after it applied: named as applied, although the share has moved.
    auto t = r.Transfer(alice, work, bob.party, 10000, "move-1");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    transfer = t->index;
    auto t2 = r.Transfer(alice, work, bob.party, 10000, "move-1");
    EXPECT_EQ(t2.status().code(), StatusCode::kAlreadyExists) << t2.status().ToString();
    auto found = r.FindRequest(alice.party, "move-1");
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::optional<uint64_t>(transfer));
    EXPECT_EQ(*r.FindRequest(alice.party, "never-used"), std::nullopt);
    EXPECT_EQ(*r.FindRequest(bob.party, "move-1"), std::nullopt);
    // Bad keys.
    for (std::string bad : {std::string(129, 'k'), std::string("tab\there"), std::string("\xc3\xa9")}) {
      EXPECT_EQ(r.Transfer(bob, work, alice.party, 1, bad).status().code(),
                StatusCode::kInvalidArgument);
      EXPECT_EQ(r.FindRequest(bob.party, bad).status().code(), StatusCode::kInvalidArgument);
    }
    EXPECT_TRUE(r.Claim(bob, work, "mine", {}, std::string(128, '~')).ok());
  }
  // After a restart the log still knows.
  auto reg = Registry::Open(dir.Sub("r"));
  ASSERT_TRUE(reg.ok());
  Registry& r = **reg;
  const uint64_t size = r.size();
  auto replay = r.RegisterFingerprints(alice, ImageFp(1), ImageInfo("photo"), "key-1");
  EXPECT_EQ(replay.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*r.FindRequest(alice.party, "key-1"), std::optional<uint64_t>(work));
  EXPECT_EQ(*r.FindRequest(alice.party, "move-1"), std::optional<uint64_t>(transfer));
  EXPECT_EQ(r.size(), size);
  auto dump = r.DumpTables();
  ASSERT_TRUE(dump.ok());
  EXPECT_NE(dump->find("\"" + alice.party + "\"|\"" + RequestId(alice.party, "key-1") + "\"|" +
                      std::to_string(work) + "\n"),
            std::string::npos)
      << *dump;
}

TEST(IdempotencyTest, ClientSignedRequestIdsAreChecked) {
  TempDir dir;
  auto reg = Registry::Init(dir.Sub("r"), "test/log");
  ASSERT_TRUE(reg.ok());
  Registry& r = **reg;
  const PartyKey carol = PartyKey::Generate();
  auto sign = [&](int64_t seq, nlohmann::json body) {
    Entry e;
    e.kind = std::string(kKindParty);
    e.time = NowRfc3339();
    e.party = carol.party;
    e.seq = seq;
    e.body = std::move(body);
    return *SignEntry(e, carol.secret_key);
  };
  const uint64_t size = r.size();
  for (const nlohmann::json& bad : {nlohmann::json(7), nlohmann::json("ABC"),
                                    nlohmann::json(std::string(64, 'A')),
                                    nlohmann::json(std::string(62, 'a'))}) {
    auto s = r.Submit(sign(1, {{"name", "Carol"}, {"request", bad}}));
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << bad.dump();
  }
  EXPECT_EQ(r.size(), size);
  const std::string id = RequestId(carol.party, "k");
  ASSERT_TRUE(r.Submit(sign(1, {{"name", "Carol"}, {"request", id}})).ok());
  // Re-signed with the next seq but the same request: refused as already applied.
  auto again = r.Submit(sign(2, {{"name", "Carol"}, {"request", id}}));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_EQ(*r.FindRequest(carol.party, "k"), std::optional<uint64_t>(size));
}

}  // namespace
}  // namespace chuqu::registry
