// `sluice broker [--config server.properties] [--set key=value ...]`
#include <fstream>
#include <iostream>
#include <sstream>

#include "broker/broker.h"
#include "cli/commands.h"

namespace sluice::cli {

void add_broker_command(CLI::App& app) {
  auto* b = app.add_subcommand("broker", "Run a Sluice broker (Kafka config names and defaults)");
  static std::string config_file;
  static std::vector<std::string> sets;
  b->add_option("-c,--config", config_file, "A server.properties file")->check(CLI::ExistingFile);
  b->add_option("-s,--set", sets, "Override one setting: key=value (repeatable)");
  b->callback([] {
    std::vector<std::pair<std::string, std::string>> settings;
    std::string error;
    if (!config_file.empty()) {
      std::ifstream in(config_file);
      std::stringstream ss;
      ss << in.rdbuf();
      auto parsed = server::broker_config::parse_properties(ss.str(), &error);
      if (!parsed) {
        std::cerr << "sluice broker: " << config_file << ": " << error << "\n";
        set_exit_code(1);
        return;
      }
      settings = std::move(*parsed);
    }
    for (const auto& s : sets) {
      auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "sluice broker: --set expects key=value, got '" << s << "'\n";
        set_exit_code(1);
        return;
      }
      settings.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    auto config = server::broker_config::from_settings(settings, &error);
    if (!config) {
      std::cerr << "sluice broker: " << error << "\n";
      set_exit_code(1);
      return;
    }
    set_exit_code(broker::run_broker(*config));
  });
}

}  // namespace sluice::cli
