#pragma once
// Where a group's or transactional id's coordinator lives (Kafka's rule): the leader of partition
// abs(javaHashCode(key)) % partitions of __consumer_offsets / __transaction_state.
#include <cstdint>
#include <string_view>

namespace sluice::coordinator {

inline constexpr const char* consumer_offsets_topic = "__consumer_offsets";
inline constexpr const char* transaction_state_topic = "__transaction_state";

// Java's String.hashCode over the key's UTF-16 code units (the key arrives as UTF-8; invalid
// UTF-8 bytes count as U+FFFD, as Java's decoder does).
int32_t java_string_hash(std::string_view utf8);
// Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
inline int32_t kafka_abs(int32_t v) { return v == INT32_MIN ? 0 : (v < 0 ? -v : v); }
inline int32_t coordinator_partition(std::string_view key, int32_t partitions) {
  return kafka_abs(java_string_hash(key)) % partitions;
}

}  // namespace sluice::coordinator
