// Placeholder until the storage module lands: registers `sluice log` so the binary links.
#include "cli/commands.h"

namespace sluice::cli {
void add_log_commands(CLI::App& app) {
  auto* log = app.add_subcommand("log", "Inspect partition log files");
  log->require_subcommand(1);
}
}  // namespace sluice::cli
