#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace sluice::log {

std::shared_ptr<spdlog::logger> get(const std::string& module) {
  if (auto l = spdlog::get(module)) return l;
  try {
    auto l = spdlog::stderr_color_mt(module);
    l->set_level(spdlog::default_logger()->level());
    return l;
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(module);  // created concurrently by another thread
  }
}

bool set_level(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  spdlog::set_level(lvl);
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> l) { l->set_level(lvl); });
  return true;
}

}  // namespace sluice::log
