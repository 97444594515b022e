#include "registry/registry.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "base/testing/temp_dir.h"

#include "store/postgres/pg_store.h"
#include "store/testing/store_test_util.h"

namespace chuqu::registry {
namespace {

namespace fs = std::filesystem;

// A temporary directory "chuqu_registry_XXXXXX", removed with the test.
class TempDir : public chuqu::testing::TempDir {
 public:
  TempDir() : chuqu::testing::TempDir("chuqu_registry_") {}
};

// Deterministic English-like text of `words` words.
std::string MakeText(uint32_t seed, int words) {
  static const char* kVocab[] = {
      "river", "stone", "light", "garden", "winter", "paper", "signal", "harbour", "lantern",
      "orchard", "copper", "meadow", "thunder", "silver", "canyon", "window", "falcon", "ember",
      "glacier", "violet", "market", "bridge", "quartz", "shadow", "engine", "velvet", "prairie",
      "crystal", "mirror", "forest", "island", "breeze", "summit", "compass", "anchor", "candle"};
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i) out += (i % 12 == 11) ? ". " : " ";
    out += kVocab[rng() % std::size(kVocab)];
  }
  return out + ".\n";
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

WorkInfo Info(const std::string& kind, const std::string& title) {
  WorkInfo i;
  i.kind = kind;
  i.title = title;
  return i;
}

Fingerprints ImageFp(uint64_t w0) {
  Fingerprints fp;
  fp.media = "image";
  Hash256 h;
  h.words = {w0, ~w0, w0 * 3, w0 ^ 0x5555};
  fp.pdq = h;
  fp.pdq_quality = 90;
  fp.sha256 = Sha256Hex(std::to_string(w0));
  return fp;
}

// The store the suite runs on: SQLite (DIR/log.db), or with CHUQU_REGISTRY_STORE=postgres (the
// "pg." ctest variant of registry_test) a fresh schema on the server in CHUQU_PG_URL.
bool OnPostgres() {
  const char* s = std::getenv("CHUQU_REGISTRY_STORE");
  return s != nullptr && std::string(s) == "postgres";
}

// `o` with store_url set for a new registry: "" (SQLite), or a new schema on the test server.
Options StoreOptions(Options o = {}, bool postgres = OnPostgres()) {
  if (postgres) {
    o.store_url = store::testing::WithSchema(store::testing::TestPgUrl(),
                                             store::testing::UniqueSchema("registry_test"));
  }
  return o;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (OnPostgres()) {
      CHUQU_PG_URL_OR_SKIP(url);
    }
    Result<std::unique_ptr<Registry>> r =
        Registry::Init(dir_.Sub("reg"), "test.example/log", StoreOptions());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(*r);
    alice_ = PartyKey::Generate();
    bob_ = PartyKey::Generate();
    ASSERT_TRUE(reg_->RegisterParty(alice_, "Alice").ok());
    ASSERT_TRUE(reg_->RegisterParty(bob_, "Bob").ok());
  }

  uint64_t RegisterImage(const PartyKey& who, uint64_t w0, const WorkInfo& info = {}) {
    WorkInfo i = info;
    if (i.kind == "other") i.kind = "image";
    Result<RegisterResult> r = reg_->RegisterFingerprints(who, ImageFp(w0), i);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->work : ~uint64_t{0};
  }

  // Submits every entry of reg_ (with its committed blobs) to `target`.
  void ReplayInto(Registry& target) {
    Result<std::vector<std::string>> entries = reg_->Entries();
    ASSERT_TRUE(entries.ok());
    for (const std::string& e : *entries) {
      std::vector<std::string> blobs;
      nlohmann::json j = nlohmann::json::parse(e);
      for (const char* field : {"text", "video", "audio"}) {
        if (j["kind"] == "work" && j["body"]["content"].contains(field)) {
          blobs.push_back(*reg_->Blob(j["body"]["content"][field]["sha256"].get<std::string>()));
        }
      }
      Result<WriteResult> w = target.Submit(e, blobs);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
    }
  }

  TempDir dir_;
  std::unique_ptr<Registry> reg_;
  PartyKey alice_, bob_;
};

TEST_F(RegistryTest, RegisterGivesFullShareAndReceipt) {
  Result<RegisterResult> r = reg_->RegisterFingerprints(alice_, ImageFp(7), Info("image", "Sunset"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->work, 3u);  // operator, Alice, Bob parties come first
  EXPECT_NE(r->receipt.find("c2sp.org/tlog-proof@v1"), std::string::npos);
  EXPECT_TRUE(r->prior_art.empty());
  Result<WorkRecord> w = reg_->GetWork(r->work);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->owners.size(), 1u);
  EXPECT_EQ(w->owners[0].party, alice_.party);
  EXPECT_EQ(w->owners[0].basis_points, kFullShare);
  EXPECT_EQ(w->registration.party, alice_.party);
  EXPECT_EQ(w->entry["body"]["work"]["title"], "Sunset");
}

TEST_F(RegistryTest, SharesMustSumTo10000) {
  WorkInfo info = Info("image", "Split");
  info.owners = {{alice_.party, 6000}, {bob_.party, 3000}};
  const uint64_t before = reg_->size();
  Result<RegisterResult> r = reg_->RegisterFingerprints(alice_, ImageFp(1), info);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("9000"), std::string::npos);
  EXPECT_EQ(reg_->size(), before);
  info.owners = {{alice_.party, 6000}, {bob_.party, 4000}};
  r = reg_->RegisterFingerprints(alice_, ImageFp(1), info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(reg_->GetWork(r->work)->owners.size(), 2u);
}

TEST_F(RegistryTest, TransferOnlyByTheGivingParty) {
  const uint64_t work = RegisterImage(alice_, 11);
  // Bob cannot move Alice's share (he holds none); nothing is written.
  const uint64_t before = reg_->size();
  Result<WriteResult> t = reg_->Transfer(bob_, work, reg_->operator_key().party, 5000);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(reg_->size(), before);
  // More than held: refused.
  t = reg_->Transfer(alice_, work, bob_.party, 10001);
  EXPECT_EQ(t.status().code(), StatusCode::kFailedPrecondition);
  // Alice gives 2500 to Bob; history kept.
  t = reg_->Transfer(alice_, work, bob_.party, 2500);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Result<WorkRecord> w = reg_->GetWork(work);
  ASSERT_TRUE(w.ok());
  int64_t sum = 0;
  for (const Share& s : w->owners) {
    sum += s.basis_points;
    EXPECT_EQ(s.basis_points, s.party == alice_.party ? 7500 : 2500);
  }
  EXPECT_EQ(sum, kFullShare);
  ASSERT_EQ(w->history.size(), 1u);
  EXPECT_EQ(w->history[0]["kind"], "transfer");
  // Bob gives all of his back: his row disappears.
  ASSERT_TRUE(reg_->Transfer(bob_, work, alice_.party, 2500).ok());
  w = reg_->GetWork(work);
  ASSERT_EQ(w->owners.size(), 1u);
  EXPECT_EQ(w->owners[0].basis_points, kFullShare);
}

TEST_F(RegistryTest, PriceCapRefusalNamesTheCap) {
  WorkInfo info = Info("dataset", "Bus timetables");
  info.attributes = {{"provider", "City transport bureau"},
                     {"fields", {"route", "stop", "time"}},
                     {"update_frequency", "daily"},
                     {"security_level", "public"}};
  Result<RegisterResult> r = reg_->RegisterFingerprints(alice_, ImageFp(21), info);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Only the operator sets caps.
  EXPECT_EQ(reg_->SetPriceCap(alice_, "dataset", 100, "CNY").status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(reg_->SetPriceCap(reg_->operator_key(), "dataset", 5000, "CNY").ok());
  LicenceOffer o;
  o.work = r->work;
  o.price = 6000;
  o.unit = "GB";
  const uint64_t before = reg_->size();
  Result<WriteResult> w = reg_->OfferLicence(alice_, o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("price cap for dataset works: 5000 CNY"), std::string::npos)
      << w.status().message();
  EXPECT_EQ(reg_->size(), before);
  o.price = 5000;
  o.pay_after_use = true;
  w = reg_->OfferLicence(alice_, o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Bob is not an owner: cannot offer.
  EXPECT_EQ(reg_->OfferLicence(bob_, o).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(reg_->AcceptLicence(bob_, w->index).ok());
}

TEST_F(RegistryTest, ExclusiveOfferAcceptedOnce) {
  const uint64_t work = RegisterImage(alice_, 31);
  LicenceOffer o;
  o.work = work;
  o.type = "exclusive";
  o.price = 100;
  Result<WriteResult> w = reg_->OfferLicence(alice_, o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg_->AcceptLicence(bob_, w->index).ok());
  EXPECT_EQ(reg_->AcceptLicence(reg_->operator_key(), w->index).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg_->AcceptLicence(bob_, 999).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, ClaimLifecycle) {
  const uint64_t work = RegisterImage(alice_, 41);
  Result<WriteResult> c = reg_->Claim(bob_, work, "copies my photo", {{"method", "pdq"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Only an owner answers; only the operator resolves.
  EXPECT_EQ(reg_->Answer(bob_, c->index, "no").status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(reg_->Answer(alice_, c->index, "I took it first").ok());
  EXPECT_EQ(reg_->Answer(alice_, c->index, "again").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg_->Resolve(alice_, c->index, "rejected", "").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reg_->Resolve(reg_->operator_key(), c->index, "maybe", "").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(reg_->Resolve(reg_->operator_key(), c->index, "rejected", "registered earlier").ok());
  EXPECT_EQ(reg_->Resolve(reg_->operator_key(), c->index, "upheld", "").status().code(),
            StatusCode::kFailedPrecondition);
  Result<WorkRecord> w = reg_->GetWork(work);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->history.size(), 3u);
  EXPECT_EQ(w->history[0]["kind"], "claim");
  EXPECT_EQ(w->history[2]["kind"], "resolve");
}

TEST_F(RegistryTest, BadSignatureAndReplayRefusedWithNothingWritten) {
  const uint64_t work = RegisterImage(alice_, 51);
  Entry e;
  e.kind = std::string(kKindTransfer);
  e.time = NowRfc3339();
  e.party = alice_.party;
  e.seq = reg_->NextSeq(alice_.party);
  e.body = {{"work", work}, {"to", bob_.party}, {"basis_points", 100}};
  // Signed by Bob's key while naming Alice: bad signature.
  Result<std::string> forged = SignEntry(e, bob_.secret_key);
  ASSERT_TRUE(forged.ok());
  const std::string dump_before = *reg_->DumpTables();
  const uint64_t before = reg_->size();
  EXPECT_EQ(reg_->Submit(*forged).status().code(), StatusCode::kUnauthenticated);
  // A tampered body with Alice's signature.
  Result<std::string> good = SignEntry(e, alice_.secret_key);
  ASSERT_TRUE(good.ok());
  std::string tampered = *good;
  tampered.replace(tampered.find("\"basis_points\":100"), 18, "\"basis_points\":900");
  EXPECT_EQ(reg_->Submit(tampered).status().code(), StatusCode::kUnauthenticated);
  // Non-canonical bytes.
  EXPECT_EQ(reg_->Submit(" " + *good).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->Submit("not json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->size(), before);
  EXPECT_EQ(*reg_->DumpTables(), dump_before);
  // The genuine entry goes in once; the same bytes again are a replay.
  ASSERT_TRUE(reg_->Submit(*good).ok());
  const uint64_t after = reg_->size();
  const std::string dump_after = *reg_->DumpTables();
  Result<WriteResult> again = reg_->Submit(*good);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("replayed"), std::string::npos);
  EXPECT_EQ(reg_->size(), after);
  EXPECT_EQ(*reg_->DumpTables(), dump_after);
}

TEST_F(RegistryTest, UnregisteredPartyAndUnknownWorkRefused) {
  PartyKey carol = PartyKey::Generate();
  EXPECT_EQ(reg_->RegisterFingerprints(carol, ImageFp(3), Info("image", "x")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reg_->RegisterParty(alice_, "Alice again").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(reg_->Transfer(alice_, 12345, bob_.party, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reg_->RegisterFingerprints(alice_, ImageFp(3), Info("poem", "x")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reg_->GetWork(999).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, PriorArtAndMatchOnImageFingerprints) {
  // An empty index answers no matches.
  EXPECT_TRUE(reg_->MatchFingerprints(ImageFp(61))->empty());
  const uint64_t first = RegisterImage(alice_, 61);
  // A near copy: a few PDQ bits flipped, other bytes.
  Fingerprints copy = ImageFp(61);
  copy.pdq->words[0] ^= 0xF;
  copy.sha256 = Sha256Hex("other bytes");
  Result<RegisterResult> r = reg_->RegisterFingerprints(bob_, copy, Info("image", "Mine?"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->prior_art.size(), 1u);
  EXPECT_EQ(r->prior_art[0].work, first);
  EXPECT_EQ(r->prior_art[0].first.party, alice_.party);
  EXPECT_EQ(r->prior_art[0].evidence["method"], "pdq");
  EXPECT_EQ(r->prior_art[0].evidence["distance"], 4);
  Result<std::vector<Match>> m = reg_->MatchFingerprints(ImageFp(61));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].work, first);  // exact beats the near copy
  EXPECT_DOUBLE_EQ((*m)[0].score, 1.0);
  for (const Match& x : *m) {
    EXPECT_GE(x.score, 0.0);
    EXPECT_LE(x.score, 1.0);
  }
}

TEST_F(RegistryTest, TextFilesRegisterAndMatchWithSpans) {
  const std::string a = dir_.Sub("a.txt"), b = dir_.Sub("b.txt"), q = dir_.Sub("q.txt");
  const std::string text_a = MakeText(1, 400), text_b = MakeText(2, 400);
  WriteFile(a, text_a);
  WriteFile(b, text_b);
  Result<RegisterResult> ra = reg_->RegisterFile(alice_, a, {});
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  EXPECT_EQ(ra->media, "text");
  Result<RegisterResult> rb = reg_->RegisterFile(bob_, b, {});
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_TRUE(rb->prior_art.empty());
  // A query quoting a passage of A inside new text.
  WriteFile(q, MakeText(3, 100) + " " + text_a.substr(500, 900) + " " + MakeText(4, 100));
  Result<std::vector<Match>> m = reg_->MatchFile(q);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, ra->work);
  EXPECT_EQ((*m)[0].media, "text");
  EXPECT_EQ((*m)[0].evidence["method"], "text");
  ASSERT_FALSE((*m)[0].evidence["spans"].empty());
  // Registering a byte copy of B reports B as prior art.
  const std::string c = dir_.Sub("c.txt");
  WriteFile(c, text_b);
  Result<RegisterResult> rc = reg_->RegisterFile(alice_, c, {});
  ASSERT_TRUE(rc.ok());
  ASSERT_FALSE(rc->prior_art.empty());
  EXPECT_EQ(rc->prior_art[0].work, rb->work);
  EXPECT_DOUBLE_EQ(rc->prior_art[0].score, 1.0);
}

TEST_F(RegistryTest, BadFilesGiveClearErrors) {
  Result<std::vector<Match>> m = reg_->MatchFile(dir_.Sub("missing.jpg"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("missing.jpg"), std::string::npos);
  const std::string empty = dir_.Sub("empty.txt");
  WriteFile(empty, "");
  EXPECT_FALSE(reg_->RegisterFile(alice_, empty, {}).ok());
  const std::string bad = dir_.Sub("bad.png");
  WriteFile(bad, std::string("\x89PNG\r\n\x1a\n", 8) + "garbage");
  const uint64_t before = reg_->size();
  EXPECT_FALSE(reg_->RegisterFile(alice_, bad, {}).ok());
  EXPECT_EQ(reg_->size(), before);
}

TEST_F(RegistryTest, ReplayRebuildsTablesIdentically) {
  // A log with every entry kind.
  const uint64_t w1 = RegisterImage(alice_, 71);
  const std::string t = dir_.Sub("t.txt");
  WriteFile(t, MakeText(9, 300));
  ASSERT_TRUE(reg_->RegisterFile(bob_, t, {}).ok());
  ASSERT_TRUE(reg_->Transfer(alice_, w1, bob_.party, 1234).ok());
  ASSERT_TRUE(reg_->SetPriceCap(reg_->operator_key(), "image", 900, "CNY").ok());
  LicenceOffer o;
  o.work = w1;
  o.price = 800;
  Result<WriteResult> off = reg_->OfferLicence(alice_, o);
  ASSERT_TRUE(off.ok());
  ASSERT_TRUE(reg_->AcceptLicence(bob_, off->index).ok());
  Result<WriteResult> c = reg_->Claim(bob_, w1, "mine", nlohmann::json::object());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(reg_->Answer(alice_, c->index, "no").ok());
  ASSERT_TRUE(reg_->Resolve(reg_->operator_key(), c->index, "settled", "shares moved").ok());
  Result<std::string> dump = reg_->DumpTables();
  ASSERT_TRUE(dump.ok());

  // Replay every entry (with its committed blobs) into an empty registry.
  Options opt = StoreOptions();
  opt.register_operator = false;
  Result<std::unique_ptr<Registry>> fresh = Registry::Init(dir_.Sub("replay"), "other/log", opt);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  ASSERT_NO_FATAL_FAILURE(ReplayInto(**fresh));
  EXPECT_EQ(*(*fresh)->DumpTables(), *dump);

  // Reopening rebuilds state and the match index from the store.
  reg_.reset();
  Result<std::unique_ptr<Registry>> reopened = Registry::Open(dir_.Sub("reg"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(*(*reopened)->DumpTables(), *dump);
  Result<std::vector<Match>> m = (*reopened)->MatchFingerprints(ImageFp(71));
  ASSERT_TRUE(m.ok());
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, w1);
  // State survived: Bob holds 1234 and can give it back; Alice cannot exceed 8766.
  EXPECT_EQ((*reopened)->Transfer(alice_, w1, bob_.party, 8767).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*reopened)->Transfer(bob_, w1, alice_.party, 1234).ok());
}

TEST_F(RegistryTest, EvidenceBundleVerifies) {
  const uint64_t work = RegisterImage(alice_, 81);
  Result<ledger::EvidenceBundle> b = reg_->Evidence(work);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ledger::BundleVerifyOptions opt;
  opt.trusted_log_key = reg_->log_key();
  EXPECT_TRUE(ledger::VerifyBundle(*b, opt).ok);
  EXPECT_EQ(reg_->Evidence(1000).status().code(), StatusCode::kNotFound);
}

TEST(MatcherTest, ThousandsOfMatchesGiveABoundedRankedList) {
  Matcher m;
  for (uint64_t i = 0; i < 3000; ++i) {
    Fingerprints fp = ImageFp(99);
    fp.sha256.clear();
    fp.pdq->words[1] ^= (uint64_t{1} << (i % 64)) | (uint64_t{1} << ((i / 64) % 64));
    ASSERT_TRUE(m.Add(i, fp, {i, "t", "p"}).ok());
  }
  std::vector<Match> r = m.Search(ImageFp(99));
  ASSERT_EQ(r.size(), MatcherOptions{}.max_results);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_GE(r[i - 1].score, r[i].score);
  EXPECT_EQ(m.Add(5, ImageFp(1), {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, VideoAndAudioRegisterAndMatchSegments) {
  const std::string video = std::string(CHUQU_SHARED_DATA) + "/tmk/sample-videos/pattern-sd-grey-bar.mp4";
  if (!fs::exists(video)) GTEST_SKIP() << video << " not present";
  Result<RegisterResult> r = reg_->RegisterFile(alice_, video, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->media, "video");
  Result<WorkRecord> w = reg_->GetWork(r->work);
  ASSERT_TRUE(w->entry["body"]["content"].contains("video"));
  Result<std::vector<Match>> m = reg_->MatchFile(video);
  ASSERT_TRUE(m.ok());
  ASSERT_FALSE(m->empty());
  EXPECT_EQ((*m)[0].work, r->work);
  bool segment = (*m)[0].evidence["method"] == "video-segment";
  for (const auto& e : (*m)[0].evidence.value("also", nlohmann::json::array())) {
    segment = segment || e["method"] == "video-segment";
  }
  EXPECT_TRUE(segment) << (*m)[0].evidence.dump();
}

// Open replays the log a batch of 1,024 entries at a time, verifying the next batch on the
// runner while it replays this one. A log of three batches, with works and transfers on both
// sides of each boundary, reopens to the same registry with a pool and without one, and
// damage in the middle batch fails both opens.
std::string TextPath(const TempDir& dir, int round) {
  std::string name = "t";
  name += static_cast<char>('0' + round);
  return dir.Sub(name + ".txt");
}

TEST(RegistryOpenTest, ReplayOnAPoolEqualsReplayOnOneThread) {
  if (OnPostgres()) {
    CHUQU_PG_URL_OR_SKIP(url);
  }
  TempDir dir;
  Options options = StoreOptions();
  options.batch_interval_micros = 2000;  // concurrent writers share commits
  Result<std::unique_ptr<Registry>> reg = Registry::Init(dir.Sub("reg"), "test.example/log",
                                                         options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const PartyKey alice = PartyKey::Generate();
  ASSERT_TRUE((*reg)->RegisterParty(alice, "Alice").ok());
  std::vector<uint64_t> works;
  std::vector<PartyKey> parties;
  for (int round = 0; round < 3; ++round) {
    // ~1,000 parties from 8 threads, then a text work, two image works and a transfer.
    std::vector<PartyKey> keys(1000);
    for (PartyKey& k : keys) k = PartyKey::Generate();
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < keys.size(); i += 8) {
          if (!(*reg)->RegisterParty(keys[i], "party").ok()) ++failures;
        }
      });
    }
    for (std::thread& w : writers) w.join();
    ASSERT_EQ(failures.load(), 0);
    parties.insert(parties.end(), keys.begin(), keys.end());
    const std::string text = TextPath(dir, round);
    WriteFile(text, MakeText(100 + static_cast<uint32_t>(round), 300));
    Result<RegisterResult> t = (*reg)->RegisterFile(alice, text, {});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    works.push_back(t->work);
    for (uint64_t w0 : {uint64_t{500} + static_cast<uint64_t>(round) * 2,
                        uint64_t{501} + static_cast<uint64_t>(round) * 2}) {
      Result<RegisterResult> r = (*reg)->RegisterFingerprints(alice, ImageFp(w0), Info("image", ""));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      works.push_back(r->work);
    }
    ASSERT_TRUE((*reg)->Transfer(alice, works.back(), keys[0].party, 2500).ok());
  }
  ASSERT_GT((*reg)->size(), 3000u);

  // What a reopened registry must know: its size, every party's next sequence number, the
  // matches of each work, and the shares (a transfer beyond them is refused).
  auto summary = [&](Registry& r) {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string
    // inlined here.
    std::string out = std::to_string(r.size());
    auto add = [&out](std::string_view tag, uint64_t n) {
      out += tag;
      out += std::to_string(n);
    };
    add(" ", static_cast<uint64_t>(r.NextSeq(alice.party)));
    for (const PartyKey& p : parties) add(" ", static_cast<uint64_t>(r.NextSeq(p.party)));
    for (uint64_t w0 = 500; w0 < 506; ++w0) {
      Result<std::vector<Match>> m = r.MatchFingerprints(ImageFp(w0));
      EXPECT_TRUE(m.ok());
      if (m.ok()) {
        for (const Match& x : *m) {
          add(" m", x.work);
          out += "@";
          out += x.first.party;
        }
      }
    }
    for (int round = 0; round < 3; ++round) {
      Result<std::vector<Match>> m = r.MatchFile(TextPath(dir, round));
      EXPECT_TRUE(m.ok());
      if (m.ok() && !m->empty()) add(" t", (*m)[0].work);
    }
    return out;
  };
  const std::string want = summary(**reg);
  reg->reset();

  for (bool pool : {false, true}) {
    ThreadPool threads(2);
    Options o;
    if (pool) o.open_runner = &threads;
    Result<std::unique_ptr<Registry>> reopened = Registry::Open(dir.Sub("reg"), o);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EXPECT_EQ(summary(**reopened), want) << "pool " << pool;
    // Bob (keys[0] of the last round) holds 2,500 of the last work and no more.
    EXPECT_EQ((*reopened)->Transfer(parties[2000], works.back(), alice.party, 2501)
                  .status()
                  .code(),
              StatusCode::kFailedPrecondition);
  }

  if (OnPostgres()) return;
  // An entry of the middle batch changed behind the registry's back: no open serves it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.Sub("reg/log.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE log_entries SET data = CAST('{}' AS BLOB) WHERE idx = 1500",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  for (bool pool : {false, true}) {
    ThreadPool threads(2);
    Options o;
    if (pool) o.open_runner = &threads;
    Result<std::unique_ptr<Registry>> damaged = Registry::Open(dir.Sub("reg"), o);
    ASSERT_FALSE(damaged.ok()) << "pool " << pool;
    EXPECT_EQ(damaged.status().code(), StatusCode::kCorruption) << damaged.status().ToString();
  }
}

TEST(RegistryOpenTest, MissingDirIsNotFound) {
  Result<std::unique_ptr<Registry>> r = Registry::Open("/nonexistent/chuqu/registry");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

// The derived tables do not depend on the store: a log built on one store (SQLite in the
// default run, PostgreSQL in the "pg." run) replayed into the other dumps identically.
TEST_F(RegistryTest, ReplayIntoTheOtherStoreGivesEqualTables) {
  CHUQU_PG_URL_OR_SKIP(url);
  const uint64_t w1 = RegisterImage(alice_, 171);
  const std::string t = dir_.Sub("cross.txt");
  WriteFile(t, MakeText(19, 200));
  ASSERT_TRUE(reg_->RegisterFile(bob_, t, {}).ok());
  ASSERT_TRUE(reg_->Transfer(alice_, w1, bob_.party, 4321).ok());
  ASSERT_TRUE(reg_->Transfer(bob_, w1, alice_.party, 4321).ok());  // Bob's row disappears
  ASSERT_TRUE(reg_->SetPriceCap(reg_->operator_key(), "image", 900, "CNY").ok());
  ASSERT_TRUE(reg_->SetPriceCap(reg_->operator_key(), "text", 0, "CNY").ok());
  LicenceOffer o;
  o.work = w1;
  o.type = "exclusive";
  o.price = 800;
  o.pay_after_use = true;
  Result<WriteResult> off = reg_->OfferLicence(alice_, o);
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  ASSERT_TRUE(reg_->AcceptLicence(bob_, off->index).ok());
  Result<WriteResult> c = reg_->Claim(bob_, w1, "mine \u00e9\u4e2d", nlohmann::json::object());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(reg_->Answer(alice_, c->index, "no").ok());
  ASSERT_TRUE(reg_->Resolve(reg_->operator_key(), c->index, "rejected", "").ok());
  Result<std::string> dump = reg_->DumpTables();
  ASSERT_TRUE(dump.ok()) << dump.status().ToString();

  Options opt = StoreOptions({}, /*postgres=*/!OnPostgres());
  opt.register_operator = false;
  Result<std::unique_ptr<Registry>> other = Registry::Init(dir_.Sub("other"), "other/log", opt);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_NO_FATAL_FAILURE(ReplayInto(**other));
  Result<std::string> other_dump = (*other)->DumpTables();
  ASSERT_TRUE(other_dump.ok()) << other_dump.status().ToString();
  EXPECT_EQ(*other_dump, *dump);
  EXPECT_NE(dump->find("exclusive"), std::string::npos);
  EXPECT_EQ((*other)->GetWork(w1)->history.size(), reg_->GetWork(w1)->history.size());
}

// A PostgreSQL registry keeps only its keys in DIR: Init records the store (without its
// password) in DIR/store.url, Open finds it there, and a second Init on the schema is refused.
TEST(RegistryPostgresTest, StoreUrlIsRecordedAndReused) {
  CHUQU_PG_URL_OR_SKIP(url);
  TempDir dir;
  const Options options = StoreOptions({}, /*postgres=*/true);
  Result<std::unique_ptr<Registry>> r = Registry::Init(dir.Sub("reg"), "pg/log", options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t size = (*r)->size();
  EXPECT_FALSE(fs::exists(dir.Sub("reg/log.db")));
  std::ifstream in(dir.Sub("reg/store.url"));
  std::string recorded;
  std::getline(in, recorded);
  EXPECT_EQ(recorded, store::PgStore::StripPassword(options.store_url));
  r->reset();
  // Open without a URL uses DIR/store.url (the password from PGPASSWORD, which
  // scripts/pg-test-server exports).
  if (std::getenv("PGPASSWORD") != nullptr || recorded == options.store_url) {
    Result<std::unique_ptr<Registry>> again = Registry::Open(dir.Sub("reg"));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ((*again)->size(), size);
  }
  Result<std::unique_ptr<Registry>> twice = Registry::Init(dir.Sub("reg2"), "pg/log", options);
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists) << twice.status().ToString();
  const std::string schema = options.store_url.substr(options.store_url.rfind("schema=") + 7);
  EXPECT_TRUE(store::PgStore::DropSchema(url, schema).ok());
}

}  // namespace
}  // namespace chuqu::registry
