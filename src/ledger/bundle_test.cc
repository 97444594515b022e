#include "ledger/bundle.h"

#include <gtest/gtest.h>

#include "ledger/checkpoint.h"
#include "ledger/cosignature.h"
#include "ledger/note.h"
#include "ledger/tiles.h"

namespace chuqu::ledger {
namespace {

// A small log with a witness, and a bundle for one entry.
class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(*Ed25519Signer::Generate("registry.example/log1"));
    std::array<uint8_t, 32> seed{};
    seed[1] = 42;
    witness_ = std::make_unique<CosignatureSigner>("witness.example", seed, 1767139200);
    for (int i = 0; i < 37; ++i) {
      std::string content = "work number " + std::to_string(i);
      contents_.push_back(content);
      entries_.push_back(R"({"kind":"register","content":{"sha256":")" + HashToHex(Sha256(content)) +
                         R"("},"n":)" + std::to_string(i) + "}");
      store_.Append(LeafHash(entries_.back()));
    }
    Checkpoint cp{log_->name(), store_.size(), *TreeHash(store_.size(), store_), {}};
    const NoteSigner* signers[] = {log_.get(), witness_.get()};
    checkpoint_ = *SignCheckpoint(cp, signers);
  }

  EvidenceBundle Build(uint64_t index) {
    auto b = BuildBundle(entries_[index], index, checkpoint_, store_, log_->VerifierKey(),
                         {witness_->VerifierKey()});
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return *b;
  }

  std::unique_ptr<Ed25519Signer> log_;
  std::unique_ptr<CosignatureSigner> witness_;
  std::vector<std::string> contents_, entries_;
  MemoryHashStore store_;
  std::string checkpoint_;
};

TEST_F(BundleTest, RoundTripAndVerify) {
  EvidenceBundle b = Build(11);
  std::string text = FormatBundle(b);
  auto parsed = ParseBundle(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, b);
  BundleVerifyOptions opt;
  opt.trusted_log_key = log_->VerifierKey();
  opt.content = contents_[11];
  opt.witness_quorum = 1;
  BundleReport r = VerifyBundle(*parsed, opt);
  EXPECT_TRUE(r.ok) << r.ToText();
  std::string report = r.ToText();
  EXPECT_NE(report.find("VERIFIED"), std::string::npos);
  EXPECT_NE(report.find("entry number 11 of the log registry.example/log1"), std::string::npos);
  EXPECT_NE(report.find("Witness witness.example cosigned this checkpoint at 2025-12-31 00:00:00 UTC"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("is the content this entry registers"), std::string::npos);
}

TEST_F(BundleTest, EachFailureIsNamed) {
  EvidenceBundle good = Build(3);
  auto failed = [](const BundleReport& r) {
    std::vector<std::string> names;
    for (const auto& c : r.checks) {
      if (!c.passed) names.push_back(c.name);
    }
    return names;
  };
  // Other content.
  {
    BundleVerifyOptions opt;
    opt.content = contents_[4];
    BundleReport r = VerifyBundle(good, opt);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(failed(r), std::vector<std::string>{"content"});
    EXPECT_NE(r.ToText().find("NOT VERIFIED"), std::string::npos);
  }
  // Altered entry: inclusion fails.
  {
    EvidenceBundle b = good;
    b.entry[5] ^= 1;
    EXPECT_EQ(failed(VerifyBundle(b, {})), std::vector<std::string>{"inclusion"});
  }
  // Another log key trusted.
  {
    BundleVerifyOptions opt;
    opt.trusted_log_key = (*Ed25519Signer::Generate("registry.example/log1"))->VerifierKey();
    BundleReport r = VerifyBundle(good, opt);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(failed(r), (std::vector<std::string>{"log-key", "checkpoint-signature"}));
  }
  // Quorum not met.
  {
    BundleVerifyOptions opt;
    opt.witness_quorum = 2;
    EXPECT_EQ(failed(VerifyBundle(good, opt)), std::vector<std::string>{"witnesses"});
  }
  // Every byte of the receipt altered: never verifies.
  for (size_t i = 0; i < good.receipt.size(); ++i) {
    EvidenceBundle b = good;
    b.receipt[i] ^= 0x01;
    BundleReport r = VerifyBundle(b, {});
    EXPECT_FALSE(r.ok) << i << "\n" << b.receipt;
  }
  // Every byte of the entry altered: never verifies.
  for (size_t i = 0; i < good.entry.size(); ++i) {
    EvidenceBundle b = good;
    b.entry[i] ^= 0x20;
    EXPECT_FALSE(VerifyBundle(b, {}).ok);
  }
}

TEST_F(BundleTest, MalformedFiles) {
  std::string text = FormatBundle(Build(0));
  ASSERT_TRUE(ParseBundle(text).ok());
  const std::string kBad[] = {
      "",
      "[]",
      "{",
      R"({"format":"chuqu.evidence-bundle/v2"})",
      R"({"format":"chuqu.evidence-bundle/v1"})",
      R"({"format":"chuqu.evidence-bundle/v1","log_key":"k","entry_base64":"!!","receipt":"r"})",
      R"({"format":"chuqu.evidence-bundle/v1","log_key":1,"entry_base64":"","receipt":"r"})",
      R"({"format":"chuqu.evidence-bundle/v1","log_key":"k","entry_base64":"","receipt":"r","witness_keys":[1]})",
  };
  for (const std::string& t : kBad) EXPECT_FALSE(ParseBundle(t).ok()) << t;
  EXPECT_EQ(ParseBundle(std::string(kMaxBundleSize + 1, ' ')).status().code(),
            StatusCode::kResourceExhausted);
  // Syntactically fine but semantically broken bundles fail verification, never crash.
  EvidenceBundle b = *ParseBundle(text);
  b.log_key = "nonsense";
  EXPECT_FALSE(VerifyBundle(b, {}).ok);
  b = *ParseBundle(text);
  b.receipt = "c2sp.org/tlog-proof@v1\nindex 0\n\n";
  EXPECT_FALSE(VerifyBundle(b, {}).ok);
  b = *ParseBundle(text);
  b.entry = std::string(kMaxEntrySize + 1, 'x');
  EXPECT_FALSE(VerifyBundle(b, {}).ok);
  EXPECT_EQ(BuildBundle(std::string(kMaxEntrySize + 1, 'x'), 0, checkpoint_, store_,
                        log_->VerifierKey())
                .status()
                .code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(BuildBundle(entries_[0], 37, checkpoint_, store_, log_->VerifierKey()).status().code(),
            StatusCode::kOutOfRange);
  // A bundle built with the wrong entry for its index does not verify, so it is not built.
  EXPECT_FALSE(BuildBundle(entries_[1], 0, checkpoint_, store_, log_->VerifierKey()).ok());
  b = *ParseBundle(text);
  b.witness_keys = {"junk"};
  EXPECT_FALSE(VerifyBundle(b, {}).ok);
}

}  // namespace
}  // namespace chuqu::ledger
