#pragma once
// Big-endian (network order) loads and stores for wire and disk formats. Callers bound-check.
#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice {

template <typename U>
constexpr U byteswap_u(U v) {
  if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
  else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
  else if constexpr (sizeof(U) == 8) return __builtin_bswap64(v);
  else return v;
}

template <typename T>
inline T load_be(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
    using U = std::make_unsigned_t<T>;
    v = static_cast<T>(byteswap_u(static_cast<U>(v)));
  }
  return v;
}

template <typename T>
inline void store_be(void* p, T v) {
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
    using U = std::make_unsigned_t<T>;
    v = static_cast<T>(byteswap_u(static_cast<U>(v)));
  }
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace sluice
