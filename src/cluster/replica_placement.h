#pragma once
// Where the replicas of new partitions go: Kafka's rack-unaware placement
// (AdminUtils.assignReplicasToBrokers), so a topic is spread the way Kafka users expect.
//
// The first replica of partition p is broker (p + start_index) % n; the others follow it at a
// shift that grows by one every n partitions, so leaders and followers spread evenly and no
// two partitions of a round share the same follower pattern.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::cluster {

struct placement_request {
  std::vector<int32_t> brokers;    // live brokers (any order; sorted by id inside)
  int32_t partitions = 0;          // how many partitions to place
  int32_t replication_factor = 1;
  int32_t first_partition_id = 0;  // > 0 when adding partitions to an existing topic
  // Kafka draws both at random for a new topic; adding partitions fixes them (see
  // start_index_for_added_partitions). Tests fix them to get Kafka's documented layout.
  std::optional<int32_t> start_index;
  std::optional<int32_t> replica_shift;
};

// One replica list per placed partition (leader first), or a message in Kafka's words when the
// request cannot be met (replication factor above the number of brokers, no brokers).
enum class placement_error { none, invalid_partitions, invalid_replication_factor };
struct placement_result {
  std::vector<std::vector<int32_t>> replicas;
  placement_error error = placement_error::none;
  std::string message;  // empty on success
};
placement_result place_replicas(const placement_request& req);

// Kafka's choice for CreatePartitions: continue from the broker that holds the first replica of
// partition 0 (or the next higher id if it is gone), so added partitions extend the same pattern.
int32_t start_index_for_added_partitions(const std::vector<int32_t>& brokers, int32_t partition0_first_replica);

}  // namespace sluice::cluster
