// End to end: the chuqu binary's registry commands on a fresh data directory.
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/temp_dir.h"
#include "chuqu/status.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Outcome Chuqu(const std::string& args, const fs::path& err_file) {
  std::string cmd = std::string(CHUQU_BINARY) + " " + args + " 2>" + err_file.string();
  FILE* p = popen(cmd.c_str(), "r");
  CHUQU_CHECK(p != nullptr);
  Outcome r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  r.err = s.str();
  return r;
}

std::vector<nlohmann::json> Lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

class RegistryCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (root_ / "data").string();
  }
  Outcome Run(const std::string& args) { return Chuqu(args, root_ / "stderr"); }

  chuqu::testing::TempDir tmp_{"chuqu_regcli_"};
  fs::path root_ = tmp_.path();
  std::string data_;
};

const std::string kImages = std::string(CHUQU_SHARED_DATA) + "/pdq/bridge-mods/";

TEST_F(RegistryCommandsTest, RegisterTwoMatchACopySeePriorArt) {
  ASSERT_EQ(Run("init --data " + data_).exit_code, 0);
  Outcome alice = Run("party create --data " + data_ + " --name Alice");
  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  const nlohmann::json a = Lines(alice.out).at(0);
  EXPECT_EQ(fs::status(a["key"].get<std::string>()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  // Two works: an image by Alice, a text by the operator.
  const fs::path text = root_ / "poem.txt";
  std::ofstream(text) << "The quiet harbour keeps its lanterns lit through winter nights, "
                         "and every ship that finds the breakwater remembers the keeper's "
                         "name long after the copper bell has fallen silent in the fog.\n";
  Outcome reg = Run("register --data " + data_ + " --party " + a["key"].get<std::string>() +
                    " --json " + kImages + "aaa-orig.jpg " + text.string());
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  std::vector<nlohmann::json> works = Lines(reg.out);
  ASSERT_EQ(works.size(), 2u);
  EXPECT_EQ(works[0]["media"], "image");
  EXPECT_EQ(works[1]["media"], "text");
  const uint64_t image_work = works[0]["work"];

  // A modified copy matches the image, ranked first, with PDQ evidence and who was first.
  Outcome m = Run("match --data " + data_ + " --json " + kImages + "blur-a-little.jpg");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  nlohmann::json q = Lines(m.out).at(0);
  EXPECT_EQ(q["file"], kImages + "blur-a-little.jpg");
  ASSERT_FALSE(q["matches"].empty());
  const nlohmann::json& top = q["matches"][0];
  EXPECT_EQ(top["work"], image_work);
  EXPECT_EQ(top["media"], "image");
  EXPECT_GT(top["score"].get<double>(), 0.5);
  EXPECT_LE(top["score"].get<double>(), 1.0);
  EXPECT_EQ(top["first_registration"]["party"], a["party"]);

  // Registering the copy reports the original as prior art.
  Outcome again = Run("register --data " + data_ + " " + kImages + "sharpen-a-little.jpg");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  nlohmann::json r = Lines(again.out).at(0);
  ASSERT_FALSE(r["prior_art"].empty());
  EXPECT_EQ(r["prior_art"][0]["work"], image_work);

  // show, transfer by the owner, evidence bundle verified offline.
  Outcome t = Run("transfer --data " + data_ + " --party " + a["key"].get<std::string>() +
                  " --work " + std::to_string(image_work) + " --to x --bp 10");
  EXPECT_NE(t.exit_code, 0);  // unknown recipient "x"
  Outcome show = Run("show --data " + data_ + " " + std::to_string(image_work));
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Lines(show.out).at(0)["owners"][0]["basis_points"], 10000);
  const fs::path bundle = root_ / "w.bundle";
  ASSERT_EQ(Run("evidence --data " + data_ + " " + std::to_string(image_work) + " -o " +
                bundle.string())
                .exit_code,
            0);
  Outcome v = Run("verify " + bundle.string() + " --content " + kImages + "aaa-orig.jpg");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(RegistryCommandsTest, EmptyIndexAndBadInput) {
  ASSERT_EQ(Run("init --data " + data_).exit_code, 0);
  // A second init refuses to overwrite.
  Outcome twice = Run("init --data " + data_);
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("already"), std::string::npos) << twice.err;
  // Empty index: no matches, not a failure.
  Outcome m = Run("match --data " + data_ + " " + kImages + "aaa-orig.jpg");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_TRUE(Lines(m.out).at(0)["matches"].empty());
  // Missing and corrupt files: one clear line each, exit 1, the good file still answered.
  const fs::path bad = root_ / "bad.jpg";
  std::ofstream(bad, std::ios::binary) << std::string("\xff\xd8\xff\xe0", 4) << "not a jpeg";
  m = Run("match --data " + data_ + " " + (root_ / "missing.png").string() + " " +
          bad.string() + " " + kImages + "aaa-orig.jpg");
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_EQ(Lines(m.out).size(), 1u);
  EXPECT_NE(m.err.find("missing.png"), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("bad.jpg"), std::string::npos) << m.err;
  // No registry there.
  Outcome none = Run("match --data " + (root_ / "nowhere").string() + " " + bad.string());
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("chuqu init"), std::string::npos) << none.err;
  // A bad key file.
  const fs::path key = root_ / "bad.key";
  std::ofstream(key) << "{}";
  Outcome r = Run("register --data " + data_ + " --party " + key.string() + " " + kImages +
                  "aaa-orig.jpg");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("secret_key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace chuqu
