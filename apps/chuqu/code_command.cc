// chuqu code [--json] FILE...: content codes for files (filled in by the ISCC/media work).
#include "commands.h"

#include <iostream>
#include <string>
#include <vector>

namespace chuqu::app {

void AddCodeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("code", "Print the ISCC-CODE, its units, media type and SHA-256 of files");
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "one JSON object per line");
  cmd->add_option("files", *files, "files to code")->required();
  cmd->callback([files, json] {
    std::cerr << "chuqu code: not built yet\n";
    throw CLI::RuntimeError(2);
  });
}

}  // namespace chuqu::app
