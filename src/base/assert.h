#pragma once
// Always-on invariant checks. A broken invariant means the process state can no longer be
// trusted: log where and why, then abort (DESIGN.md §4). Expected failures use result<T>.
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace sluice::detail {
[[noreturn]] void assert_failed(const char* file, int line, const char* cond, const std::string& msg);
}

#define SLUICE_ASSERT(cond, ...)                                                                   \
  do {                                                                                             \
    if (__builtin_expect(!(cond), 0)) {                                                            \
      ::sluice::detail::assert_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__));   \
    }                                                                                              \
  } while (0)
