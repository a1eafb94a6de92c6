#include "base/assert.h"

#include <spdlog/spdlog.h>

namespace sluice::detail {
void assert_failed(const char* file, int line, const char* cond, const std::string& msg) {
  spdlog::critical("assertion failed at {}:{}: {} {}", file, line, cond, msg);
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "assertion failed at %s:%d: %s %s\n", file, line, cond, msg.c_str());
  std::abort();
}
}  // namespace sluice::detail
