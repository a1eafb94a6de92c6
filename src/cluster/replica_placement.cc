#include "cluster/replica_placement.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace sluice::cluster {
namespace {

int32_t random_index(size_t n) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(n) - 1)(rng);
}

// The broker index of the (j+2)-th replica: never the first replica's index again.
size_t follower_index(size_t first, int32_t shift, int32_t j, size_t n) {
  size_t offset = 1 + static_cast<size_t>(shift + j) % (n - 1);
  return (first + offset) % n;
}

}  // namespace

placement_result place_replicas(const placement_request& req) {
  placement_result out;
  std::vector<int32_t> brokers = req.brokers;
  std::sort(brokers.begin(), brokers.end());
  brokers.erase(std::unique(brokers.begin(), brokers.end()), brokers.end());
  const size_t n = brokers.size();
  if (req.partitions <= 0) {
    out.error = placement_error::invalid_partitions;
    out.message = "Number of partitions must be larger than 0.";
    return out;
  }
  if (req.replication_factor <= 0) {
    out.error = placement_error::invalid_replication_factor;
    out.message = "Replication factor must be larger than 0.";
    return out;
  }
  if (static_cast<size_t>(req.replication_factor) > n) {
    out.error = placement_error::invalid_replication_factor;
    out.message = fmt::format("Replication factor: {} larger than available brokers: {}.", req.replication_factor, n);
    return out;
  }
  const int32_t start = req.start_index.value_or(random_index(n));
  int32_t shift = req.replica_shift.value_or(random_index(n));
  int32_t partition = std::max(0, req.first_partition_id);
  for (int32_t i = 0; i < req.partitions; ++i, ++partition) {
    if (partition > 0 && static_cast<size_t>(partition) % n == 0) ++shift;
    const size_t first = static_cast<size_t>(partition + start) % n;
    std::vector<int32_t> replicas{brokers[first]};
    for (int32_t j = 0; j + 1 < req.replication_factor; ++j) replicas.push_back(brokers[follower_index(first, shift, j, n)]);
    out.replicas.push_back(std::move(replicas));
  }
  return out;
}

int32_t start_index_for_added_partitions(const std::vector<int32_t>& brokers, int32_t partition0_first_replica) {
  std::vector<int32_t> sorted = brokers;
  std::sort(sorted.begin(), sorted.end());
  auto it = std::find_if(sorted.begin(), sorted.end(), [&](int32_t b) { return b >= partition0_first_replica; });
  return it == sorted.end() ? 0 : static_cast<int32_t>(it - sorted.begin());
}

}  // namespace sluice::cluster
