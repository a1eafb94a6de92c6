#include "cli/commands.h"

namespace sluice::cli {
void add_broker_command(CLI::App& app) {
  auto* b = app.add_subcommand("broker", "Run a Sluice broker");
  b->callback([] { set_exit_code(1); });
}
}  // namespace sluice::cli
