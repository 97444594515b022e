// Each subcommand of the chuqu binary adds itself to the CLI11 app through one function.
// The function keeps its options in static or heap storage owned by the callback, parses
// nothing else, and on completion throws CLI::RuntimeError(exit_code) when it must exit
// non-zero (CLI11's documented way to set the exit code from a callback).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "chuqu/status.h"
#include "registry/registry.h"

namespace chuqu::app {

// Each is defined in <name>_command.cc beside this file.
void AddCodeCommand(CLI::App& app);
void AddLogCommand(CLI::App& app);  // log_command.cc: the verifiable log (sequencer, store)
void AddVerifyCommand(CLI::App& app);  // verify_command.cc: evidence bundles (ledger)
void AddHashCommand(CLI::App& app);
// registry_commands.cc: init, party, register, show, match, transfer, licence, price-cap,
// claim, evidence (src/registry).
void AddRegistryCommands(CLI::App& app);
// serve_command.cc: serve, token create (src/server).
void AddServeCommand(CLI::App& app);

// registry::Registry::Open with a thread pool for its replay of the log (Options::open_runner:
// every core but the calling one, for the open only; none on one core). registry_commands.cc.
Result<std::unique_ptr<registry::Registry>> OpenRegistry(const std::string& dir,
                                                         registry::Options options);

}  // namespace chuqu::app
