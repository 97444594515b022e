// End to end: the chuqu binary's registry commands with --server against a real `chuqu serve`
// (spawned on an ephemeral loopback port), checked against the local commands' output shape.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/temp_dir.h"
#include "chuqu/status.h"

namespace chuqu {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json> Lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(json::parse(line));
  }
  return v;
}

// The keys of an object and, recursively, of its object members (arrays: first element).
std::set<std::string> Shape(const json& j, const std::string& at = "") {
  std::set<std::string> out;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      // Evidence and entries differ by matcher and kind; their presence is the shape.
      out.insert(at + k + ":" + std::string(v.type_name()));
      if (k != "evidence" && k != "entry" && k != "history") {
        for (const auto& s : Shape(v, at + k + ".")) out.insert(s);
      }
    }
  } else if (j.is_array() && !j.empty()) {
    for (const auto& s : Shape(j[0], at + "[].")) out.insert(s);
  }
  return out;
}

const std::string kImages = std::string(CHUQU_SHARED_DATA) + "/pdq/bridge-mods/";
const char kPoem[] =
    "The quiet harbour keeps its lanterns lit through winter nights, and every ship that finds "
    "the breakwater remembers the keeper's name long after the copper bell has fallen silent "
    "in the fog, while gulls drift over the orchard walls and the river carries paper boats.\n";

class RegistryRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    srv_ = (root_ / "srv").string();
    const fs::path log = root_ / "serve.err";
    pid_ = fork();
    CHUQU_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      CHUQU_CHECK(freopen(log.c_str(), "w", stderr) != nullptr);
      execl(CHUQU_BINARY, CHUQU_BINARY, "serve", "--data", srv_.c_str(), "--listen",
            "127.0.0.1:0", "--quiet", "--threads", "4", static_cast<char*>(nullptr));
      _exit(127);
    }
    // "chuqu serve: listening on http://127.0.0.1:PORT (...)"
    for (int i = 0; i < 600 && url_.empty(); ++i) {
      const std::string text = ReadAll(log);
      const size_t at = text.find("listening on ");
      if (at != std::string::npos && text.find(' ', at + 13) != std::string::npos) {
        url_ = text.substr(at + 13, text.find(' ', at + 13) - at - 13);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ASSERT_FALSE(url_.empty()) << ReadAll(log);
    Outcome t = Run("token create --data " + srv_);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    token_ = t.out.substr(0, t.out.find('\n'));
    ASSERT_EQ(token_.rfind("cq_", 0), 0u);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status)) << "chuqu serve died: " << ReadAll(root_ / "serve.err");
    }
  }

  Outcome Run(const std::string& args, const std::string& token = "") {
    const fs::path err = root_ / "stderr";
    std::string cmd = (token.empty() ? "" : "CHUQU_TOKEN=" + token + " ") +
                      std::string(CHUQU_BINARY) + " " + args + " 2>" + err.string();
    FILE* p = popen(cmd.c_str(), "r");
    CHUQU_CHECK(p != nullptr);
    Outcome r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = ReadAll(err);
    return r;
  }
  Outcome Remote(const std::string& cmd, const std::string& args) {
    return Run(cmd + " --server " + url_ + " " + args, token_);
  }
  std::string Write(const std::string& name, const std::string& content) {
    const fs::path p = root_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  chuqu::testing::TempDir tmp_{"chuqu_remote_"};
  fs::path root_ = tmp_.path();
  std::string srv_;
  std::string url_;
  std::string token_;
  pid_t pid_ = -1;
};

TEST_F(RegistryRemoteTest, SameOutputAsLocalAndEvidenceVerifiesOffline) {
  const std::string poem = Write("poem.txt", kPoem);
  const std::string files = kImages + "aaa-orig.jpg " + poem;
  const std::string local = (root_ / "local").string();
  ASSERT_EQ(Run("init --data " + local).exit_code, 0);
  Outcome lr = Run("register --data " + local + " --json " + files);
  ASSERT_EQ(lr.exit_code, 0) << lr.err;
  Outcome rr = Remote("register", "--json " + files);
  ASSERT_EQ(rr.exit_code, 0) << rr.err;
  std::vector<json> lw = Lines(lr.out), rw = Lines(rr.out);
  ASSERT_EQ(lw.size(), 2u);
  ASSERT_EQ(rw.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Shape(rw[i]), Shape(lw[i])) << rw[i].dump() << "\n" << lw[i].dump();
    EXPECT_EQ(rw[i]["file"], lw[i]["file"]);
    EXPECT_EQ(rw[i]["media"], lw[i]["media"]);
  }
  const uint64_t image_work = rw[0]["work"];

  // A modified copy: same answer shape and the same top work media.
  const std::string copy = kImages + "blur-a-little.jpg";
  Outcome lm = Run("match --data " + local + " --json " + copy);
  Outcome rm = Remote("match", "--json " + copy);
  ASSERT_EQ(lm.exit_code, 0) << lm.err;
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  json l = Lines(lm.out).at(0), r = Lines(rm.out).at(0);
  EXPECT_EQ(Shape(r), Shape(l)) << r.dump() << "\n" << l.dump();
  ASSERT_FALSE(r["matches"].empty());
  EXPECT_EQ(r["matches"][0]["work"], image_work);
  EXPECT_EQ(r["matches"][0]["evidence"]["method"], l["matches"][0]["evidence"]["method"]);

  // show and evidence: same shapes; the bundle verifies offline against the server's log key.
  Outcome ls = Run("show --data " + local + " " + lw[0]["work"].dump());
  Outcome rs = Remote("show", std::to_string(image_work));
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  EXPECT_EQ(Shape(Lines(rs.out).at(0)), Shape(Lines(ls.out).at(0))) << rs.out << ls.out;
  const fs::path bundle = root_ / "w.bundle";
  Outcome le = Run("evidence --data " + local + " " + lw[0]["work"].dump() + " -o " +
                   (root_ / "l.bundle").string());
  Outcome re = Remote("evidence", std::to_string(image_work) + " -o " + bundle.string());
  ASSERT_EQ(re.exit_code, 0) << re.err;
  const json ev = Lines(re.out).at(0);
  EXPECT_EQ(Shape(ev), Shape(Lines(le.out).at(0)));
  EXPECT_EQ(ev["log_key"].get<std::string>() + "\n", ReadAll(fs::path(srv_) / "log.vkey"));
  const std::string vkey = Write("server.vkey", ev["log_key"].get<std::string>() + "\n");
  Outcome v = Run("verify " + bundle.string() + " --log-key " + vkey + " --content " + kImages +
                  "aaa-orig.jpg");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // The same bundle against another log's key does not verify.
  Outcome wrong = Run("verify " + bundle.string() + " --log-key " + (root_ / "local" / "log.vkey").string());
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;

  // A custodial write has the local output shape too.
  const std::string op = json::parse(ReadAll(fs::path(srv_) / "operator.key"))["party"];
  Outcome t = Remote("transfer", "--work " + std::to_string(image_work) + " --to " + op + " --bp 2500");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const json tj = Lines(t.out).at(0);
  EXPECT_EQ(tj["transfer"], tj["index"]);
  EXPECT_EQ(tj.size(), 2u);
  rs = Remote("show", std::to_string(image_work));
  EXPECT_EQ(Lines(rs.out).at(0)["owners"].size(), 2u) << rs.out;
}

TEST_F(RegistryRemoteTest, FingerprintsOnlyAndClientSigned) {
  // Fingerprints only, custodial: an image (ISCC + PDQ travel as JSON) is registered and found.
  Outcome r = Remote("register", "--fingerprints-only " + kImages + "aaa-orig.jpg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json w = Lines(r.out).at(0);
  EXPECT_EQ(w["media"], "image");
  Outcome m = Remote("match", kImages + "sharpen-a-little.jpg");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_FALSE(Lines(m.out).at(0)["matches"].empty()) << m.out;
  EXPECT_EQ(Lines(m.out).at(0)["matches"][0]["work"], w["work"]);
  m = Remote("match", "--fingerprints-only " + kImages + "sharpen-a-little.jpg");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_FALSE(Lines(m.out).at(0)["matches"].empty()) << m.out;
  EXPECT_EQ(Lines(m.out).at(0)["matches"][0]["work"], w["work"]);
  // A text's winnowing fingerprints travel that way too (a blob in the JSON form), so the
  // server matches the text; nothing is said on stderr.
  const std::string letter =
      Write("letter.txt",
            "Dear cartographer, the northern ridge you drew in spring has moved three valleys east "
            "since the glacier withdrew, the salt road now bends around a lake no map of yours has "
            "named, and the ferry at the old stone crossing runs only when the moon is full.\n");
  Outcome t = Remote("register", "--fingerprints-only " + letter);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.err, "");
  const json tw = Lines(t.out).at(0);
  EXPECT_EQ(tw["media"], "text");
  m = Remote("match", letter);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_FALSE(Lines(m.out).at(0)["matches"].empty()) << m.out;
  EXPECT_EQ(Lines(m.out).at(0)["matches"][0]["work"], tw["work"]);
  const std::string poem = Write("poem.txt", kPoem);

  // A party holding its own key: a token for its id, entries signed by the CLI.
  Outcome k = Run("party key --key " + (root_ / "me.key").string());
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const std::string me = Lines(k.out).at(0)["party"];
  Outcome tok = Run("token create --data " + srv_ + " --party " + me);
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string my_token = tok.out.substr(0, tok.out.find('\n'));
  Outcome s = Run("register --server " + url_ + " --party " + (root_ / "me.key").string() +
                      " --fingerprints-only " + poem,
                  my_token);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const json sw = Lines(s.out).at(0);
  EXPECT_EQ(sw["media"], "text");
  Outcome show = Remote("show", sw["work"].dump());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Lines(show.out).at(0)["registered"]["party"], me);
  EXPECT_EQ(Lines(show.out).at(0)["owners"][0]["party"], me);
  // The server matches the text: its fingerprints arrived as a blob.
  m = Remote("match", poem);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_FALSE(Lines(m.out).at(0)["matches"].empty()) << m.out;
  EXPECT_EQ(Lines(m.out).at(0)["matches"][0]["work"], sw["work"]);
  // Signed transfer of part of the share, then licence offer.
  const std::string op = json::parse(ReadAll(fs::path(srv_) / "operator.key"))["party"];
  Outcome tr = Run("transfer --server " + url_ + " --key " + (root_ / "me.key").string() +
                       " --work " + sw["work"].dump() + " --to " + op + " --bp 100",
                   my_token);
  ASSERT_EQ(tr.exit_code, 0) << tr.err;

  // The wrong key for the token: 403 said plainly, exit 1, nothing written.
  const std::string before = Remote("show", sw["work"].dump()).out;
  Outcome bad = Remote("transfer", "--party " + (root_ / "me.key").string() + " --work " +
                                       sw["work"].dump() + " --to " + op + " --bp 100");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("server refused: 403 permission_denied"), std::string::npos) << bad.err;
  EXPECT_EQ(Remote("show", sw["work"].dump()).out, before);
}

TEST_F(RegistryRemoteTest, ClearErrorsAndNonZeroExit) {
  const std::string file = kImages + "aaa-orig.jpg";
  // Bad URLs.
  for (const std::string url : {"ftp://127.0.0.1:1", "127.0.0.1:8080", "http://u:pw@h:1"}) {
    Outcome o = Run("match --server " + url + " " + file, token_);
    EXPECT_EQ(o.exit_code, 1) << url;
    EXPECT_NE(o.err.find("--server"), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find("pw"), std::string::npos) << o.err;
  }
  // Both or neither of --data / --server: a usage error.
  EXPECT_NE(Run("show --data " + srv_ + " --server " + url_ + " 1").exit_code, 0);
  EXPECT_NE(Run("show 1").exit_code, 0);
  // A bad token: 401, the token never echoed.
  Outcome o = Run("register --server " + url_ + " " + file, "cq_notavalidtoken");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("401"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("notavalidtoken"), std::string::npos) << o.err;
  // No token at all for a write.
  o = Run("transfer --server " + url_ + " --work 1 --to x --bp 1");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("401"), std::string::npos) << o.err;
  // 4xx from the registry: unknown work, unknown recipient, unreadable file.
  o = Remote("show", "999");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("server refused: 404 not_found"), std::string::npos) << o.err;
  o = Remote("transfer", "--work 1 --to x --bp 1");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("server refused: 4"), std::string::npos) << o.err;
  o = Remote("register", (root_ / "missing.png").string() + " " + file);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(Lines(o.out).size(), 1u);  // the good file still registered
  EXPECT_NE(o.err.find("missing.png"), std::string::npos) << o.err;
  // The server gone: a clear message naming the URL.
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  o = Remote("show", "1");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("cannot connect to " + url_), std::string::npos) << o.err;
}

}  // namespace
}  // namespace chuqu
