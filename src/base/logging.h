#pragma once
// Logging goes through spdlog; one named logger per module (e.g. log::storage()).
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace sluice::log {

// Returns the logger for `module`, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> get(const std::string& module);
// Sets the level for every logger ("trace".."off"); returns false on an unknown name.
bool set_level(const std::string& level);

}  // namespace sluice::log
