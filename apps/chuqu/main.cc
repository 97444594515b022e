// chuqu: the single binary. Each subcommand lives in its own file (see commands.h).
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"chuqu — a registry for digital works: identify, confirm rights, find copies"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "chuqu 0.1.0");
  chuqu::app::AddCodeCommand(app);
  chuqu::app::AddLogCommand(app);
  chuqu::app::AddVerifyCommand(app);
  chuqu::app::AddHashCommand(app);
  chuqu::app::AddRegistryCommands(app);
  chuqu::app::AddServeCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
