// The single `sluice` binary: `sluice broker ...` runs a broker; the other subcommands are
// user tools (src/cli/).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Sluice: a Kafka-compatible streaming log broker"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice " SLUICE_VERSION);
  sluice::cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (CLI11's own codes vary by kind).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return sluice::cli::exit_code();
}
