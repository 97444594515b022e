// chuqu verify BUNDLE [--content FILE] [--log-key VKEY] [--witness-key VKEY]... [--quorum N]
// Checks an evidence bundle offline (docs/evidence-bundle.md) and says in plain words what it
// proves. Exit status: 0 verified, 1 not verified (each failed check is named), 2 unusable input.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "ledger/bundle.h"

namespace chuqu::app {
namespace {

struct VerifyArgs {
  std::string bundle;
  std::string content;
  std::string log_key;
  std::vector<std::string> witness_keys;
  size_t quorum = 0;
};

bool ReadWholeFile(const std::string& path, size_t limit, std::string* out, std::string* error) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    *error = "cannot read " + path + ": " + ec.message();
    return false;
  }
  if (size > limit) {
    *error = path + " is larger than " + std::to_string(limit) + " bytes";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *error = "cannot read " + path;
    return false;
  }
  *out = ss.str();
  return true;
}

// A key given on the command line is either the vkey text or a file holding it.
std::string KeyArgument(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) {
    std::string text, error;
    if (ReadWholeFile(arg, 4096, &text, &error)) {
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
      }
      return text;
    }
  }
  return arg;
}

int RunVerify(const VerifyArgs& args) {
  std::string text, error;
  if (!ReadWholeFile(args.bundle, ledger::kMaxBundleSize, &text, &error)) {
    std::cerr << "chuqu verify: " << error << "\n";
    return 2;
  }
  Result<ledger::EvidenceBundle> bundle = ledger::ParseBundle(text);
  if (!bundle.ok()) {
    std::cerr << "chuqu verify: " << args.bundle << " is not an evidence bundle: "
              << bundle.status().message() << "\n";
    return 2;
  }
  ledger::BundleVerifyOptions options;
  if (!args.log_key.empty()) options.trusted_log_key = KeyArgument(args.log_key);
  for (const std::string& w : args.witness_keys) options.trusted_witness_keys.push_back(KeyArgument(w));
  options.witness_quorum = args.quorum;
  if (!args.content.empty()) {
    std::string content;
    if (!ReadWholeFile(args.content, size_t{1} << 40, &content, &error)) {
      std::cerr << "chuqu verify: " << error << "\n";
      return 2;
    }
    options.content = std::move(content);
  }
  ledger::BundleReport report = ledger::VerifyBundle(*bundle, options);
  std::cout << "Evidence bundle " << args.bundle << "\n" << report.ToText();
  return report.ok ? 0 : 1;
}

}  // namespace

void AddVerifyCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "verify", "Check an evidence bundle offline and say what it proves");
  auto args = std::make_shared<VerifyArgs>();
  cmd->add_option("bundle", args->bundle, "evidence bundle file (chuqu.evidence-bundle/v1)")
      ->required();
  cmd->add_option("--content", args->content,
                  "the original file: check that its SHA-256 is the one registered");
  cmd->add_option("--log-key", args->log_key,
                  "the log's verifier key (text or a file holding it) to trust instead of the "
                  "bundle's own");
  cmd->add_option("--witness-key", args->witness_keys,
                  "a witness verifier key (text or file) whose cosignature counts; repeatable");
  cmd->add_option("--quorum", args->quorum, "how many distinct witnesses must have cosigned");
  cmd->callback([args] {
    int rc = RunVerify(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace chuqu::app
