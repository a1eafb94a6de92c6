// TEMPORARY: stands in for broker_command.cc until the storage module's log_manager lands.
#include <iostream>

#include "cli/commands.h"

namespace sluice::cli {
void add_broker_command(CLI::App& app) {
  auto* b = app.add_subcommand("broker", "Run a Sluice broker (not available in this build)");
  b->callback([] {
    std::cerr << "sluice broker: this build has no storage engine yet\n";
    set_exit_code(1);
  });
}
}  // namespace sluice::cli
