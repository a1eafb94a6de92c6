#include "cli/commands.h"

namespace sluice::cli {
namespace {
int g_exit_code = 0;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

void add_all_commands(CLI::App& app) {
  add_broker_command(app);
  add_log_commands(app);
  add_topic_commands(app);
  add_produce_command(app);
  add_consume_command(app);
  add_cluster_commands(app);
  add_group_commands(app);
  add_transaction_commands(app);
  add_bench_commands(app);
}

}  // namespace sluice::cli
