#pragma once
// The partition state node /brokers/topics/<t>/partitions/<p>/state, in Kafka's ZooKeeper JSON:
//   {"controller_epoch":c,"leader":l,"version":1,"leader_epoch":e,"isr":[...]}
// Its ZooKeeper version is the partition_epoch (metadata_image.h): every write of the node is a
// compare-and-set on it. Two writers: the controller (leader elections, fenced by
// /controller_epoch; controller_duties.h) and the partition leader (ISR changes, update_isr).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cluster/metadata_store.h"

namespace sluice::cluster {

enum class partition_state_errc {
  stale_partition_epoch = 1,  // the node changed since the caller read it, or leader/epoch differ
  no_partition = 2,           // no state node
  invalid_isr = 3,            // empty, duplicates, or without the leader
  malformed = 4,              // the node is not valid state JSON
  store_failure = 5,          // the store failed (connection loss, I/O)
};
const std::error_category& partition_state_category();
inline std::error_code make_error_code(partition_state_errc e) {
  return {static_cast<int>(e), partition_state_category()};
}

struct partition_state {
  int32_t controller_epoch = 0;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  std::vector<int32_t> isr;
};

std::string partition_state_path(const std::string& topic, int32_t partition);
std::string to_json(const partition_state& s);
std::optional<partition_state> parse_partition_state(const std::string& json);

// The partition leader's ISR change (Kafka ZK-mode AlterIsr): replaces the ISR if the node's
// version is still expected_partition_epoch and it still names `leader` at `leader_epoch`. The
// leader epoch is not bumped (only the controller bumps it). Returns the new partition_epoch.
// Blocking store call: never on a shard thread.
result<int32_t> update_isr(metadata_store& store, const std::string& topic, int32_t partition, int32_t leader,
                           int32_t leader_epoch, const std::vector<int32_t>& new_isr,
                           int32_t expected_partition_epoch);

}  // namespace sluice::cluster

template <>
struct std::is_error_code_enum<sluice::cluster::partition_state_errc> : std::true_type {};
