#pragma once
// Kafka's Java default partitioner for keyed records: toPositive(murmur2(key)) % partitions.
// Our tools must put a key on the same partition a Java client would.
#include <cstdint>
#include <span>

namespace sluice::model {

int32_t murmur2(std::span<const uint8_t> key);
inline int32_t to_positive(int32_t v) { return v & 0x7fffffff; }
inline int32_t partition_for_key(std::span<const uint8_t> key, int32_t partitions) {
  return to_positive(murmur2(key)) % partitions;
}

}  // namespace sluice::model
