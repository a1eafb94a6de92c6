#include "cluster/replica_placement.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace sluice::cluster {
namespace {

using replica_lists = std::vector<std::vector<int32_t>>;

// The worked example of Kafka's AdminUtils: 5 brokers, 10 partitions, RF 3, start index 0,
// shift 0. Its table lists, per broker, the partitions of each replica rank.
TEST(replica_placement, matches_kafkas_documented_layout) {
  auto r = place_replicas({.brokers = {0, 1, 2, 3, 4}, .partitions = 10, .replication_factor = 3,
                           .start_index = 0, .replica_shift = 0});
  ASSERT_EQ(r.error, placement_error::none) << r.message;
  const replica_lists expected = {
      {0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1},
      {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2},
  };
  EXPECT_EQ(r.replicas, expected);
}

TEST(replica_placement, brokers_are_sorted_by_id_and_ids_need_not_be_dense) {
  auto r = place_replicas({.brokers = {30, 10, 20}, .partitions = 3, .replication_factor = 2,
                           .start_index = 1, .replica_shift = 0});
  ASSERT_EQ(r.error, placement_error::none);
  EXPECT_EQ(r.replicas, (replica_lists{{20, 30}, {30, 10}, {10, 20}}));
}

TEST(replica_placement, every_partition_gets_distinct_brokers_and_leaders_spread_evenly) {
  for (int32_t rf = 1; rf <= 4; ++rf) {
    auto r = place_replicas({.brokers = {1, 2, 3, 4}, .partitions = 40, .replication_factor = rf});
    ASSERT_EQ(r.error, placement_error::none);
    ASSERT_EQ(r.replicas.size(), 40u);
    std::map<int32_t, int> leaders, replicas;
    for (const auto& list : r.replicas) {
      ASSERT_EQ(list.size(), static_cast<size_t>(rf));
      EXPECT_EQ(std::set<int32_t>(list.begin(), list.end()).size(), list.size());
      ++leaders[list.front()];
      for (int32_t b : list) ++replicas[b];
    }
    for (int32_t b = 1; b <= 4; ++b) {
      EXPECT_EQ(leaders[b], 10) << "rf " << rf << " broker " << b;
      EXPECT_EQ(replicas[b], 10 * rf) << "rf " << rf << " broker " << b;
    }
  }
}

// Like Kafka, added partitions continue the leader rotation of the existing ones (followers are
// spread again from the fixed shift, so they need not match a fresh placement).
TEST(replica_placement, added_partitions_continue_the_leader_rotation) {
  auto all = place_replicas({.brokers = {0, 1, 2}, .partitions = 6, .replication_factor = 2,
                             .start_index = 1, .replica_shift = 1});
  int32_t start = start_index_for_added_partitions({0, 1, 2}, all.replicas[0].front());
  EXPECT_EQ(start, 1);
  auto added = place_replicas({.brokers = {0, 1, 2}, .partitions = 2, .replication_factor = 2,
                               .first_partition_id = 4, .start_index = start, .replica_shift = start});
  ASSERT_EQ(added.error, placement_error::none);
  ASSERT_EQ(added.replicas.size(), 2u);
  EXPECT_EQ(added.replicas[0].front(), all.replicas[4].front());
  EXPECT_EQ(added.replicas[1].front(), all.replicas[5].front());
  for (const auto& list : added.replicas) EXPECT_NE(list[0], list[1]);
  EXPECT_EQ(start_index_for_added_partitions({0, 2, 5}, 1), 1);  // broker 1 gone: next higher id
  EXPECT_EQ(start_index_for_added_partitions({0, 2}, 7), 0);
}

TEST(replica_placement, impossible_requests_are_explained_in_kafkas_words) {
  EXPECT_EQ(place_replicas({.brokers = {1}, .partitions = 3, .replication_factor = 3}).message,
            "Replication factor: 3 larger than available brokers: 1.");
  EXPECT_EQ(place_replicas({.brokers = {}, .partitions = 1, .replication_factor = 1}).message,
            "Replication factor: 1 larger than available brokers: 0.");
  EXPECT_EQ(place_replicas({.brokers = {1}, .partitions = 0, .replication_factor = 1}).message,
            "Number of partitions must be larger than 0.");
  EXPECT_EQ(place_replicas({.brokers = {1}, .partitions = 1, .replication_factor = 0}).message,
            "Replication factor must be larger than 0.");
}

}  // namespace
}  // namespace sluice::cluster
