// `sluice log dump <path>...`: prints and verifies partition files (segments, indexes,
// checkpoints) as documented in docs/format/. Exit status: 0 when everything verifies,
// 1 when a problem was found, 2 on usage errors.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "storage/log_dump.h"

namespace sluice::cli {

void add_log_commands(CLI::App& app) {
  auto* log = app.add_subcommand("log", "Inspect partition log files");
  log->require_subcommand(1);

  struct dump_args {
    std::vector<std::string> paths;
    storage::dump_options opts;
  };
  auto args = std::make_shared<dump_args>();
  auto* dump = log->add_subcommand(
      "dump",
      "Print and verify segments (.log), indexes (.index, .timeindex), checkpoint files or a whole "
      "partition directory; exits 1 if anything fails verification");
  dump->add_option("path", args->paths, "Files or partition directories")->required()->check(CLI::ExistingPath);
  dump->add_flag("--records", args->opts.records, "Also print every record of uncompressed batches");
  dump->add_flag("-q,--quiet", args->opts.quiet, "Print only problems and the summary");
  dump->callback([args] {
    uint64_t problems = 0;
    for (auto& p : args->paths) problems += storage::dump_path(p, args->opts, stdout).problems;
    std::fflush(stdout);
    set_exit_code(problems == 0 ? 0 : 1);
  });
}

}  // namespace sluice::cli
