#include "replication/truncation.h"

#include <gtest/gtest.h>

namespace sluice::replication {
namespace {

// An in-memory cache (never persisted: every assign passes persist=false).
struct cache {
  storage::leader_epoch_cache c{storage::posix_file_system::instance(), "/nonexistent/leader-epoch-checkpoint"};
  cache(std::initializer_list<storage::epoch_entry> es) {
    for (auto e : es) EXPECT_TRUE(c.assign(e.epoch, e.start_offset, false));
  }
};

TEST(FindDivergence, ConsistentFollowerGetsRecords) {
  cache leader{{0, 0}, {2, 100}};
  EXPECT_EQ(find_divergence(leader.c, 150, 2, 120), std::nullopt);  // same latest epoch
  EXPECT_EQ(find_divergence(leader.c, 150, 0, 100), std::nullopt);  // epoch 0 ends exactly at 100
  EXPECT_EQ(find_divergence(leader.c, 150, -1, 0), std::nullopt);   // no epoch yet
}

TEST(FindDivergence, FollowerAheadInOldEpoch) {
  // Follower wrote offsets 100..119 in epoch 0 that the new leader (epoch 2 from 100) never had.
  cache leader{{0, 0}, {2, 100}};
  EXPECT_EQ(find_divergence(leader.c, 150, 0, 120), (epoch_end_offset{0, 100}));
}

TEST(FindDivergence, FollowerEpochUnknownToLeader) {
  // Follower last fetched epoch 1, which the leader never had: answer the floor epoch 0's end.
  cache leader{{0, 0}, {2, 100}};
  EXPECT_EQ(find_divergence(leader.c, 150, 1, 110), (epoch_end_offset{0, 100}));
  // Follower's epoch newer than any the leader knows: undefined.
  EXPECT_EQ(find_divergence(leader.c, 150, 5, 110), (epoch_end_offset{-1, -1}));
}

TEST(FindDivergence, FollowerBeyondLeaderEndInSameEpoch) {
  cache leader{{3, 50}};
  EXPECT_EQ(find_divergence(leader.c, 80, 3, 90), (epoch_end_offset{3, 80}));
  EXPECT_EQ(find_divergence(leader.c, 80, 3, 80), std::nullopt);
}

TEST(DecideTruncation, SameEpochTruncatesToSmallerEnd) {
  cache follower{{0, 0}, {2, 100}};
  // Leader says epoch 2 ends at 130; follower has epoch 2 up to its LEO 140.
  EXPECT_EQ(decide_truncation(follower.c, 140, 90, {2, 130}).offset, 130);
  EXPECT_TRUE(decide_truncation(follower.c, 140, 90, {2, 130}).complete);
  // Leader's epoch 2 goes further than the follower: truncate nothing (its LEO).
  EXPECT_EQ(decide_truncation(follower.c, 120, 90, {2, 200}).offset, 120);
}

TEST(DecideTruncation, FollowerAheadInOldEpochKip101) {
  // The KIP-101 scenario: follower has epoch 0 up to 120, leader's epoch 0 ended at 100.
  cache follower{{0, 0}};
  auto d = decide_truncation(follower.c, 120, 100, {0, 100});
  EXPECT_EQ(d.offset, 100);
  EXPECT_TRUE(d.complete);
}

TEST(DecideTruncation, FollowerOnlyHasOlderEpochNeedsAnotherRound) {
  // Leader answers epoch 3 (ends at 150); the follower's largest epoch <= 3 is 1, ending at its
  // LEO 140 -> truncate to 140 and ask again.
  cache follower{{0, 0}, {1, 90}};
  auto d = decide_truncation(follower.c, 140, 80, {3, 150});
  EXPECT_EQ(d.offset, 140);
  EXPECT_FALSE(d.complete);
  // Its epoch 1 ends at 120 (epoch 4 from 120) and the leader's epoch 3 at 110.
  cache f2{{0, 0}, {1, 90}, {4, 120}};
  auto d2 = decide_truncation(f2.c, 140, 80, {3, 110});
  EXPECT_EQ(d2.offset, 110);
  EXPECT_FALSE(d2.complete);
}

TEST(DecideTruncation, LeaderWithUnknownEpoch) {
  cache follower{{5, 10}};
  // Leader knows no epoch <= ours at all: keep only what is known committed.
  EXPECT_EQ(decide_truncation(follower.c, 40, 25, {-1, -1}).offset, 25);
  // Undefined epoch with an end offset.
  EXPECT_EQ(decide_truncation(follower.c, 40, 25, {-1, 30}).offset, 30);
  EXPECT_EQ(decide_truncation(follower.c, 20, 15, {-1, 30}).offset, 20);
  // Follower has no epoch <= the leader's: min(leader end, our LEO).
  EXPECT_EQ(decide_truncation(follower.c, 40, 25, {2, 12}).offset, 12);
}

}  // namespace
}  // namespace sluice::replication
