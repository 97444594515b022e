// End-to-end: the `chuqu log` command forms that scripts rely on, run as a separate process.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/testing/read_file.h"
#include "base/testing/temp_dir.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/receipt.h"
#include "store/testing/store_test_util.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;
};

// Runs `chuqu <args>` (stderr to /dev/null) and returns its exit code and stdout.
Outcome Chuqu(const std::string& args) {
  std::string cmd = std::string(CHUQU_BINARY) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  CHUQU_CHECK(p != nullptr);
  Outcome r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class LogCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_ / "data").string();
  }
  std::string WriteEntry(const std::string& name, const std::string& bytes) {
    std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
    return (dir_ / name).string();
  }
  std::string Data() const { return "--data " + data_; }
  // Every command form once, on the store `init_store` names ("" = DIR/log.db); the later
  // commands find it as a registry does (DIR/store.url for PostgreSQL).
  void RunCommandForms(const std::string& init_store);

  chuqu::testing::TempDir tmp_{"chuqu_log_cmd_"};
  fs::path dir_ = tmp_.path();
  std::string data_;
};

void LogCommandTest::RunCommandForms(const std::string& init_store) {
  Outcome init = Chuqu("log init --origin example.test/e2e " + Data() + init_store);
  ASSERT_EQ(init.exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat((fs::path(data_) / "log.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Outcome key = Chuqu("log key " + Data());
  ASSERT_EQ(key.exit_code, 0);
  EXPECT_EQ(key.out, init.out);
  EXPECT_EQ(key.out, chuqu::testing::ReadFileBytes(fs::path(data_) / "log.vkey"));
  std::string vkey = key.out.substr(0, key.out.size() - 1);
  auto verifier = ledger::Ed25519Verifier::FromVerifierKey(vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_EQ((*verifier)->name(), "example.test/e2e");
  ledger::ReceiptPolicy policy;
  policy.log_key = verifier->get();

  std::vector<std::string> entries = {"first entry", std::string(65535, 'm'), "", "4th"};
  std::vector<std::string> appended_checkpoints;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string file = WriteEntry("e" + std::to_string(i), entries[i]);
    Outcome append = Chuqu("log append " + Data() + " " + file);
    ASSERT_EQ(append.exit_code, 0) << i;
    auto receipt = ledger::ParseReceipt(append.out);
    ASSERT_TRUE(receipt.ok()) << receipt.status().ToString() << "\n" << append.out;
    EXPECT_EQ(receipt->index, i);
    auto verified = ledger::VerifyReceipt(*receipt, entries[i], policy);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_FALSE(ledger::VerifyReceipt(*receipt, entries[i] + "x", policy).ok());
    appended_checkpoints.push_back(receipt->checkpoint);
  }

  Outcome checkpoint = Chuqu("log checkpoint " + Data());
  ASSERT_EQ(checkpoint.exit_code, 0);
  EXPECT_EQ(checkpoint.out, appended_checkpoints.back());
  auto latest = ledger::OpenCheckpoint(checkpoint.out, **verifier, "example.test/e2e");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->checkpoint.size, entries.size());

  for (size_t i = 0; i < entries.size(); ++i) {
    Outcome prove = Chuqu("log prove " + Data() + " --index " + std::to_string(i));
    ASSERT_EQ(prove.exit_code, 0);
    auto receipt = ledger::ParseReceipt(prove.out);
    ASSERT_TRUE(receipt.ok());
    EXPECT_EQ(receipt->checkpoint, checkpoint.out);
    EXPECT_TRUE(ledger::VerifyReceipt(*receipt, entries[i], policy).ok());
  }

  // Each checkpoint handed out by append is consistent with the latest, by the printed proof.
  for (const std::string& note : appended_checkpoints) {
    auto old = ledger::OpenCheckpoint(note, **verifier, "example.test/e2e");
    ASSERT_TRUE(old.ok());
    Outcome consistency =
        Chuqu("log consistency " + Data() + " --old " + std::to_string(old->checkpoint.size));
    ASSERT_EQ(consistency.exit_code, 0);
    std::vector<ledger::Hash> proof;
    std::istringstream lines(consistency.out);
    for (std::string line; std::getline(lines, line);) {
      auto h = ledger::HashFromBase64(line);
      ASSERT_TRUE(h.ok()) << line;
      proof.push_back(*h);
    }
    EXPECT_TRUE(ledger::VerifyConsistency(old->checkpoint.size, latest->checkpoint.size, proof,
                                          old->checkpoint.root_hash, latest->checkpoint.root_hash)
                    .ok())
        << old->checkpoint.size;
  }

  Outcome check = Chuqu("log check " + Data());
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_EQ(check.out.rfind("ok: 4 entries", 0), 0u) << check.out;
}

TEST_F(LogCommandTest, CommandFormsEndToEnd) {
  RunCommandForms("");
  EXPECT_TRUE(fs::exists(fs::path(data_) / "log.db"));
}

// The same forms with the log in a PostgreSQL schema: init records its URL in DIR/store.url
// (without the password), and every later command finds the log there.
TEST_F(LogCommandTest, CommandFormsEndToEndOnPostgres) {
  CHUQU_PG_URL_OR_SKIP(url);
  const std::string store_url =
      store::testing::WithSchema(url, store::testing::UniqueSchema("log_command_test"));
  RunCommandForms(" --store '" + store_url + "'");
  EXPECT_FALSE(fs::exists(fs::path(data_) / "log.db"));
  const std::string recorded = chuqu::testing::ReadFileBytes(fs::path(data_) / "store.url");
  EXPECT_NE(recorded.find("schema=log_command_test_"), std::string::npos) << recorded;

  // A second log on the same schema is refused before it writes a key.
  const std::string other = (dir_ / "other").string();
  EXPECT_EQ(Chuqu("log init --data " + other + " --store '" + store_url + "'").exit_code, 1);
  EXPECT_FALSE(fs::exists(fs::path(other) / "log.key"));
  // --store names the log explicitly too; a schema with no log is not found.
  EXPECT_EQ(Chuqu("log check " + Data() + " --store '" + store_url + "'").exit_code, 0);
  EXPECT_EQ(Chuqu("log checkpoint " + Data() + " --store '" +
                  store::testing::WithSchema(url, store::testing::UniqueSchema("absent")) + "'")
                .exit_code,
            1);
}

// Several `chuqu log append` processes at once: each waits for the writer lock, none fails,
// and every receipt is for a distinct index.
TEST_F(LogCommandTest, ConcurrentAppendProcesses) {
  ASSERT_EQ(Chuqu("log init " + Data()).exit_code, 0);
  constexpr int kProcesses = 6;
  std::string cmd;
  for (int i = 0; i < kProcesses; ++i) {
    std::string file = WriteEntry("c" + std::to_string(i), "concurrent " + std::to_string(i));
    cmd += std::string(CHUQU_BINARY) + " log append " + Data() + " " + file + " > " +
           (dir_ / ("r" + std::to_string(i))).string() + " & ";
  }
  cmd += "wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::set<uint64_t> indexes;
  for (int i = 0; i < kProcesses; ++i) {
    auto receipt =
        ledger::ParseReceipt(chuqu::testing::ReadFileBytes(dir_ / ("r" + std::to_string(i))));
    ASSERT_TRUE(receipt.ok()) << i << ": " << receipt.status().ToString();
    indexes.insert(receipt->index);
  }
  EXPECT_EQ(indexes.size(), static_cast<size_t>(kProcesses));
  EXPECT_EQ(*indexes.rbegin(), static_cast<uint64_t>(kProcesses - 1));
  EXPECT_EQ(Chuqu("log check " + Data()).exit_code, 0);
}

TEST_F(LogCommandTest, BadInputGetsClearErrors) {
  EXPECT_EQ(Chuqu("log key " + Data()).exit_code, 1);  // no log yet
  EXPECT_EQ(Chuqu("log checkpoint " + Data()).exit_code, 1);
  ASSERT_EQ(Chuqu("log init " + Data()).exit_code, 0);
  EXPECT_EQ(Chuqu("log init " + Data()).exit_code, 1);  // never overwrite a key
  ASSERT_EQ(Chuqu("log append " + Data() + " " + WriteEntry("a", "a")).exit_code, 0);

  EXPECT_EQ(Chuqu("log append " + Data() + " " + WriteEntry("big", std::string(65536, 'b')))
                .exit_code,
            2);
  EXPECT_EQ(Chuqu("log append " + Data() + " " + (dir_ / "missing").string()).exit_code, 1);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index 1").exit_code, 2);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index 18446744073709551615").exit_code, 2);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index 18446744073709551616").exit_code, 2);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index -1").exit_code, 2);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index 01").exit_code, 2);
  EXPECT_EQ(Chuqu("log consistency " + Data() + " --old 2").exit_code, 2);
  EXPECT_EQ(Chuqu("log consistency " + Data() + " --old 99999999999999999999999").exit_code, 2);
  EXPECT_EQ(Chuqu("log consistency " + Data() + " --old 1").exit_code, 0);
  EXPECT_EQ(Chuqu("log check " + Data()).exit_code, 0);

  // A key others can read is refused, not used.
  const std::string key = (fs::path(data_) / "log.key").string();
  ASSERT_EQ(chmod(key.c_str(), 0644), 0);
  EXPECT_EQ(Chuqu("log key " + Data()).exit_code, 1);
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);

  // Damage behind the log's back: check reports it and prove refuses to serve it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(data_) / "log.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE log_entries SET data = 'b' WHERE idx = 0", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(Chuqu("log check " + Data()).exit_code, 1);
  EXPECT_EQ(Chuqu("log prove " + Data() + " --index 0").exit_code, 1);
}

}  // namespace
}  // namespace chuqu
