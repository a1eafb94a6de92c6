#include "model/partitioner.h"

namespace sluice::model {

int32_t murmur2(std::span<const uint8_t> key) {
  constexpr uint32_t seed = 0x9747b28c;
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto len = static_cast<uint32_t>(key.size());
  uint32_t h = seed ^ len;
  const uint8_t* p = key.data();
  size_t words = key.size() / 4;
  for (size_t i = 0; i < words; ++i, p += 4) {
    uint32_t k = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (key.size() % 4) {
    case 3: h ^= uint32_t(p[2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(p[1]) << 8; [[fallthrough]];
    case 1: h ^= uint32_t(p[0]); h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

}  // namespace sluice::model
