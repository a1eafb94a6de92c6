#pragma once
// Strong typedefs: an offset cannot be passed where an epoch is expected.
#include <compare>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace sluice {

template <typename T, typename Tag>
class named_type {
 public:
  using type = T;
  constexpr named_type() = default;
  constexpr explicit named_type(T v) : _v(v) {}
  constexpr T operator()() const { return _v; }
  constexpr T value() const { return _v; }
  constexpr auto operator<=>(const named_type&) const = default;
  constexpr bool operator==(const named_type&) const = default;
  constexpr named_type& operator++() { ++_v; return *this; }
  constexpr named_type operator+(T d) const { return named_type(_v + d); }
  constexpr named_type operator-(T d) const { return named_type(_v - d); }
  constexpr named_type& operator+=(T d) { _v += d; return *this; }

 private:
  T _v{};
};

}  // namespace sluice

template <typename T, typename Tag>
struct std::hash<sluice::named_type<T, Tag>> {
  size_t operator()(const sluice::named_type<T, Tag>& v) const noexcept { return std::hash<T>{}(v()); }
};

template <typename T, typename Tag>
struct fmt::formatter<sluice::named_type<T, Tag>> : fmt::formatter<T> {
  auto format(const sluice::named_type<T, Tag>& v, fmt::format_context& ctx) const {
    return fmt::formatter<T>::format(v(), ctx);
  }
};
