#pragma once
// result<T>: a value or a std::error_code. Each module defines its own errc enum registered as
// an error category; Kafka error codes appear only in protocol responses.
#include <system_error>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace sluice {

template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : _v(std::move(value)) {}                      // NOLINT implicit by design
  result(std::error_code ec) : _v(ec) { SLUICE_ASSERT(ec, "result from a zero error_code"); }  // NOLINT
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : result(make_error_code(e)) {}  // NOLINT

  bool has_value() const { return std::holds_alternative<T>(_v); }
  explicit operator bool() const { return has_value(); }
  bool has_error() const { return !has_value(); }

  T& value() & { SLUICE_ASSERT(has_value(), "value() on error: {}", error().message()); return std::get<T>(_v); }
  const T& value() const& { SLUICE_ASSERT(has_value(), "value() on error: {}", error().message()); return std::get<T>(_v); }
  T&& value() && { SLUICE_ASSERT(has_value(), "value() on error: {}", error().message()); return std::get<T>(std::move(_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  std::error_code error() const { return has_value() ? std::error_code{} : std::get<std::error_code>(_v); }

 private:
  std::variant<T, std::error_code> _v;
};

// result<void>: success or an error code.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(std::error_code ec) : _ec(ec) {}  // NOLINT
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : _ec(make_error_code(e)) {}  // NOLINT
  bool has_value() const { return !_ec; }
  bool has_error() const { return bool(_ec); }
  explicit operator bool() const { return has_value(); }
  std::error_code error() const { return _ec; }

 private:
  std::error_code _ec;
};

inline result<void> ok() { return {}; }

}  // namespace sluice
