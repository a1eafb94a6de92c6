#include "replication/leader_state.h"

#include <gtest/gtest.h>

namespace sluice::replication {
namespace {

using E = protocol::error_code;

leader_config cfg(int32_t min_isr = 1) { return leader_config{10'000, min_isr}; }

TEST(LeaderState, SingleReplicaHwFollowsLeo) {
  leader_state s(1, 0, 0, {1}, {1}, 0, 0, 0, cfg(), 0);
  EXPECT_EQ(s.high_watermark(), 0);
  EXPECT_TRUE(s.on_leader_log_end(5));
  EXPECT_EQ(s.high_watermark(), 5);
}

TEST(LeaderState, HwIsMinLeoOverIsrAndNeverGoesBack) {
  leader_state s(1, 3, 10, {1, 2, 3}, {1, 2, 3}, 7, 10, 10, cfg(), 0);
  EXPECT_FALSE(s.on_leader_log_end(20));  // followers' LEO unknown: HW stays
  EXPECT_EQ(s.high_watermark(), 10);
  EXPECT_FALSE(s.on_follower_fetch(2, 15, 20, 1));
  EXPECT_EQ(s.high_watermark(), 10);  // replica 3 still unknown
  EXPECT_TRUE(s.on_follower_fetch(3, 12, 20, 2));
  EXPECT_EQ(s.high_watermark(), 12);
  EXPECT_TRUE(s.on_follower_fetch(3, 20, 20, 3));
  EXPECT_EQ(s.high_watermark(), 15);
  // A follower fetching from lower (it truncated) never moves the HW back.
  EXPECT_FALSE(s.on_follower_fetch(2, 11, 20, 4));
  EXPECT_EQ(s.high_watermark(), 15);
  // Unknown replica ids do not count.
  EXPECT_FALSE(s.on_follower_fetch(9, 0, 20, 5));
  EXPECT_EQ(s.progress(9), nullptr);
}

TEST(LeaderState, CaughtUpRuleAndShrink) {
  leader_state s(1, 0, 0, {1, 2}, {1, 2}, 0, 0, 100, cfg(), 0);
  // Follower at the leader's LEO: caught up now.
  s.on_follower_fetch(2, 100, 100, 1'000);
  EXPECT_EQ(s.progress(2)->last_caught_up_ms, 1'000);
  // Leader grows to 200; the follower fetches at 100 (= leader LEO of its previous fetch): caught
  // up as of the previous fetch, not now.
  s.on_follower_fetch(2, 100, 200, 5'000);
  EXPECT_EQ(s.progress(2)->last_caught_up_ms, 1'000);
  // Next fetch reaches 200 (the LEO at the previous fetch) while the leader is at 300.
  s.on_follower_fetch(2, 200, 300, 9'000);
  EXPECT_EQ(s.progress(2)->last_caught_up_ms, 5'000);
  EXPECT_TRUE(s.shrink_candidates(15'000).empty());
  EXPECT_EQ(s.shrink_candidates(15'001), std::vector<int32_t>{2});
  auto change = s.begin_isr_change(15'001);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->new_isr, std::vector<int32_t>{1});
  EXPECT_EQ(change->expected_partition_epoch, 0);
  EXPECT_FALSE(s.begin_isr_change(15'001));  // one write at a time
  // While the shrink is in flight, the follower still holds the HW.
  EXPECT_EQ(s.high_watermark(), 200);
  s.on_leader_log_end(400);
  EXPECT_EQ(s.high_watermark(), 200);
  s.end_isr_change(true, 1);
  EXPECT_EQ(s.isr(), std::vector<int32_t>{1});
  EXPECT_EQ(s.partition_epoch(), 1);
  EXPECT_EQ(s.high_watermark(), 400);  // the leader alone now
}

TEST(LeaderState, ExpandNeedsHwAndEpochStart) {
  // Leader took epoch 4 at offset 50; replica 3 is out of the ISR.
  leader_state s(1, 4, 50, {1, 2, 3}, {1, 2}, 5, 40, 60, cfg(), 0);
  s.on_follower_fetch(2, 60, 60, 1);
  EXPECT_EQ(s.high_watermark(), 60);
  s.on_follower_fetch(3, 45, 60, 1);
  EXPECT_TRUE(s.expand_candidates().empty());  // below HW and below the epoch start
  s.on_follower_fetch(3, 60, 60, 2);
  EXPECT_EQ(s.expand_candidates(), std::vector<int32_t>{3});
  auto change = s.begin_isr_change(3);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->new_isr, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(change->expected_partition_epoch, 5);
  // Pending member counts for the HW at once (maximal ISR).
  s.on_leader_log_end(70);
  s.on_follower_fetch(2, 70, 70, 4);
  EXPECT_EQ(s.high_watermark(), 60);
  // The write fails: nothing changes, the HW is free of the pending member.
  s.end_isr_change(false, 0);
  EXPECT_EQ(s.isr(), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(s.partition_epoch(), 5);
  EXPECT_EQ(s.high_watermark(), 70);
  // The next image (someone else's write) is adopted.
  s.apply_image({1, 2, 3}, {1, 2, 3}, 6, 5);
  EXPECT_EQ(s.isr(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(s.partition_epoch(), 6);
  // An older image is ignored.
  s.apply_image({1, 2, 3}, {1}, 4, 6);
  EXPECT_EQ(s.partition_epoch(), 6);
}

TEST(LeaderState, AckWaitersCompleteOnHwTimeoutOrFail) {
  leader_state s(1, 0, 0, {1, 2}, {1, 2}, 0, 0, 0, cfg(2), 0);
  EXPECT_EQ(s.check_before_append(), E::none);
  std::vector<std::pair<int, E>> done;
  s.on_leader_log_end(10);
  s.add_ack_waiter(10, 1'000, [&](E e) { done.emplace_back(1, e); });
  s.add_ack_waiter(20, 1'000, [&](E e) { done.emplace_back(2, e); });
  s.add_ack_waiter(30, 500, [&](E e) { done.emplace_back(3, e); });
  EXPECT_TRUE(done.empty());
  s.on_follower_fetch(2, 10, 10, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], std::make_pair(1, E::none));
  s.expire(500);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1], std::make_pair(3, E::request_timed_out));
  s.fail_all(E::not_leader_or_follower);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[2], std::make_pair(2, E::not_leader_or_follower));
  EXPECT_EQ(s.ack_waiters(), 0u);
  // Already committed: completes inside add.
  s.add_ack_waiter(5, 1'000, [&](E e) { done.emplace_back(4, e); });
  EXPECT_EQ(done.back(), std::make_pair(4, E::none));
}

TEST(LeaderState, MinInsyncReplicas) {
  leader_state s(1, 0, 0, {1, 2}, {1}, 0, 0, 0, cfg(2), 0);
  EXPECT_EQ(s.check_before_append(), E::not_enough_replicas);
  // Appended with ISR {1,2}, then the ISR shrinks to {1} before the HW passes the batch.
  leader_state t(1, 0, 0, {1, 2}, {1, 2}, 0, 0, 0, cfg(2), 0);
  EXPECT_EQ(t.check_before_append(), E::none);
  t.on_leader_log_end(10);
  std::vector<E> done;
  t.add_ack_waiter(10, 100'000, [&](E e) { done.push_back(e); });
  auto change = t.begin_isr_change(20'000);  // replica 2 never fetched: shrink
  ASSERT_TRUE(change);
  EXPECT_EQ(change->new_isr, std::vector<int32_t>{1});
  t.end_isr_change(true, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], E::not_enough_replicas_after_append);
  EXPECT_EQ(t.check_before_append(), E::not_enough_replicas);
}

}  // namespace
}  // namespace sluice::replication
