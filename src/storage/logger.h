#pragma once
// The storage module's logger (spdlog, name "storage").
#include "base/logging.h"

namespace sluice::storage {
inline spdlog::logger& logger() {
  static auto l = ::sluice::log::get("storage");
  return *l;
}
}  // namespace sluice::storage
