#pragma once
// Registry of `sluice` subcommands. Each command family lives in its own file and adds itself
// here; a command's callback stores its exit status with set_exit_code().
#include <CLI/CLI.hpp>

namespace sluice::cli {

void add_all_commands(CLI::App& app);
void set_exit_code(int code);
int exit_code();

// Command families (one file each).
void add_log_commands(CLI::App& app);     // log_dump.cc: `sluice log dump`
void add_topic_commands(CLI::App& app);   // topic.cc: `sluice topic ...`
void add_produce_command(CLI::App& app);  // produce.cc: `sluice produce`
void add_consume_command(CLI::App& app);  // consume.cc: `sluice consume`
void add_cluster_commands(CLI::App& app); // cluster.cc: `sluice cluster info`
void add_bench_commands(CLI::App& app);   // bench.cc: `sluice bench ...`
void add_group_commands(CLI::App& app);   // group.cc: `sluice group ...`
void add_transaction_commands(CLI::App& app);  // transactions.cc: `sluice transactions ...`
void add_broker_command(CLI::App& app);   // broker/broker_command.cc: `sluice broker`

}  // namespace sluice::cli
